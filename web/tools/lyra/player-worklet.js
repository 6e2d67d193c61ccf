// AudioWorklet: plays decoded speech from a ring buffer.
// The main thread pushes decoded 20 ms frames (real packets or the decoder's concealment);
// this processor only copies them out. It counts an underrun whenever it must output a
// render quantum while playing and the ring does not hold enough samples: that is a stall
// the listener would hear, and the decoder's concealment exists so it never happens.
// States: "idle" (silence, nothing expected), "playing", "draining" (end or pause announced:
// play what is left, then report "drained" without counting an underrun).

class LyraPlayer extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const seconds = options?.processorOptions?.ringSeconds ?? 8;
    this.ring = new Float32Array(Math.ceil(sampleRate * seconds));
    this.readIndex = 0;
    this.writeIndex = 0;
    this.fill = 0;
    this.state = "idle";
    this.consumed = 0; // samples played from the ring since creation
    this.underruns = 0;
    this.underrunSamples = 0;
    this.underrunAt = [];
    this.quanta = 0;
    this.generation = 0; // which stream the reports belong to (the node outlives streams)
    this.statusEvery = options?.processorOptions?.statusEvery ?? 2;
    this.port.onmessage = (event) => this.onMessage(event.data);
  }

  onMessage(message) {
    if (message.type === "push") this.push(message.samples);
    else if (message.type === "play") this.state = "playing";
    else if (message.type === "drain") { if (this.state === "playing") this.state = "draining"; }
    else if (message.type === "reset") {
      this.generation = message.generation;
      this.readIndex = this.writeIndex = this.fill = 0;
      this.state = "idle";
      this.underruns = 0;
      this.underrunSamples = 0;
      this.underrunAt = [];
      this.consumed = 0;
    }
  }

  push(samples) {
    const free = this.ring.length - this.fill;
    const n = Math.min(samples.length, free); // a full ring drops the newest samples (never happens with sane targets)
    for (let i = 0; i < n; i++) {
      this.ring[this.writeIndex] = samples[i];
      this.writeIndex = (this.writeIndex + 1) % this.ring.length;
    }
    this.fill += n;
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    if (!out) return true;
    const need = out.length;
    if (this.state === "idle") {
      out.fill(0);
    } else {
      const n = Math.min(need, this.fill);
      for (let i = 0; i < n; i++) {
        out[i] = this.ring[this.readIndex];
        this.readIndex = (this.readIndex + 1) % this.ring.length;
      }
      this.fill -= n;
      this.consumed += n;
      if (n < need) {
        out.fill(0, n);
        if (this.state === "playing") {
          this.underruns += 1;
          this.underrunSamples += need - n;
          if (this.underrunAt.length < 20) this.underrunAt.push(this.consumed); // where, for diagnosis
        }
        else if (this.state === "draining") {
          this.state = "idle";
          this.port.postMessage({ type: "drained", generation: this.generation, consumed: this.consumed, underruns: this.underruns });
        }
      }
    }
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    if (++this.quanta % this.statusEvery === 0) {
      this.port.postMessage({ type: "status", generation: this.generation, consumed: this.consumed, fill: this.fill, underruns: this.underruns, underrunSamples: this.underrunSamples, underrunAt: this.underrunAt, state: this.state, time: currentTime });
    }
    return true;
  }
}

registerProcessor("lyra-player", LyraPlayer);
