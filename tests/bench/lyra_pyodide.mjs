// The model-free Python of a Lyra request, timed inside Pyodide (the page's own interpreter, here in
// Node's V8): codeclab.lyra.bench.step_profile (each step of a frame) and service_profile (the page's
// service calls, whole, on a runner that answers at once). Prints one JSON object of ms per frame.
//   node tests/bench/lyra_pyodide.mjs NODE_MODULES_PYODIDE DIST FRAMES SAMPLE_RATE BITRATE BURST
import { readFileSync } from "node:fs";

const [, , runtime, dist, frames, sampleRate, bitrate, burst] = process.argv;
const { loadPyodide } = await import(`${runtime}/pyodide.mjs`);
const pyodide = await loadPyodide({
  indexURL: `${runtime}/`,
  lockFileURL: `${dist}/pyodide/pyodide-lock.json`,
  packageCacheDir: `${dist}/pyodide/`,
  stdout: () => {},
});
await pyodide.loadPackage(["numpy"], { messageCallback: () => {} });
// Where the worker puts codeclab (web/worker.js).
pyodide.unpackArchive(new Uint8Array(readFileSync(`${dist}/py/codeclab.zip`)), "zip", { extractDir: "/home/pyodide/lib" });
const models = `${dist}/models/lyra`;
pyodide.globals.set("codebooks", new Uint8Array(readFileSync(`${models}/quantizer_codebooks.npy`)));
pyodide.globals.set("encoder_state", new Uint8Array(readFileSync(`${models}/soundstream_encoder.state_init.npz`)));
pyodide.globals.set("decoder_state", new Uint8Array(readFileSync(`${models}/lyragan.state_init.npz`)));
const result = pyodide.runPython(`
import json, sys
sys.path.insert(0, "/home/pyodide/lib")
from codeclab.lyra.bench import service_profile, step_profile
from codeclab.lyra.rvq import load_codebooks
assets = {"codebooks": codebooks.to_bytes(), "encoder_state_init": encoder_state.to_bytes(),
          "decoder_state_init": decoder_state.to_bytes()}
args = (${Number(frames)}, ${Number(sampleRate)}, ${Number(bitrate)}, ${Number(burst)})
json.dumps({**step_profile(load_codebooks(assets["codebooks"]), *args), **service_profile(assets, *args)})
`);
console.log(result);
