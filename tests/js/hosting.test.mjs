// A first visit fetches what it uses (node --test): what a tool fetched is kept for the service worker, and
// its remaining files wait until Python has been idle.
import test from "node:test";
import assert from "node:assert/strict";

import { keepToolDownloads } from "../../web/lib/downloads.js";
import { pythonQuiet } from "../../web/lib/offline.js";

const manifest = {
  version: "v1",
  files: {
    "index.html": { group: "shell" },
    "pyodide/pyodide.asm.wasm": { group: "python" },
    "vendor/ort/ort-wasm-simd-threaded.wasm": { group: "models-runtime" },
    "models/attention_center.onnx": { group: "attention" },
  },
};

function withFetch(realFetch, run) {
  const saved = { self: globalThis.self, fetch: globalThis.fetch, location: globalThis.location };
  globalThis.self = globalThis;
  globalThis.location = new URL("https://example.test/app/worker.js");
  globalThis.fetch = realFetch;
  return run().finally(() => Object.assign(globalThis, saved));
}

test("keepToolDownloads keeps the files of the tools' groups, not the shell's or Python's, nor unlisted ones", async () => {
  const kept = [];
  await withFetch(async () => new Response("bytes"), async () => {
    const base = new URL("https://example.test/app/");
    const watch = keepToolDownloads(manifest, base, (url, response) => kept.push([url, response.bodyUsed]));
    for (const rel of ["index.html", "pyodide/pyodide.asm.wasm", "vendor/ort/ort-wasm-simd-threaded.wasm",
      "models/attention_center.onnx?v=2", "models/unlisted.onnx"]) {
      const response = await fetch(new URL(rel, base).href);
      assert.equal(await response.text(), "bytes"); // the caller's response is untouched
    }
    await fetch(new Request("https://example.test/other/models/attention_center.onnx"));
    watch.stop();
    await fetch("https://example.test/app/models/attention_center.onnx");
  });
  assert.deepEqual(kept, [
    ["https://example.test/app/vendor/ort/ort-wasm-simd-threaded.wasm", false],
    ["https://example.test/app/models/attention_center.onnx", false],
  ]);
});

test("keepToolDownloads without a keep or a manifest leaves fetch alone", async () => {
  await withFetch(async () => new Response("x"), async () => {
    const before = globalThis.fetch;
    keepToolDownloads(null, new URL("https://example.test/app/"), () => {});
    keepToolDownloads(manifest, new URL("https://example.test/app/"), null);
    assert.equal(globalThis.fetch, before);
  });
});

test("pythonQuiet waits until no call has been in flight for the quiet time", async () => {
  let clock = 0;
  const pending = new Map([[1, {}]]);
  const timeline = [];
  const sleep = async (ms) => {
    clock += ms;
    if (clock === 1000) pending.delete(1); // the first result arrives
    if (clock === 1500) pending.set(2, {}); // another call ...
    if (clock === 2000) pending.delete(2); // ... answered
    timeline.push(clock);
  };
  await pythonQuiet({ pending }, 2000, { pollMs: 250, now: () => clock, sleep });
  // Quiet from the last poll that saw a call (t=1750) until 2000 ms later.
  assert.equal(clock, 3750);
  assert.equal(timeline.length, 3750 / 250);
});

test("keepToolDownloads leaves the storing to a service worker that controls the worker", async () => {
  const kept = [];
  const saved = Object.getOwnPropertyDescriptor(globalThis, "navigator");
  Object.defineProperty(globalThis, "navigator", { value: { serviceWorker: { controller: {} } }, configurable: true });
  try {
    await withFetch(async () => new Response("bytes"), async () => {
      const watch = keepToolDownloads(manifest, new URL("https://example.test/app/"), (url) => kept.push(url));
      await fetch("https://example.test/app/models/attention_center.onnx");
      watch.stop();
    });
  } finally {
    if (saved) Object.defineProperty(globalThis, "navigator", saved);
    else delete globalThis.navigator;
  }
  assert.deepEqual(kept, []);
});
