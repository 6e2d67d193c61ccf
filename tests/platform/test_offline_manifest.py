"""devkit/offline.py: the offline manifest (groups, sha256, sizes) and the service worker's version."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

from devkit.offline import MANIFEST, SERVICE_WORKER, group_of, write_offline_files

REPO = Path(__file__).resolve().parents[2]


def _site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "pyodide").mkdir(parents=True)
    (root / "vendor" / "jxl").mkdir(parents=True)
    (root / "models" / "lyra").mkdir(parents=True)
    shutil.copy(REPO / "web" / "sw.js", root / SERVICE_WORKER)
    (root / "index.html").write_text("<!doctype html>")
    (root / "pyodide" / "pyodide.asm.wasm").write_bytes(b"\0asm" + bytes(100))
    (root / "vendor" / "jxl" / "jxl_dec.wasm").write_bytes(b"\0asm" + bytes(7))
    (root / "models" / "lyra" / "lyragan.tflite").write_bytes(b"TFL3")
    return root


def _stamped_version(root: Path) -> str:
    return re.search(r'const VERSION = "([0-9a-f]+)";', (root / SERVICE_WORKER).read_text()).group(1)


def test_every_file_is_listed_with_its_group_hash_and_size(tmp_path):
    root = _site(tmp_path)
    version = write_offline_files(root)
    manifest = json.loads((root / MANIFEST).read_text())
    assert manifest["version"] == version == _stamped_version(root)
    files = manifest["files"]
    assert set(files) == {"index.html", "pyodide/pyodide.asm.wasm", "vendor/jxl/jxl_dec.wasm", "models/lyra/lyragan.tflite"}
    assert {rel: e["group"] for rel, e in files.items()} == {
        "index.html": "shell", "pyodide/pyodide.asm.wasm": "python", "vendor/jxl/jxl_dec.wasm": "jxl",
        "models/lyra/lyragan.tflite": "lyra"}
    wasm = root / "pyodide" / "pyodide.asm.wasm"
    assert files["pyodide/pyodide.asm.wasm"] == {"group": "python", "sha256": hashlib.sha256(wasm.read_bytes()).hexdigest(), "size": 104}
    assert all(entry["group"] in manifest["groups"] for entry in files.values())  # each group has a label


def test_the_version_follows_the_content_and_is_restamped(tmp_path):
    root = _site(tmp_path)
    first = write_offline_files(root)
    assert write_offline_files(root) == first == _stamped_version(root)  # nothing changed: same cache
    (root / "index.html").write_text("<!doctype html><title>2</title>")
    second = write_offline_files(root)
    assert second != first and _stamped_version(root) == second
    assert "__CODECLAB_OFFLINE_VERSION__" not in (root / SERVICE_WORKER).read_text()


def test_groups_of_the_real_layout():
    assert group_of("models/attention_center.onnx") == group_of("models/attention_lite.rigl") == "attention"
    assert group_of("vendor/ort/ort-wasm-simd-threaded.wasm") == "models-runtime"
    assert group_of("pyodide/numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl") == "python"
    assert group_of("py/pycache.zip") == "python"
    assert group_of("vendor/litert/litert_wasm_internal.wasm") == "lyra"
    assert group_of("vendor/ktx2/basis_encoder.wasm") == group_of("vendor/basis/basis_transcoder.wasm") == "basis"
    assert group_of("tools/jxl/index.js") == group_of("models/index.json") == "shell"
