"""Headers, ICC, TOC and section map of real cjxl output; the load plan; the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import codeclab
from codeclab.jxl import service
from codeclab.jxl.container import open_jxl
from codeclab.jxl.sections import parse_file
from tests.needs import missing


def test_info_parses_every_case(corpus, any_case):
    case = any_case
    data = corpus.bytes(case)
    info = service.inspect(data, case)
    src = Image.open(corpus.source(corpus.cases[case][0]))
    assert (info["width"], info["height"]) == src.size
    # cjxl wraps JPEG transcodes in a container (for the jbrd box)
    assert info["container"] == ("--container=1" in corpus.cases[case][1] or case == "jpeg_recompressed")
    assert info["size"] == len(data)
    jxl = open_jxl(data)
    parsed = parse_file(data)
    for frame, fr in zip(parsed.codestream.frames, info["frames"]):
        kinds = [t["kind"] for t in fr["toc"]]
        if kinds == ["single"]:
            assert fr["num_groups"] == 1 and fr["passes"] == 1
        else:
            assert kinds.count("lf_global") == 1 and kinds.count("hf_global") == 1
            assert kinds.count("lf_group") == fr["num_lf_groups"]
            assert kinds.count("pass_group") == fr["num_groups"] * fr["passes"]
        # sections tile the frame: stream-order offsets are contiguous file offsets
        pos = fr["data_offset"]
        for entry in fr["toc"]:
            assert entry["offset"] == pos
            pos += entry["size"]
        assert jxl.file_end(frame.end) == fr["end_offset"]
        # every group's rectangle lies in the frame and the groups cover it exactly
        rects = [t["rect"] for t in fr["toc"] if t["kind"] in ("pass_group", "single") and t["pass"] in (0, None)]
        assert sum(w * h for _, _, w, h in rects) == fr["width"] * fr["height"]
    assert parsed.codestream.frames[-1].header.is_last
    assert parsed.codestream.frames[-1].end + parsed.codestream.trailing == len(jxl.codestream)


def test_header_details(corpus):
    info = service.inspect(corpus.bytes("rgba"))
    assert info["has_alpha"] and info["extra_channels"][0]["bits"] == 8
    assert info["frames"][0]["encoding"] == "Modular" and not info["xyb_encoded"]
    # Debian's cjxl 0.7 writes a single pass even with -p / --progressive_ac (checked: 1 pass,
    # sections tile the file exactly); multi-pass layouts are covered by test_multi_pass_layout.
    info = service.inspect(corpus.bytes("progressive"))
    assert info["frames"][0]["encoding"] == "VarDCT"
    info = service.inspect(corpus.bytes("lossless_g128"))
    assert info["frames"][0]["group_dim"] == 128
    info = service.inspect(corpus.bytes("animation"))
    assert info["animation"] and len(info["frames"]) == 3
    assert [f["is_last"] for f in info["frames"]] == [False, False, True]
    assert all(f["duration"] > 0 for f in info["frames"])
    info = service.inspect(corpus.bytes("large"))
    assert info["frames"][0]["num_lf_groups"] == 4 and info["frames"][0]["num_groups"] == 12 * 10


def test_icc_profile_decoded_exactly(corpus):
    data = corpus.bytes("icc_container")
    profile = parse_file(data).codestream.icc_profile
    assert profile == Image.open(corpus.source("icc")).info["icc_profile"]
    info = service.inspect(data)
    assert info["icc_size"] == len(profile) and info["icc_description"] == "RGB /mntr"
    assert service.inspect(corpus.bytes("vardct_center"))["icc_size"] is None


@pytest.mark.parametrize("case", ["vardct_center", "progressive", "large"])
def test_center_group_reported(corpus, case):
    info = service.inspect(corpus.bytes(case))
    fr = info["frames"][0]
    cx, cy = corpus.center(case)
    assert fr["permuted"]
    assert fr["center_group"] == (cy // fr["group_dim"]) * fr["groups_x"] + cx // fr["group_dim"]
    first_group = next(t for t in fr["toc"] if t["kind"] == "pass_group")
    assert first_group["group"] == fr["center_group"]


def test_load_plan_attention_first_reaches_the_centre_sooner(corpus):
    scan = corpus.bytes("vardct_scanline")
    info = service.inspect(scan)
    center = [info["width"] - 5, info["height"] - 5]  # bottom-right: last in scanline order
    moved = service.reorder(scan, center=center)["data"]
    before, after = service.load_plan(scan, center), service.load_plan(moved, center)
    assert before["center_group"] == after["center_group"] == info["frames"][0]["num_groups"] - 1
    assert before["bytes_to_center"] == len(scan)  # the last group ends the file
    assert after["bytes_to_center"] < before["bytes_to_center"] / 3
    assert after["lf_complete_at"] == before["lf_complete_at"] + (len(moved) - len(scan))
    for plan, data in ((before, scan), (after, moved)):
        assert plan["total"] == len(data)
        assert all(plan["lf_complete_at"] <= g["complete_at"] <= len(data) for g in plan["groups"])
        assert max(g["complete_at"] for g in plan["groups"]) == len(data)
    # the same groups, the same sizes, only the arrival order changes
    assert sorted(g["sections_end"] - plan_start(g, before) for g in before["groups"]) == \
        sorted(g["sections_end"] - plan_start(g, after) for g in after["groups"])


def plan_start(group, plan):
    ends = sorted(g["sections_end"] for g in plan["groups"])
    i = ends.index(group["sections_end"])
    return ends[i - 1] if i else plan["lf_complete_at"]


def test_load_plan_progressive_waits_for_every_pass(corpus):
    data = corpus.bytes("progressive")
    info = service.inspect(data)
    plan = service.load_plan(data, [100, 1000])
    fr = info["frames"][0]
    g = plan["center_group"]
    last_pass_end = max(t["offset"] + t["size"] for t in fr["toc"] if t["group"] == g and t["kind"] == "pass_group")
    assert plan["groups"][g]["complete_at"] == last_pass_end


def _cli(*args):
    pysrc = str(Path(codeclab.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": pysrc + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "codeclab.jxl", *map(str, args)], capture_output=True, text=True,
                          timeout=120, env=env)


def test_cli_info_and_reorder(corpus, tmp_path, decode):
    src = corpus.path("vardct_scanline")
    out = _cli("info", src, "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["frames"][0]["num_groups"] == 30 and not info["frames"][0]["permuted"]
    text = _cli("info", src)
    assert "pass_group" in text.stdout and "not permuted" in text.stdout
    dst = tmp_path / "c.jxl"
    out = _cli("reorder", src, dst, "--center", "900,200")
    assert out.returncode == 0, out.stderr
    moved = service.inspect(dst.read_bytes())
    assert moved["frames"][0]["center_group"] == 3
    back = tmp_path / "s.jxl"
    assert _cli("reorder", dst, back, "--scanline").returncode == 0
    assert back.read_bytes() == src.read_bytes()
    assert (decode(dst.read_bytes())[0] == decode(src.read_bytes())[0]).all()


def test_cli_errors_are_clean(tmp_path):
    bad = tmp_path / "bad.jxl"
    bad.write_bytes(b"\xff\x0a\x00")
    out = _cli("info", bad)
    assert out.returncode == 2 and "error:" in out.stderr and "Traceback" not in out.stderr
    out = _cli("reorder", bad, tmp_path / "o.jxl", "--center", "nope")
    assert out.returncode != 0 and "Traceback" not in out.stderr


def test_cli_attention_uses_codeclab_attention(corpus, tmp_path, upstream):
    model = upstream / "attention-center" / "center.tflite"
    if not model.is_file():
        missing("upstream center.tflite not present")
    dst = tmp_path / "a.jxl"
    out = _cli("reorder", corpus.path("vardct_scanline"), dst, "--attention", "--model", model)
    assert out.returncode == 0, out.stderr
    line = next(row for row in out.stdout.splitlines() if row.startswith("attention centre from"))
    x, y = (float(v) for v in line.rsplit(" ", 1)[1].split(","))
    info = service.inspect(dst.read_bytes())["frames"][0]
    assert info["center_group"] == (int(y) // 256) * info["groups_x"] + int(x) // 256


def test_cli_attention_fallback(corpus, tmp_path):
    out = _cli("reorder", corpus.path("odd_257x1"), tmp_path / "f.jxl", "--attention", "--model", "fallback")
    assert out.returncode == 0, out.stderr
    assert "attention centre from fallback" in out.stdout


def test_corpus_exercises_every_entropy_coder(corpus):
    """The real files cover prefix codes, ANS (alias tables) and LZ77 (the ICC stream)."""
    from codeclab.jxl import entropy

    seen = set()
    original = entropy.EntropyDecoder.__init__

    def spy(self, br, num_contexts, field="entropy", allow_lz77=True):
        original(self, br, num_contexts, field, allow_lz77)
        seen.add((field, "prefix" if self.use_prefix else "ans", self.lz77))

    entropy.EntropyDecoder.__init__ = spy
    try:
        for case in ("large", "icc_container", "vardct_center"):
            parse_file(corpus.bytes(case))
    finally:
        entropy.EntropyDecoder.__init__ = original
    assert ("toc.permutation", "ans", False) in seen
    assert ("toc.permutation", "prefix", False) in seen
    assert any(field == "icc" and lz77 for field, _, lz77 in seen)


def test_cli_info_batch_goes_on_past_bad_files(corpus, tmp_path):
    """A bad file in a batch gets one line on stderr; the rest are still described; exit 2 at the end."""
    from tests.jxl import crafted

    src = corpus.path("vardct_scanline")
    hostile = tmp_path / "hostile.jxl"
    hostile.write_bytes(crafted.huge_default_frame())
    out = _cli("info", hostile, tmp_path / "missing.jxl", src, "--json")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert lines == [f"error: {hostile}: frame of 215000x215000 needs 716627 sections (at most 65536) "
                     "(field frame.toc, byte offset 8)",
                     f"error: {tmp_path / 'missing.jxl'}: No such file or directory"]
    assert json.loads(out.stdout)["frames"][0]["num_groups"] == 30
