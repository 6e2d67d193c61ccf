// Emscripten's `instantiateWasm` hook for the Basis workers, shared by a classic worker
// (transcode-worker.js: importScripts, as its Emscripten glue needs) and a module worker
// (encode-worker.js: a side-effect import). So this file has no import or export: it defines
// self.instantiateStreamingHook, and runs the same either way.

/** Compile `url` with WebAssembly.instantiateStreaming, straight from the response (the service
 *  worker's stored one keeps its URL, so Chromium can reuse the machine code it cached for it instead
 *  of compiling again); from its bytes where the host sends another MIME type. `failed(err)` is
 *  called if neither works. */
self.instantiateStreamingHook = function instantiateStreamingHook(url, failed) {
  return (imports, receive) => {
    (async () => {
      let result;
      try {
        result = await WebAssembly.instantiateStreaming(fetch(url), imports);
      } catch {
        const response = await fetch(url);
        if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
        result = await WebAssembly.instantiate(await response.arrayBuffer(), imports);
      }
      receive(result.instance, result.module);
    })().catch(failed);
    return {};
  };
};
