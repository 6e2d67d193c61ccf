"""devkit names no tool: what the build vendors, the offline groups, the workers allowed to eval, the MIME types
and the compressible suffixes come from the tools' manifests. A stub tool (a folder with a manifest, in a
temporary web/) shows up in each without any devkit change."""

from __future__ import annotations

import json

import pytest

from devkit import csp, offline, precompress, server
from devkit.build import SHARED_VENDOR, vendor_packages
from devkit.paths import BuildError
from devkit.tools import load_tool, load_tools


def stub_tool(tmp_path, **fields):
    folder = tmp_path / "tools" / "stub"
    folder.mkdir(parents=True)
    for script in ("index.js", "decode-worker.js"):
        (folder / script).write_text("export {};\n")
    manifest = {"id": "stub", "label": "Stub", "order": 50, "python": "codeclab.stub.service", "needs": ["stub"],
                "groups": {"stub": {"label": "Stub codec", "paths": ["vendor/stubcodec/", "models/stub/"]}},
                "vendor": {"stubcodec": {"package": "stub-codec", "license": "MIT", "files": ["dist/codec.wasm"]}},
                "eval_workers": {"reason": "its codec makes functions from strings", "workers": ["decode-worker.js"]},
                "mime": {".stub": "application/octet-stream"}, "compressible": [".stub"], **fields}
    (folder / "tool.json").write_text(json.dumps(manifest))
    return load_tool(folder / "tool.json")


def test_a_stub_tool_gets_its_offline_groups(tmp_path):
    prefixes, labels = offline.groups([*load_tools(), stub_tool(tmp_path)])
    assert labels["stub"] == "Stub codec"
    assert offline.group_of("vendor/stubcodec/codec.wasm", prefixes) == "stub"
    assert offline.group_of("models/stub/a.onnx", prefixes) == "stub"
    assert offline.group_of("vendor/ort/ort.wasm.min.mjs", prefixes) == "models-runtime"
    assert offline.group_of("tools/stub/index.js", prefixes) == "shell"
    assert list(labels)[:3] == ["shell", "python", "models-runtime"]


def test_a_tool_may_not_take_a_shared_group(tmp_path):
    tool = stub_tool(tmp_path, groups={"python": {"label": "mine", "paths": ["vendor/stubcodec/"]}})
    with pytest.raises(BuildError, match="'python' is a shared one"):
        offline.groups([tool])


def test_a_stub_tool_gets_its_vendored_package_after_the_shared_runtime(tmp_path):
    packages = vendor_packages([*load_tools(), stub_tool(tmp_path)])
    assert list(packages)[:len(SHARED_VENDOR)] == [package.dir for package in SHARED_VENDOR]
    assert packages["stubcodec"].package == "stub-codec"
    assert packages["stubcodec"].files == ("dist/codec.wasm",)


def test_a_vendor_folder_is_declared_once(tmp_path):
    tool = stub_tool(tmp_path, vendor={"ort": {"package": "x", "license": "MIT", "files": []}})
    with pytest.raises(BuildError, match="'ort' is already declared"):
        vendor_packages([tool])


def test_only_the_workers_a_tool_names_may_eval(tmp_path):
    policies = csp.worker_policies([*load_tools(), stub_tool(tmp_path)])
    assert policies["tools/stub/decode-worker.js"] == csp.WITH_EVAL
    assert "tools/stub/index.js" not in policies
    assert all(path.startswith(f"tools/{tool.id}/") for tool in load_tools() for path in csp.worker_policies([tool]))


def test_every_tools_file_types_are_served_and_compressed_as_declared():
    for tool in load_tools():
        assert all(server.MIME_TYPES[suffix] == kind for suffix, kind in tool.mime.items()), tool.id
        assert set(tool.compressible) <= precompress.SUFFIXES, tool.id
    assert server.MIME_TYPES[".wasm"] == "application/wasm"  # the shared ones stay
