// The page's one promise-over-worker client (web/lib/worker-client.js) against a real worker: Node's
// worker_threads behind the browser's Worker interface (onmessage/onerror with {data}/{message}).
import test from "node:test";
import assert from "node:assert/strict";
import { Worker as NodeWorker } from "node:worker_threads";

import { WorkerClient, WorkerError, WorkerCrashedError, CancelledError } from "../../web/lib/worker-client.js";

const FIXTURE = new URL("./fixtures/echo-worker.mjs", import.meta.url);

/** A worker_threads Worker with the browser's Worker interface; `started` counts the workers made. */
function browserLikeWorker(started) {
  const worker = new NodeWorker(FIXTURE);
  const facade = {
    onmessage: null,
    onerror: null,
    terminated: false,
    postMessage: (message, transfer) => worker.postMessage(message, transfer),
    terminate: () => { facade.terminated = true; return worker.terminate(); },
  };
  worker.on("message", (data) => facade.onmessage?.({ data }));
  worker.on("error", (err) => facade.onerror?.({ message: err.message }));
  started.push(facade);
  return facade;
}

function client(options = {}) {
  const started = [];
  const unsolicited = [];
  const c = new WorkerClient(() => browserLikeWorker(started), { onMessage: (data) => unsolicited.push(data), ...options });
  return { c, started, unsolicited };
}

test("each call gets its own promise, answered by id; messages that answer no call go to onMessage", async (t) => {
  const { c, started, unsolicited } = client();
  t.after(() => c.stop());
  const replies = await Promise.all([1, 2, 3].map((value) => c.call({ op: "echo", value })));
  assert.deepEqual(replies.map((r) => r.value), [1, 2, 3]);
  assert.deepEqual(new Set(replies.map((r) => r.id)).size, 3);
  assert.equal(started.length, 1, "one worker, started on first use");
  assert.deepEqual(unsolicited, [{ type: "hello" }]);
});

test("transferred buffers are moved to the worker, not copied", async (t) => {
  const { c } = client();
  t.after(() => c.stop());
  const buffer = new ArrayBuffer(1024);
  const reply = await c.call({ op: "length", buffer }, [buffer]);
  assert.equal(reply.length, 1024);
  assert.equal(buffer.byteLength, 0, "detached here");
});

test("an {ok: false} reply rejects with a typed Error carrying the worker's message; the worker keeps working", async (t) => {
  const { c } = client();
  t.after(() => c.stop());
  await assert.rejects(c.call({ op: "refuse", value: "this" }), (err) => err instanceof WorkerError && err.message === "cannot do this");
  const custom = new WorkerClient(() => browserLikeWorker([]), { errorOf: (reply) => new RangeError(`encoding failed: ${reply.message}`) });
  t.after(() => custom.stop());
  await assert.rejects(custom.call({ op: "refuse", value: "that" }), { name: "RangeError", message: "encoding failed: cannot do that" });
  assert.equal((await c.call({ op: "echo", value: "after" })).value, "after");
});

test("progress messages reach onProgress before the answer", async (t) => {
  const { c } = client();
  t.after(() => c.stop());
  const heard = [];
  const reply = await c.call({ op: "steps", steps: 3 }, [], { onProgress: (p) => heard.push(p.step) });
  assert.deepEqual(heard, [1, 2, 3]);
  assert.equal(reply.steps, 3);
});

test("a crashing worker rejects every call it held in plain words, and the next call starts a fresh worker", async (t) => {
  const crashes = [];
  const { c, started } = client({ crashMessage: (reason) => `the encoder stopped: ${reason}`, onCrash: (reason) => crashes.push(reason) });
  t.after(() => c.stop());
  const waiting = c.call({ op: "hang" });
  const crashing = c.call({ op: "crash" });
  for (const call of [waiting, crashing]) {
    await assert.rejects(call, (err) => err instanceof WorkerCrashedError && err.message === "the encoder stopped: the wasm module aborted");
  }
  assert.deepEqual(crashes, ["the wasm module aborted"]);
  assert.equal(started[0].terminated, true);
  assert.equal((await c.call({ op: "echo", value: "again" })).value, "again");
  assert.equal(started.length, 2);
});

test("stop() cancels: the worker is terminated, its calls reject as cancelled, the next call starts anew", async (t) => {
  const { c, started } = client();
  t.after(() => c.stop());
  const encode = c.call({ op: "hang" });
  await c.call({ op: "echo", value: "the worker is up" });
  c.stop();
  await assert.rejects(encode, (err) => err instanceof CancelledError && err.cancelled === true && err.message === "cancelled");
  assert.equal(started[0].terminated, true);
  assert.equal((await c.call({ op: "echo", value: 7 })).value, 7);
  assert.equal(started.length, 2);
});

test("a call past its timeout is handed to onTimeout with its id (an injected clock)", async (t) => {
  const timers = [];
  const startTimer = (callback, ms) => { const timer = { callback, ms, armed: true }; timers.push(timer); return () => { timer.armed = false; }; };
  const { c, started } = client({
    startTimer,
    onTimeout: (id, ms) => c.restart((pending) => new WorkerError(pending === id ? `stopped after ${ms} ms` : "restarted meanwhile")),
  });
  t.after(() => c.stop());
  const quick = c.call({ op: "echo", value: 1 }, [], { timeoutMs: 500 });
  assert.equal((await quick).value, 1);
  assert.equal(timers[0].armed, false, "an answered call disarms its timer");
  const stuck = c.call({ op: "hang" }, [], { timeoutMs: 1000 });
  const bystander = c.call({ op: "hang" });
  timers[1].callback();
  await assert.rejects(stuck, { message: "stopped after 1000 ms" });
  await assert.rejects(bystander, { message: "restarted meanwhile" });
  assert.equal(started.length, 2, "restart() starts the fresh worker at once");
  assert.equal((await c.call({ op: "echo", value: 2 })).value, 2);
});

test("a message the structured clone cannot copy rejects that call only", async (t) => {
  const { c } = client();
  t.after(() => c.stop());
  await assert.rejects(c.call({ op: "echo", value: () => 1 }), { name: "DataCloneError" });
  assert.equal((await c.call({ op: "echo", value: "fine" })).value, "fine");
});

test("PythonWorker over the client: results, Python's errors, calls in flight, and the watchdog's restart", async (t) => {
  const { PythonWorker, PythonError, WorkerStalledError } = await import("../../web/lib/rpc.js");
  const started = [];
  const saved = globalThis.Worker;
  // The fixture answers {method: "echo"} like the Python worker: {id, ok, result} or {id, ok: false, error}.
  globalThis.Worker = class { constructor() { return browserLikeWorker(started); } };
  const timers = [];
  const startTimer = (callback, ms) => { timers.push({ callback, ms }); return () => {}; };
  const python = new PythonWorker(new URL("https://example.test/worker.js"), { watchdogMs: 60_000, startTimer });
  t.after(() => { python.terminate(); globalThis.Worker = saved; });
  const heard = [];
  python.on((message) => heard.push(message.type));
  assert.equal(started.length, 1, "Python starts at once, not on the first call");
  const echoed = python.call("test.echo", { value: 3 });
  assert.equal(python.pending.size, 1);
  assert.deepEqual(await echoed, { value: 3 });
  assert.equal(python.pending.size, 0);
  await assert.rejects(python.call("test.refuse"), (err) => err instanceof PythonError && err.name === "BasisFormatError"
    && err.message === "not a KTX2 file" && err.details === "at byte 0" && err.expected === true);
  const stuck = python.call("test.hang");
  const waiting = python.call("test.hang");
  assert.deepEqual(timers.slice(-2).map((timer) => timer.ms), [60_000, 60_000]);
  timers.at(-2).callback();
  await assert.rejects(stuck, (err) => err instanceof WorkerStalledError && /longer than 60 s/.test(err.message));
  await assert.rejects(waiting, (err) => err instanceof WorkerStalledError && /Python was restarted while this waited/.test(err.message));
  assert.equal(python.restarts, 1);
  assert.equal(started.length, 2, "a fresh Python is started at once");
  assert.ok(heard.includes("watchdog"));
});
