// The playout engine under scripted arrival and decode-time traces (node --test).
// The clock is simulated, so every figure here is exact: counts, which frames were concealed,
// the delay the engine settles at.
import test from "node:test";
import assert from "node:assert/strict";

import { PlayoutEngine, DelayHistogram, compressFrame, expandFrame, playoutSamples, PLAYOUT } from "../../web/tools/lyra/playout.js";
import { simulate, rng } from "./playout-sim.mjs";

const range = (n) => Array.from({ length: n }, (_, i) => i);
const seqsOf = (engine, kind) => engine.log.filter((e) => e.kind === kind).map((e) => e.seq);
const settledDelay = (result) => result.delays.at(-2)[1]; // the last full second before the end

/** Every slot is played exactly once, in order: the decoder sees the stream as an offline decode would. */
function assertEverySlotOnce(engine, packets) {
  assert.deepEqual(engine.log.map((e) => e.seq), range(packets));
}

test("steady link: no concealment, no underrun, low delay", () => {
  const r = simulate({ packets: 500 });
  assertEverySlotOnce(r.engine, 500);
  assert.equal(r.snapshot.concealed, 0);
  assert.equal(r.player.underruns, 0);
  assert.equal(r.snapshot.late, 0);
  assert.equal(r.snapshot.compressed, 0);
  assert.equal(r.snapshot.jitterTarget, 1);
  assert.equal(r.startedAt, 68); // 3 ring frames + 1 jitter frame arrive by 65 ms, then 3 decodes of 1 ms
  assert.equal(settledDelay(r), 74);
  assert.equal(r.player.pushed, r.player.consumed); // everything decoded was played
});

test("jitter 0-80 ms: the target covers it and nothing arrives late", () => {
  const random = rng(1);
  const r = simulate({ packets: 1500, networkMs: () => random() * 80 });
  assertEverySlotOnce(r.engine, 1500);
  assert.equal(r.snapshot.late, 0);
  assert.equal(r.snapshot.concealed, 0);
  assert.equal(r.player.underruns, 0);
  assert.equal(r.snapshot.jitterTarget, 4); // 80 ms of spread = 4 frames
  const target = (r.snapshot.jitterTarget + r.snapshot.ringTarget) * 20;
  assert.ok(Math.abs(settledDelay(r) - target) <= 20, `${settledDelay(r)} vs ${target}`);
});

test("no jitter keeps the target at its minimum", () => {
  const r = simulate({ packets: 300, networkMs: () => 30 });
  assert.equal(r.snapshot.jitterTarget, 1);
  assert.equal(r.snapshot.compressed, 0);
  assert.ok(r.snapshot.expanded <= 1, `${r.snapshot.expanded}`);
});

test("reordering: a packet overtaken by the next one still plays", () => {
  const r = simulate({ packets: 500, networkMs: (seq) => (seq % 7 === 3 ? 45 : 5) });
  assertEverySlotOnce(r.engine, 500);
  assert.equal(r.snapshot.late, 0);
  assert.equal(r.snapshot.concealed, 0);
  assert.equal(r.snapshot.jitterTarget, 2);
  assert.equal(r.player.underruns, 0);
});

test("bursts of loss: exactly the lost frames are concealed, and the delay does not drift", () => {
  const lost = new Set();
  const random = rng(3);
  for (let seq = 0; seq < 1000; seq++) if (random() < 0.05) for (let k = 0; k < 4; k++) lost.add(seq + k);
  const r = simulate({ packets: 1000, dropped: lost });
  assertEverySlotOnce(r.engine, 1000);
  assert.deepEqual(seqsOf(r.engine, "conceal"), [...lost].filter((s) => s < 1000).sort((a, b) => a - b));
  assert.equal(r.snapshot.late, 0);
  assert.equal(r.player.underruns, 0);
  assert.equal(r.snapshot.expanded, 0); // a missing packet is not mistaken for a short buffer
  assert.ok(r.snapshot.compressed <= 2, `${r.snapshot.compressed}`);
  assert.ok(Math.abs(settledDelay(r) - 74) <= 10, `${settledDelay(r)}`); // where a lossless stream settles
});

test("a packet later than the buffer is concealed in its slot and counted late", () => {
  const r = simulate({ packets: 400, networkMs: (seq) => (seq === 200 ? 400 : 5) });
  assertEverySlotOnce(r.engine, 400);
  assert.deepEqual(seqsOf(r.engine, "conceal"), [200]);
  assert.deepEqual(r.engine.lateSeqs, [200]);
  assert.equal(r.player.underruns, 0);
  // concealed == dropped + late, as the page reports it
  assert.equal(r.snapshot.concealed, 0 + r.snapshot.late);
});

for (const [stallMs, events] of [[50, 0], [200, 1], [500, 1]]) {
  test(`a ${stallMs} ms CPU stall: bridged, the ring grows, then the delay comes back down`, () => {
    const stallAt = 5000;
    const r = simulate({ packets: 1500, stalls: [[stallAt, stallAt + stallMs]] });
    assertEverySlotOnce(r.engine, 1500);
    assert.equal(r.snapshot.concealed, 0); // packets queued during the stall are all played
    assert.equal(r.snapshot.underrunEvents, events);
    assert.equal(r.snapshot.underrunEventAt.length, events); // one position per event, not per quantum
    // Every underrun happened during the stall (plus one render quantum): none after adapting.
    for (const t of r.underrunTimes) assert.ok(t >= stallAt && t <= stallAt + stallMs + 8, `underrun at ${t}`);
    if (events) {
      assert.equal(r.snapshot.ringGrown, 1);
      assert.ok(r.snapshot.compressed > 0);
    }
    // The backlog is compressed away: the delay settles where it was before the stall.
    const before = r.delays.find(([t]) => t === 4000)[1];
    assert.ok(Math.abs(settledDelay(r) - before) <= 20, `${before} -> ${settledDelay(r)}`);
  });
}

test("repeated stalls keep the ring deeper until the machine is quiet again", () => {
  const stalls = [[3000, 3150], [4000, 4150], [5000, 5150]];
  const r = simulate({ packets: 1500, stalls });
  assert.equal(r.snapshot.underrunEvents, 3);
  assert.ok(r.player.underruns > 3, "each stall starves several quanta"); // so quanta and events differ
  // One position per event, in samples played: each falls in its own stall (played time runs behind the
  // clock by the quanta bridged before it).
  const at = r.snapshot.underrunEventAt.map((samples) => r.startedAt + samples / 16);
  assert.equal(at.length, 3);
  at.forEach((ms, i) => {
    const [a, b] = stalls[i];
    assert.ok(ms >= a - 8 * r.player.underruns && ms <= b + 8, `event ${i} at ${ms} ms`);
  });
  assert.equal(r.snapshot.ringGrown, 5); // 1, then 2 and 2: stalls 1 s apart mean a busy machine
  assert.ok(r.snapshot.ringShrunk >= 1); // 10 s of quiet later it shrinks again
  for (const t of r.underrunTimes) assert.ok(stalls.some(([a, b]) => t >= a && t <= b + 8), `underrun at ${t}`);
});

test("a decoder slower than real time is detected and said in plain words", () => {
  const r = simulate({ packets: 300, decodeMs: () => 25 });
  const health = r.snapshot.health;
  assert.equal(health.slow, true);
  assert.equal(health.decodeMs, 25);
  assert.match(health.message, /slower than real time/);
  assert.ok(r.player.underruns > 0);
  const fast = simulate({ packets: 300, decodeMs: () => 12 });
  assert.equal(fast.snapshot.health.slow, false);
  assert.equal(fast.player.underruns, 0);
});

test("pause and resume: the slots before the pause drain, the rest rebuffer, no underrun counted", () => {
  let t = 0;
  const engine = new PlayoutEngine({ now: () => t });
  const steps = () => {
    const out = [];
    for (let s = engine.next(); s.kind !== "wait"; s = engine.next()) out.push(s.kind === "decode" ? s.seq : s.kind);
    return out;
  };
  engine.start(0);
  for (let seq = 0; seq < 6; seq++) engine.push(seq, new Uint8Array([seq]));
  assert.deepEqual(steps(), [0, 1, 2, "play"]); // 1 jitter frame + 3 ring frames buffered, 3 decoded
  engine.pause(5);
  t = 40;
  engine.playerStatus({ consumed: 640 });
  assert.deepEqual(steps(), [3, 4]); // the ring is full again: it waits
  t = 60;
  engine.playerStatus({ consumed: 960 });
  assert.deepEqual(steps(), [5, "drain"]);
  assert.equal(engine.state, "paused");
  t = 200;
  engine.playerStatus({ consumed: engine.written });
  engine.resume();
  assert.equal(engine.state, "buffering");
  for (let seq = 6; seq < 9; seq++) engine.push(seq, new Uint8Array([seq]));
  assert.deepEqual(steps(), []); // 3 of the 4 slots it waits for
  engine.push(9, new Uint8Array([9]));
  assert.deepEqual(steps(), [6, 7, 8, "play"]);
  assert.equal(engine.counts.underruns, 0);
  assert.deepEqual(engine.log.map((e) => e.seq), range(9));
});

test("the engine needs an injected clock", () => {
  assert.throws(() => new PlayoutEngine(), /needs a clock/);
});

test("delay histogram: the quantile forgets old spikes", () => {
  const h = new DelayHistogram({ buckets: 10, forgetFactor: 0.9, quantile: 0.95 });
  assert.equal(h.quantileFrames(), 0);
  h.add(5);
  assert.equal(h.quantileFrames(), 5);
  for (let i = 0; i < 60; i++) h.add(1);
  assert.equal(h.quantileFrames(), 1);
});

test("time-stretch: compress halves, expand adds half, and both join their neighbours", () => {
  const frame = Float32Array.from(range(320), (i) => Math.sin((2 * Math.PI * i) / 40));
  const short = compressFrame(frame);
  const long = expandFrame(frame);
  assert.equal(short.length, 160);
  assert.equal(long.length, 480);
  assert.equal(short[0], frame[0]);
  assert.equal(short.at(-1), frame.at(-1));
  assert.equal(long[0], frame[0]);
  assert.equal(long.at(-1), frame.at(-1));
  assert.deepEqual(Array.from(long.subarray(320)), Array.from(frame.subarray(160)));
  // A periodic signal whose period divides the half frame comes out unchanged in shape.
  for (let i = 0; i < 160; i++) assert.ok(Math.abs(short[i] - frame[i]) < 1e-6);
  assert.equal(playoutSamples(frame, PLAYOUT.NORMAL), frame);
  assert.equal(playoutSamples(frame, PLAYOUT.COMPRESS).length, 160);
  assert.equal(playoutSamples(frame, PLAYOUT.EXPAND).length, 480);
});
