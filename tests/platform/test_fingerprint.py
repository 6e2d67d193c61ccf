"""Whether dist/ is current is decided by the build's inputs (devkit.fingerprint), and the upstream folder
beside the checkout is used by default (devkit.paths.resolve_upstream)."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from devkit import fingerprint
from devkit.build import build_model_files
from devkit.paths import BuildError, resolve_upstream

REPO = Path(__file__).resolve().parents[2]
ALL_PRESENT = {module: True for module in fingerprint.CONVERTER_REQUIREMENTS}


@pytest.fixture
def checkout(tmp_path):
    """A minimal checkout: the four source trees, the converter's version line, and an upstream folder."""
    repo = tmp_path / "repo"
    for tree in fingerprint.SOURCE_TREES:
        (repo / tree).mkdir(parents=True)
        (repo / tree / "a.txt").write_text(tree)
    (repo / "models" / "tflite2onnx").mkdir()
    (repo / "models" / "tflite2onnx" / "convert.py").write_text('CONVERTER_VERSION = "1.1.0"  # why\n')
    upstream = tmp_path / "shared" / "upstream"
    (upstream / "lyra").mkdir(parents=True)
    (upstream / "lyra" / "model.tflite").write_bytes(b"weights v1")
    return repo, upstream


def test_same_inputs_are_current_whatever_the_file_times(checkout):
    repo, upstream = checkout
    stored = fingerprint.compute(upstream, repo, ALL_PRESENT)
    for path in [*repo.rglob("*"), *upstream.rglob("*")]:
        os.utime(path, (1e9, 1e9))  # a checkout or copy moves every time; nothing that gets built changed
    assert fingerprint.differences(stored, fingerprint.compute(upstream, repo, ALL_PRESENT)) == []


def test_a_source_edit_is_named(checkout):
    repo, upstream = checkout
    stored = fingerprint.compute(upstream, repo, ALL_PRESENT)
    (repo / "pysrc" / "a.txt").write_text("edited")
    assert fingerprint.differences(stored, fingerprint.compute(upstream, repo, ALL_PRESENT)) == ["pysrc/ changed"]
    (repo / "pysrc" / "__pycache__").mkdir()
    (repo / "pysrc" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"cache")
    edited = fingerprint.compute(upstream, repo, ALL_PRESENT)
    assert fingerprint.differences(edited, fingerprint.compute(upstream, repo, ALL_PRESENT)) == []
    assert edited["sources"]["pysrc"] == fingerprint.compute(upstream, repo, ALL_PRESENT)["sources"]["pysrc"]


def test_a_model_less_dist_is_stale_once_upstream_files_are_given(checkout):
    """The README's second command: a dist built without upstream files must not be served as current."""
    repo, upstream = checkout
    stored = fingerprint.compute(None, repo, ALL_PRESENT)
    reasons = fingerprint.differences(stored, fingerprint.compute(upstream, repo, ALL_PRESENT))
    assert reasons == ["upstream folder changed: none -> a folder"]
    assert str(upstream) not in json.dumps(fingerprint.compute(upstream, repo, ALL_PRESENT))  # dist/ is published


def test_another_upstream_folder_is_told_apart_without_its_path(checkout, tmp_path):
    repo, upstream = checkout
    copy = tmp_path / "elsewhere"
    shutil.copytree(upstream, copy)
    stored = fingerprint.compute(upstream, repo, ALL_PRESENT)
    assert fingerprint.differences(stored, fingerprint.compute(copy, repo, ALL_PRESENT)) == [
        "upstream folder changed: another folder than the last build's"]


def test_changed_upstream_file_contents_are_named(checkout):
    repo, upstream = checkout
    stored = fingerprint.compute(upstream, repo, ALL_PRESENT)
    (upstream / "lyra" / "model.tflite").write_bytes(b"weights v2")
    (upstream / "new.tflite").write_bytes(b"x")
    reasons = fingerprint.differences(stored, fingerprint.compute(upstream, repo, ALL_PRESENT))
    assert reasons == ["upstream files changed: lyra/model.tflite, new.tflite"]


def test_converter_version_and_dependencies_are_inputs(checkout):
    repo, upstream = checkout
    stored = fingerprint.compute(upstream, repo, ALL_PRESENT)
    convert = repo / "models" / "tflite2onnx" / "convert.py"
    convert.write_text(convert.read_text().replace("1.1.0", "1.2.0"))
    without_onnx = dict(ALL_PRESENT, onnx=False)
    reasons = fingerprint.differences(stored, fingerprint.compute(upstream, repo, without_onnx))
    assert reasons[0] == "models/ changed"
    assert "converter version 1.1.0 -> 1.2.0" in reasons
    assert "converter dependencies changed (now: numpy present, onnx missing, tflite present)" in reasons


def test_a_dist_without_a_fingerprint_is_stale(tmp_path):
    assert fingerprint.read_stored(tmp_path) is None
    assert "no record of its build inputs" in fingerprint.differences(None, {})[0]


def test_fingerprint_round_trips_through_dist(checkout, tmp_path):
    repo, upstream = checkout
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "build-info.json").write_text("{}")
    stored = fingerprint.compute(upstream, repo, ALL_PRESENT)
    fingerprint.write(dist, stored)
    assert fingerprint.read_stored(dist) == stored


def test_the_real_converter_version_is_read_without_importing_onnx():
    assert re.fullmatch(r"\d+\.\d+\.\d+", fingerprint.converter_version(REPO))


def test_pip_command_names_only_the_missing_modules():
    assert fingerprint.missing_dependency_command(ALL_PRESENT) is None
    command = fingerprint.missing_dependency_command(dict(ALL_PRESENT, numpy=False, tflite=False))
    assert command == "python3 -m pip install 'numpy>=2.0' 'tflite==2.18.0'"


def test_converter_requirements_match_requirements_dev():
    lines = (REPO / "requirements-dev.txt").read_text().splitlines()
    for requirement in fingerprint.CONVERTER_REQUIREMENTS.values():
        assert requirement in lines, requirement


def test_missing_converter_dependency_with_upstream_files_is_a_build_error(checkout, tmp_path):
    _, upstream = checkout
    with pytest.raises(BuildError, match=r"needs onnx.*Install it with: python3 -m pip install 'onnx==1.23.2'"):
        build_model_files(upstream, tmp_path / "models", dict(ALL_PRESENT, onnx=False))


def test_missing_converter_dependency_without_upstream_is_explained_not_raised(tmp_path):
    models = build_model_files(None, tmp_path / "models", dict(ALL_PRESENT, numpy=False))
    assert models["available"] is False
    assert "python3 -m pip install 'numpy>=2.0'" in models["reason"]
    assert "Error" not in models["reason"] and "No module named" not in models["reason"]


def test_upstream_beside_the_checkout_is_the_default(checkout, monkeypatch, tmp_path):
    _, upstream = checkout
    monkeypatch.delenv("CODECLAB_UPSTREAM", raising=False)
    assert resolve_upstream(None, default=upstream) == upstream.resolve()
    assert resolve_upstream(None, default=tmp_path / "absent") is None
    monkeypatch.setenv("CODECLAB_UPSTREAM", str(tmp_path / "absent"))
    with pytest.raises(BuildError, match="CODECLAB_UPSTREAM=.*no such folder"):
        resolve_upstream(None, default=upstream)
    assert resolve_upstream(str(upstream), default=tmp_path / "absent") == upstream.resolve()
