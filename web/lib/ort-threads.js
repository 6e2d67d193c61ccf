// How many threads onnxruntime-web gets: one pool for the whole worker (env.wasm.numThreads, fixed when
// the runtime loads) and each session's share of it (intraOpNumThreads). Pure, so unit-tested in Node.
//
// Threads need shared memory (a cross-origin isolated page that also has SharedArrayBuffer); without it
// everything runs on one thread. The pool may use every core (at most 4); a session uses all cores but
// one unless its model's hint (models/manifests/*.json "runtime.intra_op_threads") says otherwise: one
// core stays with the page (audio, WebRTC, drawing) and a tool's second worker, while a model that runs
// alone and long on one dropped file may ask for every core.
// An explicit `?threads=N` wins over both (the benchmarks' thread rows use it).

/** The worker's pool: env.wasm.numThreads. */
export function ortThreadPool({ sharedMemory, cores, requested = 0 }) {
  if (!sharedMemory) return 1;
  return requested || Math.max(1, Math.min(4, cores));
}

/** One session's intraOpNumThreads, never more than the pool. */
export function sessionThreads({ pool, cores, requested = 0, hint = 0 }) {
  const wanted = requested || hint || cores - 1;
  return Math.max(1, Math.min(wanted, pool));
}
