// Promise RPC to the Python worker.
export class PythonWorker {
  constructor(url) {
    this.worker = new Worker(url, { type: "module" });
    this.pending = new Map();
    this.nextId = 1;
    this.listeners = new Set();
    this.worker.onmessage = (event) => this.#receive(event.data);
    this.worker.onerror = (event) => this.#emit({ type: "boot-error", message: event.message || "the Python worker failed to start" });
  }

  on(listener) { this.listeners.add(listener); return () => this.listeners.delete(listener); }

  #emit(message) { for (const listener of this.listeners) listener(message); }

  #receive(message) {
    if (message.id === undefined) { this.#emit(message); return; }
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    if (message.ok) pending.resolve(message.result);
    else pending.reject(new PythonError(message.error));
  }

  /** Call codeclab.<tool>.service.<fn>(**args) in the worker. Buffers in `transfer` are moved, not copied. */
  call(method, args = {}, transfer = []) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, method, args }, transfer);
    });
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
