"""Target choice (three.js KTX2Loader's table), enum numbers (the shipped
transcoder wasm), GL constants and GPU byte sizes (basisu -unpack output)."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from codeclab.basis import formats as F
from codeclab.basis.common import level_size
from codeclab.basis.info import describe
from codeclab.basis.targets import OPTIONS, auto_target, available_targets, choose_target, forced_target
from codeclab.errors import UnsupportedError
from tests.basis.cases import run_basisu
from tests.needs import missing

ALL_EXTS = [F.EXT_ASTC, F.EXT_BPTC, F.EXT_S3TC, F.EXT_ETC, F.EXT_ETC1, F.EXT_PVRTC, F.EXT_RGTC]
# What Chromium's SwiftShader WebGL2 offers (the headless CI browser).
SWIFTSHADER = [F.EXT_ETC, F.EXT_S3TC, F.EXT_ASTC, "WEBGL_compressed_texture_s3tc_srgb", "EXT_color_buffer_float"]


# ---------------------------------------------------------------- KTX2Loader's table

def ktx2loader_source(repo_root: Path) -> str:
    path = repo_root / "node_modules" / "three" / "examples" / "jsm" / "loaders" / "KTX2Loader.js"
    if not path.exists():
        missing("npm three not installed")
    return path.read_text()


def parse_format_options(src: str) -> list[dict]:
    """FORMAT_OPTIONS rows for ETC1S/UASTC, with extension names and transcoder numbers."""
    numbers = {k: int(v) for k, v in re.findall(r"^\t(\w+): (\d+),", src.split("KTX2Loader.TranscoderFormat = {")[1]
                                                                   .split("};")[0], re.MULTILINE)}
    ext_of = dict(re.findall(r"(\w+Supported): renderer\.extensions\.has\( '(\w+)' \)", src))
    body = src.split("const FORMAT_OPTIONS = [")[1].split("\n\t];")[0]
    rows = []
    for block in re.findall(r"\{(.*?)\n\t\t\}", body, re.DOTALL):
        if "UASTC_HDR" in block and "ETC1S" not in block and "UASTC ]" not in block.replace("UASTC_HDR", ""):
            continue  # HDR rows: not a source we handle
        cond = re.search(r"if: '(\w+)'", block)
        targets = re.search(r"transcoderFormat: \[ (.*?) \]", block).group(1)
        prio = {k.lower(): float(v) for k, v in re.findall(r"priority(ETC1S|UASTC): (\w+)", block) if v != "Infinity"}
        rows.append({
            "extension": ext_of[cond.group(1)] if cond else None,
            "targets": [numbers[t.strip().split(".")[1]] for t in targets.split(",")],
            "sources": {s.lower() for s in re.findall(r"BasisFormat\.(ETC1S|UASTC)\b", block)},
            "priority": prio,
            "pow2": "needsPowerOfTwo: true" in block,
        })
    return rows


def three_number(n: int) -> int:
    return 6 if n == 7 else n  # three passes 7 (cTFBC7_ALT, the deprecated alias) for BC7; ours is 6


def test_our_option_table_is_ktx2loaders(repo_root):
    theirs = parse_format_options(ktx2loader_source(repo_root))
    assert len(theirs) == len(OPTIONS) == 7
    for row in theirs:
        ours = next(o for o in OPTIONS if o.extension == row["extension"] and
                    F.BY_NAME[o.opaque].number == three_number(row["targets"][0]))
        assert {k: v for k, v in ours.priority.items()} == {s: row["priority"][s] for s in row["sources"]}
        want = [three_number(n) for n in row["targets"]]
        got = [F.BY_NAME[ours.opaque].number] + ([F.BY_NAME[ours.alpha].number] if ours.alpha else [])
        assert got == want
        assert ours.needs_power_of_two == row["pow2"]


def reference_choice(rows, exts, source, alpha, w, h) -> int:
    """KTX2Loader.getTranscoderFormat, transcribed from the parsed table."""
    def pow2(v):
        return v <= 2 or v & (v - 1) == 0
    for row in sorted((r for r in rows if source in r["sources"]), key=lambda r: r["priority"][source]):
        if row["extension"] and row["extension"] not in exts:
            continue
        if alpha and len(row["targets"]) < 2:
            continue
        if row["pow2"] and not (pow2(w) and pow2(h)):
            continue
        return three_number(row["targets"][1 if alpha else 0])
    raise AssertionError


def test_auto_choice_matches_ktx2loader_for_every_extension_subset(repo_root):
    rows = parse_format_options(ktx2loader_source(repo_root))
    for mask in range(1 << len(ALL_EXTS)):
        exts = [e for i, e in enumerate(ALL_EXTS) if mask >> i & 1]
        for source in ("etc1s", "uastc"):
            for alpha in (False, True):
                for size in ((256, 128), (257, 130)):
                    got = auto_target(exts, source, alpha, *size)
                    assert got.format.number == reference_choice(rows, exts, source, alpha, *size), (exts, source, alpha)
                    assert got.upload.extension is None or got.upload.extension in exts


@pytest.mark.parametrize(("exts", "source", "alpha", "name", "gl"), [
    (ALL_EXTS, "uastc", True, "ASTC_4x4_RGBA", 0x93B0),
    (ALL_EXTS, "uastc", False, "ASTC_4x4_RGBA", 0x93B0),
    (ALL_EXTS, "etc1s", False, "ETC1_RGB", 0x9274),  # ETC1S -> ETC1 blocks uploaded as ETC2 RGB
    (ALL_EXTS, "etc1s", True, "ETC2_RGBA", 0x9278),
    ([F.EXT_ETC1], "etc1s", False, "ETC1_RGB", 0x8D64),
    ([F.EXT_ETC1], "etc1s", True, "RGBA32", F.GL_RGBA8),  # ETC1 has no alpha
    ([F.EXT_BPTC, F.EXT_S3TC], "etc1s", True, "BC7_RGBA", 0x8E8C),
    ([F.EXT_S3TC], "uastc", False, "BC1_RGB", 0x83F0),
    ([F.EXT_S3TC], "uastc", True, "BC3_RGBA", 0x83F3),
    (["WEBKIT_WEBGL_compressed_texture_s3tc"], "etc1s", True, "BC3_RGBA", 0x83F3),
    ([F.EXT_ASTC], "etc1s", False, "RGBA32", F.GL_RGBA8),  # KTX2Loader never picks ASTC for ETC1S
    ([], "uastc", True, "RGBA32", F.GL_RGBA8),
    (SWIFTSHADER, "uastc", True, "ASTC_4x4_RGBA", 0x93B0),
    (SWIFTSHADER, "etc1s", True, "ETC2_RGBA", 0x9278),
])
def test_auto_choice_examples(exts, source, alpha, name, gl):
    t = auto_target(exts, source, alpha, 64, 64)
    assert (t.format.name, t.upload.internal_format) == (name, gl)
    d = t.to_dict()
    assert d["transcoder_format"] == "cTF" + name and d["transcoder_format_number"] == t.format.number
    assert d["chosen_by"].startswith("auto:")


def test_pvrtc_only_for_power_of_two():
    assert auto_target([F.EXT_PVRTC], "etc1s", False, 256, 2).format.name == "PVRTC1_4_RGB"
    assert auto_target([F.EXT_PVRTC], "uastc", True, 256, 256).format.name == "PVRTC1_4_RGBA"
    assert auto_target([F.EXT_PVRTC], "uastc", True, 257, 256).format.name == "RGBA32"
    with pytest.raises(UnsupportedError, match="power-of-two"):
        forced_target("PVRTC1_4_RGB", [F.EXT_PVRTC], "etc1s", False, 3, 5)


def test_force_any_available_target():
    t = choose_target(SWIFTSHADER, "uastc", True, 64, 64, force="RGBA32")
    assert (t.format.number, t.upload.internal_format, t.upload.format, t.upload.type) == (13, 0x8058, 0x1908, 0x1401)
    assert t.srgb_available and t.to_dict()["gl_internal_format_srgb"] == F.GL_SRGB8_ALPHA8
    t = choose_target(SWIFTSHADER, "uastc", True, 64, 64, force="cTFBC1_RGB")
    assert t.format.name == "BC1_RGB" and not t.keeps_alpha
    assert t.to_dict()["gl_internal_format_srgb"] == 0x8C4C  # s3tc_srgb is in SWIFTSHADER
    assert choose_target([F.EXT_S3TC], "etc1s", False, 4, 4, force="bc1_rgb").to_dict()["gl_internal_format_srgb"] is None
    assert choose_target(SWIFTSHADER, "etc1s", False, 8, 8, force="auto").chosen_by == "auto:etc2"
    assert choose_target(SWIFTSHADER, "etc1s", False, 8, 8, force="ASTC_4x4_RGBA").format.number == 10
    with pytest.raises(UnsupportedError, match="EXT_texture_compression_bptc"):
        forced_target("BC7_RGBA", SWIFTSHADER, "uastc", False, 8, 8)
    with pytest.raises(UnsupportedError, match="unknown transcode target"):
        forced_target("JPEG", SWIFTSHADER, "uastc", False, 8, 8)
    with pytest.raises(UnsupportedError, match="cannot make ETC2_EAC_R11 from ETC1S"):
        forced_target("ETC2_EAC_R11", SWIFTSHADER, "etc1s", False, 8, 8)
    with pytest.raises(UnsupportedError, match="WebGL cannot upload BGR565"):
        forced_target("BGR565", SWIFTSHADER, "etc1s", False, 8, 8)


def test_available_targets_menu():
    names = [t.format.name for t in available_targets(SWIFTSHADER, "uastc", True, 100, 60)]
    assert names == ["ETC1_RGB", "ETC2_RGBA", "BC1_RGB", "BC3_RGBA", "ASTC_4x4_RGBA", "RGBA32", "RGB565",
                     "RGBA4444", "ETC2_EAC_R11", "ETC2_EAC_RG11"]
    etc1s = [t.format.name for t in available_targets(ALL_EXTS, "etc1s", False, 64, 64)]
    assert "ETC2_EAC_R11" not in etc1s and {"BC7_RGBA", "BC4_R", "BC5_RG", "PVRTC1_4_RGB"} <= set(etc1s)
    assert [t.format.name for t in available_targets([], "etc1s", False, 5, 5)] == ["RGBA32", "RGB565", "RGBA4444"]
    for source in ("etc1s", "uastc"):
        for t in available_targets(ALL_EXTS, source, True, 64, 64):
            assert forced_target(t.format.name, ALL_EXTS, source, True, 64, 64) == t


def test_unknown_source_format():
    with pytest.raises(UnsupportedError):
        auto_target([], "astc", False, 4, 4)


# ---------------------------------------------------------------- sizes

def test_level_bytes_round_blocks_up():
    bc7, bc1, rgba = F.BY_NAME["BC7_RGBA"], F.BY_NAME["BC1_RGB"], F.BY_NAME["RGBA32"]
    assert F.level_bytes(bc7, 1, 1) == 16 and F.level_bytes(bc1, 1, 1) == 8
    assert F.level_bytes(bc7, 257, 130) == 65 * 33 * 16
    assert F.level_bytes(rgba, 257, 130) == 257 * 130 * 4
    assert F.level_bytes(F.BY_NAME["RGB565"], 3, 5) == 30
    assert F.level_bytes(F.BY_NAME["PVRTC1_4_RGB"], 4, 4) == 32  # PVRTC1 keeps at least 2x2 blocks
    assert F.chain_bytes(bc7, 4, 4, 3) == 48
    assert F.rgba8_bytes(512, 512, 10) == 4 * sum(max(1, 512 >> i) ** 2 for i in range(10))
    assert F.chain_bytes(F.BY_NAME["ETC2_RGBA"], 16, 16, 1, images=6) == 6 * 16 * 16


def read_ktx1(path: Path) -> tuple[int, int, int, list[int]]:
    """(glInternalFormat, width, height, per-level imageSize) of a KTX 1 file."""
    data = path.read_bytes()
    fields = struct.unpack_from("<13I", data, 12)
    internal, width, height, levels, kv = fields[4], fields[6], fields[7], max(1, fields[11]), fields[12]
    pos, sizes = 64 + kv, []
    for _ in range(levels):
        size = struct.unpack_from("<I", data, pos)[0]
        sizes.append(size)
        pos += 4 + (size + 3) // 4 * 4
    return internal, width, height, sizes


@pytest.mark.parametrize("name", ["etc1s_257x130_mip.ktx2", "uastc_64x64a_mip.basis"])
def test_gl_formats_and_sizes_match_basisu_unpack(name, basisu, texture_dir, tmp_path):
    shutil.copy(texture_dir / name, tmp_path / name)
    run_basisu(basisu, "-unpack", "-file", name, cwd=tmp_path)
    stem = name.rsplit(".", 1)[0]
    checked = set()
    for fmt in F.FORMATS:
        if not fmt.compressed or not fmt.uploads:
            continue
        file_name = fmt.name.replace("ASTC_4x4_RGBA", "ASTC_RGBA")
        path = tmp_path / f"{stem}_transcoded_{file_name}_0000.ktx"
        if not path.exists():
            assert fmt.needs_power_of_two  # basisu skips PVRTC1 for 257x130
            continue
        internal, width, height, sizes = read_ktx1(path)
        assert internal in {u.internal_format for u in fmt.uploads}, fmt.name
        if fmt.min_blocks > 1:
            # basisu's KTX1 writer stores 1 block for PVRTC1 levels under 8x8; WebGL (and the
            # wasm transcoder, checked below) want the 2x2-block minimum: compare the big levels.
            sizes = [s for i, s in enumerate(sizes) if min(level_size(width, height, i)) >= 8]
        assert sizes == [F.level_bytes(fmt, *level_size(width, height, i)) for i in range(len(sizes))], fmt.name
        checked.add(fmt.name)
    assert {"ASTC_4x4_RGBA", "BC7_RGBA", "BC1_RGB", "BC3_RGBA", "ETC1_RGB", "ETC2_RGBA"} <= checked


# ---------------------------------------------------------------- the shipped transcoder

NODE_SCRIPT = """
const BASIS = require(process.argv[2]);
BASIS({}).then(m => {
  m.initializeBasis();
  const out = {};
  for (const k of Object.keys(m.transcoder_texture_format)) {
    if (!k.startsWith('cTF') || k === 'cTFTotalTextureFormats') continue;
    const v = m.transcoder_texture_format[k].value;
    out[k] = {number: v, bytes: m.getBytesPerBlockOrPixel(v), uncompressed: m.formatIsUncompressed(v),
              alpha: m.formatHasAlpha(v), etc1s: m.isFormatSupported(v, 0), uastc: m.isFormatSupported(v, 1)};
  }
  const sizes = {};
  for (const path of process.argv.slice(3)) {
    const file = new m.KTX2File(new Uint8Array(require('fs').readFileSync(path)));
    if (!file.isValid() || !file.startTranscoding()) throw new Error('bad ' + path);
    sizes[path] = {};
    for (const k of Object.keys(out)) {
      if (!m.isFormatSupported(out[k].number, file.isUASTC() ? 1 : 0)) continue;
      sizes[path][k] = [];
      for (let level = 0; level < file.getLevels(); level++)
        sizes[path][k].push(file.getImageTranscodedSizeInBytes(level, 0, 0, out[k].number));
    }
    file.close(); file.delete();
  }
  console.log(JSON.stringify({formats: out, sizes}));
});
"""


def test_enum_numbers_and_sizes_match_the_shipped_transcoder(repo_root, tmp_path, texture_dir):
    node = shutil.which("node")
    lib = repo_root / "node_modules" / "three" / "examples" / "jsm" / "libs" / "basis"
    if node is None or not (lib / "basis_transcoder.js").exists():
        missing("node or npm three's basis transcoder not available")
    # three's package.json says "type": "module"; the transcoder is CommonJS, so load a .cjs copy.
    shutil.copy(lib / "basis_transcoder.js", tmp_path / "basis_transcoder.cjs")
    shutil.copy(lib / "basis_transcoder.wasm", tmp_path / "basis_transcoder.wasm")
    (tmp_path / "dump.cjs").write_text(NODE_SCRIPT)
    files = [texture_dir / n for n in ("uastc_raw_64x64a_mip.ktx2", "etc1s_257x130_mip.ktx2", "uastc_zstd_1x1.ktx2")]
    proc = subprocess.run([node, "dump.cjs", str(tmp_path / "basis_transcoder.cjs"), *map(str, files)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    dump = json.loads(proc.stdout)
    wasm = dump["formats"]
    for fmt in F.FORMATS:
        ref = wasm[fmt.enum_name]
        assert ref["number"] == fmt.number, fmt.name
        assert ref["bytes"] == fmt.bytes_per_block, fmt.name
        assert ref["uncompressed"] == (not fmt.compressed), fmt.name
        assert ref["alpha"] == fmt.has_alpha, fmt.name
        assert {s for s in ("etc1s", "uastc") if ref[s]} == set(fmt.sources), fmt.name
    # The transcoder's own output size for every level of real files, every format it makes.
    for path in files:
        info = describe((path).read_bytes())
        per_format = dump["sizes"][str(path)]
        assert per_format
        for enum_name, sizes in per_format.items():
            fmt = F.lookup(enum_name)
            if fmt.needs_power_of_two and info.width & (info.width - 1):
                continue  # the transcoder refuses PVRTC1 for these anyway
            assert sizes == [F.level_bytes(fmt, lv.width, lv.height) for lv in info.levels], (path.name, enum_name)
