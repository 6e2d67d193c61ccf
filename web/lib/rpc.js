// Promise RPC to the Python worker, with a watchdog: a call that runs past its limit means Python is
// stuck (a file that costs far more than it should); the worker is terminated and started again, so no
// file can leave a dead tab. Every call still waiting is rejected with a plain-words WorkerStalledError.
// The promise-per-call plumbing is the page's one worker client (worker-client.js).
import { WorkerClient, WorkerCrashedError, startTimeout } from "./worker-client.js";

/** How long one call may take before the worker is restarted: well above the largest legitimate call (a
 *  64-megapixel photo prepared in Pyodide, which is several times slower than CPython: docs/benchmarks.md). */
export const WATCHDOG_MS = 60_000;

export class PythonWorker {
  constructor(url, { watchdogMs = WATCHDOG_MS, startTimer = startTimeout } = {}) {
    this.url = url;
    this.watchdogMs = watchdogMs;
    this.restarts = 0;
    this.listeners = new Set();
    this.client = new WorkerClient(() => new Worker(this.url, { type: "module" }), {
      errorOf: (reply) => new PythonError(reply.error),
      crashMessage: (reason) => `the Python worker stopped: ${reason || "it failed to start"}`,
      onMessage: (message) => this.#emit(message),
      onCrash: (reason) => this.#emit({ type: "boot-error", message: reason || "the Python worker failed to start" }),
      onTimeout: (id, ms) => this.#stalled(id, ms),
      startTimer,
    });
    this.client.start();
  }

  /** The calls in flight, by id (lib/offline.js waits until there are none). */
  get pending() { return this.client.pending; }

  /** The Web Worker running Python now (a new one after a watchdog restart). */
  get worker() { return this.client.worker; }

  on(listener) { this.listeners.add(listener); return () => this.listeners.delete(listener); }

  #emit(message) { for (const listener of this.listeners) listener(message); }

  /** Call codeclab.<tool>.service.<fn>(**args) in the worker. Buffers in `transfer` are moved, not copied. */
  async call(method, args = {}, transfer = [], { timeoutMs = this.watchdogMs } = {}) {
    return (await this.client.call({ method, args }, transfer, { timeoutMs })).result;
  }

  /** Stop this Python for good (a worker that is no longer wanted). */
  terminate() { this.client.stop(new WorkerCrashedError("this Python worker was stopped")); }

  /** The watchdog fired: stop the stuck worker, fail what waited on it, start a fresh one. */
  #stalled(id, ms) {
    if (!this.client.waiting(id)) return;
    const { method } = this.client.pending.get(id).message;
    this.client.restart((pid) => new WorkerStalledError(ms, pid !== id));
    this.restarts += 1;
    this.#emit({ type: "watchdog", method, ms, restarts: this.restarts });
  }
}

/** The watchdog stopped Python: said in plain words, and the app keeps working. */
export class WorkerStalledError extends Error {
  constructor(ms, collateral = false) {
    super(collateral
      ? "Python was restarted while this waited (another task took too long); please try again."
      : `This took longer than ${Math.round(ms / 1000)} s, so Python was stopped and started again; the page keeps working. `
        + "A smaller file may go through.");
    this.name = "WorkerStalledError";
    this.expected = true;
  }
}

/** An error raised in Python, with its human message. */
export class PythonError extends Error {
  constructor(error) {
    super(error?.message || "unknown error");
    this.name = error?.type || "PythonError";
    this.expected = Boolean(error?.expected);
    this.details = error?.details || "";
    this.traceback = error?.traceback || null;
  }
}
