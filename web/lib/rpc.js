// Promise RPC to the Python worker, with a watchdog: a call that runs past its limit means Python is
// stuck (a file that costs far more than it should); the worker is terminated and started again, so no
// file can leave a dead tab. Every call still waiting is rejected with a plain-words WorkerStalledError.

/** How long one call may take before the worker is restarted. Measured: a 64-megapixel photo takes ~5 s of CPU
 * in CPython, and Pyodide prepares a photo ~3.7x slower (README bench: 12 MP in 1657 vs 443 ms). */
export const WATCHDOG_MS = 60_000;

export class PythonWorker {
  constructor(url, { watchdogMs = WATCHDOG_MS } = {}) {
    this.url = url;
    this.watchdogMs = watchdogMs;
    this.restarts = 0;
    this.pending = new Map();
    this.nextId = 1;
    this.listeners = new Set();
    this.#spawn();
  }

  #spawn() {
    this.worker = new Worker(this.url, { type: "module" });
    this.worker.onmessage = (event) => this.#receive(event.data);
    this.worker.onerror = (event) => this.#emit({ type: "boot-error", message: event.message || "the Python worker failed to start" });
  }

  on(listener) { this.listeners.add(listener); return () => this.listeners.delete(listener); }

  #emit(message) { for (const listener of this.listeners) listener(message); }

  #receive(message) {
    if (message.id === undefined) { this.#emit(message); return; }
    const pending = this.pending.get(message.id);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pending.delete(message.id);
    if (message.ok) pending.resolve(message.result);
    else pending.reject(new PythonError(message.error));
  }

  /** Call codeclab.<tool>.service.<fn>(**args) in the worker. Buffers in `transfer` are moved, not copied. */
  call(method, args = {}, transfer = [], { timeoutMs = this.watchdogMs } = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = timeoutMs > 0 ? setTimeout(() => this.#stalled(id, timeoutMs), timeoutMs) : null;
      this.pending.set(id, { resolve, reject, timer, method });
      this.worker.postMessage({ id, method, args }, transfer);
    });
  }

  /** The watchdog fired: stop the stuck worker, fail what waited on it, start a fresh one. */
  #stalled(id, ms) {
    const stuck = this.pending.get(id);
    if (!stuck) return;
    this.worker.terminate();
    for (const [pid, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new WorkerStalledError(ms, pid !== id));
    }
    this.pending.clear();
    this.restarts += 1;
    this.#spawn();
    this.#emit({ type: "watchdog", method: stuck.method, ms, restarts: this.restarts });
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
