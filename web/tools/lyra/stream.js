// Real-time Lyra over WebRTC: a sender peer encodes 20 ms frames on a 50 packets/s clock and
// sends each packet as one message on an unordered, no-retransmit data channel; a receiver
// peer holds packets in an adaptive jitter buffer, decodes (or conceals) one frame each time
// the AudioWorklet's ring needs more audio, and plays it.
import { openLoopback } from "./rtc-link.js";
import { GilbertElliott } from "./gilbert.js";
import { JitterBuffer, frameMessage, parseMessage, HEADER_BYTES } from "./jitter-buffer.js";
import { concat } from "./wav.js";

export const FRAME_MS = 20;

/** Milliseconds on a clock that every tab of this browser shares (performance.now() does not). */
export function wallClockMs(now = performance.now()) { return performance.timeOrigin + now; }
export const PLAYBACK_RATE = 16000; // the decoder's native rate; the AudioContext resamples to the device
// Decoded audio kept ahead of the worklet. It covers main-thread, RPC and model hiccups: on a
// 2-core machine running both peers a frame costs ~10 ms in each worker, and with 4 frames ahead
// (3 + the session's 1) streams in the e2e suite still underran 1-3 times in their first second.
const RING_FRAMES = 5;
const MAX_RING_FRAMES = 8;
const ADAPT_EVERY = 50; // playout slots between jitter-buffer adaptations (1 s)

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
    this.packets = []; // every encoded packet in order: the .lyra file
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
   * @param decoder {decode(packet | null) -> Promise<{samples, ms}>, close()}
   * @param player an AudioWorkletNode running "lyra-player"
   */
  constructor({ link, decoder, player, sampleRate = PLAYBACK_RATE, ringFrames = RING_FRAMES }) {
    this.ringFrames = ringFrames;
    this.link = link;
    this.decoder = decoder;
    this.player = player;
    this.sampleRate = sampleRate;
    this.frameLength = Math.round(sampleRate / 50);
    this.jb = new JitterBuffer({ frameMs: FRAME_MS });
    this.state = "waiting"; // waiting -> buffering -> playing -> (draining -> paused|ended)
    this.lastSeq = null; // set by pause/end: no packets after this one until a resume
    this.written = 0;
    this.status = { consumed: 0, fill: 0, underruns: 0, at: performance.now() };
    this.decodeTiming = new Timing();
    this.received = new Map(); // seq -> payload, every packet that arrived (for export and tests)
    this.sentAt = new Map(); // seq -> sender's clock when it sent the packet (for the delay figure)
    this.delay = new Timing(); // send -> start of playout of the packet's 20 ms
    this.log = []; // playout order: {seq, kind: "packet" | "conceal" | "stretch" | "skip"}
    this.decoded = [];
    this.counts = { received: 0, concealed: 0, late: 0, stretched: 0, skipped: 0, rejected: 0, bitrate: null };
    this.window = { slots: 0, minDepth: Infinity, late: 0 };
    this.rate = new RateMeter();
    this.pumping = false;
    this.onDrained = null;
    this.onError = null;
    link.onPacket = (bytes, at) => this.#onPacket(bytes, at);
    link.onControl = (message) => this.#onControl(message);
    this.generation = (player.generation = (player.generation ?? 0) + 1);
    player.port.postMessage({ type: "reset", generation: this.generation });
    player.port.onmessage = (event) => this.#onPlayer(event.data);
  }

  #onPacket(bytes, at) {
    const message = parseMessage(bytes);
    if (!message) return;
    this.rate.add(message.payload.length + HEADER_BYTES, at);
    const outcome = this.jb.push(message.seq, message.payload, message.sendMs, wallClockMs(at));
    if (outcome === "late") { this.counts.late += 1; this.window.late += 1; }
    if (outcome === "ok") {
      this.counts.received += 1;
      this.received.set(message.seq, message.payload);
      // Both peers run on this machine (this page or another tab), so the sender's 16-bit
      // wall-clock milliseconds unwrap against ours.
      const now = wallClockMs(at);
      this.sentAt.set(message.seq, at - ((Math.round(now) - message.sendMs) & 0xffff));
    }
    this.#pump();
  }

  #onControl(message) {
    if (message.type === "start") { this.jb.start(message.firstSeq); this.counts.bitrate = message.bitrate; this.state = "buffering"; }
    else if (message.type === "bitrate") this.counts.bitrate = message.bitrate;
    else if (message.type === "pause" || message.type === "end") { this.lastSeq = message.lastSeq; this.ending = message.type; }
    else if (message.type !== "resume") { this.onOtherControl?.(message); return; }
    else if (message.type === "resume") {
      this.jb.resync(); // the sender's clock jumped by the length of the pause
      if (this.state === "paused") { this.lastSeq = null; this.ending = null; this.state = "buffering"; }
      else this.ending = "resume"; // still playing out the frames before the pause: rebuffer after them
    }
    this.#pump();
  }

  #onPlayer(message) {
    if (message.generation !== this.generation) return; // a report from before this stream
    if (message.type === "status") {
      if ((message.underruns ?? 0) > (this.status.underruns ?? 0) && this.ringFrames < MAX_RING_FRAMES) {
        this.ringFrames += 1; // the worklet went hungry: keep more decoded audio ahead of it
      }
      this.status = { ...message, at: performance.now() };
      this.#pump();
    } else if (message.type === "drained") {
      this.status = { ...this.status, ...message, fill: 0 };
      if (this.state === "draining") { this.state = "ended"; this.onDrained?.(); }
    }
  }

  /** Decoded samples not yet played, estimated from the worklet's last report. */
  ringFill() {
    const playedSince = this.state === "playing" ? ((performance.now() - this.status.at) / 1000) * this.sampleRate : 0;
    return Math.max(0, this.written - this.status.consumed - playedSince);
  }

  /** Is the playout slot `seq` past the end of what the sender announced (pause / end)? */
  #beyondEnd(seq) { return this.lastSeq !== null && seq > this.lastSeq; }

  #pump() {
    if (this.pumping) return;
    this.pumping = true;
    this.#pumpLoop().catch((err) => this.onError?.(err)).finally(() => { this.pumping = false; });
  }

  async #pumpLoop() {
    for (;;) {
      if (this.halted) return;
      if (this.state === "buffering") {
        const target = this.jb.targetDepth + this.ringFrames;
        const announcedAll = this.lastSeq !== null; // a clip shorter than the buffer
        if (this.jb.depth < target && !announcedAll) return;
        this.state = "playing";
        this.startedAt = performance.now();
        // Fill the ring first, then let the worklet start.
        for (let i = 0; i < this.ringFrames && !this.#beyondEnd(this.jb.next); i++) await this.#playSlot();
        this.status = { ...this.status, at: performance.now() };
        this.player.port.postMessage({ type: "play" });
        continue;
      }
      if (this.state !== "playing") return;
      if (this.#beyondEnd(this.jb.next)) {
        // Everything before the pause / end is decoded: let the worklet play it out without
        // counting the silence after it as an underrun.
        this.player.port.postMessage({ type: "drain" });
        if (this.ending === "end") { this.state = "draining"; return; }
        if (this.ending === "resume") { this.lastSeq = null; this.ending = null; this.state = "buffering"; continue; }
        this.state = "paused";
        return;
      }
      if (this.ringFill() >= this.ringFrames * this.frameLength) return;
      await this.#playSlot();
    }
  }


  /** Produce the next 20 ms: the packet if it is here, concealment if not; adapt the depth. */
  async #playSlot() {
    this.#adapt();
    const { seq, payload } = this.jb.pop();
    if (payload) await this.#decode(seq, payload, "packet");
    else { this.counts.concealed += 1; await this.#decode(seq, null, "conceal"); }
  }

  #adapt() {
    const w = this.window;
    w.slots += 1;
    w.minDepth = Math.min(w.minDepth, this.jb.depth);
    if (w.slots < ADAPT_EVERY) return;
    const target = this.jb.targetDepth;
    if (w.late > 0 && w.minDepth < target) {
      // Packets came too late: play one concealed frame without consuming a packet, so every
      // later packet gets 20 ms more time (the buffer grows by one).
      this.counts.stretched += 1;
      this.pendingStretch = true;
    } else if (w.minDepth > target + 2 && this.jb.has(this.jb.next) && !this.#beyondEnd(this.jb.next + 1)) {
      // Persistently more delay than the jitter needs: skip one packet.
      this.counts.skipped += 1;
      const { seq } = this.jb.skip();
      this.log.push({ seq, kind: "skip" });
    }
    this.window = { slots: 0, minDepth: Infinity, late: 0 };
  }

  async #decode(seq, payload, kind) {
    if (this.pendingStretch) {
      this.pendingStretch = false;
      await this.#decodeOne(seq, null, "stretch");
    }
    await this.#decodeOne(seq, payload, kind);
  }

  async #decodeOne(seq, payload, kind) {
    const { samples, ms, rejected } = await this.decoder.decode(payload);
    if (kind === "packet" && this.sentAt.has(seq)) {
      const startsIn = this.state === "playing" ? (this.ringFill() / this.sampleRate) * 1000 : (this.written / this.sampleRate) * 1000;
      this.delay.add(performance.now() + startsIn - this.sentAt.get(seq));
      this.sentAt.delete(seq);
    }
    this.decodeTiming.add(ms);
    if (rejected) { this.counts.rejected += 1; this.lastRejection = rejected; }
    this.log.push({ seq, kind });
    this.decoded.push(samples);
    this.player.port.postMessage({ type: "push", samples });
    this.written += samples.length;
  }

  /** Plain figures (also sent back to a calling tab). */
  snapshot() {
    return {
      received: this.counts.received, concealed: this.counts.concealed, late: this.counts.late,
      stretched: this.counts.stretched, skipped: this.counts.skipped, rejected: this.counts.rejected,
      depth: this.jb.depth, target: this.jb.targetDepth, jitter: this.jb.jitterMs,
      decodeRecent: this.decodeTiming.recentMean, decodeMean: this.decodeTiming.mean,
      underruns: this.status.underruns ?? 0, underrunAt: this.status.underrunAt ?? [], consumed: this.status.consumed ?? 0,
      delayCount: this.delay.count, delayRecent: this.delay.recentMean, delayMean: this.delay.mean,
      ringFrames: this.ringFrames, frames: this.log.length, played: this.log.filter((e) => e.kind !== "skip").length, samples: this.written, sampleRate: this.sampleRate,
    };
  }

  /** Stop decoding (the session is being torn down); the worklet plays out what it has. */
  halt() {
    if (this.halted) return;
    this.halted = true;
    this.player.port.postMessage({ type: "drain" });
  }

  decodedAudio() { return concat(this.decoded); }
}

/** Everything for one streaming session: link, peers, player. */
export async function openSession({ codec, receiverCodec = codec, audioContext, playerNode, sourceRate, bitrate, lossRate, meanBurst, seed, remoteLink = null }) {
  // remoteLink: the sending end of a call to another tab (that tab runs the receiver).
  await Promise.all([codec.warmUp(), remoteLink ? null : receiverCodec.warmUp()]);
  const link = remoteLink ?? await openLoopback();
  const encoder = await codec.openEncoder({ sampleRate: sourceRate, bitrate });
  const decoder = remoteLink ? null : await receiverCodec.openDecoder({ sampleRate: PLAYBACK_RATE });
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
  // A call crosses tabs: two renderer processes, each with its own Python and onnxruntime, share
  // the cores; with 6 frames ahead the listener underran 7 times about 0.5 s into a call in CI
  // (2 cores): keep 60 ms more ahead than a loopback stream.
  const receiver = new Receiver({ link, decoder, player: playerNode, sampleRate: PLAYBACK_RATE, ringFrames: RING_FRAMES + 3 });
  return {
    link, decoder, receiver, sender: null, loss: null, audioContext, mode: "listener",
    async close() { link.close(); await Promise.allSettled([decoder.close()]); },
  };
}
