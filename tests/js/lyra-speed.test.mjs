// The real-time check of Lyra's decoding (web/tools/lyra/speed.js): fed measured request times, it judges
// the stream once, over its first seconds of audio, and says so in plain words. Times here are given, not
// measured, so every verdict is exact.
import test from "node:test";
import assert from "node:assert/strict";

import { RealTimeCheck, CHECK_AUDIO_MS } from "../../web/tools/lyra/speed.js";

test("a decoder 1.5 times slower than real time is judged after the first seconds of audio, with its factor", () => {
  const check = new RealTimeCheck();
  for (let audio = 0; audio < CHECK_AUDIO_MS - 160; audio += 160) check.add(1.5 * 160, 160); // bursts of 8 frames
  assert.equal(check.slow, false, "not judged before enough audio");
  assert.equal(check.message, "");
  check.add(1.5 * 160, 160);
  assert.equal(check.slow, true);
  assert.equal(check.factor, 1.5);
  assert.equal(check.message, "This browser decodes Lyra slower than real time (×1.5); playback will stall. Saved files and the comparison still work.");
});

test("a decoder 14 times slower is judged once decoding took twice the window, long before the window's audio", () => {
  const check = new RealTimeCheck();
  let requests = 0;
  while (check.factor === null) { check.add(14 * 160, 160); requests += 1; }
  assert.equal(requests, Math.ceil((2 * CHECK_AUDIO_MS) / (14 * 160)));
  assert.ok(check.audioMs < CHECK_AUDIO_MS);
  assert.equal(check.factor, 14);
  assert.equal(check.message, "This browser decodes Lyra slower than real time (×14); playback will stall. Saved files and the comparison still work.");
});

test("the verdict stays: later fast frames do not take it back, and a fast start is never judged slow later", () => {
  const slow = new RealTimeCheck({ audioMs: 100 });
  for (let i = 0; i < 5; i++) slow.add(30, 20);
  assert.equal(slow.message.includes("(×1.5)"), true);
  for (let i = 0; i < 500; i++) slow.add(1, 20);
  assert.equal(slow.factor, 1.5);
  const fast = new RealTimeCheck({ audioMs: 100 });
  for (let i = 0; i < 5; i++) fast.add(2, 20);
  for (let i = 0; i < 500; i++) fast.add(100, 20);
  assert.equal(fast.slow, false);
  assert.equal(fast.factor, 0.1);
});

test("one slow first request among fast ones does not decide it: the whole window counts", () => {
  const check = new RealTimeCheck();
  check.add(900, 160); // a first compile
  for (let audio = 160; audio < CHECK_AUDIO_MS; audio += 20) check.add(3, 20);
  assert.equal(check.slow, false);
  assert.ok(check.factor > 0.5 && check.factor < 1, String(check.factor));
});
