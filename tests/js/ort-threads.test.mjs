// onnxruntime-web's threads (node --test): the worker's pool and each session's share of it.
import test from "node:test";
import assert from "node:assert/strict";

import { ortThreadPool, sessionThreads } from "../../web/lib/ort-threads.js";

test("without shared memory everything runs on one thread, whatever is asked", () => {
  assert.equal(ortThreadPool({ sharedMemory: false, cores: 8, requested: 4 }), 1);
  const pool = ortThreadPool({ sharedMemory: false, cores: 8 });
  assert.equal(sessionThreads({ pool, cores: 8, hint: 4 }), 1);
  assert.equal(sessionThreads({ pool, cores: 8 }), 1);
});

test("the pool may use every core, at most 4; ?threads=N sets it", () => {
  assert.equal(ortThreadPool({ sharedMemory: true, cores: 1 }), 1);
  assert.equal(ortThreadPool({ sharedMemory: true, cores: 2 }), 2);
  assert.equal(ortThreadPool({ sharedMemory: true, cores: 16 }), 4);
  assert.equal(ortThreadPool({ sharedMemory: true, cores: 2, requested: 3 }), 3);
});

test("a session without a hint leaves one core to the page; a hint and ?threads=N win, capped by the pool", () => {
  const pool = ortThreadPool({ sharedMemory: true, cores: 2 });
  assert.equal(sessionThreads({ pool, cores: 2 }), 1);
  assert.equal(sessionThreads({ pool, cores: 2, hint: 1 }), 1);
  assert.equal(sessionThreads({ pool, cores: 2, hint: 4 }), 2);
  assert.equal(sessionThreads({ pool, cores: 2, hint: 1, requested: 2 }), 2);
  assert.equal(sessionThreads({ pool: 4, cores: 16 }), 4);
  assert.equal(sessionThreads({ pool: 1, cores: 1 }), 1);
});
