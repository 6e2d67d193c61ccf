"""The build ships what LiteRT.js needs for Lyra: the upstream .tflite files (sha256-pinned) and
the runtime's vendored module with its one bare import resolved."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

import devkit.build as build_module_itself
from devkit.paths import BuildError
from tests.needs import missing


@pytest.fixture(scope="module")
def build_module():
    return build_module_itself


def test_upstream_tflite_files_are_shipped_and_pinned(upstream, tmp_path, build_module):
    from models.build_models import build_models

    manifest = build_models(upstream, tmp_path / "out", tmp_path / "cache", log=lambda _: None)
    shipped = {e["name"]: e["shipped_source"] for e in manifest["models"] if "shipped_source" in e}
    assert set(shipped) == {"soundstream_encoder", "lyragan"}
    for name, entry in shipped.items():
        path = tmp_path / "out" / entry["file"]
        assert entry["file"] == f"lyra/{name}.tflite" and path.stat().st_size == entry["bytes"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        assert (upstream / "lyra" / f"{name}.tflite").read_bytes() == path.read_bytes()
        assert entry["license"] == "Apache-2.0"
    index = build_module.litert_index(manifest)
    assert index == {
        "soundstream_encoder": {"file": "lyra/soundstream_encoder.tflite", "sha256": shipped["soundstream_encoder"]["sha256"],
                                "input": "audio", "output": "features"},
        "lyragan": {"file": "lyra/lyragan.tflite", "sha256": shipped["lyragan"]["sha256"],
                    "input": "features", "output": "audio"},
    }


def test_a_vendored_module_whose_import_changed_fails_the_build(tmp_path, build_module):
    module = tmp_path / "index.js"
    module.write_text('import { createWasmLib } from "@litertjs/wasm-utils";\nexport {};\n')
    build_module._resolve_vendor_imports("litert", module)
    assert 'from "../litert-wasm-utils/index.js"' in module.read_text()
    module.write_text('import { createWasmLib } from "./elsewhere.js";\n')
    with pytest.raises(BuildError, match="@litertjs/wasm-utils"):
        build_module._resolve_vendor_imports("litert", module)


def test_built_site_has_litert_and_the_tflite_files():
    dist = os.environ.get("CODECLAB_DIST")
    if not dist:
        missing("not run through `python3 build.py test` (no CODECLAB_DIST)")
    dist = Path(dist)
    index = json.loads((dist / "models" / "litert.json").read_text())
    for entry in index.values():
        assert hashlib.sha256((dist / "models" / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
    vendor = dist / "vendor" / "litert"
    assert "@litertjs/" not in (vendor / "index.js").read_text()
    assert (vendor / "litert_wasm_internal.wasm").is_file() and (vendor / "litert_wasm_threaded_internal.wasm").is_file()
    vendor_credits = {v["name"]: v["license"] for v in json.loads((dist / "build-info.json").read_text())["vendor"]}
    assert vendor_credits["@litertjs/core"] == "Apache-2.0" and vendor_credits["@litertjs/wasm-utils"] == "Apache-2.0"
