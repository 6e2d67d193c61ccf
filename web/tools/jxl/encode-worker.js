// Encodes RGBA pixels to JPEG XL with libjxl (the @jsquash/jxl build, vendored in dist/vendor/jxl/).
// A worker, so a multi-second encode never freezes the page.
// Protocol: {id, rgba, width, height, options} in; {id, ok, bytes, ms} or {id, ok: false, message} out.
import moduleFactory from "../../vendor/jxl/jxl_enc.js";

let encoder = null;

// libjxl's encoder takes every option; missing ones would be read as undefined by embind.
const DEFAULTS = { effort: 7, quality: 75, progressive: false, epf: -1, lossyPalette: false, decodingSpeedTier: 0, photonNoiseIso: 0, lossyModular: false, lossless: false };

self.onmessage = async ({ data }) => {
  const { id, rgba, width, height, options } = data;
  try {
    encoder ??= moduleFactory({ noInitialRun: true });
    const module = await encoder;
    const started = performance.now();
    const view = module.encode(rgba, width, height, { ...DEFAULTS, ...options });
    if (!view) throw new Error("libjxl could not encode this image");
    const bytes = view.slice(); // own copy: the view may point into wasm memory
    self.postMessage({ id, ok: true, bytes, ms: performance.now() - started }, [bytes.buffer]);
  } catch (err) {
    encoder = null; // a failed module cannot be trusted for the next image
    self.postMessage({ id, ok: false, message: String(err?.message || err) });
  }
};
