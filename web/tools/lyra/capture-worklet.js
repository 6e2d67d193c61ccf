// AudioWorklet: captures the microphone in 20 ms frames at the context's sample rate
// and posts each frame to the main thread (which sends it to the Lyra encoder).

class LyraCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frameLength = Math.round(sampleRate / 50);
    this.frame = new Float32Array(this.frameLength);
    this.filled = 0;
    this.active = true;
    this.port.onmessage = (event) => { if (event.data?.type === "stop") this.active = false; };
  }

  process(inputs) {
    const input = inputs[0]?.[0];
    if (!this.active) return false;
    if (!input) return true;
    let offset = 0;
    while (offset < input.length) {
      const n = Math.min(input.length - offset, this.frameLength - this.filled);
      this.frame.set(input.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.frameLength) {
        this.port.postMessage({ type: "frame", samples: this.frame }, [this.frame.buffer]);
        this.frame = new Float32Array(this.frameLength);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor("lyra-capture", LyraCapture);
