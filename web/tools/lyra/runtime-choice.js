// Which runtime runs Lyra's streaming models: LiteRT.js on the upstream .tflite files (the default) or
// onnxruntime-web on codeclab's ONNX conversion, chosen by the URL parameter `?lyra-runtime=onnx`. The one
// place that reads it: the page (runtime.js, codec.js's receiver worker) and the worker plug-in
// (worker-plugin.js, from the worker's own URL, to which the page hands its parameters) all ask here.

export const RUNTIME_PARAM = "lyra-runtime";
export const RUNTIMES = ["litert", "onnx"];

/** "onnx" when the query string `search` asks for it, else "litert". */
export function requestedRuntime(search) {
  return new URLSearchParams(search).get(RUNTIME_PARAM) === "onnx" ? "onnx" : "litert";
}

/** `url` (a URL object, changed in place) asking for `runtime`; the default is left out of the URL. */
export function withRuntime(url, runtime) {
  if (runtime === "onnx") url.searchParams.set(RUNTIME_PARAM, "onnx");
  else url.searchParams.delete(RUNTIME_PARAM);
  return url;
}
