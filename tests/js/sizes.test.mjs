// Pure helpers of issue 18's large-image and truncated-file messages (node --test).
import test from "node:test";
import assert from "node:assert/strict";

import { fitWithin } from "../../web/lib/downscale.js";
import { sizeOf } from "../../web/tools/jxl/truncated.js";

test("fitWithin keeps the aspect ratio and stays within the pixel budget", () => {
  assert.deepEqual(fitWithin(6000, 4000, 12e6), { width: 4242, height: 2828, scale: Math.sqrt(0.5) });
  const basis = fitWithin(6000, 4000, 12 * 1024 * 1024);
  assert.deepEqual([basis.width, basis.height], [4344, 2896]);
  assert.ok(basis.width * basis.height <= 12 * 1024 * 1024);
  assert.deepEqual(fitWithin(800, 600, 12e6), { width: 800, height: 600, scale: 1 }); // never enlarged
  assert.deepEqual([fitWithin(20000, 1, 100).width, fitWithin(20000, 1, 100).height], [100, 1]); // at least 1 pixel
});

test("sizeOf says 'N of M' in the unit of the whole file", () => {
  assert.equal(sizeOf(7539, 25132), "7.5 of 25.1 KB");
  assert.equal(sizeOf(500, 900), "500 of 900 B");
  assert.equal(sizeOf(3e6, 7.2e6), "3.0 of 7.2 MB");
  assert.equal(sizeOf(950, 25132), "0.9 of 25.1 KB");
  assert.match(sizeOf(7539, null), /^7\.5 KB \(the rest/);
});
