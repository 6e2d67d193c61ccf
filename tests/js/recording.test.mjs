// What a long live stream keeps (node --test): bounded however long it runs, and exact while it fits.
import test from "node:test";
import assert from "node:assert/strict";

import { RecentAudio, PacketLog } from "../../web/tools/lyra/recording.js";
import { simulate } from "./playout-sim.mjs";

const ramp = (from, n) => Float32Array.from({ length: n }, (_, i) => from + i);

test("RecentAudio keeps a short stream whole", () => {
  const a = new RecentAudio(1000);
  for (let i = 0; i < 5; i++) a.push(ramp(i * 100, 100));
  assert.equal(a.skipped, 0);
  assert.deepEqual(Array.from(a.window()), Array.from(ramp(0, 500)));
});

test("RecentAudio keeps exactly the last `capacity` samples of a long one, and its memory is bounded", () => {
  const a = new RecentAudio(1000);
  let pushed = 0;
  for (let i = 0; i < 10_000; i++) {
    const n = 1 + ((i * 7919) % 333); // chunk sizes vary, as stretched / concealed frames do
    a.push(ramp(pushed, n));
    pushed += n;
    assert.ok(a.held < 1000 + 333, `held ${a.held} after ${i} pushes`);
  }
  assert.equal(a.skipped, pushed - 1000);
  const w = a.window();
  assert.equal(w.length, 1000);
  assert.equal(w[0], pushed - 1000);
  assert.equal(w[999], pushed - 1);
  assert.equal(a.window(), a.chunks[0]); // the second call does not copy again
  a.push(ramp(pushed, 10));
  assert.deepEqual(Array.from(a.window().subarray(-3)), [pushed + 7, pushed + 8, pushed + 9]);
});

test("RecentAudio ignores empty chunks and refuses a zero capacity", () => {
  const a = new RecentAudio(10);
  a.push(new Float32Array(0));
  assert.equal(a.window().length, 0);
  assert.throws(() => new RecentAudio(0), RangeError);
});

test("PacketLog gives back every packet and the .lyra bytes in order", () => {
  const log = new PacketLog();
  const packets = [];
  for (let i = 0; i < 5000; i++) {
    const p = Uint8Array.from({ length: i % 3 === 0 ? 8 : 15 }, (_, k) => (i + k) & 255);
    packets.push(p);
    log.push(p);
  }
  assert.equal(log.length, 5000);
  assert.deepEqual(Array.from(log.at(4999)), Array.from(packets[4999]));
  assert.deepEqual(log.map((p) => p.length), packets.map((p) => p.length));
  const all = log.bytes();
  assert.equal(all.length, packets.reduce((n, p) => n + p.length, 0));
  assert.deepEqual(Array.from(all.subarray(0, 23)), [...packets[0], ...packets[1]]);
  assert.deepEqual([...log.sizes()].sort(), [15, 8]);
  assert.throws(() => log.at(5000), RangeError);
});

test("the engine's log keeps the latest keepSlots slots and counts all of them", () => {
  const packets = 3000;
  const dropped = new Set(Array.from({ length: 300 }, (_, i) => i * 10 + 3));
  const whole = simulate({ packets, dropped });
  const bounded = simulate({ packets, dropped, settings: { keepSlots: 500 } });
  assert.equal(bounded.engine.slots, packets);
  assert.equal(whole.engine.log.length, packets);
  assert.ok(bounded.engine.log.length >= 500 && bounded.engine.log.length < 500 + 64, String(bounded.engine.log.length));
  assert.deepEqual(bounded.engine.log, whole.engine.log.slice(-bounded.engine.log.length));
  assert.ok(bounded.engine.concealedSeqs.length < 500 + 64);
  assert.deepEqual(bounded.engine.concealedSeqs, whole.engine.concealedSeqs.slice(-bounded.engine.concealedSeqs.length));
  // Bounding the record changes no decision.
  assert.deepEqual(bounded.snapshot, whole.snapshot);
});
