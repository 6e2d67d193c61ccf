// Classic Worker around the official Basis Universal transcoder (Emscripten build shipped in npm
// three). It is a classic worker because the transcoder is a classic script defining a global
// `BASIS` factory, loaded with importScripts. Transcoding runs here so the page never freezes.
//
// Protocol: {id, data: ArrayBuffer, container: "ktx2"|"basis", format: <transcoder_texture_format>,
//            image: which image (a KTX2 array layer x face, layer-major; a .basis image index; default 0)}
//        -> {id, ok: true, levels: [{level, width, height, data: ArrayBuffer, ms}], ms, startMs}
//        |  {id, ok: false, message}

/* global BASIS */
importScripts("../../vendor/basis/basis_transcoder.js");
importScripts("./instantiate-streaming.js"); // defines self.instantiateStreamingHook

let modulePromise = null;

function transcoder() {
  if (!modulePromise) {
    modulePromise = (async () => {
      const url = new URL("../../vendor/basis/basis_transcoder.wasm", self.location.href);
      const module = await new Promise((resolve, reject) => {
        const failed = (err) => reject(new Error(`could not load the Basis transcoder (${err?.message || err})`));
        BASIS({ instantiateWasm: self.instantiateStreamingHook(url, failed) }).then(resolve, failed);
      });
      module.initializeBasis();
      return module;
    })();
    modulePromise.catch(() => { modulePromise = null; });
  }
  return modulePromise;
}

// Both file classes behind one small interface: one image (layer and face), every mip level.
function openKtx2(module, bytes, image) {
  const file = new module.KTX2File(bytes);
  const faces = file.isValid() ? Math.max(1, file.getFaces()) : 1;
  const layer = Math.floor(image / faces), face = image % faces;
  return {
    valid: file.isValid(),
    levelCount: () => file.getLevels(),
    start: () => file.startTranscoding(),
    size(level) {
      const info = file.getImageLevelInfo(level, layer, face);
      return { width: info.origWidth, height: info.origHeight };
    },
    bytes: (level, format) => file.getImageTranscodedSizeInBytes(level, layer, face, format),
    transcode: (dst, level, format) => file.transcodeImage(dst, level, layer, face, format, 0, -1, -1),
    close() { file.close(); file.delete(); },
  };
}

function openBasis(module, bytes, image) {
  const file = new module.BasisFile(bytes);
  return {
    valid: file.getNumImages() > image,
    levelCount: () => file.getNumLevels(image),
    start: () => file.startTranscoding(),
    size: (level) => ({ width: file.getImageWidth(image, level), height: file.getImageHeight(image, level) }),
    bytes: (level, format) => file.getImageTranscodedSizeInBytes(image, level, format),
    // The last argument (getAlphaForOpaqueFormats) is 0: an opaque target gets the colour slice.
    transcode: (dst, level, format) => file.transcodeImage(dst, image, level, format, 0, 0),
    close() { file.close(); file.delete(); },
  };
}

async function transcode({ data, container, format, image = 0 }) {
  const module = await transcoder();
  const started = performance.now();
  const bytes = new Uint8Array(data);
  const file = container === "ktx2" ? openKtx2(module, bytes, image) : openBasis(module, bytes, image);
  try {
    if (!file.valid) throw new Error(`the Basis transcoder rejected this ${container} file`);
    if (!file.start()) throw new Error("the Basis transcoder could not start (corrupt global codebooks?)");
    const startMs = performance.now() - started;
    const levels = [];
    for (let level = 0; level < file.levelCount(); level++) {
      const t0 = performance.now();
      const { width, height } = file.size(level);
      const dst = new Uint8Array(file.bytes(level, format));
      if (!file.transcode(dst, level, format)) throw new Error(`the Basis transcoder failed on mip level ${level}`);
      levels.push({ level, width, height, data: dst.buffer, ms: performance.now() - t0 });
    }
    return { levels, ms: performance.now() - started, startMs };
  } finally {
    file.close();
  }
}

self.onmessage = async (event) => {
  const { id } = event.data;
  try {
    const result = await transcode(event.data);
    self.postMessage({ id, ok: true, ...result }, result.levels.map((l) => l.data));
  } catch (err) {
    // A trap inside the wasm (a corrupt file the parser let through) can leave the module's heap
    // in an unknown state: start a fresh instance for the next file.
    if (err instanceof WebAssembly.RuntimeError) modulePromise = null;
    self.postMessage({ id, ok: false, message: String(err?.message || err) });
  }
};
