// A memory snapshot of the freshly started Python interpreter (Pyodide 0.27's experimental
// `_makeSnapshot` / `_loadSnapshot` options of loadPyodide), kept in Cache Storage: a later boot restores
// it instead of starting Python again (here 0.3 s instead of 3.2 s for loadPyodide on a loaded machine).
// Only the bare interpreter: once numpy is loaded, makeMemorySnapshot refuses ("Unexpected hiwire entry
// at index 6": loadPackage leaves JavaScript references in Python's table), so packages load after it.
// The snapshot is only valid for the exact Pyodide files that made it: its key is their sha256.

const CACHE = "codeclab-snapshot";

/** The key of a snapshot made from this build's Pyodide, or null (no manifest, no Cache Storage). */
export async function snapshotKey(base) {
  if (!self.caches) return null;
  try {
    const { files } = await (await fetch(new URL("offline-manifest.json", base))).json();
    const parts = ["pyodide/pyodide.asm.wasm", "pyodide/pyodide.asm.js", "pyodide/python_stdlib.zip", "pyodide/pyodide.mjs"]
      .map((rel) => files[rel]?.sha256);
    return parts.every(Boolean) ? new URL(`snapshot/python-${parts.map((h) => h.slice(0, 12)).join("-")}.bin`, base).href : null;
  } catch {
    return null;
  }
}

export async function readSnapshot(key) {
  const response = await (await caches.open(CACHE)).match(key);
  return response ? new Uint8Array(await response.arrayBuffer()) : null;
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
