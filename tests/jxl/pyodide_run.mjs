// Runs codeclab.jxl inside Pyodide (node_modules/pyodide, the same runtime as the page) on the
// files given, printing one JSON line per file: inspect(), the reordered bytes (hex sha256) and
// load_plan() -- so the Python tests can compare Pyodide with CPython byte for byte.
//   node pyodide_run.mjs REPO X Y FILE...
import { readFileSync, readdirSync } from 'node:fs';

const [, , repo, cx, cy, ...files] = process.argv;
const { loadPyodide } = await import(`${repo}/node_modules/pyodide/pyodide.mjs`);
const py = await loadPyodide({ indexURL: `${repo}/node_modules/pyodide/` });
py.FS.mkdirTree('/lib/codeclab/jxl');
for (const f of ['__init__.py', 'errors.py']) py.FS.writeFile(`/lib/codeclab/${f}`, readFileSync(`${repo}/pysrc/codeclab/${f}`));
for (const f of readdirSync(`${repo}/pysrc/codeclab/jxl`)) {
  if (f.endsWith('.py')) py.FS.writeFile(`/lib/codeclab/jxl/${f}`, readFileSync(`${repo}/pysrc/codeclab/jxl/${f}`));
}
files.forEach((file, i) => py.FS.writeFile(`/in${i}.jxl`, readFileSync(file)));
const out = py.runPython(`
import hashlib, json, sys, time
sys.path.insert(0, '/lib')
from codeclab.jxl import service
lines = []
for i in range(${files.length}):
    data = open(f'/in{i}.jxl', 'rb').read()
    start = time.perf_counter()
    moved = service.reorder_bytes(data, [${+cx}, ${+cy}])
    ms = (time.perf_counter() - start) * 1000
    lines.append(json.dumps({"python": sys.version.split()[0], "inspect": service.inspect(data),
                             "reordered_sha256": hashlib.sha256(moved).hexdigest(), "reorder_ms": ms,
                             "plan": service.load_plan(moved, [${+cx}, ${+cy}])}))
"\\n".join(lines)
`);
console.log(out);
