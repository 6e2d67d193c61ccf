"""Fixtures for codeclab.jxl: real JPEG XL files made by Debian's cjxl, cached per session.

Inputs come from scikit-image's sample images (and synthetic sizes/alpha/ICC made
with numpy + Pillow); every case is encoded once, lazily, under a session tmp dir.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.needs import missing

REPO = Path(__file__).resolve().parents[2]

# name -> (source image, cjxl arguments).  "center" cases have a twin encoded in scanline order.
CASES: dict[str, tuple[str, list[str]]] = {
    "vardct_center":      ("astro_big", ["-d", "1", "-e", "3", "--group_order=1", "--center_x=900", "--center_y=200"]),
    "vardct_default_mid": ("astro_big", ["-d", "1", "-e", "3", "--group_order=1"]),
    "vardct_scanline":    ("astro_big", ["-d", "1", "-e", "3", "--group_order=0"]),
    "vardct_corner":      ("astro_big", ["-d", "2", "-e", "2", "--group_order=1", "--center_x=5", "--center_y=1090"]),
    "vardct_edge":        ("astro_big", ["-d", "2", "-e", "2", "--group_order=1", "--center_x=1299", "--center_y=640"]),
    "progressive":        ("astro_big", ["-d", "1", "-e", "3", "-p", "--group_order=1", "--center_x=100", "--center_y=1000"]),
    "progressive_ac":     ("coffee", ["-d", "1.5", "-e", "3", "--progressive_ac", "--group_order=1", "--center_x=420", "--center_y=130"]),
    "effort7":            ("coffee", ["-d", "1", "-e", "7", "--group_order=1", "--center_x=300", "--center_y=390"]),
    "lossless":           ("coffee", ["-d", "0", "-e", "2", "--group_order=1", "--center_x=500", "--center_y=350"]),
    "lossless_g128":      ("coffee", ["-d", "0", "-e", "1", "-g", "0", "--group_order=1", "--center_x=260", "--center_y=200"]),
    "lossless_scanline":  ("coffee", ["-d", "0", "-e", "2"]),
    "rgba":               ("rgba", ["-d", "0", "-e", "2", "--group_order=1", "--center_x=30", "--center_y=290"]),
    "rgba_lossy":         ("rgba", ["-d", "1", "-e", "3", "--group_order=1", "--center_x=440", "--center_y=10"]),
    "icc_container":      ("icc", ["-d", "0", "-e", "2", "--container=1", "--group_order=1", "--center_x=300", "--center_y=300"]),
    "icc_lossy":          ("icc", ["-d", "1", "-e", "3"]),
    "tiny_1x1":           ("px1", ["-d", "0", "-e", "1"]),
    "tiny_1x1_container": ("px1", ["-d", "1", "-e", "3", "--container=1"]),
    "odd_257x1":          ("strip", ["-d", "1", "-e", "3", "--group_order=1", "--center_x=256", "--center_y=0"]),
    "large":              ("large", ["-d", "3", "-e", "1", "--group_order=1", "--center_x=2500", "--center_y=300"]),
    "animation":          ("anim", ["-d", "1", "-e", "2", "--group_order=1", "--center_x=200", "--center_y=250"]),
    # APNG frames that change only a region become cropped JXL frames (cjxl 0.7 refuses a group order here)
    "animation_crop":     ("anim_crop", ["-d", "1", "-e", "3"]),
    # the page's own encoder (@jsquash/jxl, a newer libjxl in wasm, run by node): progressive =
    # an LF frame + a VarDCT frame with 2 passes, which Debian's cjxl 0.7 does not write
    # at very low quality cjxl encodes a 2x downsampled frame (upsampling = 2)
    "upsampled":          ("astro_big", ["-d", "20", "-e", "3"]),
    # lossless JPEG recompression: container with jxlp parts around a jbrd box
    "jpeg_recompressed":  ("astro_jpg", ["-e", "3"]),
    "jsquash_progressive": ("astro_big", ["@jsquash", '{"progressive": true, "effort": 3, "quality": 80}']),
    "jsquash_lossless":    ("coffee", ["@jsquash", '{"lossless": true, "effort": 2, "progressive": true}']),
}

# (centre case, scanline twin): same image and settings, only the group order differs.
TWINS = {
    "vardct_center": "vardct_scanline",
    "lossless": "lossless_scanline",
}


def _sources(root: Path) -> dict[str, Path]:
    from skimage import data

    out = {}

    def save(name, array, **kw):
        path = root / f"{name}.png"
        if not path.exists():
            Image.fromarray(array).save(path, **kw)
        out[name] = path

    astro = data.astronaut()
    big = np.asarray(Image.fromarray(astro).resize((1300, 1100), Image.BICUBIC))
    save("astro_big", big)
    jpg = root / "astro_jpg.jpg"
    if not jpg.exists():
        Image.fromarray(big).save(jpg, quality=90)
    out["astro_jpg"] = jpg
    save("coffee", data.coffee())
    chelsea = data.chelsea()
    alpha = (np.linspace(0, 255, chelsea.shape[1])[None, :].repeat(chelsea.shape[0], 0)).astype(np.uint8)
    save("rgba", np.dstack([chelsea, alpha]))
    save("icc", astro, icc_profile=_custom_icc())
    save("px1", np.full((1, 1, 3), 77, np.uint8))
    save("strip", np.asarray(Image.fromarray(astro).resize((257, 1))))
    rng = np.random.default_rng(5)
    tiles = np.tile(astro, (5, 6, 1))[:2400, :3000]
    save("large", np.clip(tiles.astype(np.int16) + rng.integers(-3, 4, tiles.shape), 0, 255).astype(np.uint8))
    anim = root / "anim.png"
    if not anim.exists():
        frames = [Image.fromarray(np.roll(astro, 40 * k, axis=1)).resize((600, 520)) for k in range(3)]
        frames[0].save(anim, save_all=True, append_images=frames[1:], duration=100, loop=0)
    out["anim"] = anim
    crop = root / "anim_crop.png"
    if not crop.exists():
        base = np.asarray(Image.fromarray(astro).resize((700, 600)))
        frames = [base.copy() for _ in range(3)]
        frames[1][100:400, 300:650] = 255 - frames[1][100:400, 300:650]
        frames[2][350:600, 20:300] = 0
        images = [Image.fromarray(f) for f in frames]
        images[0].save(crop, save_all=True, append_images=images[1:], duration=80, loop=0)
    out["anim_crop"] = crop
    return out


def _custom_icc() -> bytes:
    """An sRGB profile from LittleCMS with its red primary nudged, so cjxl must embed it as ICC."""
    from PIL import ImageCms

    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    tag = profile.find(b"rXYZ")
    offset = int.from_bytes(profile[tag + 4:tag + 8], "big")
    value = int.from_bytes(profile[offset + 8:offset + 12], "big")
    profile[offset + 8:offset + 12] = (value + 3000).to_bytes(4, "big")
    return bytes(profile)


def pytest_generate_tests(metafunc):
    """``any_case``: one test per cjxl-encoded case."""
    if "any_case" in metafunc.fixturenames:
        metafunc.parametrize("any_case", sorted(CASES))


class Corpus:
    cases = CASES

    def __init__(self, root: Path, cjxl: str):
        self.root = root
        self.cjxl = cjxl
        self._sources: dict[str, Path] | None = None

    def source(self, name: str) -> Path:
        if self._sources is None:
            self._sources = _sources(self.root)
        return self._sources[name]

    def path(self, case: str) -> Path:
        out = self.root / f"{case}.jxl"
        if not out.exists():
            src, args = CASES[case]
            if args[0] == "@jsquash":
                self._jsquash(self.source(src), out, args[1])
            else:
                subprocess.run([self.cjxl, str(self.source(src)), str(out), *args],
                               check=True, capture_output=True, timeout=120)
        return out

    def _jsquash(self, src: Path, out: Path, options: str) -> None:
        node = shutil.which("node")
        if node is None or not (REPO / "node_modules" / "@jsquash" / "jxl").is_dir():
            missing("node or node_modules/@jsquash/jxl missing (npm ci)")
        with Image.open(src) as im:
            rgba = im.convert("RGBA")
        raw = out.with_suffix(".rgba")
        raw.write_bytes(rgba.tobytes())
        subprocess.run([node, str(Path(__file__).with_name("jsquash_encode.mjs")), str(raw), str(rgba.width),
                        str(rgba.height), str(out), options], check=True, capture_output=True, timeout=300, cwd=REPO)

    def bytes(self, case: str) -> bytes:
        return self.path(case).read_bytes()

    def center(self, case: str) -> tuple[int, int] | None:
        args = CASES[case][1]
        if args[0] == "@jsquash":
            return None
        values = {a.split("=")[0]: int(a.split("=")[1]) for a in args if a.startswith("--center_")}
        if "--group_order=1" not in args:
            return None
        if not values:
            return None
        return values["--center_x"], values["--center_y"]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory, cjxl) -> Corpus:
    return Corpus(tmp_path_factory.mktemp("jxl_corpus"), cjxl)


@pytest.fixture(scope="session")
def decode(djxl, tmp_path_factory):
    """Decodes JXL bytes with djxl: (pixels of the first frame, the whole PNG/APNG file bytes)."""
    root = tmp_path_factory.mktemp("jxl_decoded")
    counter = iter(range(10**9))

    def run(data: bytes) -> tuple[np.ndarray, bytes]:
        n = next(counter)
        src, dst = root / f"{n}.jxl", root / f"{n}.png"
        src.write_bytes(data)
        subprocess.run([djxl, str(src), str(dst)], check=True, capture_output=True, timeout=120)
        with Image.open(dst) as im:
            return np.asarray(im), dst.read_bytes()

    return run
