// The browser side of JPEG XL images: sniffing, encoder settings, pixels of a bitmap, and decoding a JXL
// to pixels (the browser's own decoder, or libjxl's wasm decoder in workers.js where the browser has none).
import { decodeWithLibjxl } from "./workers.js";

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
