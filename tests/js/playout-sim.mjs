// A deterministic simulation of one Lyra stream around the playout engine, on a 1 ms clock.
//
// Sender: packet `seq` is sent at seq * 20 ms and arrives after `networkMs(seq)` (or never, if
// `dropped` has it). The end of the stream is announced when the last packet is sent.
// Receiver: asks the engine for steps; a decode occupies it for `decodeMs(seq)`, during which it
// cannot act (the worker is busy), then its samples reach the player.
// Player: consumes 128 samples every 8 ms once started (an AudioWorklet render quantum at 16 kHz),
// counts an underrun for every quantum it cannot fill, reports every 2 quanta.
// `stalls`: [startMs, endMs) spans in which the receiver's thread does nothing (a CPU hog, a GC).
import { PlayoutEngine, FRAME_MS } from "../../web/tools/lyra/playout.js";
import { seededRandom } from "../../web/tools/lyra/gilbert.js";

const QUANTUM = 128;
const QUANTUM_MS = 8;

export function simulate({
  packets, networkMs = () => 5, dropped = new Set(), decodeMs = () => 1, stalls = [],
  settings = {}, extraMs = 2000, sampleRate = 16000, pauses = [],
}) {
  let t = 0;
  const engine = new PlayoutEngine({ now: () => t, sampleRate, ...settings });
  const arrivals = new Map(); // ms -> [seq]
  for (let seq = 0; seq < packets; seq++) {
    if (dropped.has(seq)) continue;
    const at = Math.round(seq * FRAME_MS + networkMs(seq));
    if (!arrivals.has(at)) arrivals.set(at, []);
    arrivals.get(at).push(seq);
  }
  const endAt = (packets - 1) * FRAME_MS;
  const player = { fill: 0, consumed: 0, underruns: 0, playing: false, draining: false, quanta: 0, pushed: 0 };
  let busyUntil = 0;
  let pendingSamples = 0;
  let lastDecodeMs = 0;
  let startedAt = null;
  let drainedAt = null;
  const underrunTimes = [];
  const delays = []; // [timeMs, engine delay ms] once a second
  const stalled = (ms) => stalls.some(([a, b]) => ms >= a && ms < b);
  const horizon = endAt + extraMs + 60_000;
  engine.start(0);
  const inbox = []; // arrived, not yet delivered to the receiver's thread
  let endAnnounced = false;
  for (t = 0; t < horizon; t++) {
    inbox.push(...(arrivals.get(t) ?? []));
    // Player (its own thread: stalls do not stop it).
    if (t % QUANTUM_MS === 0 && player.playing) {
      const n = Math.min(QUANTUM, player.fill);
      player.fill -= n;
      player.consumed += n;
      if (n < QUANTUM) {
        if (player.draining) { player.playing = false; player.draining = false; drainedAt = t; }
        else { player.underruns += 1; underrunTimes.push(t); }
      }
      player.quanta += 1;
    }
    if (stalled(t)) continue;
    for (const seq of inbox.splice(0)) engine.push(seq, new Uint8Array([seq & 0xff]));
    if (t > endAt && !endAnnounced) { engine.end(packets - 1); endAnnounced = true; }
    if (t % (2 * QUANTUM_MS) === 0) engine.playerStatus({ consumed: player.consumed, underruns: player.underruns });
    if (drainedAt === t) engine.drained();
    if (t < busyUntil) continue;
    if (pendingSamples) { player.fill += pendingSamples; player.pushed += pendingSamples; pendingSamples = 0; engine.decoded({ decodeMs: lastDecodeMs }); }
    for (;;) {
      const step = engine.next();
      if (step.kind === "wait") break;
      if (step.kind === "play") { player.playing = true; startedAt ??= t; continue; }
      if (step.kind === "drain") { player.draining = true; continue; }
      lastDecodeMs = decodeMs(step.seq, t);
      pendingSamples = step.playoutSamples;
      busyUntil = t + lastDecodeMs;
      if (lastDecodeMs === 0) { player.fill += pendingSamples; player.pushed += pendingSamples; pendingSamples = 0; engine.decoded({ decodeMs: 0 }); continue; }
      break;
    }
    if (t % 1000 === 0) delays.push([t, engine.snapshot().delayMs]);
    if (engine.state === "ended") break;
  }
  return { engine, player, startedAt, underrunTimes, delays, endedAt: t, snapshot: engine.snapshot() };
}

/** A seeded generator for traces: the page's own mulberry32 (the loss model's generator). */
export const rng = seededRandom;
