// Offering a smaller copy of an image a wasm encoder cannot take whole (issue 18: a 6000×4000 photo made
// one encoder abort after a long wait, and another refuse it without a way forward).

/** The largest size with the same aspect ratio and at most maxPixels pixels (never larger than the original). */
export function fitWithin(width, height, maxPixels) {
  const scale = Math.min(1, Math.sqrt(maxPixels / (width * height)));
  let w = Math.max(1, Math.floor(width * scale));
  let h = Math.max(1, Math.floor(height * scale));
  // A side clamped to 1 pixel (a 20000×1 strip) gives the budget back to the other side.
  if (w * h > maxPixels) w = Math.max(1, Math.floor(maxPixels / h));
  if (w * h > maxPixels) h = Math.max(1, Math.floor(maxPixels / w));
  return { width: w, height: h, scale };
}

/** Width and height of an image file, from the browser's decoder. */
export async function imageSize(blob) {
  const bitmap = await createImageBitmap(blob);
  const size = { width: bitmap.width, height: bitmap.height };
  bitmap.close();
  return size;
}

/** A PNG of the image scaled (high-quality resampling) to at most maxPixels: {bytes, width, height}. */
export async function downscaledPng(blob, maxPixels) {
  const original = await imageSize(blob);
  const { width, height } = fitWithin(original.width, original.height, maxPixels);
  const bitmap = await createImageBitmap(blob, { resizeWidth: width, resizeHeight: height, resizeQuality: "high" });
  const canvas = new OffscreenCanvas(width, height);
  canvas.getContext("2d").drawImage(bitmap, 0, 0);
  bitmap.close();
  const png = await canvas.convertToBlob({ type: "image/png" });
  return { bytes: new Uint8Array(await png.arrayBuffer()), width, height };
}

const megapixels = (width, height) => `${((width * height) / 1e6).toFixed(1)} MP`;

/**
 * The error shown at once for an image too large for an encoder, with a button that encodes a smaller copy
 * (ui.showError renders `action`). `what`: the encoder, as the page names it; `run`: called when the user accepts.
 */
export function tooLargeError({ width, height, maxPixels, what, why, testid, run }) {
  const fit = fitWithin(width, height, maxPixels);
  const error = new Error(`this image is ${width}×${height} (${megapixels(width, height)}); ${what} takes at most `
    + `${megapixels(maxPixels, 1)} in this tab${why ? ` (${why})` : ""}. Encode a ${fit.width}×${fit.height} copy instead?`);
  error.action = { label: `Encode a ${fit.width}×${fit.height} copy`, testid, run };
  return error;
}
