// The browser side of JPEG XL: sniffing, encoding PNG/JPEG pixels with libjxl (wasm, in a worker)
// and decoding a JXL to pixels (Chromium's own decoder, or libjxl's wasm decoder where the browser has none).

const JXL_CODESTREAM = [0xff, 0x0a];
const JXL_CONTAINER = [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a];
const PNG = [0x89, 0x50, 0x4e, 0x47];
const JPEG = [0xff, 0xd8, 0xff];

const startsWith = (bytes, magic) => magic.every((b, i) => bytes[i] === b);

/** What a file is, from its first bytes: "jxl", "png", "jpeg" or null. */
export function sniff(bytes) {
  if (startsWith(bytes, JXL_CODESTREAM) || startsWith(bytes, JXL_CONTAINER)) return "jxl";
  if (startsWith(bytes, PNG)) return "png";
  if (startsWith(bytes, JPEG)) return "jpeg";
  return null;
}

/** Encoder settings for an image of this many pixels: lossy, progressive, effort lowered for big images
 *  so a single-threaded wasm encode stays within a few seconds. */
export function encodeSettings(width, height, quality = 85) {
  const megapixels = (width * height) / 1e6;
  const effort = megapixels <= 1 ? 7 : megapixels <= 4 ? 5 : 3;
  return { quality, effort, progressive: true };
}

let worker = null;
let nextId = 1;
const pending = new Map();

function encoderWorker() {
  if (!worker) {
    worker = new Worker(new URL("./encode-worker.js", import.meta.url), { type: "module" });
    worker.onmessage = ({ data }) => {
      const job = pending.get(data.id);
      if (!job) return;
      pending.delete(data.id);
      if (data.ok) job.resolve({ bytes: data.bytes, ms: data.ms });
      else job.reject(new Error(`JPEG XL encoding failed: ${data.message}`));
    };
    worker.onerror = (event) => {
      for (const job of pending.values()) job.reject(new Error(`the JPEG XL encoder failed to load: ${event.message || "worker error"}`));
      pending.clear();
      worker = null;
    };
  }
  return worker;
}

/** Encode RGBA pixels to JPEG XL in the encoder worker. Resolves to {bytes: Uint8Array, ms}. */
export function encodeJxl(rgba, width, height, options) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    encoderWorker().postMessage({ id, rgba, width, height, options }, [rgba.buffer]);
  });
}

/** Decode any image file the browser understands to an ImageBitmap. For JPEG XL, falls back to
 *  libjxl's wasm decoder (in a worker, with a time limit) when the browser has no native decoder. */
export async function decodeToBitmap(bytes, type) {
  try {
    return await createImageBitmap(new Blob([bytes], { type }));
  } catch (nativeError) {
    if (type !== "image/jxl") throw new Error(`the browser cannot decode this image (${nativeError.message})`);
    const image = await decodeWithLibjxl(bytes);
    return createImageBitmap(new ImageData(image.rgba, image.width, image.height));
  }
}

// How long libjxl may take on one file before it is stopped (a hostile file can make a decoder work for
// minutes; a real 64-megapixel photo takes seconds).
export const LIBJXL_DECODE_LIMIT_MS = 60_000;

/** Decode a JPEG XL file with libjxl (wasm) in a worker of its own: resolves to {rgba, width, height}.
 *  Past `limitMs` the worker is terminated and the promise rejects in plain words. `startTimer(callback, ms)`
 *  (setTimeout by default) is how the limit is armed; it returns a function that disarms it. */
export function decodeWithLibjxl(bytes, { limitMs = LIBJXL_DECODE_LIMIT_MS, startTimer = defaultTimer } = {}) {
  const decoder = new Worker(new URL("./decode-worker.js", import.meta.url), { type: "module" });
  return new Promise((resolve, reject) => {
    const finish = (settle, value) => {
      stopTimer();
      decoder.terminate();
      settle(value);
    };
    const stopTimer = startTimer(() => finish(reject, new Error(
      `decoding this JPEG XL file took longer than ${Math.round(limitMs / 1000)} s, so it was stopped`)), limitMs);
    decoder.onmessage = ({ data }) => (data.ok
      ? finish(resolve, { rgba: data.rgba, width: data.width, height: data.height })
      : finish(reject, new Error(`libjxl could not decode this JPEG XL file: ${data.message}`)));
    decoder.onerror = (event) => finish(reject, new Error(`the JPEG XL decoder stopped: ${event.message || "worker error"}`));
    const copy = bytes.slice(); // the caller keeps its bytes
    decoder.postMessage({ id: 1, bytes: copy }, [copy.buffer]);
  });
}

function defaultTimer(callback, ms) {
  const timer = setTimeout(callback, ms);
  return () => clearTimeout(timer);
}

/** RGBA pixels of a bitmap, downscaled so it has at most maxPixels. */
export function rgbaOf(bitmap, maxPixels = Infinity) {
  const scale = Math.min(1, Math.sqrt(maxPixels / (bitmap.width * bitmap.height)));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(bitmap, 0, 0, width, height);
  return { rgba: ctx.getImageData(0, 0, width, height).data, width, height };
}

/** Does Chromium draw anything for this truncated stream? (It decodes a truncated JXL without error
 *  even when it has nothing to draw yet.) Drawn to a 16×16 canvas: the image must be decoded already
 *  (img.decode()), or this decodes it on the main thread. */
export function drawsSomething(img) {
  if (!img.complete || !img.naturalWidth) return false;
  const canvas = new OffscreenCanvas(16, 16);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(img, 0, 0, 16, 16);
  const data = ctx.getImageData(0, 0, 16, 16).data;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
  return false;
}
