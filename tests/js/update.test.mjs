// web/lib/update.js: when a deploy is looked for, and when a required one switches over (injected clock).
import assert from "node:assert/strict";
import { test } from "node:test";
import { CHECK_MS, createUpdates, QUIET_MS } from "../../web/lib/update.js";

function harness({ deployed = { version: "b", required: false }, running = "a" } = {}) {
  const clock = { t: 0 };
  const log = [];
  const world = { deployed, running, busy: false, worker: null, fetches: 0 };
  const updates = createUpdates({
    fetchVersion: async () => { world.fetches += 1; return world.deployed; },
    runningVersion: () => world.running,
    update: async () => { log.push("update"); },
    waitingWorker: async () => world.worker,
    activate: (worker) => log.push(`activate ${worker}`),
    busy: () => world.busy,
    now: () => clock.t,
    sleep: async (ms) => { clock.t += ms; await null; if (world.onTick) world.onTick(clock.t); },
    onState: (state) => log.push(state),
  });
  return { updates, clock, log, world };
}

test("version.json is read at most every CHECK_MS; the same version asks for nothing", async () => {
  const { updates, clock, log, world } = harness({ deployed: { version: "a", required: false } });
  await updates.check();
  await updates.check();
  assert.equal(world.fetches, 1);
  clock.t += CHECK_MS - 1;
  await updates.check();
  assert.equal(world.fetches, 1);
  clock.t += 1;
  await updates.check();
  assert.equal(world.fetches, 2);
  assert.deepEqual(log, ["checked", "checked"]);
});

test("another version asks the browser for the new worker; not required, it does not switch by itself", async () => {
  const { updates, log } = harness();
  await updates.check();
  assert.deepEqual(log, ["checked", "update"]);
});

test("a required deploy switches only once installed and quiet for QUIET_MS, never while busy", async () => {
  const { updates, clock, log, world } = harness({ deployed: { version: "b", required: true } });
  world.busy = true;
  world.onTick = (t) => {
    if (t === 1000) world.worker = "new-worker"; // installed after a second, while still busy
    if (t === 10_000) world.busy = false; // the stream ends
  };
  const checking = updates.check();
  await checking;
  await updates.required("again"); // one switch, however often it is asked for
  assert.deepEqual(log.filter((e) => e.startsWith("activate")), ["activate new-worker"]);
  assert.ok(clock.t >= 10_000 - 250 + QUIET_MS, clock.t); // quiet since the last poll that saw it busy
  assert.ok(clock.t <= 10_000 + QUIET_MS + 500, clock.t);
  assert.deepEqual(log.slice(0, 3), ["checked", "update", "waiting"]);
});

test("no new worker arriving: it stops waiting, and a later request starts again", async () => {
  const { updates, log, world } = harness();
  await updates.required("deploy-changed");
  assert.deepEqual(log, ["waiting", "none"]);
  world.worker = "w";
  await updates.required("deploy-changed");
  assert.equal(log.at(-1), "activate w");
});
