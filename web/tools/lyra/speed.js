// Does this browser decode Lyra in real time? Measured on the stream itself (the wall time of the decoder's
// requests against the audio they gave), over its first seconds, never guessed from the browser's name.
// Pure: the receiver feeds it; the verdict, once reached, stays for the stream (a message that comes and
// goes with every busy moment would not help a visitor).

// Audio decoded before the verdict: long enough that one slow request (a first compile, a busy moment)
// does not decide it.
export const CHECK_AUDIO_MS = 2000;

export class RealTimeCheck {
  constructor({ audioMs = CHECK_AUDIO_MS } = {}) {
    this.needMs = audioMs;
    this.busyMs = 0;
    this.audioMs = 0;
    this.factor = null; // decode time ÷ audio time over the first needMs of audio, once measured
  }

  /** One decoder request took `busyMs` of wall time and gave `audioMs` of audio. Judged once needMs of audio
   *  is decoded, or sooner when decoding has already taken twice that long (a browser many times slower
   *  than real time hears it within seconds, not after a minute). */
  add(busyMs, audioMs) {
    if (this.factor !== null) return;
    this.busyMs += busyMs;
    this.audioMs += audioMs;
    if (this.audioMs >= this.needMs || this.busyMs >= 2 * this.needMs) this.factor = this.busyMs / this.audioMs;
  }

  get slow() { return this.factor !== null && this.factor > 1; }

  /** What the visitor reads when decoding is slower than real time ("" otherwise). */
  get message() {
    if (!this.slow) return "";
    const times = this.factor < 10 ? this.factor.toFixed(1) : String(Math.round(this.factor));
    return `This browser decodes Lyra slower than real time (×${times}); playback will stall. Saved files and the comparison still work.`;
  }
}
