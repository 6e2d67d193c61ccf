"""devkit/stored_zips.py: dist/'s Python archives rewritten with stored members (same names, dates, bytes), the
wheels re-pinned in the trimmed lock file, and what that buys once Brotli or gzip compresses them."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import zipfile
from pathlib import Path

from devkit.stored_zips import store_python_archives

# Small modules that share most of their text, as a package's sources do: one deflated member cannot see the others.
SOURCE = "".join(f"def function_{i}(value, *, scale=1.0):\n    return value * scale + {i}\n\n" for i in range(30)).encode()


def _deflated_zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 5, 6, 7, 8, 10)), data, compress_type=zipfile.ZIP_DEFLATED)


def _fake_dist(root: Path) -> dict[str, dict[str, bytes]]:
    members = {
        "pyodide/demo-1.0-cp312-cp312-pyodide_2024_0_wasm32.whl": {f"demo/mod_{i}.py": SOURCE + bytes([i]) for i in range(6)}
        | {"demo/_native.so": os.urandom(20_000)},
        "pyodide/python_stdlib.zip": {f"lib/m{i}.py": SOURCE + f"NAME = 'm{i}'\n".encode() for i in range(40)},
        "py/codeclab.zip": {"codeclab/__init__.py": b"__version__ = '0'\n"},
    }
    for rel, content in members.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        _deflated_zip(root / rel, content)
    wheel = root / "pyodide/demo-1.0-cp312-cp312-pyodide_2024_0_wasm32.whl"
    lock = {"info": {"version": "0.27.7"}, "packages": {"demo": {
        "file_name": wheel.name, "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(), "name": "demo"}}}
    (root / "pyodide" / "pyodide-lock.json").write_text(json.dumps(lock))
    (root / "pyodide" / "pyodide.asm.wasm").write_bytes(b"\0asm" + os.urandom(100))  # not an archive: untouched
    return members


def test_members_are_stored_unchanged_and_the_lock_pins_the_new_wheel(tmp_path):
    members = _fake_dist(tmp_path)
    wasm = (tmp_path / "pyodide" / "pyodide.asm.wasm").read_bytes()
    deflated = {rel: (tmp_path / rel).read_bytes() for rel in members}

    totals = store_python_archives(tmp_path)

    assert totals["files"] == 3 and totals["before"] == sum(map(len, deflated.values()))
    for rel, content in members.items():
        with zipfile.ZipFile(tmp_path / rel) as archive:
            infos = archive.infolist()
            assert [info.filename for info in infos] == list(content)
            assert all(info.compress_type == zipfile.ZIP_STORED for info in infos)
            assert all(info.date_time == (2024, 5, 6, 7, 8, 10) for info in infos)
            assert {name: archive.read(name) for name in archive.namelist()} == content
            assert archive.testzip() is None
    lock = json.loads((tmp_path / "pyodide" / "pyodide-lock.json").read_text())
    wheel = tmp_path / "pyodide" / lock["packages"]["demo"]["file_name"]
    assert lock["packages"]["demo"]["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert lock["packages"]["demo"]["sha256"] != hashlib.sha256(deflated[f"pyodide/{wheel.name}"]).hexdigest()
    assert (tmp_path / "pyodide" / "pyodide.asm.wasm").read_bytes() == wasm


def test_stored_archives_compress_smaller_than_deflated_ones(tmp_path):
    """The point of it: one compression over the whole archive sees across members (gzip's 32 KB window here;
    Brotli's is up to 16 MB)."""
    _fake_dist(tmp_path)
    rel = "pyodide/python_stdlib.zip"
    deflated = (tmp_path / rel).read_bytes()
    store_python_archives(tmp_path)
    stored = (tmp_path / rel).read_bytes()
    assert len(stored) > len(deflated)
    assert len(gzip.compress(stored, 9)) < len(gzip.compress(deflated, 9))


def test_a_second_run_changes_nothing(tmp_path):
    """The rewrite is deterministic (the build's compressed-copy cache, keyed by content, keeps its hits)."""
    _fake_dist(tmp_path)
    store_python_archives(tmp_path)
    first = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    store_python_archives(tmp_path)
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == first
