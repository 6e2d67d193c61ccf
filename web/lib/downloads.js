// Byte progress of the files a worker downloads while it boots (Pyodide fetches its own files, so the
// global fetch is watched rather than replaced: each expected response is cloned and the clone counted
// as it arrives; the original goes on untouched, URL and all, to Pyodide or WebAssembly.instantiateStreaming).

/** Sizes of the files `group` of dist/offline-manifest.json fetches (scripts are imported, not fetched). */
export async function expectedDownloads(base, group) {
  try {
    const manifest = await (await fetch(new URL("offline-manifest.json", base))).json();
    const sizes = new Map();
    for (const [rel, entry] of Object.entries(manifest.files)) {
      if (entry.group === group && !/\.m?js$/.test(rel)) sizes.set(new URL(rel, base).href, entry.size);
    }
    return sizes;
  } catch {
    return new Map(); // a dev tree without the manifest: stage progress only
  }
}

/** Call report({received, total, file}) as the expected files arrive, until stop(). */
export function watchDownloads(sizes, report) {
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
    if (sizes.has(url.href) && response.body) count(url.href, response.clone()).catch(() => {});
    return response;
  };
  return {
    total,
    received: sum,
    stop() { self.fetch = realFetch; },
  };
}

export const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
