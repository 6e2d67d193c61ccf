// The worker's boot helpers (node --test): the wheels' downloads started early, and a first visit's
// downloads kept for the service worker.
import test from "node:test";
import assert from "node:assert/strict";

import { keepForServiceWorker, prefetch } from "../../web/lib/downloads.js";

test("prefetch hands its response to the first fetch of the same URL and integrity, once", async () => {
  const saved = { self: globalThis.self, fetch: globalThis.fetch };
  const calls = [];
  globalThis.self = globalThis;
  globalThis.location = new URL("https://example.test/app/worker.js");
  globalThis.fetch = async (url, init) => { calls.push([String(url), init?.integrity]); return `response ${calls.length}`; };
  try {
    const sha256 = "00ff".repeat(16);
    const wheels = prefetch([{ url: "https://example.test/app/pyodide/a.whl", sha256 }]);
    const integrity = calls[0][1];
    assert.equal(integrity, `sha256-${Buffer.from(sha256, "hex").toString("base64")}`);
    assert.equal(await fetch(new URL("https://example.test/app/pyodide/a.whl"), { integrity: "sha256-other" }), "response 2");
    assert.equal(await fetch(new URL("https://example.test/app/pyodide/a.whl"), { integrity }), "response 1");
    assert.equal(await fetch(new URL("https://example.test/app/pyodide/a.whl"), { integrity }), "response 3");
    wheels.stop();
    assert.equal(globalThis.fetch.name, "");
  } finally {
    globalThis.fetch = saved.fetch;
    if (saved.self === undefined) delete globalThis.self; else globalThis.self = saved.self;
    delete globalThis.location;
  }
});

test("keepForServiceWorker stores a first visit's download in the version's cache, checked by sha256", async () => {
  const stores = new Map();
  const cache = (name) => {
    if (!stores.has(name)) stores.set(name, new Map());
    const entries = stores.get(name);
    return {
      match: async (url) => entries.get(url)?.clone(),
      put: async (url, response) => { entries.set(url, new Response(await response.arrayBuffer())); },
      delete: async (url) => entries.delete(url),
    };
  };
  const saved = globalThis.self;
  globalThis.self = globalThis;
  globalThis.caches = { open: async (name) => cache(name) };
  try {
    const body = new TextEncoder().encode("pyodide.asm.wasm bytes");
    const sha256 = Buffer.from(await crypto.subtle.digest("SHA-256", body)).toString("hex");
    const manifest = { version: "v1", files: { "pyodide/a.wasm": { sha256 }, "pyodide/b.zip": { sha256: "0".repeat(64) } } };
    const base = new URL("https://example.test/app/");
    const kept = keepForServiceWorker(manifest, base);
    kept.keep("https://example.test/app/pyodide/a.wasm", new Response(body));
    kept.keep("https://example.test/app/pyodide/b.zip", new Response("not what the manifest says"));
    kept.keep("https://example.test/app/unlisted.bin", new Response("x"));
    await kept.settled();
    const stored = stores.get("codeclab-v1");
    assert.deepEqual([...stored.keys()], ["https://example.test/app/pyodide/a.wasm"]); // b.zip: stored, then deleted
    assert.equal(await stored.get("https://example.test/app/pyodide/a.wasm").clone().text(), "pyodide.asm.wasm bytes");
    // A later boot finds it stored and leaves it alone.
    const again = keepForServiceWorker(manifest, base);
    again.keep("https://example.test/app/pyodide/a.wasm", new Response("other"));
    await again.settled();
    assert.equal(await stored.get("https://example.test/app/pyodide/a.wasm").clone().text(), "pyodide.asm.wasm bytes");
  } finally {
    delete globalThis.caches;
    if (saved === undefined) delete globalThis.self; else globalThis.self = saved;
  }
});
