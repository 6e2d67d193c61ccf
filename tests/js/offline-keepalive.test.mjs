// askWhileWorking: a long service-worker task (storing groups) is accompanied by status questions, each a
// new event that keeps the worker from being ended as idle, and each shown; they stop with the task.
import test from "node:test";
import assert from "node:assert/strict";
import { askWhileWorking } from "../../web/lib/offline.js";

/** A timer the test drives: `tick()` runs the repeated callback once. */
function manualTimer() {
  const timer = { callback: null, stopped: false, ms: null };
  timer.every = (callback, ms) => { timer.callback = callback; timer.ms = ms; return () => { timer.stopped = true; }; };
  timer.tick = () => { if (!timer.stopped) timer.callback(); };
  return timer;
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

test("status is asked on every tick while the work runs, and shown", async () => {
  const asked = [];
  let finish;
  const ask = (message) => {
    asked.push(message.type);
    if (message.type === "status") return Promise.resolve({ cached: asked.length });
    return new Promise((resolve) => { finish = resolve; });
  };
  const shown = [];
  const timer = manualTimer();
  const work = askWhileWorking(ask, { type: "cache-groups", groups: ["python"] }, { pingMs: 10_000, onStatus: (s) => shown.push(s.cached), every: timer.every });
  assert.equal(timer.ms, 10_000);
  timer.tick(); await flush();
  timer.tick(); await flush();
  assert.deepEqual(asked, ["cache-groups", "status", "status"]);
  assert.deepEqual(shown, [2, 3]);
  finish({ done: true });
  assert.deepEqual(await work, { done: true });
  assert.equal(timer.stopped, true);
});

test("a status answered after the work ended is not shown, and a failed status question is ignored", async () => {
  let answerStatus;
  let calls = 0;
  const ask = (message) => {
    if (message.type === "cache-groups") return Promise.resolve("stored");
    calls += 1;
    return calls === 1 ? Promise.reject(new Error("worker restarting")) : new Promise((resolve) => { answerStatus = resolve; });
  };
  const shown = [];
  const timer = manualTimer();
  const work = askWhileWorking(ask, { type: "cache-groups" }, { onStatus: (s) => shown.push(s), every: timer.every });
  timer.tick(); // rejected: ignored
  timer.tick(); // answered late, below
  assert.equal(await work, "stored");
  answerStatus({ late: true });
  await flush();
  assert.deepEqual(shown, []);
});

test("the work's own failure is passed on and the questions stop", async () => {
  const timer = manualTimer();
  const ask = (message) => (message.type === "status" ? Promise.resolve({}) : Promise.reject(Object.assign(new Error("full"), { name: "QuotaExceededError" })));
  await assert.rejects(askWhileWorking(ask, { type: "cache-groups" }, { every: timer.every }), { name: "QuotaExceededError" });
  assert.equal(timer.stopped, true);
});
