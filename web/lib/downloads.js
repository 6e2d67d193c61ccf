// Byte progress of the files a worker downloads while it boots (Pyodide fetches its own files, so the
// global fetch is watched rather than replaced: each expected response is cloned and the clone counted
// as it arrives; the original goes on untouched, URL and all, to Pyodide or WebAssembly.instantiateStreaming).

/** Sizes of the files `group` of dist/offline-manifest.json (parsed, or null) fetches (scripts are imported, not fetched). */
export function expectedDownloads(manifest, base, group) {
  const sizes = new Map();
  for (const [rel, entry] of Object.entries(manifest?.files || {})) { // a dev tree without the manifest: stage progress only
    if (entry.group === group && !/\.m?js$/.test(rel)) sizes.set(new URL(rel, base).href, entry.size);
  }
  return sizes;
}

/** Call report({received, total, file}) as the expected files arrive, until stop(); keep(url, response)
 *  also gets each expected response (a clone of its own to read or cancel). */
export function watchDownloads(sizes, report, keep = null) {
  const realFetch = self.fetch;
  const received = new Map();
  const total = [...sizes.values()].reduce((a, b) => a + b, 0);
  const sum = () => [...received.values()].reduce((a, b) => a + b, 0);
  async function count(url, clone) {
    const reader = clone.body.getReader();
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
      received.set(url, bytes);
      report({ received: sum(), total, file: url.split("/").pop() });
    }
  }
  self.fetch = async (input, init) => {
    const response = await realFetch.call(self, input, init);
    const url = new URL(input instanceof Request ? input.url : String(input), self.location.href);
    url.search = "";
    if (sizes.has(url.href) && response.body) {
      count(url.href, response.clone()).catch(() => {});
      keep?.(url.href, response.clone());
    }
    return response;
  };
  return {
    total,
    received: sum,
    stop() { self.fetch = realFetch; },
  };
}

/**
 * A first visit's downloads, kept for the service worker (web/sw.js). The service worker does not control
 * the page (nor this worker) on the first visit, so what Pyodide downloads as it boots would be downloaded
 * again when the service worker stores the "python" group after ready: Chromium's HTTP cache does not keep
 * a 10 MB response such as pyodide.asm.wasm in a fresh profile. So each expected response that this
 * version's cache (`codeclab-<version>`, the service worker's name for it) lacks is stored there as the
 * service worker stores it: the response itself (URL and headers kept), and only once its bytes were hashed
 * and found to be the manifest's sha256 (never stored first and checked after: a worker stopped in between
 * would leave an unchecked file that the service worker then serves for this version). `keep` goes to
 * watchDownloads; `settled()` waits for the stores.
 */
export function keepForServiceWorker(manifest, base) {
  const pending = [];
  if (!self.caches || !manifest?.version || !manifest.files) return { keep: null, settled: async () => {} };
  const cacheName = `codeclab-${manifest.version}`;
  const keep = (url, response) => {
    const entry = url.startsWith(base.href) ? manifest.files[url.slice(base.href.length)] : undefined;
    if (!entry || response.status !== 200) {
      response.body?.cancel().catch(() => {});
      return;
    }
    pending.push((async () => {
      const cache = await caches.open(cacheName);
      if (await cache.match(url)) {
        await response.body?.cancel();
        return;
      }
      // The bytes are read from a clone and hashed; the response itself (its URL kept) is stored only if they match.
      if ((await sha256Hex(await response.clone().arrayBuffer())) !== entry.sha256) {
        await response.body?.cancel();
        return;
      }
      await cache.put(url, response);
    })().catch(() => {}));
  };
  return { keep, settled: () => Promise.all(pending) };
}

/** The lowercase hex SHA-256 of these bytes (the offline manifest's form). */
export async function sha256Hex(buffer) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", buffer));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

export const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * Start these downloads now and hand each response to the first fetch of the same URL with the same
 * integrity option: Pyodide's loadPackage asks for the wheels only once Python has started, and this way
 * they are on their way (from the service worker's cache or the host) meanwhile. `requests`: [{url, sha256}]
 * (the hex sha256 from the offline manifest becomes the Subresource Integrity string Pyodide passes too, so
 * its integrity check still applies). Returns {stop()}, which puts the plain fetch back.
 */
export function prefetch(requests) {
  const realFetch = self.fetch;
  const early = new Map();
  for (const { url, sha256 } of requests) {
    const integrity = sha256 ? `sha256-${btoa(String.fromCharCode(...sha256.match(/../g).map((h) => parseInt(h, 16))))}` : undefined;
    const response = realFetch.call(self, url, integrity ? { integrity } : {});
    response.catch(() => {}); // a failure reaches whoever fetches it
    early.set(new URL(url, self.location.href).href, { integrity, response });
  }
  self.fetch = (input, init) => {
    if (!(input instanceof Request)) {
      const url = new URL(String(input), self.location.href).href;
      const hit = early.get(url);
      if (hit && hit.integrity === (init?.integrity || undefined) && !init?.method && !init?.headers) {
        early.delete(url);
        return hit.response;
      }
    }
    return realFetch.call(self, input, init);
  };
  return { stop() { self.fetch = realFetch; early.clear(); } };
}

/**
 * Keep what a tool fetches (its runtime's wasm, its models: the files of the manifest's tool groups) for
 * the service worker as it arrives, for the worker's whole life: on a first visit the service worker does
 * not control this worker, and would otherwise download them again to save them for offline use.
 * `keep` is keepForServiceWorker's. Installed before the boot's own watch (which keeps the "python" group);
 * returns {stop()}.
 */
export function keepToolDownloads(manifest, base, keep) {
  const realFetch = self.fetch;
  const toolGroup = (entry) => entry && entry.group !== "shell" && entry.group !== "python";
  if (!keep || !manifest?.files) return { stop() {} };
  self.fetch = async (input, init) => {
    const response = await realFetch.call(self, input, init);
    const url = new URL(input instanceof Request ? input.url : String(input), self.location.href);
    url.search = "";
    const rel = url.href.startsWith(base.href) ? url.href.slice(base.href.length) : null;
    // Under a service worker's control its own fetch handler stores the response.
    if (rel !== null && toolGroup(manifest.files[rel]) && response.body && !self.navigator?.serviceWorker?.controller) {
      keep(url.href, response.clone());
    }
    return response;
  };
  return { stop() { self.fetch = realFetch; } };
}
