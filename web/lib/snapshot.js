// A memory snapshot of the freshly started Python interpreter (Pyodide 0.27's experimental
// `_makeSnapshot` / `_loadSnapshot` options of loadPyodide), kept in Cache Storage: a later boot restores
// it instead of starting Python again (here 0.3 s instead of 3.2 s for loadPyodide on a loaded machine).
// Only the interpreter and the prelude's standard-library imports: once numpy is loaded, makeMemorySnapshot
// refuses ("Unexpected hiwire entry at index 6": loadPackage leaves JavaScript references in Python's
// table), so packages load after it. The snapshot is only valid for the exact Pyodide files and prelude
// that made it: its key is their sha256 and the prelude's hash.

const CACHE = "codeclab-snapshot";

// Python run on a freshly started interpreter, before its snapshot is taken (so a restored one has done it):
// - it imports the standard-library modules that the boot imports later (loadPackage's unpacking,
//   importlib.invalidate_caches, numpy, codeclab.browser): pure Python or built in, nothing that holds a
//   JavaScript reference (that would make the snapshot fail, as numpy does);
// - it keeps the directory of the standard library's zip when importlib.invalidate_caches() runs (loadPackage
//   calls it): every zipimporter of that archive (15 of them) would otherwise read its 1,000-entry directory
//   again, 0.3 s here, although the archive never changes in the page.
export const PYTHON_PRELUDE = `
import importlib.metadata, email.message, csv, tarfile, zipfile, shutil, base64, calendar, datetime
import encodings.cp437, __future__, dataclasses, numbers, pickle, platform, ctypes, inspect, typing
import traceback, functools, itertools, re, json, struct, math, hashlib, io, zlib
import sys, zipimport

def _keep_stdlib_directory(original=zipimport.zipimporter.invalidate_caches,
                           stdlib=tuple(p for p in sys.path if p.endswith(".zip"))):
    def invalidate_caches(self):
        if self.archive not in stdlib:
            original(self)
    return invalidate_caches

zipimport.zipimporter.invalidate_caches = _keep_stdlib_directory()
del _keep_stdlib_directory
`;

/** A short tag of the prelude, part of the key: a snapshot made with another prelude is not reused. */
const preludeTag = (() => {
  let h = 5381;
  for (const c of PYTHON_PRELUDE) h = ((h * 33) ^ c.charCodeAt(0)) >>> 0;
  return h.toString(16);
})();

/** The key of a snapshot made from this build's Pyodide, or null (no manifest, no Cache Storage).
 *  `manifest` is dist/offline-manifest.json, parsed (or null). */
export async function snapshotKey(manifest, base) {
  if (!self.caches || !manifest?.files) return null;
  const parts = ["pyodide/pyodide.asm.wasm", "pyodide/pyodide.asm.js", "pyodide/python_stdlib.zip", "pyodide/pyodide.mjs"]
    .map((rel) => manifest.files[rel]?.sha256);
  return parts.every(Boolean) ? new URL(`snapshot/python-${parts.map((h) => h.slice(0, 12)).join("-")}-${preludeTag}.bin`, base).href : null;
}

/** The stored snapshot as {bytes: Promise<Uint8Array>}, or null: loadPyodide takes the promise, so the
 *  body is read while Pyodide's script loads. */
export async function readSnapshot(key) {
  const response = await (await caches.open(CACHE)).match(key);
  return response ? { bytes: response.arrayBuffer().then((buffer) => new Uint8Array(buffer)) } : null;
}

/** Keep this snapshot and forget any other (a new Pyodide makes the old one useless). */
export async function storeSnapshot(key, bytes) {
  const cache = await caches.open(CACHE);
  for (const request of await cache.keys()) if (request.url !== key) await cache.delete(request);
  await cache.put(key, new Response(bytes, { headers: { "Content-Type": "application/octet-stream" } }));
}

export async function forgetSnapshot(key) {
  await (await caches.open(CACHE)).delete(key);
}
