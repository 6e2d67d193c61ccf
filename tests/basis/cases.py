"""The texture cases for the basis tests and helpers to run / read basisu.

Source PNGs are drawn here (gradients + noise, with and without alpha, odd
sizes) and encoded to ETC1S / UASTC, KTX2 / .basis, with and without mipmaps,
UASTC with and without Zstandard.  Sizes stay small so the suite is fast.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Case:
    name: str  # output file name
    image: str  # key into IMAGES
    flags: tuple[str, ...]
    source_format: str
    has_alpha: bool
    mipmaps: bool
    supercompression: str

    @property
    def container(self) -> str:
        return "ktx2" if self.name.endswith(".ktx2") else "basis"


# name -> (width, height, with alpha)
IMAGES = {
    "1x1": (1, 1, False),
    "3x5a": (3, 5, True),
    "64x64a": (64, 64, True),
    "257x130": (257, 130, False),
    "512x512a": (512, 512, True),
}

FAST_UASTC = ("-uastc", "-uastc_level", "0")

CASES = (
    Case("etc1s_257x130_mip.ktx2", "257x130", ("-ktx2", "-mipmap"), "etc1s", False, True, "basislz"),
    Case("etc1s_3x5a.ktx2", "3x5a", ("-ktx2",), "etc1s", True, False, "basislz"),
    Case("etc1s_1x1.ktx2", "1x1", ("-ktx2",), "etc1s", False, False, "basislz"),
    Case("etc1s_512a_mip.ktx2", "512x512a", ("-ktx2", "-mipmap"), "etc1s", True, True, "basislz"),
    Case("uastc_zstd_257x130_mip.ktx2", "257x130", ("-ktx2", *FAST_UASTC, "-mipmap"), "uastc", False, True, "zstd"),
    Case("uastc_raw_3x5a.ktx2", "3x5a", ("-ktx2", *FAST_UASTC, "-ktx2_no_zstandard"), "uastc", True, False, "none"),
    Case("uastc_raw_64x64a_mip.ktx2", "64x64a", ("-ktx2", *FAST_UASTC, "-ktx2_no_zstandard", "-mipmap"),
         "uastc", True, True, "none"),
    Case("uastc_zstd_512a.ktx2", "512x512a", ("-ktx2", *FAST_UASTC), "uastc", True, False, "zstd"),
    Case("uastc_zstd_1x1.ktx2", "1x1", ("-ktx2", *FAST_UASTC), "uastc", False, False, "zstd"),
    Case("etc1s_3x5a.basis", "3x5a", (), "etc1s", True, False, "basislz"),
    Case("etc1s_257x130_mip.basis", "257x130", ("-mipmap",), "etc1s", False, True, "basislz"),
    Case("etc1s_1x1.basis", "1x1", (), "etc1s", False, False, "basislz"),
    Case("etc1s_64x64a_yflip_mip.basis", "64x64a", ("-y_flip", "-mipmap"), "etc1s", True, True, "basislz"),
    Case("uastc_64x64a_mip.basis", "64x64a", (*FAST_UASTC, "-mipmap"), "uastc", True, True, "none"),
    Case("uastc_257x130.basis", "257x130", FAST_UASTC, "uastc", False, False, "none"),
    Case("uastc_1x1.basis", "1x1", FAST_UASTC, "uastc", False, False, "none"),
)
CASE_BY_NAME = {c.name: c for c in CASES}


def draw_image(width: int, height: int, alpha: bool, seed: int = 7) -> np.ndarray:
    """Smooth gradients plus noise: enough structure that codebooks are not trivial."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    u, v = xx / max(width - 1, 1), yy / max(height - 1, 1)
    rgb = np.stack([u, v, 0.5 + 0.5 * np.sin(6.0 * (u + v))], axis=-1) * 255
    rgb += rng.normal(0, 12, rgb.shape)
    channels = [rgb]
    if alpha:
        channels.append((255 * (0.25 + 0.75 * u))[..., None])
    return np.clip(np.concatenate(channels, axis=-1), 0, 255).astype(np.uint8)


def run_basisu(basisu: Path, *args: str, cwd: Path) -> str:
    proc = subprocess.run([str(basisu), *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"basisu {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


# ------------------------------------------------------------------ basisu -info


def parse_basisu_info(text: str) -> dict:
    """The facts ``basisu -info`` prints, for KTX2 and .basis files."""
    out: dict = {}

    def grab(pattern: str, conv=int):
        m = re.search(pattern, text, re.MULTILINE)
        return conv(m.group(1)) if m else None

    if "KTX2: 1" in text:
        m = re.search(r"^Resolution: (\d+)x(\d+)", text, re.MULTILINE)
        out["width"], out["height"] = int(m.group(1)), int(m.group(2))
        out["levels"] = grab(r"^Mipmap Levels: (\d+)")
        out["layers"] = grab(r"^Texture Array Size \(layers\): (\d+)")
        out["faces"] = grab(r"^Total Faces: (\d+)")
        out["format"] = grab(r"^Supercompression Format: (\w+)", str).lower()
        out["scheme"] = grab(r"^Supercompression Scheme: (\w+)", str).lower()
        out["has_alpha"] = bool(grab(r"^Has Alpha: (\d)"))
        out["dfd_length"] = grab(r"^DFD length in bytes: (\d+)")
        out["color_model"] = grab(r"^DFD color model: (\d+)")
        out["primaries"] = grab(r"^DFD color primaries: (\d+)")
        out["transfer"] = grab(r"^DFD transfer func: (\d+)")
        out["samples"] = grab(r"^DFD samples: (\d+)")
        out["chan0"] = grab(r"^DFD chan0: (\w+)", str)
        out["chan1"] = grab(r"^DFD chan1: (\w+)", str)
        out["key_count"] = grab(r"^Total key values: (\d+)")
        out["writer"] = grab(r'Key: "KTXwriter".*Value String: "([^"]*)"', str)
        out["level_index"] = [
            tuple(int(x) for x in m)
            for m in re.findall(r"^\d+\. Offset: (\d+), Length: (\d+), Uncompressed Length: (\d+)", text, re.MULTILINE)
        ]
        m = re.search(r"Endpoint Count: (\d+), Selector Count: (\d+), Endpoint Length: (\d+), "
                      r"Selector Length: (\d+), Tables Length: (\d+), Extended Length: (\d+)", text)
        out["etc1s_header"] = tuple(int(x) for x in m.groups()) if m else None
        out["image_descs"] = [
            tuple(int(x, 0) for x in m)
            for m in re.findall(r"^\d+\. Flags: (0x[0-9A-Fa-f]+), RGB Ofs: (\d+) Len: (\d+), Alpha Ofs: (\d+), Len: (\d+)",
                                text, re.MULTILINE)
        ]
    else:
        out["version"] = grab(r"^\s*Version: (\w+)", str)
        out["format"] = grab(r"^\s*Texture format: (\w+)", str).lower()
        out["tex_type"] = grab(r"^\s*Texture type: (\w+)", str).lower()
        out["total_slices"] = grab(r"^\s*Total slices: (\d+)")
        out["total_images"] = grab(r"^\s*Total images: (\d+)")
        out["total_endpoints"] = grab(r"^\s*Total endpoints: (\d+)")
        out["total_selectors"] = grab(r"^\s*Total selectors: (\d+)")
        m = re.search(r"Y Flipped: (\d), Has alpha slices: (\d)", text)
        out["y_flipped"], out["has_alpha"] = bool(int(m.group(1))), bool(int(m.group(2)))
        m = re.search(r"^Image 0: MipLevels: (\d+) OrigDim: (\d+)x(\d+)", text, re.MULTILINE)
        out["levels"], out["width"], out["height"] = (int(g) for g in m.groups())
        out["slices"] = [
            {"width": int(w), "height": int(h), "bx": int(bx), "by": int(by), "size": int(s),
             "image": int(i), "level": int(lv), "crc": int(c, 16), "alpha": bool(int(a))}
            for w, h, bx, by, s, i, lv, c, a in re.findall(
                r"^\d+: OrigWidthHeight: (\d+)x(\d+), BlockDim: (\d+)x(\d+), TotalBlocks: \d+, "
                r"Compressed size: (\d+), Image: (\d+), Level: (\d+), UnpackedCRC16: 0x([0-9A-Fa-f]+), alpha: (\d)",
                text, re.MULTILINE)
        ]
    return out
