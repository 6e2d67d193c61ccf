// One promise-over-worker client for every worker of the page (the Python worker, the tools' wasm workers).
//
// Protocol, the same for every worker: a request is the caller's message plus an `id`; the worker answers
// {id, ok: true, ...} or {id, ok: false, ...} once, and may send {id, type: "progress", ...} before that.
// A message without a known id is handed to `onMessage` (the Python worker's boot progress).
// A worker that fails (its `error` event: it could not load, or threw outside its handler) is stopped and
// every call it held is rejected in plain words; the next call starts a fresh worker. `stop()` is how a
// caller cancels: synchronous wasm cannot be interrupted, so the worker is terminated.

/** The worker answered {ok: false}: its own message, in plain words. */
export class WorkerError extends Error {
  constructor(message) {
    super(message || "the worker could not do this");
    this.name = "WorkerError";
  }
}

/** The worker itself failed, so every call it held failed with it. */
export class WorkerCrashedError extends Error {
  constructor(message) {
    super(message);
    this.name = "WorkerCrashedError";
  }
}

/** The caller stopped the worker (a long encode the visitor cancelled). */
export class CancelledError extends Error {
  constructor(message = "cancelled") {
    super(message);
    this.name = "CancelledError";
    this.cancelled = true;
  }
}

/** setTimeout as a timer that returns its own disarm function (tests pass a clock of their own). */
export function startTimeout(callback, ms) {
  const timer = setTimeout(callback, ms);
  return () => clearTimeout(timer);
}

export class WorkerClient {
  /**
   * @param {() => Worker} create starts the worker (called on first use and after a stop or a crash).
   * @param {object} options
   *   errorOf(reply): the Error for an {ok: false} reply (default: a WorkerError with reply.message);
   *   crashMessage(reason): the plain words for a crash (reason: the event's message, or "");
   *   onMessage(data): messages that answer no call; onCrash(reason): told after a crash;
   *   onTimeout(id, ms): a call ran past its timeoutMs (default: stop, rejecting every call);
   *   startTimer(callback, ms) -> disarm: the clock for timeouts.
   */
  constructor(create, options = {}) {
    this.create = create;
    this.errorOf = options.errorOf ?? ((reply) => new WorkerError(reply.message));
    this.crashMessage = options.crashMessage ?? ((reason) => `the worker stopped: ${reason || "it could not start"}`);
    this.onMessage = options.onMessage ?? (() => {});
    this.onCrash = options.onCrash ?? (() => {});
    this.onTimeout = options.onTimeout
      ?? ((id, ms) => this.stop(new WorkerCrashedError(`the worker took longer than ${Math.round(ms / 1000)} s and was stopped`)));
    this.startTimer = options.startTimer ?? startTimeout;
    this.worker = null;
    this.pending = new Map();
    this.nextId = 1;
  }

  /** The worker, started if it is not running. */
  start() {
    if (this.worker) return this.worker;
    const worker = this.create();
    worker.onmessage = (event) => this.#receive(event.data);
    worker.onerror = (event) => this.#crashed(worker, event?.message || "");
    this.worker = worker;
    return worker;
  }

  /**
   * Send `message` (plus an id); resolves with the worker's {ok: true} reply. Buffers in `transfer` are
   * moved, not copied. onProgress(reply) hears {type: "progress"} messages; past `timeoutMs` (0: never)
   * onTimeout decides what happens.
   */
  call(message, transfer = [], { onProgress = null, timeoutMs = 0 } = {}) {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const disarm = timeoutMs > 0 ? this.startTimer(() => this.onTimeout(id, timeoutMs), timeoutMs) : () => {};
      this.pending.set(id, { resolve, reject, onProgress, disarm, message });
      try {
        worker.postMessage({ ...message, id }, transfer);
      } catch (err) { // a value the structured clone cannot copy
        this.#settle(id)?.reject(err);
      }
    });
  }

  /** Is the call with this id still waiting? */
  waiting(id) { return this.pending.has(id); }

  /**
   * Terminate the worker and reject every call it held with `reason` (an Error, or a function of the
   * call's id returning one). The next call starts a fresh worker.
   */
  stop(reason = new CancelledError()) {
    this.worker?.terminate();
    this.worker = null;
    const calls = [...this.pending.keys()];
    for (const id of calls) this.#settle(id).reject(typeof reason === "function" ? reason(id) : reason);
  }

  /** stop(reason), then start a fresh worker at once (one that boots by itself, like Python's). */
  restart(reason) {
    this.stop(reason);
    return this.start();
  }

  #settle(id) {
    const call = this.pending.get(id);
    if (!call) return null;
    this.pending.delete(id);
    call.disarm();
    return call;
  }

  #receive(data) {
    const call = data?.id === undefined ? null : this.pending.get(data.id);
    if (!call) { this.onMessage(data); return; }
    if (data.type === "progress") { call.onProgress?.(data); return; }
    this.#settle(data.id);
    if (data.ok) call.resolve(data);
    else call.reject(this.errorOf(data));
  }

  #crashed(worker, reason) {
    if (worker !== this.worker) return; // an old worker, already stopped
    this.stop(new WorkerCrashedError(this.crashMessage(reason)));
    this.onCrash(reason);
  }
}
