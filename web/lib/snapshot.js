// A memory snapshot of the freshly started Python interpreter (Pyodide 0.27's experimental
// `_makeSnapshot` / `_loadSnapshot` options of loadPyodide), kept in Cache Storage: a later boot restores
// it instead of starting Python again, a fraction of loadPyodide's time (docs/benchmarks.md, boot stages).
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
//   again, a noticeable part of the boot, although the archive never changes in the page.
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

// The snapshot is code and data that the Python worker runs as it is, with every file dropped later, so it is
// verified before use. When one is stored, a fresh HMAC-SHA-256 key is generated, non-extractable, and the
// key and the snapshot's MAC are kept in IndexedDB (`codeclab-snapshot-seal`), apart from the bytes in
// Cache Storage. A snapshot whose MAC does not verify (changed, cut short, written by something else, or its
// seal missing) is discarded and Python starts anew. What this holds against, and what it cannot (a script
// running on this origin can use the key too): docs/SECURITY.md.
const SEAL_DB = "codeclab-snapshot-seal";
const SEAL_STORE = "seal";
const HMAC = { name: "HMAC", hash: "SHA-256" };

/** Run `action(store)` in one IndexedDB transaction of the seal's store; resolves with the request's result. */
function withSealStore(mode, action) {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open(SEAL_DB, 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore(SEAL_STORE);
    opening.onerror = () => reject(opening.error);
    opening.onsuccess = () => {
      const db = opening.result;
      const transaction = db.transaction(SEAL_STORE, mode);
      const request = action(transaction.objectStore(SEAL_STORE));
      transaction.oncomplete = () => { db.close(); resolve(request.result); };
      transaction.onerror = transaction.onabort = () => { db.close(); reject(transaction.error); };
    };
  });
}

export class SnapshotRejected extends Error {}

/** The stored snapshot as {bytes: Promise<Uint8Array>}, or null: loadPyodide takes the promise, so the
 *  body is read and verified while Pyodide's script loads. The promise rejects with SnapshotRejected when
 *  the snapshot does not verify against its seal (loadPyodide then throws before it starts anything). */
export async function readSnapshot(key) {
  const response = await (await caches.open(CACHE)).match(key);
  if (!response) return null;
  const bytes = (async () => {
    const [buffer, seal] = await Promise.all([response.arrayBuffer(), withSealStore("readonly", (store) => store.get(key)).catch(() => null)]);
    const valid = seal?.key && seal.mac && (await crypto.subtle.verify(HMAC, seal.key, seal.mac, buffer).catch(() => false));
    if (!valid) throw new SnapshotRejected(seal ? "its bytes do not match the MAC recorded when it was stored" : "it has no seal");
    return new Uint8Array(buffer);
  })();
  bytes.catch(() => {}); // whoever awaits it (loadPyodide) sees the rejection
  return { bytes };
}

/** Keep this snapshot, sealed with a fresh key, and forget any other (a new Pyodide makes the old one useless). */
export async function storeSnapshot(key, bytes) {
  const sealKey = await crypto.subtle.generateKey(HMAC, false, ["sign", "verify"]);
  const mac = await crypto.subtle.sign(HMAC, sealKey, bytes);
  const cache = await caches.open(CACHE);
  for (const request of await cache.keys()) await cache.delete(request);
  // The seal first, then the bytes: a boot that reads between the two finds a seal that does not verify.
  await withSealStore("readwrite", (store) => { store.clear(); return store.put({ key: sealKey, mac }, key); });
  await cache.put(key, new Response(bytes, { headers: { "Content-Type": "application/octet-stream" } }));
}

export async function forgetSnapshot(key) {
  await (await caches.open(CACHE)).delete(key);
  await withSealStore("readwrite", (store) => store.delete(key)).catch(() => {});
}

/** Forget every snapshot's seal (About's "Clear the offline copy" deletes the snapshot's cache too). */
export function forgetSnapshotSeal() {
  return new Promise((resolve) => {
    const deleting = indexedDB.deleteDatabase(SEAL_DB);
    deleting.onsuccess = deleting.onerror = deleting.onblocked = () => resolve();
  });
}
