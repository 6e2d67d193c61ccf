// Build step (devkit/build.py, build_pycache): Python bytecode for what the page imports as it boots,
// compiled by the page's own interpreter (Pyodide's CPython 3.12 from node_modules, run in Node), so that
// the worker unpacks it beside the sources instead of compiling numpy's, Pillow's and codeclab's modules
// from source at every start (Pyodide's wheels ship only .py files, and nothing writes .pyc in the page).
// The .pyc files are "unchecked-hash": never compared with their source, which is safe because this zip is
// built from the same wheels and codeclab.zip as the dist it goes into (one offline-manifest version).
//   node devkit/pycache.mjs NODE_MODULES_PYODIDE DIST_PYODIDE CODECLAB_ZIP OUT_ZIP
import { readFileSync, writeFileSync } from "node:fs";

const [, , runtime, distPyodide, codeclabZip, outZip] = process.argv;
const { loadPyodide } = await import(`${runtime}/pyodide.mjs`);
const pyodide = await loadPyodide({
  indexURL: `${runtime}/`,
  lockFileURL: `${distPyodide}/pyodide-lock.json`,
  packageCacheDir: `${distPyodide}/`,
  stdout: () => {},
});
await pyodide.loadPackage(["numpy", "pillow"], { messageCallback: () => {} });
// Where the worker puts codeclab (web/worker.js).
pyodide.unpackArchive(new Uint8Array(readFileSync(codeclabZip)), "zip", { extractDir: "/home/pyodide/lib" });
pyodide.runPython(`
import importlib, io, os, pkgutil, py_compile, sys, zipfile
sys.path.insert(0, "/home/pyodide/lib")
import numpy, PIL.Image, codeclab.browser.adapter
# What the tools import when first used (their services), so their numpy and Pillow modules come too.
import codeclab
for info in pkgutil.walk_packages(codeclab.__path__, "codeclab."):
    if info.name.endswith(".service"):
        try:
            importlib.import_module(info.name)
        except Exception:
            pass
roots = ("/lib/python3.12/site-packages/", "/home/pyodide/lib/codeclab/")
sources = set()
for module in list(sys.modules.values()):
    origin = getattr(getattr(module, "__spec__", None), "origin", None)
    if origin and origin.endswith(".py") and origin.startswith(roots):
        sources.add(origin)
for root, _, files in os.walk("/home/pyodide/lib/codeclab"):
    sources.update(os.path.join(root, name) for name in files if name.endswith(".py"))
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
    for source in sorted(sources):
        target = importlib.util.cache_from_source(source)
        py_compile.compile(source, cfile=target, dfile=source, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        entry = zipfile.ZipInfo(target.lstrip("/"), date_time=(1980, 1, 1, 0, 0, 0))
        entry.compress_type = zipfile.ZIP_DEFLATED
        with open(target, "rb") as handle:
            archive.writestr(entry, handle.read())
with open("/tmp/pycache.zip", "wb") as handle:
    handle.write(buffer.getvalue())
`);
writeFileSync(outZip, pyodide.FS.readFile("/tmp/pycache.zip"));
console.log(`${outZip}: ${pyodide.runPython("len(sources)")} modules`);
