// The Python worker: Pyodide + numpy + codeclab, and onnxruntime-web for models.
// Python runs here, off the main thread, so numeric work never freezes the page.
// Protocol: {id, method, args} in; {id, ok, result | error} out; {type:"progress"} while booting.
// Methods are "<tool>.<function>" of codeclab's services, plus "worker.model_timings" (answered here).

import { loadPyodide } from "./pyodide/pyodide.mjs";
import { LiteRtRunner } from "./tools/lyra/litert-runner.js";
import { expectedDownloads, keepForServiceWorker, keepToolDownloads, megabytes, prefetch, watchDownloads } from "./lib/downloads.js";
import { PYTHON_PRELUDE, SnapshotRejected, forgetSnapshot, readSnapshot, snapshotKey, storeSnapshot } from "./lib/snapshot.js";
import { ortThreadPool, sessionThreads } from "./lib/ort-threads.js";

const post = (message, transfer = []) => self.postMessage(message, transfer);
const progress = (stage, fraction, text) => post({ type: "progress", stage, fraction, text });

let adapter = null;
let modelIndex = { available: false, reason: "not loaded yet", files: {}, runtime: {}, litert: {} };
let siteManifest = null; // dist/offline-manifest.json once the boot has read it (sizes of the files)
const sessions = new Map();

// Threads need cross-origin isolation (COOP/COEP); on a plain static host we run single-threaded.
// The pool and each model's share of it: web/lib/ort-threads.js (one core is left to the page unless a
// model's hint asks for more, as the attention model does; Lyra's ask for one).
// `?threads=N` in the worker URL overrides, for the models' hints too (the Lyra receiver asks for 1).
const requestedThreads = Number(new URL(import.meta.url).searchParams.get("threads")) || 0;
const cores = navigator.hardwareConcurrency || 1;
// Lyra's streaming models run on LiteRT.js (the upstream .tflite files) unless the worker URL says
// `?lyra-runtime=onnx` (onnxruntime-web on our ONNX conversion, the second runtime).
const lyraRuntimeRequested = new URL(import.meta.url).searchParams.get("lyra-runtime") === "onnx" ? "onnx" : "litert";
// Threads need shared memory: cross-origin isolation alone is not enough (WebKitGTK is isolated yet has no
// SharedArrayBuffer), so detect the constructor itself.
const sharedMemory = Boolean(self.crossOriginIsolated) && typeof SharedArrayBuffer === "function";
const ortThreads = ortThreadPool({ sharedMemory, cores, requested: requestedThreads }); // web/lib/ort-threads.js

// onnxruntime-web, imported when a model is first needed rather than at boot: Python's start does not
// wait for its 50 KB module, and the module belongs to the tools' "models-runtime" offline group, which is
// stored the first time a tool needs it (a page that never used a tool still boots offline).
let ort = null;
let ortLoading = null;
function loadOrt() {
  ortLoading ??= import("./vendor/ort/ort.wasm.min.mjs").then((module) => {
    module.env.wasm.wasmPaths = new URL("./vendor/ort/", import.meta.url).href;
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
  const rel = new URL(url, import.meta.url).href.slice(new URL("./", import.meta.url).href.length);
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
async function warmUp(session, runs) {
  if (!runs) return;
  const feeds = {};
  for (const meta of session.inputMetadata || []) {
    if (!meta.isTensor || meta.type !== "float32") return;
    const dims = meta.shape.map((d) => (typeof d === "number" ? d : 1));
    feeds[meta.name] = new ort.Tensor("float32", new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
  }
  for (let i = 0; i < runs; i++) await session.run(feeds);
}

// The JS side of codeclab.browser.adapter.BrowserRunner.
const modelBridge = {
  available(name) { return Boolean(modelIndex.files[name]); },
  async session(name) {
    if (!sessions.has(name)) {
      const file = modelIndex.files[name];
      if (!file) throw new Error(`model ${name} is not installed in this build: ${modelIndex.reason || "not listed"}`);
      sessions.set(name, (async () => {
        const [bytes] = await Promise.all([fetchWithProgress(`./models/${file}`, name), loadOrt()]);
        post({ type: "model-progress", label: name, received: bytes.length, total: bytes.length, compiling: true });
        const options = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
        // Per-model runtime hints from models/manifest.json (e.g. Lyra's streaming models run
        // faster on one thread: each frame is hundreds of tiny operators).
        // An explicit `?threads=N` wins over the hint (the benchmarks' "threads on" rows use it).
        options.intraOpNumThreads = sessionThreads({ pool: ortThreads, cores, requested: requestedThreads,
          hint: modelIndex.runtime[name]?.intra_op_threads });
        try {
          const session = await ort.InferenceSession.create(bytes, options);
          await warmUp(session, modelIndex.runtime[name]?.warmup_runs || 0);
          return session;
        } finally {
          // Whoever asked for the model (the JPEG XL card asks for attention's), every card showing
          // "Preparing the model…" learns that preparing is over.
          post({ type: "model-progress", label: name, ready: true });
        }
      })());
    }
    try {
      return await sessions.get(name);
    } catch (err) {
      sessions.delete(name); // let a later call try again
      throw err;
    }
  },
  async run(name, feeds) {
    const session = await this.session(name);
    const inputs = {};
    for (const [key, t] of Object.entries(feeds)) inputs[key] = new ort.Tensor(t.type, t.data, t.dims);
    const started = performance.now();
    const outputs = await session.run(inputs);
    this.recordRun(name, performance.now() - started);
    const result = {};
    for (const [key, t] of Object.entries(outputs)) result[key] = { data: t.data, dims: Array.from(t.dims), type: t.type };
    return result;
  },
  // Streaming models (Lyra): the state_out_k tensors of one step are the next step's state_in_k,
  // kept here so that only the frame's input and output cross into Python. `init` (the model's
  // initial state) starts or restarts the stream.
  streams: new Map(),
  // Time inside session.run per model (the last 1000 runs), so that the benchmarks can split a
  // frame's time into model, Python and messaging ("worker.model_timings" returns and clears it).
  timings: new Map(),
  recordRun(name, ms) {
    const list = this.timings.get(name) || [];
    if (list.length >= 1000) list.shift();
    list.push(ms);
    this.timings.set(name, list);
  },
  litert: null, // the LiteRtRunner, once the model index is read
  litertFailure: null, // why LiteRT.js cannot run here (Lyra then uses onnxruntime-web)
  /** Whether model `name`'s streams run on LiteRT.js; decided once, on the first stream (LiteRT.js loaded). */
  async onLiteRt(name) {
    if (lyraRuntimeRequested !== "litert" || !this.litert?.has(name) || this.litertFailure) return false;
    try {
      await this.litert.load();
      return true;
    } catch (err) {
      this.litertFailure = String(err?.message || err);
      console.warn(`LiteRT.js cannot run here, Lyra uses onnxruntime-web: ${this.litertFailure}`);
      return false;
    }
  },
  async lyraRuntime() {
    const litert = await this.onLiteRt("lyragan");
    return {
      requested: lyraRuntimeRequested,
      active: litert ? "litert" : "onnx",
      reason: this.litertFailure,
      threads: litert ? this.litert.threads("lyragan")
        : Math.min(requestedThreads || modelIndex.runtime.lyragan?.intra_op_threads || ortThreads, ortThreads),
      threaded_build: litert ? this.litert.threaded : null,
      compiles: this.litert?.compiles ?? 0,
    };
  },
  // `frames` (a burst, codeclab.lyra.models.StatefulModel.step_many_async): that many steps of the
  // stream in one request, each feed's data holding the frames one after the other (`dims` are one
  // frame's), each output likewise (dims [frames, ...one frame's]).
  async runStream(name, streamId, feeds, init, frames) {
    if (await this.onLiteRt(name)) return this.litert.runStream(name, streamId, feeds, init, frames);
    const session = await this.session(name);
    const key = `${name}#${streamId}`;
    let state = init ? null : this.streams.get(key);
    if (!state) {
      if (!init) throw new Error(`stream ${key} has no state: start it with its initial state`);
      state = {};
      for (const [k, t] of Object.entries(init)) state[k] = new ort.Tensor(t.type, t.data, t.dims);
    }
    const count = frames ?? 1;
    const parts = {};
    for (let f = 0; f < count; f++) {
      const inputs = { ...state };
      for (const [k, t] of Object.entries(feeds)) inputs[k] = new ort.Tensor(t.type, frameOf(t, f, count), t.dims);
      const started = performance.now();
      const outputs = await session.run(inputs);
      this.recordRun(name, performance.now() - started);
      state = {};
      for (const [k, t] of Object.entries(outputs)) {
        if (k.startsWith("state_out_")) state[`state_in_${k.slice(10)}`] = t;
        else (parts[k] ??= []).push(t);
      }
    }
    const result = {};
    for (const [k, list] of Object.entries(parts)) {
      const dims = Array.from(list[0].dims);
      result[k] = frames === undefined ? { data: list[0].data, dims, type: list[0].type }
        : { data: concatTyped(list.map((t) => t.data)), dims: [count, ...dims], type: list[0].type };
    }
    this.streams.delete(key); // re-insert: Map order is least recently used first
    this.streams.set(key, state);
    while (this.streams.size > 64) this.streams.delete(this.streams.keys().next().value);
    return result;
  },
};

/**
 * Python's replies and model requests arrive with its dicts as Maps (codeclab.browser.adapter:
 * converting them to objects on the Python side costs a call into JS per dict); objects here.
 */
function plainObjects(value) {
  // Object.fromEntries defines each key as the object's own property: keys come from files (KTX2 key/value
  // data), and an assignment `out[key] = ...` would set the prototype for "__proto__" instead of a key.
  if (value instanceof Map) return Object.fromEntries(Array.from(value, ([key, item]) => [key, plainObjects(item)]));
  if (Array.isArray(value)) return value.map(plainObjects);
  return value;
}

/** Frame `f` of `count` frames held one after the other in a feed's data. */
function frameOf(feed, f, count) {
  if (count === 1) return feed.data;
  const size = feed.data.length / count;
  return feed.data.subarray(f * size, (f + 1) * size);
}

function concatTyped(arrays) {
  const out = new arrays[0].constructor(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) { out.set(a, offset); offset += a.length; }
  return out;
}

async function loadModelIndex() {
  try {
    const info = await (await fetch("./build-info.json")).json();
    const models = info.models || {};
    if (!models.available) return { available: false, reason: models.reason || "no models in this build", files: {}, runtime: {} };
    // models/index.json (written by build.py) maps a runner name to its ONNX file.
    const files = await (await fetch("./models/index.json")).json();
    const runtime = {};
    try {
      const manifest = await (await fetch("./models/manifest.json")).json();
      for (const entry of manifest.models || []) runtime[entry.name] = entry.runtime || {};
    } catch { /* hints only */ }
    // models/litert.json: the upstream .tflite files LiteRT.js runs (Lyra's), by runner name.
    const litert = await fetch("./models/litert.json").then((r) => (r.ok ? r.json() : {})).catch(() => ({}));
    return { available: true, reason: null, files, runtime, litert };
  } catch (err) {
    return { available: false, reason: `could not read the model manifest: ${err}`, files: {}, runtime: {}, litert: {} };
  }
}

function transferables(value, found = new Set()) {
  if (ArrayBuffer.isView(value)) found.add(value.buffer);
  else if (value && typeof value === "object") for (const item of Object.values(value)) transferables(item, found);
  return [...found];
}

/** Pyodide from this build's snapshot of a started interpreter if there is one (web/lib/snapshot.js),
 *  else started anew, and then its snapshot stored for the next boot. */
async function startPython(key) {
  const indexURL = new URL("./pyodide/", import.meta.url).href;
  const stored = key ? await readSnapshot(key).catch(() => null) : null;
  let refused = null; // why a stored snapshot was not used (the ready message carries it as snapshotRefused)
  if (stored) {
    try {
      return { pyodide: await loadPyodide({ indexURL, _loadSnapshot: stored.bytes }), snapshot: "restored" };
    } catch (err) {
      refused = `${err instanceof SnapshotRejected ? "refused" : "did not restore"}: ${err?.message || err}`;
      console.warn(`the stored Python snapshot ${refused}; starting Python anew`);
      await forgetSnapshot(key).catch(() => {});
    }
  }
  const fresh = await startFresh(indexURL, key);
  return { ...fresh, refused };
}

/** Python started anew (the prelude run), and its snapshot stored for the next boot when `key` is set. */
async function startFresh(indexURL, key) {
  const pyodide = await loadPyodide({ indexURL, _makeSnapshot: Boolean(key) });
  try {
    pyodide.runPython(PYTHON_PRELUDE);
  } catch (err) {
    console.warn(`the Python prelude failed (${err?.message || err}); the boot goes on without it`);
  }
  if (!key) return { pyodide, snapshot: "off" };
  try {
    storeSnapshot(key, pyodide.makeMemorySnapshot()).catch(() => {});
    return { pyodide, snapshot: "made" };
  } catch (err) {
    return { pyodide, snapshot: `failed: ${err?.message || err}` };
  }
}

async function boot() {
  const started = performance.now();
  const base = new URL("./", import.meta.url);
  let stage = "manifest";
  let floor = 0.02;
  let stageText = "Downloading the Python runtime";
  // The build's offline manifest (null in a dev tree without one): sizes, hashes and groups of dist's files.
  const manifest = await fetch(new URL("offline-manifest.json", base)).then((r) => (r.ok ? r.json() : null)).catch(() => null);
  siteManifest = manifest;
  // Real progress: the bytes of Pyodide, the wheels and codeclab as they arrive (sizes from the build's
  // offline manifest), with each stage's floor so the bar never goes back. On a first visit they are also
  // kept for the service worker, which would otherwise download them again.
  const kept = keepForServiceWorker(manifest, base);
  keepToolDownloads(manifest, base, kept.keep); // for the worker's life: a tool's files are fetched when it is used
  const downloads = watchDownloads(expectedDownloads(manifest, base, "python"), ({ received, total, file }) => {
    progress(stage, Math.max(floor, 0.02 + 0.86 * (received / total)), `${stageText}: ${megabytes(received)} of ${megabytes(total)} (${file})`);
  }, kept.keep);
  // The wheels loadPackage will ask for once Python runs, on their way meanwhile.
  const wheels = prefetch(Object.entries(manifest?.files || {}).filter(([rel, entry]) => entry.group === "python" && rel.endsWith(".whl"))
    .map(([rel, entry]) => ({ url: new URL(rel, base).href, sha256: entry.sha256 })));
  // codeclab, and the bytecode of what the boot imports (devkit/pycache.mjs: compiled at build time by this
  // same CPython, so that numpy, Pillow and codeclab are not compiled from source at every start).
  const fetchBuffer = (rel) => fetch(new URL(rel, base)).then((r) => (r.ok ? r.arrayBuffer() : null)).catch(() => null);
  const codeclabZip = fetchBuffer("./py/codeclab.zip");
  const pycacheZip = fetchBuffer("./py/pycache.zip");
  // How long each stage took (the benchmark compares cold and warm: is wasm compiled again?).
  const stages = {};
  let stageStarted = performance.now();
  const enter = (name, fraction, text) => {
    stages[stage] = Math.round(performance.now() - stageStarted);
    stageStarted = performance.now();
    stage = name;
    stageText = text;
    floor = downloads.total ? Math.max(fraction, 0.02 + 0.86 * (downloads.received() / downloads.total)) : fraction;
    progress(name, floor, text);
  };
  enter("runtime", 0.02, "Downloading the Python runtime");
  const { pyodide, snapshot, refused: snapshotRefused } = await startPython(await snapshotKey(manifest, base));
  enter("numpy", 0.1, "Loading numpy and Pillow");
  await pyodide.loadPackage(["numpy", "pillow"], { messageCallback: () => {} });
  enter("codeclab", 0.2, "Loading codeclab");
  const zip = await codeclabZip;
  if (!zip) throw new Error("could not load py/codeclab.zip");
  const pycache = await pycacheZip;
  wheels.stop();
  downloads.stop();
  pyodide.unpackArchive(zip, "zip", { extractDir: "/home/pyodide/lib" });
  // Its paths are absolute (lib/python3.12/site-packages/…, home/pyodide/lib/codeclab/…); a tree without it
  // (no build) compiles from source.
  if (pycache) pyodide.unpackArchive(pycache, "zip", { extractDir: "/" });
  pyodide.runPython("import sys; sys.path.insert(0, '/home/pyodide/lib')");
  adapter = pyodide.pyimport("codeclab.browser.adapter");
  adapter.install(modelBridge);
  enter("models", 0.95, "Reading the model manifest");
  modelIndex = await loadModelIndex();
  modelBridge.litert = new LiteRtRunner({
    vendor: new URL("./vendor/litert/", import.meta.url),
    models: new URL("./models/", import.meta.url),
    index: modelIndex.litert,
    // One thread per model, as the Lyra models' hint says. `?threads=2` is not passed on: with
    // numThreads 2, LiteRT.js 2.5.3's threaded build never returned from the first stream in
    // this Chromium on 2 cores (the benchmark's threads_on page hung), while 1 thread is exact.
    threads: () => 1,
    warmupRuns: (name) => modelIndex.runtime[name]?.warmup_runs || 0,
    recordRun: (name, ms) => modelBridge.recordRun(name, ms),
    fetchBytes: fetchWithProgress,
  });
  await kept.settled(); // stored before the page asks the service worker to store the group
  enter("ready", 1, "Ready");
  post({
    type: "ready",
    ms: performance.now() - started,
    crossOriginIsolated: self.crossOriginIsolated,
    stages,
    snapshot,
    snapshotRefused,
    threads: ortThreads,
    models: modelIndex,
    lyraRuntime: lyraRuntimeRequested,
  });
}

/**
 * Run a coroutine service function: Python runs until it needs a model, hands the request out
 * ({task, model}), we run it here and hand the outputs back, until it replies. No Python event
 * loop in between (see codeclab.browser.rpc.Driver). One driven call at a time per worker:
 * the model runtime takes one run at a time anyway, and Python's locks are then never contended.
 */
let driving = Promise.resolve();
function drive(method, args) {
  const call = driving.then(async () => {
    // Where a driven call's time goes (the benchmark's breakdown, "worker.model_timings"): in Python
    // (begin / resume, conversions included) and in the model bridge (the runtime's runs included).
    let started = performance.now();
    let step = plainObjects(adapter.begin(method, args));
    let python = performance.now() - started;
    let bridge = 0;
    while (step.task !== undefined) {
      const { task, model } = step;
      let outputs = null;
      let error = null;
      started = performance.now();
      try {
        outputs = model.stream === undefined
          ? await modelBridge.run(model.name, model.feeds)
          : await modelBridge.runStream(model.name, model.stream, model.feeds, model.init, model.frames);
      } catch (err) {
        error = String(err?.message || err);
      }
      const resumed = performance.now();
      bridge += resumed - started;
      // A stream's step has one output: hand over its data, name and type as plain arguments
      // (fewer proxy crossings than Python walking the outputs object).
      const keys = model.stream !== undefined && outputs ? Object.keys(outputs) : [];
      step = plainObjects(keys.length === 1
        ? adapter.resume(task, outputs[keys[0]].data, error, keys[0], outputs[keys[0]].type)
        : adapter.resume(task, outputs, error));
      python += performance.now() - resumed;
    }
    modelBridge.recordRun(`python:${method}`, python);
    modelBridge.recordRun(`bridge:${method}`, bridge);
    return step;
  });
  driving = call.catch(() => {});
  return call;
}

let booted = null;

self.onmessage = async (event) => {
  const { id, method, args } = event.data;
  try {
    await booted;
    if (method === "worker.model_timings") {
      post({ id, ok: true, result: Object.fromEntries(modelBridge.timings) });
      modelBridge.timings.clear();
      return;
    }
    if (method === "worker.lyra_runtime") {
      post({ id, ok: true, result: await modelBridge.lyraRuntime() });
      return;
    }
    const reply = adapter.is_coroutine(method) ? await drive(method, args ?? {}) : plainObjects(adapter.dispatch_now(method, args ?? {}));
    post({ id, ...reply }, transferables(reply));
  } catch (err) {
    // Plain words for the page (never a traceback or a class name: those go to the console).
    const text = String(err?.message || err);
    const last = text.trim().split("\n").pop().replace(/^[A-Za-z_.]*(Error|Exception): /, "");
    post({ id, ok: false, error: { type: "WorkerError", message: "the Python worker could not answer this request", details: last,
      expected: false, traceback: text } });
  }
};

booted = boot().catch((err) => {
  post({ type: "boot-error", message: String(err?.message || err) });
  throw err;
});
