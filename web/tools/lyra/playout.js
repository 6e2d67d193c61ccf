// The playout engine: decides, for a stream of 20 ms speech packets, what to decode and how to
// play it, so that playback never stops and the delay stays as small as the link and the CPU allow.
//
// It is pure: no DOM, WebRTC, AudioWorklet or timers. The receiver feeds it events (a packet
// arrived, the sender started / paused / ended, the player reported how much it has played) and
// asks it, again and again, for the next step. Time comes from an injected clock (`now()` in ms),
// so tests drive it with simulated arrival and decode-time traces and assert exact outcomes.
//
// Model (after WebRTC's NetEq, neteq/delay_manager.cc and decision_logic.cc):
// - Delay has two parts. Packets wait in the jitter buffer to ride out network jitter; decoded
//   audio waits in the player's ring to ride out CPU hiccups (a decode that takes longer than usual,
//   a busy main thread). Each part has its own target, in frames.
// - The jitter target is a quantile of the packets' relative arrival delay (arrival time against the
//   sender's 20 ms cadence, relative to the fastest packet seen recently), kept as a histogram with
//   exponential forgetting, as NetEq's delay manager does.
// - The ring target grows by one frame for every underrun event the player reports (the ring ran
//   dry: the CPU could not keep up), and shrinks by one after a quiet spell with no underruns.
// - A missing packet is concealed (the decoder's packet-loss concealment) only when its audio is
//   due; if it arrives later it is counted late. Too little delay is grown by playing a decoded frame
//   stretched (20 → 30 ms); too much is removed by playing a frame compressed (20 → 10 ms). The
//   decoder itself always sees every slot in order, so the decoded audio is exactly the offline
//   decode of the received packets with the concealed ones missing.

export const FRAME_MS = 20;

/** How the receiver plays a decoded 20 ms frame: as is, compressed to 10 ms, or stretched to 30 ms. */
export const PLAYOUT = Object.freeze({ NORMAL: "normal", COMPRESS: "compress", EXPAND: "expand" });

const PLAYOUT_FRACTION = { normal: 1, compress: 0.5, expand: 1.5 };

export const DEFAULTS = Object.freeze({
  frameMs: FRAME_MS,
  sampleRate: 16000,
  quantile: 0.95, // of the relative arrival delay (NetEq uses 0.95 too)
  forgetFactor: 0.983, // per packet, as NetEq's histogram
  minJitterFrames: 1,
  maxJitterFrames: 25,
  minRingFrames: 2,
  initialRingFrames: 3,
  maxRingFrames: 12,
  lowWaterFrames: 1, // a missing packet is concealed when the ring holds less than this
  ringShrinkAfterMs: 10_000, // quiet time before the ring target shrinks by a frame
  minIntervalMs: 2_000, // window for the relative-delay minimum (arrival of the fastest packet)
  stableForMs: 1_000, // the delay must stay above target this long before it is compressed
  levelSmoothing: 0.9, // per slot: the filtered delay follows a change within ~10 slots (200 ms)
  slowWindow: 50, // decode times kept for the real-time check (1 s of frames)
  underrunEventGapMs: 100, // underrun reports closer than this belong to one event
  repeatedStallMs: 3_000, // a second underrun event this soon grows the ring by two frames
  stallGapMs: 50, // no event for this long: the receiving thread itself was stalled
  stallBurstMs: 5, // arrivals this soon after such a stall were queued by it, not by the network
  keepSlots: Infinity, // log entries (and concealed / late seqs) kept: a long stream keeps its most recent ones
});

/** Histogram of relative arrival delay in whole frames, with exponential forgetting. */
export class DelayHistogram {
  constructor({ buckets, forgetFactor, quantile }) {
    this.weights = new Float64Array(buckets);
    this.weights[0] = 1; // start out believing the link has no jitter
    this.forgetFactor = forgetFactor;
    this.quantile = quantile;
  }

  add(frames) {
    const index = Math.min(this.weights.length - 1, Math.max(0, frames));
    for (let i = 0; i < this.weights.length; i++) this.weights[i] *= this.forgetFactor;
    this.weights[index] += 1 - this.forgetFactor;
  }

  /** The smallest delay (frames) that covers `quantile` of the recent packets. */
  quantileFrames() {
    let total = 0;
    for (const w of this.weights) total += w;
    let sum = 0;
    for (let i = 0; i < this.weights.length; i++) {
      sum += this.weights[i];
      if (sum >= this.quantile * total - 1e-12) return i;
    }
    return this.weights.length - 1;
  }
}

/**
 * The engine. Typical use:
 *   const engine = new PlayoutEngine({ now: () => performance.now() });
 *   engine.start(firstSeq);  engine.push(seq, payload);  engine.playerStatus({consumed, underruns});
 *   for (;;) { const step = engine.next(); ... act ...; engine.decoded({...}) }
 */
export class PlayoutEngine {
  constructor(options = {}) {
    const { now, ...settings } = options;
    if (typeof now !== "function") throw new TypeError("PlayoutEngine needs a clock: new PlayoutEngine({ now })");
    this.now = now;
    this.settings = { ...DEFAULTS, ...settings };
    const s = this.settings;
    this.frameSamples = Math.round((s.sampleRate * s.frameMs) / 1000);
    this.histogram = new DelayHistogram({ buckets: s.maxJitterFrames + 1, forgetFactor: s.forgetFactor, quantile: s.quantile });
    this.packets = new Map(); // seq -> payload, at or after the playout point
    this.state = "waiting"; // waiting -> buffering -> prefilling -> playing -> (draining -> ended | paused -> buffering)
    this.nextSeq = null;
    this.lastSeq = null; // set by pause / end: no packet after this one until a resume
    this.ending = null; // "pause" | "end" | "resume"
    this.ringTarget = s.initialRingFrames;
    this.written = 0; // samples handed to the player
    this.player = { consumed: 0, underruns: 0, at: this.now(), playing: false };
    this.arrivals = []; // [seq, arrivalMs - seq * frameMs] within minIntervalMs, for the minimum
    this.lastUnderrunAt = -Infinity;
    this.lastActiveAt = this.now();
    this.resumedAt = -Infinity;
    this.lastAdaptAt = this.now();
    this.aboveTargetSince = null;
    this.filteredLevel = null;
    this.fastestRelative = null; // min of (arrival - seq * frameMs) over minIntervalMs
    this.decodeTimes = [];
    this.counts = {
      received: 0, late: 0, duplicate: 0, decoded: 0, concealed: 0,
      compressed: 0, expanded: 0, underrunEvents: 0, underruns: 0, ringGrown: 0, ringShrunk: 0,
    };
    this.log = []; // the most recent keepSlots slots in playout order: {seq, kind: "packet" | "conceal", playout}
    this.slots = 0; // slots produced, all of them (the log may hold only the latest)
    this.concealedSeqs = [];
    this.lateSeqs = [];
    // Where each underrun event began, in samples played since the stream began (like the logs, bounded).
    this.underrunEventAt = [];
  }

  // ------------------------------------------------------------ events

  start(firstSeq) {
    this.nextSeq = firstSeq;
    for (const seq of this.packets.keys()) if (seq < firstSeq) this.packets.delete(seq);
    this.state = "buffering";
  }

  /** The sender paused after `lastSeq`: play out what came before, then wait for a resume. */
  pause(lastSeq) { this.lastSeq = lastSeq; this.ending = "pause"; }

  /** The sender has no packet after `lastSeq`. */
  end(lastSeq) { this.lastSeq = lastSeq; this.ending = "end"; }

  /** The sender resumed: its cadence restarted, so arrival history no longer applies. */
  resume() {
    this.arrivals = [];
    this.fastestRelative = null;
    if (this.state === "paused") { this.lastSeq = null; this.ending = null; this.state = "buffering"; }
    else this.ending = "resume"; // still playing out the frames before the pause
  }

  /** A packet arrived (at the clock's now). Returns "ok" | "late" | "duplicate". */
  push(seq, payload) {
    const at = this.now();
    const queuedByStall = this.#activity(at);
    if (this.packets.has(seq)) { this.counts.duplicate += 1; return "duplicate"; }
    // Packets held up by our own stalled thread say nothing about the network's jitter
    // (the ring's underrun already answers the stall).
    if (!queuedByStall) this.#observeArrival(seq, at);
    if (this.nextSeq !== null && seq < this.nextSeq) {
      this.counts.late += 1;
      this.lateSeqs.push(seq);
      this.#bound(this.lateSeqs);
      return "late";
    }
    this.counts.received += 1;
    this.packets.set(seq, payload);
    return "ok";
  }

  /** The player's report: samples played since the stream began, underrun count so far. */
  playerStatus({ consumed, underruns = this.player.underruns }) {
    const at = this.now();
    this.#activity(at);
    if (underruns > this.player.underruns) this.#onUnderrun(underruns - this.player.underruns, at, consumed);
    this.player = { ...this.player, consumed, underruns, at };
  }

  /** The player played out everything it was given (after a drain). */
  drained() {
    this.player = { ...this.player, playing: false, at: this.now() };
    if (this.state === "draining") this.state = "ended";
  }

  /** The receiver finished a step: how long its decode took (for the real-time check). */
  decoded({ decodeMs = 0 } = {}) {
    this.decodeTimes.push(decodeMs);
    if (this.decodeTimes.length > this.settings.slowWindow) this.decodeTimes.shift();
  }

  // ------------------------------------------------------------ decisions

  /**
   * The next step:
   *   {kind: "decode", seq, payload, playout} | {kind: "conceal", seq, playout}: produce the slot's
   *     20 ms and hand the player `playoutSamples` of it (the receiver calls decoded() afterwards);
   *   {kind: "play"}: start the player (the ring is filled);
   *   {kind: "drain"}: let the player run dry without counting underruns (pause / end);
   *   {kind: "wait", untilMs}: nothing to do before untilMs, or before the next event.
   */
  next() {
    const now = this.now();
    this.#activity(now);
    if (this.state === "buffering") return this.#buffering(now);
    if (this.state === "prefilling") return this.#prefilling(now);
    if (this.state !== "playing") return { kind: "wait", untilMs: Infinity };
    if (this.#beyondEnd(this.nextSeq)) return this.#drain();
    this.#adaptRing(now);
    const fill = this.ringFillSamples(now);
    if (fill >= this.ringTarget * this.frameSamples) return { kind: "wait", untilMs: now + this.#msUntilFill(fill, this.ringTarget) };
    if (this.packets.has(this.nextSeq)) return this.#slot(now, fill);
    // The packet is not here: wait for it until its audio is due, then conceal it.
    const lowWater = this.settings.lowWaterFrames * this.frameSamples;
    if (fill >= lowWater) return { kind: "wait", untilMs: now + this.#msUntilFill(fill, this.settings.lowWaterFrames) };
    return this.#slot(now, fill);
  }

  #buffering(now) {
    // Start once the buffer spans the jitter target and the ring's worth of slots (or the sender
    // announced its last packet: a clip shorter than the buffer).
    const wanted = this.jitterTarget() + this.ringTarget;
    if (this.bufferedSpan() < wanted && this.lastSeq === null) return { kind: "wait", untilMs: Infinity };
    this.state = "prefilling";
    return this.#prefilling(now);
  }

  #prefilling(now) {
    // Fill the ring, then let the player start.
    if (this.written - this.player.consumed < this.ringTarget * this.frameSamples && !this.#beyondEnd(this.nextSeq)) {
      return this.#slot(now, null);
    }
    this.state = "playing";
    this.player = { ...this.player, playing: true, at: now };
    return { kind: "play" };
  }

  #drain() {
    if (this.ending === "resume") {
      this.lastSeq = null; this.ending = null;
      this.state = "buffering";
      this.player = { ...this.player, playing: false };
      return { kind: "drain" };
    }
    this.state = this.ending === "end" ? "draining" : "paused";
    this.player = { ...this.player, playing: false };
    return { kind: "drain" };
  }

  /** Produce the slot nextSeq: its packet, or concealment. */
  #slot(now, fill) {
    const seq = this.nextSeq;
    this.nextSeq += 1;
    const payload = this.packets.get(seq) ?? null;
    this.packets.delete(seq);
    // Concealment is played as is: its slot is due, and stretching a guess only adds delay.
    const playout = fill === null || !payload ? PLAYOUT.NORMAL : this.#playoutFor(now, fill, seq);
    const samples = Math.round(this.frameSamples * PLAYOUT_FRACTION[playout]);
    this.written += samples;
    if (playout === PLAYOUT.COMPRESS) this.counts.compressed += 1;
    if (playout === PLAYOUT.EXPAND) this.counts.expanded += 1;
    if (payload) {
      this.counts.decoded += 1;
      this.#logSlot({ seq, kind: "packet", playout });
      return { kind: "decode", seq, payload, playout, playoutSamples: samples };
    }
    this.counts.concealed += 1;
    this.concealedSeqs.push(seq);
    this.#bound(this.concealedSeqs);
    this.#logSlot({ seq, kind: "conceal", playout });
    return { kind: "conceal", seq, playout, playoutSamples: samples };
  }

  #logSlot(entry) {
    this.slots += 1;
    this.log.push(entry);
    this.#bound(this.log);
  }

  /** Trim a record to its keepSlots latest entries, in batches so that each slot costs O(1). */
  #bound(list) {
    const keep = this.settings.keepSlots;
    if (list.length >= keep + Math.max(64, keep / 8)) list.splice(0, list.length - keep);
  }

  /**
   * Stretch when the delay is below target, compress when it has stayed above it. The delay is
   * smoothed first, as NetEq's buffer level filter does, so one jittery reading does not stretch.
   */
  #playoutFor(now, fill, seq) {
    const level = this.levelFrames(now, fill, seq);
    const a = this.settings.levelSmoothing;
    this.filteredLevel = this.filteredLevel === null ? level : a * this.filteredLevel + (1 - a) * level;
    const target = this.targetFrames();
    let playout = PLAYOUT.NORMAL;
    if (this.filteredLevel < target - 1) {
      this.aboveTargetSince = null;
      playout = PLAYOUT.EXPAND;
    } else if (this.filteredLevel > target + 1) {
      this.aboveTargetSince ??= now;
      const stable = now - this.aboveTargetSince >= this.settings.stableForMs && now - this.lastUnderrunAt >= this.settings.stableForMs;
      if (stable) playout = PLAYOUT.COMPRESS;
    } else {
      this.aboveTargetSince = null;
    }
    // The stretch itself moves the level by half a frame; the filter should not wait to see it.
    this.filteredLevel += PLAYOUT_FRACTION[playout] - 1;
    return playout;
  }

  #adaptRing(now) {
    if (this.ringTarget > this.settings.minRingFrames
        && now - this.lastUnderrunAt >= this.settings.ringShrinkAfterMs
        && now - this.lastAdaptAt >= this.settings.ringShrinkAfterMs) {
      this.ringTarget -= 1;
      this.counts.ringShrunk += 1;
      this.lastAdaptAt = now;
    }
  }

  #onUnderrun(count, at, consumed) {
    this.counts.underruns += count;
    // One stall makes the player report several short quanta in a row: that is one event.
    if (at - this.lastUnderrunAt >= this.settings.underrunEventGapMs) {
      this.counts.underrunEvents += 1;
      this.underrunEventAt.push(consumed);
      this.#bound(this.underrunEventAt);
      // Stalls that come back within a few seconds mean a busy machine, not a hiccup: grow faster.
      const step = at - this.lastUnderrunAt < this.settings.repeatedStallMs ? 2 : 1;
      const grown = Math.min(this.settings.maxRingFrames, this.ringTarget + step) - this.ringTarget;
      this.ringTarget += grown;
      this.counts.ringGrown += grown;
    }
    this.lastUnderrunAt = at;
    this.lastAdaptAt = at;
    this.aboveTargetSince = null;
  }

  #observeArrival(seq, at) {
    const s = this.settings;
    const relative = at - seq * s.frameMs;
    this.arrivals.push([at, relative]);
    while (this.arrivals.length && at - this.arrivals[0][0] > s.minIntervalMs) this.arrivals.shift();
    let fastest = Infinity;
    for (const [, r] of this.arrivals) fastest = Math.min(fastest, r);
    this.fastestRelative = fastest;
    this.histogram.add(Math.ceil((relative - fastest) / s.frameMs - 1e-9));
  }

  /** Note that the receiving thread is running; true right after it was stalled. */
  #activity(now) {
    if (now - this.lastActiveAt > this.settings.stallGapMs) this.resumedAt = now;
    this.lastActiveAt = now;
    return now - this.resumedAt <= this.settings.stallBurstMs;
  }

  #beyondEnd(seq) { return this.lastSeq !== null && seq > this.lastSeq; }

  #msUntilFill(fill, frames) {
    if (!this.player.playing) return Infinity;
    return ((fill - (frames * this.frameSamples - 1)) / this.settings.sampleRate) * 1000;
  }

  // ------------------------------------------------------------ figures

  /** Decoded samples handed to the player and not yet played, estimated from its last report. */
  ringFillSamples(now = this.now()) {
    const since = this.player.playing ? ((now - this.player.at) / 1000) * this.settings.sampleRate : 0;
    return Math.max(0, this.written - this.player.consumed - since);
  }

  /**
   * Frames the jitter buffer spans from the playout point to its newest packet: each slot in it
   * will be played, as its packet or as concealment, so this is the delay it holds.
   */
  bufferedSpan() {
    let newest = -Infinity;
    for (const seq of this.packets.keys()) newest = Math.max(newest, seq);
    return newest >= this.nextSeq ? newest - this.nextSeq + 1 : 0;
  }

  jitterTarget() {
    const s = this.settings;
    return Math.min(s.maxJitterFrames, Math.max(s.minJitterFrames, this.histogram.quantileFrames()));
  }

  /** Target delay in frames: jitter buffer plus decoded ring. */
  targetFrames() { return this.jitterTarget() + this.ringTarget; }

  /**
   * Current delay in frames of slot `seq`: how long ago its packet would have arrived on the
   * fastest recent path, plus the decoded audio queued before it. Unlike a count of buffered
   * packets this does not jump by a whole frame with the phase of an arrival, and it is the same
   * whether the packet is here, late or lost. Before any arrival it falls back to the buffer's span.
   */
  levelFrames(now = this.now(), fill = this.ringFillSamples(now), seq = this.nextSeq) {
    const queued = fill / this.frameSamples;
    if (this.fastestRelative === null) return this.bufferedSpan() + queued;
    return Math.max(0, (now - seq * this.settings.frameMs - this.fastestRelative) / this.settings.frameMs) + queued;
  }

  /** Decoding slower than real time over the last second (the device cannot keep up). */
  health() {
    const n = this.decodeTimes.length;
    const mean = n ? this.decodeTimes.reduce((a, b) => a + b, 0) / n : 0;
    const slow = n >= Math.min(10, this.settings.slowWindow) && mean > this.settings.frameMs;
    return {
      slow,
      decodeMs: mean,
      message: slow
        ? `This device needs ${mean.toFixed(1)} ms to decode each 20 ms of speech, slower than real time: playback will break up.`
        : "",
    };
  }

  snapshot(now = this.now()) {
    return {
      state: this.state,
      ...this.counts,
      underrunEventAt: [...this.underrunEventAt],
      jitterTarget: this.jitterTarget(),
      ringTarget: this.ringTarget,
      targetMs: this.targetFrames() * this.settings.frameMs,
      delayMs: this.levelFrames(now) * this.settings.frameMs,
      health: this.health(),
    };
  }
}

// ------------------------------------------------------------ time-stretching one decoded frame

/**
 * Play a frame in half its time: its two halves cross-faded into one. The result starts where the
 * frame starts and ends where it ends, so it joins its neighbours without a click.
 */
export function compressFrame(frame) {
  const half = frame.length >> 1;
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const w = half > 1 ? i / (half - 1) : 1;
    out[i] = frame[i] * (1 - w) + frame[half + i] * w;
  }
  return out;
}

/**
 * Play a frame in 1.5 times its time: first half, a cross-fade from the second half back into the
 * first half, second half. Every joint continues the waveform it follows.
 */
export function expandFrame(frame) {
  const half = frame.length >> 1;
  const out = new Float32Array(frame.length + half);
  out.set(frame.subarray(0, half), 0);
  for (let i = 0; i < half; i++) {
    const w = half > 1 ? i / (half - 1) : 1;
    out[half + i] = frame[half + i] * (1 - w) + frame[i] * w;
  }
  out.set(frame.subarray(half), frame.length);
  return out;
}

/** The samples the player gets for a decoded frame under a playout decision. */
export function playoutSamples(frame, playout) {
  if (playout === PLAYOUT.COMPRESS) return compressFrame(frame);
  if (playout === PLAYOUT.EXPAND) return expandFrame(frame);
  return frame;
}
