// AudioWorklet: plays decoded speech from a ring buffer.
// The main thread pushes decoded 20 ms frames (real packets or the decoder's concealment);
// this processor only copies them out. It counts an underrun whenever it must output a
// render quantum while playing and the ring does not hold enough samples: the decoding side
// stalled (a busy CPU). The playout engine answers that by keeping more audio ahead; here, the
// gap is bridged rather than cut to silence: the last 10 ms played are repeated with a fading
// gain (a waveform-repeat concealment, like the simplest packet-loss concealers), and the audio
// that comes after fades in, so a stall sounds like a short smear instead of a click and a hole.
// States: "idle" (silence, nothing expected), "playing", "draining" (end or pause announced:
// play what is left, then report "drained" without counting an underrun).

const BRIDGE_DECAY = 0.9985; // per sample: -11 dB after 20 ms at 16 kHz, near silence after 80 ms
const FADE_IN_STEP = 1 / 64; // 4 ms at 16 kHz

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
    this.quanta = 0;
    this.generation = 0; // which stream the reports belong to (the node outlives streams)
    this.statusEvery = options?.processorOptions?.statusEvery ?? 2;
    this.history = new Float32Array(Math.round(sampleRate / 100)); // the last 10 ms played
    this.historyIndex = 0;
    this.bridgeGain = 0; // gain of the repeated history while bridging a gap
    this.fadeIn = 1; // gain ramp of the audio after a gap (1: not fading)
    this.bridgeIndex = 0;
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
      this.consumed = 0;
      this.history.fill(0);
      this.bridgeGain = 0;
      this.fadeIn = 1;
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

  remember(sample) {
    this.history[this.historyIndex] = sample;
    this.historyIndex = (this.historyIndex + 1) % this.history.length;
  }

  /** Fill out[from:] by repeating the last 10 ms with a fading gain; fade in what comes next. */
  bridge(out, from) {
    if (this.fadeIn === 1) this.bridgeIndex = this.historyIndex; // a new gap: start at the oldest sample kept
    for (let i = from; i < out.length; i++) {
      out[i] = this.history[this.bridgeIndex] * this.bridgeGain;
      this.bridgeIndex = (this.bridgeIndex + 1) % this.history.length;
      this.bridgeGain *= BRIDGE_DECAY;
    }
    this.fadeIn = 0;
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
        let sample = this.ring[this.readIndex];
        this.readIndex = (this.readIndex + 1) % this.ring.length;
        if (this.fadeIn < 1) { sample *= this.fadeIn; this.fadeIn = Math.min(1, this.fadeIn + FADE_IN_STEP); }
        out[i] = sample;
        this.remember(sample);
      }
      this.fill -= n;
      this.consumed += n;
      if (n > 0) this.bridgeGain = 1;
      if (n < need) {
        if (this.state === "playing") this.bridge(out, n);
        else out.fill(0, n);
        if (this.state === "playing") {
          this.underruns += 1;
          this.underrunSamples += need - n;
        }
        else if (this.state === "draining") {
          this.state = "idle";
          this.port.postMessage({ type: "drained", generation: this.generation, consumed: this.consumed, underruns: this.underruns });
        }
      }
    }
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    if (++this.quanta % this.statusEvery === 0) {
      this.port.postMessage({ type: "status", generation: this.generation, consumed: this.consumed, fill: this.fill, underruns: this.underruns, underrunSamples: this.underrunSamples, state: this.state, time: currentTime });
    }
    return true;
  }
}

registerProcessor("lyra-player", LyraPlayer);
