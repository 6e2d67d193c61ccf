"""service.inspect / service.plan (what the page calls) and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codeclab.basis import formats as F
from codeclab.basis.errors import BasisFormatError
from codeclab.basis.info import describe
from codeclab.basis.service import inspect, plan
from codeclab.errors import UnsupportedError
from tests.basis.cases import CASES

SWIFTSHADER = [F.EXT_ETC, F.EXT_S3TC, F.EXT_ASTC]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_inspect_is_json_and_complete(case, textures):
    d = inspect(textures[case.name], case.name)
    assert json.loads(json.dumps(d)) == d
    assert d["name"] == case.name and d["container"] == case.container
    assert d["source_format"] == case.source_format and d["has_alpha"] == case.has_alpha
    assert d["level_count"] == len(d["levels"])
    assert d["rgba_bytes"] == sum(4 * lv["width"] * lv["height"] for lv in d["levels"])
    if case.container == "ktx2":
        assert d["key_values"]["KTXwriter"].startswith("Basis Universal")
        assert d["dfd"]["color_model"] == (163 if case.source_format == "etc1s" else 166)
        assert d["srgb"] is True


def test_plan_numbers(textures):
    d = plan(textures["uastc_zstd_257x130_mip.ktx2"], SWIFTSHADER)
    assert json.loads(json.dumps(d)) == d
    assert (d["target_format"], d["transcoder_format"], d["transcoder_format_number"]) == (
        "ASTC_4x4_RGBA", "cTFASTC_4x4_RGBA", 10)
    assert d["gl_internal_format"] == 0x93B0
    sizes = [(lv["width"], lv["height"]) for lv in d["levels"]]
    assert sizes[0] == (257, 130) and sizes[-1] == (1, 1) and len(sizes) == 9
    assert d["levels"][0]["gpu_bytes"] == 65 * 33 * 16 and d["levels"][0]["rgba_bytes"] == 257 * 130 * 4
    assert d["gpu_bytes"] == sum(lv["gpu_bytes"] for lv in d["levels"])
    assert d["rgba_bytes"] == describe(textures["uastc_zstd_257x130_mip.ktx2"]).rgba_bytes
    assert 3.5 < d["rgba_bytes"] / d["gpu_bytes"] < 4.1  # 16 bytes per 4x4 block vs 64
    assert "RGBA32" in [a["name"] for a in d["available"]]


def test_plan_etc1s_defaults_and_force(textures):
    data = textures["etc1s_257x130_mip.ktx2"]
    d = plan(data, SWIFTSHADER)
    assert d["target_format"] == "ETC1_RGB" and d["gl_internal_format"] == 0x9274
    assert d["rgba_bytes"] / d["gpu_bytes"] > 7.5  # 8 bytes per block
    forced = plan(data, SWIFTSHADER, "RGBA32")
    assert forced["gpu_bytes"] == forced["rgba_bytes"] and forced["target"]["chosen_by"] == "force"
    assert plan(data, [], None)["target_format"] == "RGBA32"
    with pytest.raises(UnsupportedError):
        plan(data, SWIFTSHADER, "BC7_RGBA")


def test_service_errors_are_basis_errors():
    with pytest.raises(BasisFormatError):
        inspect(b"not a texture", "x.ktx2")
    with pytest.raises(BasisFormatError):
        plan(b"\xabKTX 20\xbb\r\n\x1a\n", [], None)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    import codeclab

    pysrc = str(Path(codeclab.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [pysrc, os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "codeclab.basis", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_cli_info_json_and_table(texture_dir, basisu_info):
    name = "etc1s_64x64a_yflip_mip.basis"
    proc = run_cli("info", str(texture_dir / name), "--json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    ref = basisu_info[name]
    assert (d["width"], d["height"], d["level_count"], d["has_alpha"], d["y_flipped"]) == (
        ref["width"], ref["height"], ref["levels"], ref["has_alpha"], True)
    table = run_cli("info", str(texture_dir / "uastc_zstd_512a.ktx2"))
    assert table.returncode == 0
    assert "512x512" in table.stdout and "UASTC" in table.stdout and "zstd" in table.stdout


def test_cli_plan(texture_dir):
    proc = run_cli("plan", str(texture_dir / "uastc_zstd_512a.ktx2"), "--ext", F.EXT_BPTC, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["transcoder_format"] == "cTFBC7_RGBA"


def test_cli_reports_errors(tmp_path):
    bad = tmp_path / "bad.ktx2"
    bad.write_bytes(b"\xabKTX 20\xbb\r\n\x1a\n" + bytes(10))
    proc = run_cli("info", str(bad))
    assert proc.returncode == 2 and "truncated" in proc.stderr and "byte offset" in proc.stderr
    missing = run_cli("info", str(tmp_path / "missing.basis"))
    assert missing.returncode == 2 and "error" in missing.stderr


def test_cli_info_batch_goes_on_past_bad_files(texture_dir, tmp_path):
    bad = tmp_path / "bad.ktx2"
    bad.write_bytes(b"\xabKTX 20\xbb\r\n\x1a\n" + bytes(10))
    good = texture_dir / "uastc_zstd_512a.ktx2"
    proc = run_cli("info", str(bad), str(good), "--json")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith(f"error: {bad}: ")
    assert json.loads(proc.stdout)["width"] == 512
