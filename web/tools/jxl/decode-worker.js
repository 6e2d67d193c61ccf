// Decodes a JPEG XL file with libjxl (the @jsquash/jxl build, vendored in dist/vendor/jxl/), for engines with
// no JPEG XL decoder of their own. A worker: a file from anywhere is decoded off the page's thread, and the page
// can stop a decode that runs too long by terminating this worker (workers.js).
// Protocol: {id, bytes} in; {id, ok, rgba, width, height} or {id, ok: false, message} out.
import moduleFactory from "../../vendor/jxl/jxl_dec.js";

let decoder = null;

self.onmessage = async ({ data }) => {
  const { id, bytes } = data;
  try {
    decoder ??= moduleFactory({ noInitialRun: true });
    const image = (await decoder).decode(bytes);
    if (!image) throw new Error("libjxl could not decode this JPEG XL file");
    const rgba = new Uint8ClampedArray(image.data); // own copy: the view may point into wasm memory
    self.postMessage({ id, ok: true, rgba, width: image.width, height: image.height }, [rgba.buffer]);
  } catch (err) {
    decoder = null; // a module that failed on a file is not trusted with the next one
    self.postMessage({ id, ok: false, message: String(err?.message || err) });
  }
};
