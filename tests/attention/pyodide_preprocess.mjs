// Runs codeclab.attention.preprocess.model_input inside Pyodide (node_modules/pyodide and the
// numpy wheel the page ships) on raw uint8 images, printing one JSON line per image: the frame's
// sha256 and the geometry, so the Python tests can compare Pyodide with CPython bit for bit.
//   node pyodide_preprocess.mjs REPO NUMPY_WHEEL WIDTHxHEIGHTxCHANNELS=FILE...
import { readFileSync, readdirSync } from 'node:fs';

const [, , repo, wheel, ...images] = process.argv;
const { loadPyodide } = await import(`${repo}/node_modules/pyodide/pyodide.mjs`);
const py = await loadPyodide({ indexURL: `${repo}/node_modules/pyodide/` });
await py.loadPackage(wheel, { messageCallback: () => {} });
py.FS.mkdirTree('/lib/codeclab/attention');
for (const f of ['__init__.py', 'errors.py']) py.FS.writeFile(`/lib/codeclab/${f}`, readFileSync(`${repo}/pysrc/codeclab/${f}`));
for (const f of readdirSync(`${repo}/pysrc/codeclab/attention`)) {
  if (f.endsWith('.py')) py.FS.writeFile(`/lib/codeclab/attention/${f}`, readFileSync(`${repo}/pysrc/codeclab/attention/${f}`));
}
const shapes = images.map((arg, i) => {
  const [shape, file] = arg.split('=');
  py.FS.writeFile(`/image${i}.raw`, readFileSync(file));
  return shape.split('x').map(Number);
});
const out = py.runPython(`
import hashlib, json, sys, time
sys.path.insert(0, '/lib')
import numpy as np
from codeclab.attention.preprocess import model_input
lines = []
for i, (w, h, c) in enumerate(${JSON.stringify(shapes)}):
    image = np.fromfile(f'/image{i}.raw', dtype=np.uint8).reshape(h, w, c)
    start = time.perf_counter()
    frame, g = model_input(image)
    ms = (time.perf_counter() - start) * 1000
    lines.append(json.dumps({"python": sys.version.split()[0], "numpy": np.__version__, "ms": ms,
                             "sha256": hashlib.sha256(frame.tobytes()).hexdigest(), "shape": list(frame.shape),
                             "pad": [g.pad_x, g.pad_y, g.resized_width, g.resized_height]}))
"\\n".join(lines)
`);
console.log(out);
