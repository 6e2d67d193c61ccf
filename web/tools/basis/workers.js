// Promise wrappers around the texture panel's two workers (transcoder and encoder).
// Each worker is started on first use, so the panel costs nothing until a file is dropped.

class WorkerClient {
  constructor(url, options) {
    this.url = url;
    this.options = options;
    this.worker = null;
    this.pending = new Map();
    this.nextId = 1;
  }

  start() {
    if (this.worker) return this.worker;
    this.worker = new Worker(this.url, this.options);
    this.worker.onmessage = ({ data }) => {
      const job = this.pending.get(data.id);
      if (!job) return;
      if (data.type === "progress") { job.onProgress?.(data); return; }
      this.pending.delete(data.id);
      if (data.ok) job.resolve(data); else job.reject(new Error(data.message));
    };
    this.worker.onerror = (event) => {
      // A worker that fails to load (or throws at top level) fails everything it holds.
      const error = new Error(`texture worker failed: ${event.message || "could not start"}`);
      for (const job of this.pending.values()) job.reject(error);
      this.pending.clear();
      this.worker.terminate();
      this.worker = null;
    };
    return this.worker;
  }

  /** Stop the worker now (a long encode the visitor cancelled): what it holds is rejected as cancelled. */
  cancel() {
    if (!this.worker) return;
    this.worker.terminate();
    this.worker = null;
    const error = Object.assign(new Error("cancelled"), { cancelled: true });
    for (const job of this.pending.values()) job.reject(error);
    this.pending.clear();
  }

  call(message, transfer = [], onProgress = null) {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      worker.postMessage({ ...message, id }, transfer);
    });
  }
}

const transcodeWorker = new WorkerClient(new URL("./transcode-worker.js", import.meta.url));
const encodeWorker = new WorkerClient(new URL("./encode-worker.js", import.meta.url), { type: "module" });

/**
 * Transcode every mip level of one image (0: the first; a cubemap face or array layer) of a .ktx2/.basis
 * file to `format` (a basist::transcoder_texture_format number). The bytes are copied, the caller keeps
 * its array. Resolves {levels: [{level, width, height, data: ArrayBuffer, ms}], ms, startMs}.
 */
export function transcode(bytes, container, format, image = 0) {
  const data = bytes.slice().buffer;
  return transcodeWorker.call({ data, container, format, image }, [data]);
}

/**
 * Encode a PNG/JPEG to KTX2. options: {mode: "etc1s"|"uastc", quality, uastcLevel, mipmaps, zstd}.
 * Resolves {ktx2: ArrayBuffer, width, height, decodeMs, encodeMs}; onProgress({stage, text}).
 */
export function encodeKtx2(imageBytes, options, onProgress) {
  const image = imageBytes.slice().buffer;
  return encodeWorker.call({ image, options }, [image], onProgress);
}

/** Cancel the encode under way (the encoder is synchronous wasm: its worker is terminated, and the next
 *  encode starts a fresh one). Its promise rejects with an error whose `cancelled` is true. */
export function cancelEncode() { encodeWorker.cancel(); }
