"""python -m codeclab.attention predict … (run as a real subprocess)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.attention.helpers import encode, textured

REPO = Path(__file__).resolve().parents[2]


def cli(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(REPO / "pysrc"))
    return subprocess.run([sys.executable, "-m", "codeclab.attention", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd or REPO, timeout=300)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    (folder / "a.png").write_bytes(encode(Image.fromarray(textured(300, 200, seed=1)), "PNG"))
    (folder / "b.jpg").write_bytes(encode(Image.fromarray(textured(150, 260, seed=2)), "JPEG"))
    (folder / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nthis is broken")
    return folder


def test_json_with_the_tflite_reference(bee_path, center_tflite, tmp_path):
    done = cli("predict", bee_path, "--model", center_tflite, "--json", "--visualize", tmp_path)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"path", "width", "height", "x", "y", "model"} <= set(record)
    assert (record["width"], record["height"], record["model"]) == (1484, 2069, "attention-center")
    assert abs(record["x"] - 529) < 2 and abs(record["y"] - 1145) < 2  # reference kernels (see test_predict)
    assert (tmp_path / "white_eyes_bee.attention.png").stat().st_size > 10_000


def test_fallback_on_several_images_one_json_line_each(pictures, tmp_path):
    done = cli("predict", pictures / "a.png", pictures / "b.jpg", "--model", "fallback", "--json")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [Path(r["path"]).name for r in lines] == ["a.png", "b.jpg"]
    assert all(r["model"].startswith("fallback:") for r in lines)
    assert (lines[1]["width"], lines[1]["height"]) == (150, 260)


def test_without_a_built_model_the_fallback_is_used_and_said(pictures, tmp_path):
    # A copy of the package outside this checkout, run from an empty folder: no build/models anywhere.
    shutil.copytree(REPO / "pysrc", tmp_path / "pysrc", ignore=shutil.ignore_patterns("__pycache__"))
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "pysrc"))
    done = subprocess.run([sys.executable, "-m", "codeclab.attention", "predict", str(pictures / "a.png")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "fallback" in done.stderr and "fallback" in done.stdout


def test_bad_files_are_reported_and_the_rest_still_run(pictures):
    done = cli("predict", pictures / "bad.png", pictures / "a.png", pictures / "missing.png", "--model", "fallback", "--json")
    assert done.returncode == 1
    assert "bad.png" in done.stderr and "missing.png" in done.stderr
    assert len(done.stdout.splitlines()) == 1


def test_missing_model_file_is_an_error(pictures):
    done = cli("predict", pictures / "a.png", "--model", "/nonexistent/model.onnx")
    assert done.returncode == 2 and "no such file" in done.stderr
