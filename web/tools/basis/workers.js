// Promise wrappers around the texture panel's two workers (transcoder and encoder).
// Each worker is started on first use, so the panel costs nothing until a file is dropped.
import { WorkerClient, CancelledError } from "../../lib/worker-client.js";

// A worker that fails to load (or throws at top level) fails everything it holds.
const textureWorker = (url, options) => new WorkerClient(() => new Worker(url, options), {
  crashMessage: (reason) => `texture worker failed: ${reason || "could not start"}`,
});

const transcodeWorker = textureWorker(new URL("./transcode-worker.js", import.meta.url));
const encodeWorker = textureWorker(new URL("./encode-worker.js", import.meta.url), { type: "module" });

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
  return encodeWorker.call({ image, options }, [image], { onProgress });
}

/** Cancel the encode under way (the encoder is synchronous wasm: its worker is terminated, and the next
 *  encode starts a fresh one). Its promise rejects with an error whose `cancelled` is true. */
export function cancelEncode() { encodeWorker.stop(new CancelledError()); }
