// Real-time Lyra over WebRTC: a sender peer encodes 20 ms frames on a 50 packets/s clock and
// sends each packet as one message on an unordered, no-retransmit data channel; a receiver
// peer hands packets to the playout engine (./playout.js), which decides when to decode or
// conceal each slot and how to stretch it, and feeds the AudioWorklet.
import { openLoopback } from "./rtc-link.js";
import { GilbertElliott } from "./gilbert.js";
import { frameMessage, parseMessage, HEADER_BYTES } from "./jitter-buffer.js";
import { PlayoutEngine, DEFAULTS, playoutSamples } from "./playout.js";
import { PacketLog, RecentAudio, retainedSeconds } from "./recording.js";
import { RealTimeCheck } from "./speed.js";

export const FRAME_MS = 20;

/** Milliseconds on a clock that every tab of this browser shares (performance.now() does not). */
export function wallClockMs(now = performance.now()) { return performance.timeOrigin + now; }
// Slots decoded in one request at most, when the playout engine asks for several back to back.
const MAX_BURST = 8;
// ... and while playing, only as long as the player holds this much audio besides the burst's.
const BURST_SLACK_FRAMES = 3;
export const PLAYBACK_RATE = 16000; // the decoder's native rate; the AudioContext resamples to the device
/** Timing statistics of one kind of operation (encode, decode). */
class Timing {
  constructor() { this.count = 0; this.total = 0; this.max = 0; this.recent = []; }
  add(ms) {
    this.count += 1; this.total += ms; this.max = Math.max(this.max, ms);
    this.recent.push(ms); if (this.recent.length > 50) this.recent.shift();
  }
  get mean() { return this.count ? this.total / this.count : 0; }
  get recentMean() { return this.recent.length ? this.recent.reduce((a, b) => a + b, 0) / this.recent.length : 0; }
}

/** Sliding one-second window of bytes put on the wire. */
class RateMeter {
  constructor() { this.events = []; this.first = null; this.last = null; this.total = 0; }
  add(bytes, now = performance.now()) {
    this.events.push([now, bytes]);
    this.first ??= now;
    this.last = now;
    this.total += bytes;
    this.trim(now);
  }
  trim(now) { while (this.events.length && now - this.events[0][0] > 1000) this.events.shift(); }
  /** Bits per second over the last second (or since the first packet, if that is more recent). */
  bps(now = performance.now()) {
    this.trim(now);
    if (this.first === null) return 0;
    const span = Math.min(1000, now - this.first + FRAME_MS);
    return (this.events.reduce((n, e) => n + e[1], 0) * 8 * 1000) / span;
  }
  /** Bits per second over the whole stream (each packet stands for 20 ms). */
  averageBps(packets) { return packets ? (this.total * 8 * 1000) / (packets * FRAME_MS) : 0; }
}

export class Sender {
  /**
   * @param link the loopback link (send / control)
   * @param encoder {encode(samples) -> Promise<{packet, ms}>, setBitrate(b), close()}
   * @param loss a GilbertElliott instance (simulated loss applied before send)
   */
  constructor({ link, encoder, loss, frameLength, bitrate }) {
    this.link = link;
    this.encoder = encoder;
    this.loss = loss;
    this.frameLength = frameLength;
    this.bitrate = bitrate;
    this.seq = 0;
    this.packets = new PacketLog(); // every encoded packet in order: the .lyra file
    this.dropped = [];
    this.counts = { sent: 0, dropped: 0, bytes: 0 };
    this.encodeTiming = new Timing();
    this.payloadRate = new RateMeter();
    this.wireRate = new RateMeter();
    this.state = "idle";
    this.busy = Promise.resolve();
  }

  start() { this.state = "running"; this.link.control({ type: "start", firstSeq: this.seq, bitrate: this.bitrate }); }

  setBitrate(bitrate) {
    this.bitrate = bitrate;
    this.encoder.setBitrate(bitrate);
    this.link.control({ type: "bitrate", bitrate, fromSeq: this.seq });
  }

  /** Encode one 20 ms frame and send (or drop) its packet. Calls are serialised. */
  pushFrame(samples) {
    this.busy = this.busy.then(() => this.#encodeAndSend(samples));
    return this.busy;
  }

  async #encodeAndSend(samples) {
    if (this.state === "stopped") return;
    const { packet, ms } = await this.encoder.encode(samples);
    this.encodeTiming.add(ms);
    const seq = this.seq++;
    this.packets.push(packet);
    if (this.loss.drop()) {
      this.counts.dropped += 1;
      this.dropped.push(seq);
      return;
    }
    const message = frameMessage(seq, wallClockMs(), packet);
    if (this.link.send(message)) {
      this.counts.sent += 1;
      this.counts.bytes += packet.length;
      this.payloadRate.add(packet.length);
      this.wireRate.add(message.length);
    }
  }

  /** Plain figures (also sent to a receiving tab, which cannot see this object). */
  snapshot() {
    return {
      sent: this.counts.sent, dropped: this.counts.dropped, encoded: this.packets.length, bitrate: this.bitrate,
      payloadBps: this.payloadRate.bps(), wireBps: this.wireRate.bps(),
      payloadAvgBps: this.payloadRate.averageBps(this.counts.sent), wireAvgBps: this.wireRate.averageBps(this.counts.sent),
      encodeRecent: this.encodeTiming.recentMean, encodeMean: this.encodeTiming.mean,
    };
  }

  async pause() { await this.busy; this.state = "paused"; this.link.control({ type: "pause", lastSeq: this.seq - 1 }); }
  async resume() { await this.busy; this.state = "running"; this.link.control({ type: "resume", nextSeq: this.seq }); }
  async finish() { await this.busy; this.state = "stopped"; this.link.control({ type: "end", lastSeq: this.seq - 1 }); }
}

/** Paces frames of a decoded clip at 50 per second (never faster than real time). */
export class ClipSource {
  constructor(samples, sampleRate) {
    this.samples = samples;
    this.frameLength = Math.round(sampleRate / 50);
    this.frames = Math.ceil(samples.length / this.frameLength);
    this.index = 0;
    this.timer = null;
    this.paused = false;
    this.onFrame = null;
    this.onEnd = null;
  }

  frame(i) {
    const out = new Float32Array(this.frameLength);
    out.set(this.samples.subarray(i * this.frameLength, Math.min((i + 1) * this.frameLength, this.samples.length)));
    return out;
  }

  start() {
    this.clockStart = performance.now() - this.index * FRAME_MS;
    this.paused = false;
    this.#tick();
  }

  #tick() {
    if (this.paused) return;
    const now = performance.now();
    // Every frame whose time has come (normally one; more after a slow timer callback).
    while (this.index < this.frames && this.clockStart + this.index * FRAME_MS <= now) {
      this.onFrame(this.frame(this.index), this.index);
      this.index += 1;
    }
    if (this.index >= this.frames) { this.onEnd?.(); return; }
    const wait = this.clockStart + this.index * FRAME_MS - performance.now();
    this.timer = setTimeout(() => this.#tick(), Math.max(0, wait));
  }

  pause() { this.paused = true; clearTimeout(this.timer); }
  stop() { this.pause(); this.index = this.frames; }
}

export class Receiver {
  /**
   * The receiving peer: feeds the playout engine (./lyra/playout.js) with packets, control messages
   * and the player's reports, and carries out its steps: decode or conceal a slot, time-stretch the
   * result, hand it to the AudioWorklet. All playout decisions are the engine's.
   * @param decoder {decode(packet | null) -> Promise<{samples, ms, rejected}>, close()}
   * @param player an AudioWorkletNode running "lyra-player"
   */
  constructor({ link, decoder, player, sampleRate = PLAYBACK_RATE, ringFrames = DEFAULTS.initialRingFrames, now = () => performance.now(), keepSeconds = retainedSeconds() }) {
    this.link = link;
    this.decoder = decoder;
    this.player = player;
    this.sampleRate = sampleRate;
    this.now = now;
    // A stream may run for hours: what is kept for afterwards covers its last keepSeconds.
    this.keepSlots = Math.round(keepSeconds * (1000 / DEFAULTS.frameMs));
    this.engine = new PlayoutEngine({
      now, sampleRate, initialRingFrames: ringFrames, maxRingFrames: Math.max(DEFAULTS.maxRingFrames, ringFrames + 4), keepSlots: this.keepSlots,
    });
    this.status = { consumed: 0, fill: 0, underruns: 0 };
    this.decodeTiming = new Timing();
    this.speed = new RealTimeCheck(); // wall time of the decoder's requests against their audio
    this.received = new Map(); // seq -> payload, the packets that arrived for the kept slots (for export and tests)
    this.sentAt = new Map(); // seq -> sender's clock when it sent the packet (for the delay figure)
    this.delay = new Timing(); // send -> start of playout of the packet's 20 ms
    // The decoder's output slot by slot, before time-stretching (== an offline decode): the last
    // keepSeconds of it.
    this.decoded = new RecentAudio(Math.round(keepSeconds * sampleRate));
    this.counts = { rejected: 0, bitrate: null };
    this.rate = new RateMeter();
    this.pumping = false;
    this.timer = null;
    this.onDrained = null;
    this.onError = null;
    link.onPacket = (bytes, at) => this.#onPacket(bytes, at);
    link.onControl = (message) => this.#onControl(message);
    this.generation = (player.generation = (player.generation ?? 0) + 1);
    player.port.postMessage({ type: "reset", generation: this.generation });
    player.port.onmessage = (event) => this.#onPlayer(event.data);
  }

  /** Every slot in playout order: {seq, kind: "packet" | "conceal", playout}. */
  get log() { return this.engine.log; }

  /** "waiting" | "buffering" | "prefilling" | "playing" | "paused" | "draining" | "ended" */
  get state() { return this.engine.state; }

  #onPacket(bytes, at) {
    const message = parseMessage(bytes);
    if (!message) return;
    this.rate.add(message.payload.length + HEADER_BYTES, at);
    const outcome = this.engine.push(message.seq, message.payload);
    if (outcome === "ok") {
      this.received.set(message.seq, message.payload);
      if (this.received.size > this.keepSlots) this.received.delete(this.received.keys().next().value);
      // Both peers run on this machine (this page or another tab), so the sender's 16-bit
      // wall-clock milliseconds unwrap against ours.
      const now = wallClockMs(at);
      this.sentAt.set(message.seq, at - ((Math.round(now) - message.sendMs) & 0xffff));
    }
    this.#pump();
  }

  #onControl(message) {
    if (message.type === "start") { this.engine.start(message.firstSeq); this.counts.bitrate = message.bitrate; }
    else if (message.type === "bitrate") this.counts.bitrate = message.bitrate;
    else if (message.type === "pause") this.engine.pause(message.lastSeq);
    else if (message.type === "end") this.engine.end(message.lastSeq);
    else if (message.type === "resume") this.engine.resume();
    else { this.onOtherControl?.(message); return; }
    this.#pump();
  }

  #onPlayer(message) {
    if (message.generation !== this.generation) return; // a report from before this stream
    if (message.type === "status") {
      this.status = message;
      this.engine.playerStatus({ consumed: message.consumed, underruns: message.underruns });
      this.#pump();
    } else if (message.type === "drained") {
      this.status = { ...this.status, ...message, fill: 0 };
      this.engine.playerStatus({ consumed: message.consumed, underruns: message.underruns });
      this.engine.drained();
      if (this.engine.state === "ended") this.onDrained?.();
      else this.#pump();
    }
  }

  #pump() {
    if (this.pumping) return;
    this.pumping = true;
    this.#pumpLoop().catch((err) => this.onError?.(err)).finally(() => { this.pumping = false; });
  }

  async #pumpLoop() {
    for (;;) {
      if (this.halted) return;
      const step = this.engine.next();
      if (step.kind === "wait") { this.#wakeAt(step.untilMs); return; }
      if (step.kind === "play") { this.player.port.postMessage({ type: "play" }); continue; }
      if (step.kind === "drain") { this.player.port.postMessage({ type: "drain" }); continue; }
      const after = await this.#produceBurst(step);
      if (after) this.player.port.postMessage({ type: after.kind }); // "play" | "drain", after the slots
    }
  }

  /**
   * The engine's slots that follow `first` back to back (the ring is short of several frames:
   * prefilling, catching up with audio to spare) are decoded in one request (decoder.decodeMany: one
   * worker round trip, the same audio), then produced one by one as the engine decided each.
   * Returns the play or drain step that ended the run, for the loop to carry out; a wait is
   * dropped (the loop asks again: time has passed).
   */
  async #produceBurst(first) {
    const steps = [first];
    let after = null;
    while (this.decoder.decodeMany && steps.length < MAX_BURST) {
      // The burst's audio reaches the player only when all of it is decoded: while playing, take
      // another slot only if the player holds enough audio meanwhile (its ring less the burst's slots).
      const queued = steps.reduce((n, s) => n + s.playoutSamples, 0);
      if (this.engine.state === "playing" && this.engine.ringFillSamples() - queued < BURST_SLACK_FRAMES * this.sampleRate / 50) break;
      const step = this.engine.next();
      if (step.kind === "decode" || step.kind === "conceal") steps.push(step);
      else { after = step.kind === "wait" ? null : step; break; }
    }
    if (steps.length > 1) {
      const started = this.now();
      const { samples, ms, rejected } = await this.decoder.decodeMany(steps.map((s) => (s.kind === "decode" ? s.payload : null)));
      this.speed.add(this.now() - started, steps.length * FRAME_MS);
      const hop = samples.length / steps.length;
      this.burst = steps.map((_, i) => ({ samples: samples.slice(i * hop, (i + 1) * hop), ms: ms / steps.length, rejected: rejected[i] }));
    }
    for (const step of steps) await this.#produce(step);
    return after;
  }

  /** The player reports every few ms, but a wait may end sooner than its next report. */
  #wakeAt(untilMs) {
    clearTimeout(this.timer);
    if (Number.isFinite(untilMs)) this.timer = setTimeout(() => this.#pump(), Math.max(0, untilMs - this.now()));
  }

  /** Decode (or conceal) one slot, stretch it as the engine says, and hand it to the player. */
  async #produce(step) {
    const started = this.now();
    const burst = this.burst?.shift();
    const { samples, ms, rejected } = burst ?? await this.decoder.decode(step.kind === "decode" ? step.payload : null);
    if (!burst) this.speed.add(this.now() - started, FRAME_MS);
    if (step.kind === "decode" && this.sentAt.has(step.seq)) {
      const queuedMs = (this.engine.ringFillSamples() / this.sampleRate) * 1000;
      this.delay.add(this.now() + queuedMs - this.sentAt.get(step.seq));
      this.sentAt.delete(step.seq);
    }
    this.decodeTiming.add(ms);
    this.engine.decoded({ decodeMs: ms });
    if (rejected) { this.counts.rejected += 1; this.lastRejection = rejected; }
    this.decoded.push(samples);
    const played = playoutSamples(samples, step.playout);
    this.player.port.postMessage({ type: "push", samples: played });
  }

  /** Plain figures (also sent back to a calling tab). */
  snapshot() {
    const e = this.engine.snapshot();
    return {
      received: e.received, concealed: e.concealed, late: e.late, rejected: this.counts.rejected,
      compressed: e.compressed, expanded: e.expanded, underrunEvents: e.underrunEvents, underrunEventAt: e.underrunEventAt,
      jitterTarget: e.jitterTarget, ringTarget: e.ringTarget, targetMs: e.targetMs, delayNowMs: e.delayMs,
      health: e.health.message,
      slowFactor: this.speed.slow ? this.speed.factor : null, speedMessage: this.speed.message,
      decodeRecent: this.decodeTiming.recentMean, decodeMean: this.decodeTiming.mean,
      underrunQuanta: this.status.underruns ?? 0, consumed: this.status.consumed ?? 0,
      delayCount: this.delay.count, delayRecent: this.delay.recentMean, delayMean: this.delay.mean,
      frames: this.engine.slots, played: this.engine.slots, samples: this.engine.written, sampleRate: this.sampleRate,
    };
  }

  /** Stop decoding (the session is being torn down); the worklet plays out what it has. */
  halt() {
    if (this.halted) return;
    this.halted = true;
    clearTimeout(this.timer);
    this.player.port.postMessage({ type: "drain" });
  }

  /** The decoded stream's last keepSeconds (all of a shorter stream), as one array. */
  decodedAudio() { return this.decoded.window(); }

  /** Decoded samples before decodedAudio() starts (0 unless the stream outlasted the window). */
  get decodedSkipped() { return this.decoded.skipped; }
}

/** Resolves once `progress()` has not changed for `quietMs`: a receiver that stopped, told apart from one that
 *  is only slow (a browser decoding slower than real time still plays the whole stream). */
export function whenStalled(progress, quietMs, { everyMs = 250, now = () => performance.now() } = {}) {
  return new Promise((resolve) => {
    let last = progress();
    let since = now();
    const timer = setInterval(() => {
      const value = progress();
      if (value !== last) { last = value; since = now(); }
      else if (now() - since >= quietMs) { clearInterval(timer); resolve(); }
    }, everyMs);
  });
}

/** Everything for one streaming session: link, peers, player. */
export async function openSession({ codec, receiverCodec = codec, audioContext, playerNode, sourceRate, bitrate, lossRate, meanBurst, seed, remoteLink = null, wrapDecoder = (d) => d }) {
  // remoteLink: the sending end of a call to another tab (that tab runs the receiver).
  await Promise.all([codec.warmUp(), remoteLink ? null : receiverCodec.warmUp()]);
  const link = remoteLink ?? await openLoopback();
  const encoder = await codec.openEncoder({ sampleRate: sourceRate, bitrate });
  // wrapDecoder: how a test puts a slower decoder in the receiver's place (the page passes none).
  const decoder = remoteLink ? null : wrapDecoder(await receiverCodec.openDecoder({ sampleRate: PLAYBACK_RATE }));
  const loss = new GilbertElliott({ lossRate, meanBurst, seed });
  const sender = new Sender({ link, encoder, loss, frameLength: Math.round(sourceRate / 50), bitrate });
  const receiver = remoteLink ? null : new Receiver({ link, decoder, player: playerNode, sampleRate: PLAYBACK_RATE });
  return {
    link, encoder, decoder, loss, sender, receiver, audioContext, mode: remoteLink ? "caller" : "loopback",
    async close() { link.close(); await Promise.allSettled([encoder.close(), decoder?.close()]); },
  };
}

/** The receiving side of a call from another tab: decoder and player here, sender there. */
export async function openListenerSession({ codec, link, audioContext, playerNode }) {
  await codec.warmUp();
  const decoder = await codec.openDecoder({ sampleRate: PLAYBACK_RATE });
  // A call crosses tabs: two renderer processes, each with its own Python and runtime, share the
  // cores, so the listener starts with a deeper ring; the engine adapts it either way.
  const receiver = new Receiver({ link, decoder, player: playerNode, sampleRate: PLAYBACK_RATE, ringFrames: DEFAULTS.initialRingFrames + 2 });
  return {
    link, decoder, receiver, sender: null, loss: null, audioContext, mode: "listener",
    async close() { link.close(); await Promise.allSettled([decoder.close()]); },
  };
}
