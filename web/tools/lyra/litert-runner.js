// Lyra's streaming models on LiteRT.js (Google's browser build of the TFLite runtime), running the
// upstream .tflite files themselves: their outputs are bit-identical to CPython's ai-edge-litert.
//
// The one thing that shapes this file: a TFLite model keeps its streaming state in resource
// variables *inside the compiled model*, and LiteRT.js has no call to read, write or reset them.
// So a compiled model is one stream, and starting a stream (the bridge's `init`) needs a model
// that has never run. We keep spares of those per model, compiled at first use and while the
// worker is idle (a compile takes far longer than the gap between two 20 ms frames of a live
// stream), and compile on the spot only if streams start faster than spares are made.
//
// Self-contained: the worker hands in the URLs of the vendored runtime and of the models.

// No stream step for this long: the worker is idle, compile spares now. Long enough that the gap
// between the codec's warm-up stream and the real stream (WebRTC setup) is not taken for idleness:
// a spare compiled in that gap runs into the first frames of the stream, whose packets then come
// late to the receiver.
const IDLE_MS = 3000;
const MAX_STREAMS = 8; // live compiled models per worker (the oldest stream is dropped beyond)
// Never-run copies kept per model: two, because the page's codec warms up on a short stream just
// before the real one starts, and the real one must not wait for a compile.
const SPARES = 2;

/**
 * LiteRT.js loads its emscripten glue with importScripts, which a module worker does not allow (and
 * the page's CSP allows no eval to stand in for it). The build also writes each glue as an ES module
 * that exports its `ModuleFactory` (`<glue>.mjs`): import that first, and answer LiteRT.js's
 * importScripts of the glue by setting the global it reads. Any other script is refused.
 */
async function withGlueModule(glueUrl, action) {
  const { default: factory } = await import(glueUrl.replace(/\.js$/, ".mjs"));
  const original = self.importScripts;
  self.importScripts = (...urls) => {
    for (const url of urls) {
      if (new URL(url, glueUrl).href !== glueUrl) throw new Error(`LiteRT.js: unexpected script ${url}`);
      self.ModuleFactory = factory;
    }
  };
  return action().finally(() => { self.importScripts = original; });
}

/** The runtime writes its INFO and WARNING log lines to stderr; they are not errors of the page. */
function logRuntime(line) {
  if (/^(INFO|WARNING|VERBOSE):/.test(line)) console.debug(`LiteRT.js: ${line}`);
  else console.error(`LiteRT.js: ${line}`);
}

export class LiteRtRunner {
  /**
   * @param {object} options
   * @param {URL} options.vendor folder of the vendored LiteRT.js (index.js and the wasm builds)
   * @param {URL} options.models folder the model index's paths are relative to
   * @param {object} options.index runner name -> {file, input, output} (models/litert.json)
   * @param {(name: string) => number} options.threads threads for a model
   * @param {(name: string) => number} options.warmupRuns runs on a throwaway copy at first load
   * @param {(name: string, ms: number) => void} options.recordRun time inside each model run
   * @param {(url: string, label: string) => Promise<Uint8Array>} options.fetchBytes
   */
  constructor({ vendor, models, index, threads, warmupRuns, recordRun, fetchBytes }) {
    Object.assign(this, { vendor, models, index, threads, warmupRuns, recordRun, fetchBytes });
    // The threaded build needs shared memory, which an isolated page may still lack (WebKitGTK).
    this.threaded = Boolean(self.crossOriginIsolated) && typeof SharedArrayBuffer === "function";
    this.runtime = null; // Promise of the LiteRT.js module, once loaded
    this.bytes = new Map(); // name -> Promise<Uint8Array> of the .tflite file
    this.warmed = new Map(); // name -> Promise: the model's wasm paths have run once
    this.spares = new Map(); // name -> [Promise<CompiledModel>] that have never run
    this.streams = new Map(); // `${name}#${id}` -> CompiledModel (least recently used first)
    this.idleTimer = null;
    this.compiles = 0; // how many models were compiled (the tests check that streams start fresh)
  }

  has(name) { return Boolean(this.index[name]); }

  /** Load LiteRT.js (threaded build when cross-origin isolated); rejects with the reason it cannot run here. */
  load() {
    this.runtime ??= (async () => {
      const litert = await import(new URL("index.js", this.vendor).href);
      const glue = new URL(this.threaded ? "litert_wasm_threaded_internal.js" : "litert_wasm_internal.js", this.vendor).href;
      // Read by the emscripten glue (here and in the threaded build's own workers): where the
      // .wasm and the glue itself live, so that nothing is looked up relative to the worker.
      self.Module = { locateFile: (file) => new URL(file, this.vendor).href, mainScriptUrlOrBlob: glue, printErr: logRuntime };
      // The folder, not the glue's URL: LiteRT.js then checks relaxed SIMD and threads support and
      // says so if they are missing (the build ships only the relaxed-SIMD builds).
      await withGlueModule(glue, () => litert.loadLiteRt(this.vendor.href, { threads: this.threaded }));
      return litert;
    })();
    this.runtime.catch(() => {});
    return this.runtime;
  }

  async compile(name) {
    const litert = await this.load();
    if (!this.bytes.has(name)) {
      const entry = this.index[name];
      if (!entry) throw new Error(`model ${name} has no .tflite file in this build`);
      const pending = this.fetchBytes(new URL(entry.file, this.models).href, name);
      this.bytes.set(name, pending);
      pending.catch(() => this.bytes.delete(name));
    }
    const bytes = await this.bytes.get(name);
    this.compiles += 1;
    // loadAndCompile copies the bytes into the wasm heap, so one download serves every copy.
    return litert.loadAndCompile(bytes, { accelerator: "wasm", cpuOptions: { numThreads: this.threaded ? this.threads(name) : 1 } });
  }

  /**
   * First use of a model: compile it, run it on zeros so that the browser compiles the hot wasm
   * paths before a live stream needs them, and throw that copy away (its state is no longer fresh).
   */
  warm(name) {
    if (!this.warmed.has(name)) {
      const done = (async () => {
        const model = await this.compile(name);
        const input = this.inputArray(model);
        for (let i = 0, runs = this.warmupRuns(name); i < runs; i++) await this.runOnce(null, model, input);
        model.delete();
      })();
      done.catch(() => this.warmed.delete(name));
      this.warmed.set(name, done);
    }
    return this.warmed.get(name);
  }

  /** Compile spare copies of `name` until it has SPARES of them (in flight or ready). */
  topUp(name) {
    let list = this.spares.get(name);
    if (!list) this.spares.set(name, (list = []));
    while (list.length < SPARES) {
      const spare = this.compile(name);
      spare.catch(() => { const at = list.indexOf(spare); if (at >= 0) list.splice(at, 1); });
      list.push(spare);
    }
  }

  /** A compiled model that has never run (its state is the model's initial state). */
  async fresh(name) {
    if (!this.warmed.has(name)) {
      // First use: the codec's warm-up stream. Have every spare compiled before it runs, so that
      // no compile is left to run into the first frames of the real stream that follows.
      await this.warm(name);
      this.topUp(name);
      await Promise.allSettled(this.spares.get(name));
    } else await this.warmed.get(name);
    return this.spares.get(name)?.shift() ?? this.compile(name);
  }

  inputArray(model) {
    const [input] = model.getInputDetails();
    return new Float32Array(input.shape.reduce((a, b) => a * b, 1));
  }

  /** One run: the frame in, the frame out (copied out of the wasm heap), tensors freed; timed under `name`. */
  async runOnce(name, model, data) {
    const { Tensor } = await this.load();
    const [detail] = model.getInputDetails();
    const input = new Tensor(data, Array.from(detail.shape));
    const started = performance.now();
    let outputs;
    try {
      outputs = await model.run([input]);
    } finally {
      input.delete();
    }
    if (name) this.recordRun(name, performance.now() - started);
    try {
      const out = outputs[0];
      return { data: out.toTypedArray(), dims: Array.from(out.type.layout.dimensions) }; // a copy of the heap
    } finally {
      for (const tensor of outputs) tensor.delete();
    }
  }

  /**
   * One step of stream `id` of model `name` (the bridge's runStream): `init` given means the
   * stream starts (or restarts) from the model's initial state; the ONNX initial state tensors it
   * carries are not needed here, the .tflite file has its own.
   */
  async runStream(name, id, feeds, init, frames) {
    const key = `${name}#${id}`;
    let model = this.streams.get(key);
    if (init) {
      const previous = model;
      model = await this.fresh(name);
      if (previous && previous !== model) previous.delete();
    } else if (!model) {
      throw new Error(`stream ${key} has no state: start it with its initial state`);
    }
    this.streams.delete(key); // re-insert: Map order is least recently used first
    this.streams.set(key, model);
    while (this.streams.size > MAX_STREAMS) {
      const [oldest, dropped] = this.streams.entries().next().value;
      this.streams.delete(oldest);
      dropped.delete();
    }
    const { input, output } = this.index[name];
    const feed = feeds[input];
    if (!feed) throw new Error(`${name}: no input ${input} among ${Object.keys(feeds).join(", ")}`);
    const data = feed.data instanceof Float32Array ? feed.data : new Float32Array(feed.data);
    if (frames === undefined) {
      const result = await this.runOnce(name, model, data);
      this.whenIdle();
      return { [output]: { data: result.data, dims: result.dims, type: "float32" } };
    }
    // A burst: `frames` steps, the frames one after the other in the feed's data and in the output.
    const size = data.length / frames;
    let out = null;
    let dims = null;
    for (let f = 0; f < frames; f++) {
      const result = await this.runOnce(name, model, data.subarray(f * size, (f + 1) * size));
      out ??= new Float32Array(frames * result.data.length);
      out.set(result.data, f * result.data.length);
      dims = result.dims;
    }
    this.whenIdle();
    return { [output]: { data: out ?? new Float32Array(0), dims: [frames, ...(dims ?? [])], type: "float32" } };
  }

  /** After a quiet moment, compile spares for every model that has been used. */
  whenIdle() {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => { for (const name of this.warmed.keys()) this.topUp(name); }, IDLE_MS);
  }
}
