// Lyra's part of the Python worker (its manifest's "worker"; worker.js installs it at boot): the streaming
// models' runtime and their stream state. Each stream step of codeclab.lyra's StatefulModel arrives here
// (`runStream`): on LiteRT.js by default (litert-runner.js, the upstream .tflite files), on onnxruntime-web
// when the worker URL says `?lyra-runtime=onnx` (runtime-choice.js) or when LiteRT.js cannot run here.
import { LiteRtRunner } from "./litert-runner.js";
import { requestedRuntime } from "./runtime-choice.js";

const MAX_ORT_STREAMS = 64; // stream states kept on onnxruntime-web (the least recently used go first)

/** `host`: the worker's model host (web/lib/model-host.js). */
export async function install(host) {
  const requested = requestedRuntime(self.location.search); // the worker URL carries the page's parameters
  // models/litert.json: the upstream .tflite files LiteRT.js runs, by runner name.
  const index = await fetch(new URL("models/litert.json", host.base)).then((r) => (r.ok ? r.json() : {})).catch(() => ({}));
  const litert = new LiteRtRunner({
    vendor: new URL("vendor/litert/", host.base),
    models: new URL("models/", host.base),
    index,
    // One thread per model, as the Lyra models' hint says. `?threads=2` is not passed on: with numThreads 2,
    // LiteRT.js's threaded build never returned from the first stream in Chromium on 2 cores (the
    // benchmark's threads_on page hung), while 1 thread is exact.
    threads: () => 1,
    warmupRuns: (name) => host.hint(name).warmup_runs || 0,
    recordRun: (name, ms) => host.recordRun(name, ms),
    fetchBytes: host.fetchBytes,
  });
  let litertFailure = null; // why LiteRT.js cannot run here (Lyra then uses onnxruntime-web)
  const ortStreams = new Map();

  /** Whether model `name`'s streams run on LiteRT.js; decided once, on the first stream (LiteRT.js loaded). */
  async function onLiteRt(name) {
    if (requested !== "litert" || !litert.has(name) || litertFailure) return false;
    try {
      await litert.load();
      return true;
    } catch (err) {
      litertFailure = String(err?.message || err);
      console.warn(`LiteRT.js cannot run here, Lyra uses onnxruntime-web: ${litertFailure}`);
      return false;
    }
  }

  /** Which runtime runs Lyra here, and how ("worker.lyra_runtime"; loads LiteRT.js if it is the choice). */
  async function runtimeInfo() {
    const active = await onLiteRt("lyragan");
    return {
      requested,
      active: active ? "litert" : "onnx",
      reason: litertFailure,
      threads: active ? litert.threads("lyragan")
        : Math.min(host.requestedThreads || host.hint("lyragan").intra_op_threads || host.ortThreads, host.ortThreads),
      threaded_build: active ? litert.threaded : null,
      compiles: litert.compiles,
    };
  }

  // The state_out_k tensors of one step are the next step's state_in_k, kept here so that only the frame's
  // input and output cross into Python; `init` (the model's initial state) starts or restarts the stream.
  // `frames` (a burst, StatefulModel.step_many_async): that many steps in one request, each feed's data
  // holding the frames one after the other (`dims` are one frame's), each output likewise (dims
  // [frames, ...one frame's]).
  async function runStream(name, streamId, feeds, init, frames) {
    if (await onLiteRt(name)) return litert.runStream(name, streamId, feeds, init, frames);
    const session = await host.session(name);
    const key = `${name}#${streamId}`;
    let state = init ? null : ortStreams.get(key);
    if (!state) {
      if (!init) throw new Error(`stream ${key} has no state: start it with its initial state`);
      state = {};
      for (const [k, t] of Object.entries(init)) state[k] = host.tensor(t);
    }
    const count = frames ?? 1;
    const parts = {};
    for (let f = 0; f < count; f++) {
      const inputs = { ...state };
      for (const [k, t] of Object.entries(feeds)) inputs[k] = host.tensor({ ...t, data: frameOf(t, f, count) });
      const started = performance.now();
      const outputs = await session.run(inputs);
      host.recordRun(name, performance.now() - started);
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
    ortStreams.delete(key); // re-insert: Map order is least recently used first
    ortStreams.set(key, state);
    while (ortStreams.size > MAX_ORT_STREAMS) ortStreams.delete(ortStreams.keys().next().value);
    return result;
  }

  return {
    runStream,
    methods: { "worker.lyra_runtime": runtimeInfo },
    ready: () => ({ lyraRuntime: requested }),
  };
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
