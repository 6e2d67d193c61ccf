// What the Python worker offers its models and its tools' worker plug-ins: the model index the build wrote,
// model downloads with progress, onnxruntime-web sessions (the default model runtime), the threads a model
// may use, and the time spent in each model run. A tool whose models need more (another runtime, streams
// whose state stays in JavaScript) brings it as a worker plug-in (its manifest's "worker", see worker.js).
import { ortThreadPool, sessionThreads } from "./ort-threads.js";

/**
 * @param {object} options
 * @param {URL} options.base the worker's folder in dist/ (models/, vendor/ are under it)
 * @param {(message: object) => void} options.post a message to the page (model-progress)
 * @param {number} options.requestedThreads `?threads=N` of the worker URL, 0 when not given
 */
export function createModelHost({ base, post, requestedThreads }) {
  // Threads need cross-origin isolation (COOP/COEP); on a plain static host the models run single-threaded.
  // The pool and each model's share of it: lib/ort-threads.js (one core is left to the page unless a model's
  // hint asks for more); `?threads=N` in the worker URL overrides, for the models' hints too.
  const cores = navigator.hardwareConcurrency || 1;
  // Threads need shared memory: cross-origin isolation alone is not enough (WebKitGTK is isolated yet has
  // no SharedArrayBuffer), so detect the constructor itself.
  const sharedMemory = Boolean(self.crossOriginIsolated) && typeof SharedArrayBuffer === "function";
  const ortThreads = ortThreadPool({ sharedMemory, cores, requested: requestedThreads });
  const sessions = new Map();
  let ort = null;
  let ortLoading = null;
  let siteManifest = null;

  const host = {
    base,
    requestedThreads,
    ortThreads,
    modelIndex: { available: false, reason: "not loaded yet", files: {}, runtime: {} },
    /** Time inside each model run (the last 1000 per name), so that the benchmarks can split a request's
     *  time into model, Python and messaging ("worker.model_timings" returns and clears it). */
    timings: new Map(),
    setSiteManifest(manifest) { siteManifest = manifest; },
    async loadModelIndex() { host.modelIndex = await readModelIndex(base); return host.modelIndex; },
    /** A model's runtime hints from models/manifest.json (intra_op_threads, warmup_runs). */
    hint(name) { return host.modelIndex.runtime[name] || {}; },
    recordRun(name, ms) {
      const list = host.timings.get(name) || [];
      if (list.length >= 1000) list.shift();
      list.push(ms);
      host.timings.set(name, list);
    },
    fetchBytes: fetchWithProgress,
    loadOrt,
    /** onnxruntime-web's Tensor of a {type, data, dims} feed (onnxruntime-web loaded). */
    tensor(feed) { return new ort.Tensor(feed.type, feed.data, feed.dims); },
    session,
    // The JS side of codeclab.browser.adapter.BrowserRunner (streams: the calling tool's plug-in, worker.js).
    available(name) { return Boolean(host.modelIndex.files[name]); },
    async run(name, feeds) {
      const model = await session(name);
      const inputs = {};
      for (const [key, t] of Object.entries(feeds)) inputs[key] = host.tensor(t);
      const started = performance.now();
      const outputs = await model.run(inputs);
      host.recordRun(name, performance.now() - started);
      const result = {};
      for (const [key, t] of Object.entries(outputs)) result[key] = { data: t.data, dims: Array.from(t.dims), type: t.type };
      return result;
    },
  };

  // onnxruntime-web, imported when a model is first needed rather than at boot: Python's start does not wait
  // for its module, and the module belongs to the "models-runtime" offline group, which is stored the first
  // time a tool needs it (a page that never used a tool still boots offline).
  function loadOrt() {
    ortLoading ??= import(new URL("vendor/ort/ort.wasm.min.mjs", base).href).then((module) => {
      module.env.wasm.wasmPaths = new URL("vendor/ort/", base).href;
      module.env.wasm.numThreads = ortThreads;
      ort = module;
      return module;
    }, (err) => {
      ortLoading = null; // a later call tries again
      throw err;
    });
    return ortLoading;
  }

  async function fetchWithProgress(url, label) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${label}: HTTP ${response.status} for ${url}`);
    // The size from the manifest: a compressed response's Content-Length counts the bytes on the wire.
    const rel = new URL(url, base).href.slice(base.href.length);
    const total = siteManifest?.files[rel]?.size || (response.headers.has("content-encoding") ? 0 : Number(response.headers.get("content-length")) || 0);
    const reader = response.body.getReader();
    const chunks = [];
    let received = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
      post({ type: "model-progress", label, received, total });
    }
    const bytes = new Uint8Array(received);
    let offset = 0;
    for (const chunk of chunks) { bytes.set(chunk, offset); offset += chunk.length; }
    return bytes;
  }

  /** Run a model on zeros a few times so the browser compiles its hot wasm paths before real use. */
  async function warmUp(model, runs) {
    if (!runs) return;
    const feeds = {};
    for (const meta of model.inputMetadata || []) {
      if (!meta.isTensor || meta.type !== "float32") return;
      const dims = meta.shape.map((d) => (typeof d === "number" ? d : 1));
      feeds[meta.name] = new ort.Tensor("float32", new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
    }
    for (let i = 0; i < runs; i++) await model.run(feeds);
  }

  /** The onnxruntime-web session of model `name`, created (downloaded, compiled, warmed up) once. */
  async function session(name) {
    if (!sessions.has(name)) sessions.set(name, createSession(name));
    try {
      return await sessions.get(name);
    } catch (err) {
      sessions.delete(name); // let a later call try again
      throw err;
    }
  }

  async function createSession(name) {
    const file = host.modelIndex.files[name];
    if (!file) throw new Error(`model ${name} is not installed in this build: ${host.modelIndex.reason || "not listed"}`);
    const [bytes] = await Promise.all([fetchWithProgress(new URL(`models/${file}`, base).href, name), loadOrt()]);
    post({ type: "model-progress", label: name, received: bytes.length, total: bytes.length, compiling: true });
    const options = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
    // Per-model runtime hints from models/manifest.json (a streaming model of hundreds of tiny operators
    // runs faster on one thread). An explicit `?threads=N` wins over the hint (the benchmarks' "threads on"
    // rows use it).
    options.intraOpNumThreads = sessionThreads({ pool: ortThreads, cores, requested: requestedThreads,
      hint: host.hint(name).intra_op_threads });
    try {
      const model = await ort.InferenceSession.create(bytes, options);
      await warmUp(model, host.hint(name).warmup_runs || 0);
      return model;
    } finally {
      // Whoever asked for the model (another tool may share it), every card showing "Preparing the
      // model…" learns that preparing is over.
      post({ type: "model-progress", label: name, ready: true });
    }
  }

  return host;
}

async function readModelIndex(base) {
  try {
    const info = await (await fetch(new URL("build-info.json", base))).json();
    const models = info.models || {};
    if (!models.available) return { available: false, reason: models.reason || "no models in this build", files: {}, runtime: {} };
    // models/index.json (written by the build) maps a runner name to its ONNX file.
    const files = await (await fetch(new URL("models/index.json", base))).json();
    const runtime = {};
    try {
      const manifest = await (await fetch(new URL("models/manifest.json", base))).json();
      for (const entry of manifest.models || []) runtime[entry.name] = entry.runtime || {};
    } catch { /* hints only */ }
    return { available: true, reason: null, files, runtime };
  } catch (err) {
    return { available: false, reason: `could not read the model manifest: ${err}`, files: {}, runtime: {} };
  }
}
