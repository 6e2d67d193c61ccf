// The Python worker: boot (Pyodide + numpy + codeclab, its tools' plug-ins) and dispatch.
// Python runs here, off the main thread, so numeric work never freezes the page.
// Protocol: {id, method, args} in; {id, ok, result | error} out; {type:"progress"} while booting.
// Methods are "<tool>.<function>" of the tools' Python modules (dist/tools.json's "python", routed by
// codeclab.browser.rpc), "worker.model_timings" (answered here) and what the tools' worker plug-ins answer.

import { loadPyodide } from "./pyodide/pyodide.mjs";
import { expectedDownloads, keepForServiceWorker, keepToolDownloads, megabytes, prefetch, watchDownloads } from "./lib/downloads.js";
import { createModelHost } from "./lib/model-host.js";
import { PYTHON_PRELUDE, SnapshotRejected, forgetSnapshot, readSnapshot, snapshotKey, storeSnapshot } from "./lib/snapshot.js";

const post = (message, transfer = []) => self.postMessage(message, transfer);
const progress = (stage, fraction, text) => post({ type: "progress", stage, fraction, text });

let adapter = null;
// `?threads=N` in the worker URL: model threads (a tool's own worker asks for 1; the benchmarks for more).
const requestedThreads = Number(new URL(import.meta.url).searchParams.get("threads")) || 0;
const host = createModelHost({ base: new URL("./", import.meta.url), post, requestedThreads });
// The tools' worker plug-ins (a manifest's "worker"), by tool id: a model runtime of their own, the state of
// their streams, methods of their own. Installed at boot.
const plugins = new Map();

/**
 * Python's replies and model requests arrive with its dicts as Maps (codeclab.browser.adapter:
 * converting them to objects on the Python side costs a call into JS per dict); objects here.
 */
function plainObjects(value) {
  // Object.fromEntries defines each key as the object's own property: keys come from files (a container's key/value
  // data), and an assignment `out[key] = ...` would set the prototype for "__proto__" instead of a key.
  if (value instanceof Map) return Object.fromEntries(Array.from(value, ([key, item]) => [key, plainObjects(item)]));
  if (Array.isArray(value)) return value.map(plainObjects);
  return value;
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
  host.setSiteManifest(manifest);
  // The tools (dist/tools.json): the Python module each answers from, the worker plug-in each brings.
  const toolIndex = fetch(new URL("tools.json", base)).then((r) => (r.ok ? r.json() : { tools: [] }));
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
  const { tools } = await toolIndex;
  adapter = pyodide.pyimport("codeclab.browser.adapter");
  adapter.install(host, pyodide.toPy(Object.fromEntries(tools.map((tool) => [tool.id, tool.python]))));
  enter("models", 0.95, "Reading the model manifest");
  await host.loadModelIndex();
  for (const tool of tools.filter((t) => t.worker)) plugins.set(tool.id, await (await import(new URL(tool.worker, base).href)).install(host));
  await kept.settled(); // stored before the page asks the service worker to store the group
  enter("ready", 1, "Ready");
  post({
    type: "ready",
    ms: performance.now() - started,
    crossOriginIsolated: self.crossOriginIsolated,
    stages,
    snapshot,
    snapshotRefused,
    threads: host.ortThreads,
    models: host.modelIndex,
    ...Object.assign({}, ...[...plugins.values()].map((plugin) => plugin.ready?.() ?? {})),
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
          ? await host.run(model.name, model.feeds)
          : await streamRunner(method)(model.name, model.stream, model.feeds, model.init, model.frames);
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
    host.recordRun(`python:${method}`, python);
    host.recordRun(`bridge:${method}`, bridge);
    return step;
  });
  driving = call.catch(() => {});
  return call;
}

/** Who runs the streams of a call to `method` ("<tool>.<function>"): the calling tool's plug-in (its
 *  streams' state lives there). */
function streamRunner(method) {
  const tool = method.split(".")[0];
  const runStream = plugins.get(tool)?.runStream;
  if (!runStream) throw new Error(`${tool} has no worker plug-in that runs streaming models`);
  return runStream;
}

/** A method answered by a tool's plug-in, or undefined. */
function pluginMethod(method) {
  for (const plugin of plugins.values()) if (plugin.methods?.[method]) return plugin.methods[method];
  return undefined;
}

let booted = null;

self.onmessage = async (event) => {
  const { id, method, args } = event.data;
  try {
    await booted;
    if (method === "worker.model_timings") {
      post({ id, ok: true, result: Object.fromEntries(host.timings) });
      host.timings.clear();
      return;
    }
    const answer = pluginMethod(method);
    if (answer) {
      post({ id, ok: true, result: await answer(args ?? {}) });
      return;
    }
    const reply = isCoroutine(method) ? await drive(method, args ?? {}) : plainObjects(adapter.dispatch_now(method, args ?? {}));
    post({ id, ...reply }, transferables(reply));
  } catch (err) {
    // Plain words for the page (never a traceback or a class name: those go to the console).
    const text = String(err?.message || err);
    const last = text.trim().split("\n").pop().replace(/^[A-Za-z_.]*(Error|Exception): /, "");
    post({ id, ok: false, error: { type: "WorkerError", message: "the Python worker could not answer this request", details: last,
      expected: false, traceback: text } });
  }
};

// Whether a method is a coroutine, asked of Python once per method: a stream asks per frame otherwise.
const coroutineMethods = new Map();
function isCoroutine(method) {
  if (!coroutineMethods.has(method)) coroutineMethods.set(method, Boolean(adapter.is_coroutine(method)));
  return coroutineMethods.get(method);
}

booted = boot().catch((err) => {
  post({ type: "boot-error", message: String(err?.message || err) });
  throw err;
});
