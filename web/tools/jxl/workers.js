// The JPEG XL panel's workers: libjxl's encoder (one worker, started on first use) and libjxl's decoder
// (a worker per file, so a decode that runs too long is stopped by terminating it).
import { CancelledError, WorkerClient, WorkerError, startTimeout } from "../../lib/worker-client.js";

const encoder = new WorkerClient(() => new Worker(new URL("./encode-worker.js", import.meta.url), { type: "module" }), {
  errorOf: (reply) => new WorkerError(`JPEG XL encoding failed: ${reply.message}`),
  crashMessage: (reason) => `the JPEG XL encoder failed to load: ${reason || "worker error"}`,
});

/** Cancel the encode under way: libjxl's encode is one synchronous wasm call, so its worker is terminated
 *  (the next encode starts a fresh one). Its promise rejects with an error whose `cancelled` is true. */
export function cancelEncode() {
  if (encoding()) encoder.stop(new CancelledError());
}

/** Is an encode under way (one that cancelEncode would stop)? */
export const encoding = () => encoder.pending.size > 0;

/** Encode RGBA pixels to JPEG XL in the encoder worker. Resolves to {bytes: Uint8Array, ms}. */
export async function encodeJxl(rgba, width, height, options) {
  const { bytes, ms } = await encoder.call({ rgba, width, height, options }, [rgba.buffer]);
  return { bytes, ms };
}

// How long libjxl may take on one file before it is stopped (a hostile file can make a decoder work for
// minutes; a real 64-megapixel photo takes seconds).
export const LIBJXL_DECODE_LIMIT_MS = 60_000;

/** Decode a JPEG XL file with libjxl (wasm) in a worker of its own: resolves to {rgba, width, height}.
 *  Past `limitMs` the worker is terminated and the promise rejects in plain words. `startTimer(callback, ms)`
 *  (setTimeout by default) is how the limit is armed; it returns a function that disarms it. */
export async function decodeWithLibjxl(bytes, { limitMs = LIBJXL_DECODE_LIMIT_MS, startTimer = startTimeout } = {}) {
  const decoder = new WorkerClient(() => new Worker(new URL("./decode-worker.js", import.meta.url), { type: "module" }), {
    errorOf: (reply) => new WorkerError(`libjxl could not decode this JPEG XL file: ${reply.message}`),
    crashMessage: (reason) => `the JPEG XL decoder stopped: ${reason || "worker error"}`,
    onTimeout: () => decoder.stop(new WorkerError(
      `decoding this JPEG XL file took longer than ${Math.round(limitMs / 1000)} s, so it was stopped`)),
    startTimer,
  });
  const copy = bytes.slice(); // the caller keeps its bytes
  try {
    const { rgba, width, height } = await decoder.call({ bytes: copy }, [copy.buffer], { timeoutMs: limitMs });
    return { rgba, width, height };
  } finally { decoder.stop(); }
}
