"""Print file sizes (KTX2 ETC1S / UASTC vs PNG / JPEG q90) and GPU bytes per
transcode target vs RGBA8 for a few scikit-image test photos.

    cd /work/main && PYTHONPATH=pysrc:. python tests/basis/measure_sizes.py

Encodes with basisu defaults (ETC1S -q 128; UASTC level 2 + Zstandard), one
mip level, so the byte counts compare like for like with PNG/JPEG.
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

from PIL import Image
from skimage import data as skdata

from codeclab.basis import formats as F
from codeclab.basis.info import describe
from codeclab.basis.targets import auto_target
from tests.basis.cases import run_basisu

REPO = Path(__file__).resolve().parents[2]
BASISU = REPO / "node_modules" / "@gpu-tex-enc" / "basis" / "bin" / "linux-x64" / "basisu"
WEBGL_ALL = [F.EXT_ASTC, F.EXT_BPTC, F.EXT_S3TC, F.EXT_ETC]


def encoded_size(img: Image.Image, fmt: str, **kw) -> int:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.tell()


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in ("astronaut", "coffee", "chelsea"):
            img = Image.fromarray(getattr(skdata, name)()).convert("RGB")
            img.save(work / f"{name}.png")
            png = encoded_size(img, "PNG", optimize=True)
            jpeg = encoded_size(img, "JPEG", quality=90)
            sizes = {}
            for kind, flags in (("etc1s", ()), ("uastc", ("-uastc",))):
                out = f"{name}_{kind}.ktx2"
                run_basisu(BASISU, "-ktx2", *flags, "-file", f"{name}.png", "-output_file", out, cwd=work)
                sizes[kind] = (work / out).read_bytes()
            info = describe(sizes["etc1s"])
            w, h = info.width, info.height
            gpu = {t: F.level_bytes(F.BY_NAME[t], w, h) for t in ("ETC1_RGB", "ETC2_RGBA", "ASTC_4x4_RGBA", "BC7_RGBA")}
            auto = {k: auto_target(WEBGL_ALL, k, False, w, h).format.name for k in ("etc1s", "uastc")}
            rows.append((name, w, h, png, jpeg, len(sizes["etc1s"]), len(sizes["uastc"]), gpu, F.rgba8_bytes(w, h), auto))
    print("image      size     PNG      JPEGq90  KTX2-ETC1S KTX2-UASTC | GPU 8B/blk(ETC1,BC1) 16B/blk(ASTC,BC7,ETC2A)  RGBA8  RGBA8/GPU")
    for name, w, h, png, jpeg, e, u, gpu, rgba, _auto in rows:
        print(f"{name:<10} {w}x{h:<4} {png:>8} {jpeg:>8} {e:>10} {u:>10} | {gpu['ETC1_RGB']:>20} {gpu['ASTC_4x4_RGBA']:>23} "
              f"{rgba:>8}  {rgba / gpu['ETC1_RGB']:.0f}x / {rgba / gpu['ASTC_4x4_RGBA']:.0f}x")
    print(f"(auto targets on a context with ASTC+BPTC+S3TC+ETC: ETC1S -> {rows[0][-1]['etc1s']}, UASTC -> {rows[0][-1]['uastc']};"
          " GPU bytes are one level; a full mip chain adds 1/3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
