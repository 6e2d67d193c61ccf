// The JPEG XL card's headline (web/tools/jxl/plan.js headline): computed only from the figures beside it,
// so it can never say "sooner" beside "no gain", nor hide that half the salient area comes later (issue 31).
import { test } from "node:test";
import assert from "node:assert/strict";
import { compareBytes, headline } from "../../web/tools/jxl/plan.js";

const kb = (n) => `${(n / 1000).toFixed(1)} KB`;

test("a few table-of-contents bytes either way are no gain", () => {
  assert.equal(compareBytes(40_010, 40_000), "same");
  assert.equal(compareBytes(39_000, 40_000), "sooner");
  assert.equal(compareBytes(41_000, 40_000), "later");
  assert.equal(compareBytes(1_000, 1_050), "same"); // within 64 bytes
});

test("a real gain with few groups is stated as a gain, without a 'no gain' note", () => {
  const h = headline({ centre: { first: 20_000, scanline: 23_800 }, half: { first: 21_000, scanline: 24_000 }, groups: 4, centreFirstInScanline: false }, kb);
  assert.equal(h.centre, "sooner");
  assert.equal(h.ratioText, "×1.19");
  assert.equal(h.why, null);
  assert.match(h.sentence, /^The centre group is complete ×1\.19 sooner attention-first \(20\.0 KB attention-first vs 23\.8 KB/);
});

test("no gain says why: the centre in the first group, or only a few groups", () => {
  const first = headline({ centre: { first: 8_020, scanline: 8_000 }, half: { first: 8_020, scanline: 8_000 }, groups: 12, centreFirstInScanline: true }, kb);
  assert.equal(first.ratioText, "no gain");
  assert.match(first.why, /first group that scanline order loads/);
  assert.match(first.sentence, /^No gain: .* because the centre is in the first group/);
  const few = headline({ centre: { first: 8_020, scanline: 8_000 }, half: { first: 8_020, scanline: 8_000 }, groups: 4, centreFirstInScanline: false }, kb);
  assert.match(few.why, /only 4 groups/);
});

test("the centre sooner but half the salient area later: the sentence says both", () => {
  const h = headline({ centre: { first: 40_000, scanline: 50_800 }, half: { first: 87_200, scanline: 58_300 }, groups: 12, centreFirstInScanline: false }, kb);
  assert.equal(h.centre, "sooner");
  assert.equal(h.salient, "later");
  assert.match(h.sentence, /×1\.27 sooner .*; but half the salient area is complete later attention-first \(87\.2 KB attention-first vs 58\.3 KB/);
});

test("attention-first a little later is not called a gain", () => {
  const h = headline({ centre: { first: 30_000, scanline: 28_000 }, half: { first: 30_000, scanline: 28_000 }, groups: 6, centreFirstInScanline: false }, kb);
  assert.equal(h.centre, "later");
  assert.match(h.ratioText, /\(later\)$/);
  assert.doesNotMatch(h.sentence, /sooner/);
});
