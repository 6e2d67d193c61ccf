// Module Worker: PNG/JPEG -> KTX2 (ETC1S or UASTC) with the Basis Universal encoder from npm
// ktx2-encoder. The option mapping is ktx2-encoder's own `applyInputOptions`; the encode loop
// below follows its `encodeWithModule` (that file also imports `ktx-parse` by a bare name, which a
// worker cannot resolve without a bundler, and we do not need its key/value rewriting).
// The encoder is synchronous wasm, so it runs here and the page only shows progress.
//
// Protocol: {id, image: ArrayBuffer, options: {mode, quality, uastcLevel, mipmaps, zstd}}
//        -> {id, type: "progress", stage, text}   (any number)
//        -> {id, ok: true, ktx2: ArrayBuffer, width, height, decodeMs, encodeMs} | {id, ok: false, message}

import BASIS from "../../vendor/ktx2/basis_encoder.js";
import { applyInputOptions } from "../../vendor/ktx2/applyInputOptions.js";
import { BasisTextureType, SourceType } from "../../vendor/ktx2/enum.js";
import "./instantiate-streaming.js"; // defines self.instantiateStreamingHook

const MAX_TEXELS = 12 * 1024 * 1024; // the v2.5 encoder's own source limit (ktx2-encoder says so too)
const HEADER_SLACK = 64 * 1024;

let modulePromise = null;
function encoderModule() {
  if (!modulePromise) {
    modulePromise = (async () => {
      const url = new URL("../../vendor/ktx2/basis_encoder.wasm", import.meta.url);
      const module = await new Promise((resolve, reject) => {
        const failed = (err) => reject(new Error(`could not load the Basis encoder (${err?.message || err})`));
        BASIS({ instantiateWasm: self.instantiateStreamingHook(url, failed) }).then(resolve, failed);
      });
      module.initializeBasis();
      return module;
    })();
    modulePromise.catch(() => { modulePromise = null; });
  }
  return modulePromise;
}

let gl = null;
/** Straight (not premultiplied) RGBA8 pixels of a PNG/JPEG, top row first, as ktx2-encoder reads them. */
async function decodeImage(bytes) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes]), { premultiplyAlpha: "none", colorSpaceConversion: "none" });
  } catch {
    throw new Error("the browser could not decode this image (is it a valid PNG or JPEG?)");
  }
  const { width, height } = bitmap;
  if (width * height > MAX_TEXELS) throw new Error(`the image is ${width}x${height}: the encoder takes at most ${MAX_TEXELS / 1048576} Mpixels`);
  gl ??= new OffscreenCanvas(1, 1).getContext("webgl2", { premultipliedAlpha: false });
  if (!gl) throw new Error("WebGL2 is not available in this worker");
  // WebGL reads the texture back without any premultiply round trip, unlike a 2D canvas.
  gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
  gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);
  const texture = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, texture);
  gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, bitmap);
  const framebuffer = gl.createFramebuffer();
  gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
  gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
  const pixels = new Uint8Array(width * height * 4);
  gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  gl.deleteFramebuffer(framebuffer);
  gl.deleteTexture(texture);
  bitmap.close();
  return { width, height, pixels };
}

/** Our panel's options in ktx2-encoder's vocabulary (IEncodeOptions). */
function encoderOptions({ mode, quality, uastcLevel, mipmaps, zstd }) {
  const uastc = mode === "uastc";
  return {
    isUASTC: uastc,
    isKTX2File: true,
    generateMipmap: Boolean(mipmaps),
    isSetKTX2SRGBTransferFunc: true,
    qualityLevel: uastc ? undefined : Math.min(255, Math.max(1, Math.round(quality))),
    uastcLDRQualityLevel: uastc ? Math.min(4, Math.max(0, Math.round(uastcLevel))) : undefined,
    needSupercompression: uastc ? Boolean(zstd) : undefined,
  };
}

function encode(module, { width, height, pixels }, options) {
  const encoder = new module.BasisEncoder();
  try {
    applyInputOptions(encoderOptions(options), encoder);
    encoder.setTexType(BasisTextureType.cBASISTexType2D);
    if (encoder.setSliceSourceImage(0, pixels, width, height, SourceType.RAW) === false) {
      throw new Error(`the encoder refused the ${width}x${height} source image`);
    }
    // Room for the whole RGBA chain plus headers; one retry with twice as much, like ktx2-encoder.
    let capacity = Math.ceil(width * height * 4 * (options.mipmaps ? 4 / 3 : 1)) + HEADER_SLACK;
    for (let attempt = 0; attempt < 2; attempt++, capacity *= 2) {
      const output = new Uint8Array(capacity);
      const length = encoder.encode(output);
      if (length > 0) return output.slice(0, length);
    }
    throw new Error("the Basis encoder failed (the image may be too large for its memory)");
  } finally {
    encoder.delete();
  }
}

self.onmessage = async (event) => {
  const { id, image, options } = event.data;
  const progress = (stage, text) => self.postMessage({ id, type: "progress", stage, text });
  try {
    progress("decode", "Decoding the image");
    const t0 = performance.now();
    const source = await decodeImage(new Uint8Array(image));
    const decodeMs = performance.now() - t0;
    progress("load", "Loading the Basis encoder (3 MB of wasm)");
    const module = await encoderModule();
    const label = options.mode === "uastc" ? `UASTC level ${options.uastcLevel}` : `ETC1S quality ${options.quality}`;
    progress("encode", `Encoding ${source.width}×${source.height} to ${label}${options.mipmaps ? " with mipmaps" : ""}`);
    const t1 = performance.now();
    const ktx2 = encode(module, source, options);
    const encodeMs = performance.now() - t1;
    self.postMessage({ id, ok: true, ktx2: ktx2.buffer, width: source.width, height: source.height, decodeMs, encodeMs }, [ktx2.buffer]);
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) modulePromise = null;
    self.postMessage({ id, ok: false, message: String(err?.message || err) });
  }
};
