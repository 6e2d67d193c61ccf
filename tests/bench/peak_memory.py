"""Peak resident memory of CPython decoding a 64-megapixel image on every decode path (the cap in
pysrc/codeclab/imaging.py), for docs/SECURITY.md and README "Limits".

Each case runs in a fresh interpreter (one image, one predict call) and reports its own high-water resident
set (VmHWM of /proc/self/status: it starts anew at exec, unlike ru_maxrss, which Linux carries over
from the parent that forked it), so nothing a previous case or this script allocated counts. Linux only.
`python3 -m tests.bench.peak_memory [--side 8000] [--model PATH] [--only CASE ...]`.
"""

from __future__ import annotations

import argparse
import json
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]

# One interpreter per case: decode + the attention predictor, as attention.predict runs them in the page.
CHILD = r"""
import asyncio, json, re, sys
sys.path.insert(0, sys.argv[1])
from codeclab.attention.service import predict
from codeclab.onnx_bridge import OnnxRunner
path, predictor, model = sys.argv[2], sys.argv[3], sys.argv[4]
runner = OnnxRunner({"attention_center": model}, num_threads=1) if predictor == "model" else None
data = open(path, "rb").read()
def high_water_kb():
    return int(re.search(r"VmHWM:\s+(\d+) kB", open("/proc/self/status").read()).group(1))
before = high_water_kb()
result = asyncio.run(predict(data=data, runner=runner, predictor=predictor))
after = high_water_kb()
print(json.dumps({"before_kb": before, "peak_kb": after, "predictor": result["predictor"], "mode": result["mode"]}))
"""


def make_images(folder: Path, side: int) -> dict[str, Path]:
    """Every decode path of imaging.py at side x side: 8-bit RGB PNG, 16-bit RGB PNG, 16-bit grey PNG,
    8-bit grey PNG, palette PNG, RGBA PNG, JPEG (colour and grey)."""
    rng = np.random.default_rng(1)
    ys, xs = np.mgrid[0:side, 0:side]
    grey8 = ((xs + ys) % 256).astype(np.uint8)
    rgb8 = np.stack([grey8, (xs % 256).astype(np.uint8), (ys % 256).astype(np.uint8)], -1)
    rgb8[::97] = rng.integers(0, 256, rgb8[::97].shape, dtype=np.uint8)  # not one flat colour
    paths = {}
    Image.fromarray(rgb8).save(paths.setdefault("png-rgb8", folder / "rgb8.png"), compress_level=1)
    Image.fromarray(np.dstack([rgb8, grey8])).save(paths.setdefault("png-rgba8", folder / "rgba8.png"), compress_level=1)
    Image.fromarray(grey8).save(paths.setdefault("png-grey8", folder / "grey8.png"), compress_level=1)
    grey16 = (grey8.astype(np.uint16) * 257)
    Image.fromarray(grey16).save(paths.setdefault("png-grey16", folder / "grey16.png"), compress_level=1)
    Image.fromarray(rgb8).quantize(64).save(paths.setdefault("png-palette", folder / "palette.png"), compress_level=1)
    Image.fromarray(rgb8).save(paths.setdefault("jpeg-rgb", folder / "rgb.jpg"), quality=90)
    Image.fromarray(grey8).save(paths.setdefault("jpeg-grey", folder / "grey.jpg"), quality=90)
    del grey16, rgb8
    # 16-bit RGB: Pillow writes it only through raw PNG chunks, so write the PNG by hand (zlib, filter 0).
    paths["png-rgb16"] = folder / "rgb16.png"
    _write_png_rgb16(paths["png-rgb16"], side, grey8)
    return paths


def _write_png_rgb16(path: Path, side: int, grey8: np.ndarray) -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    compressor = zlib.compressobj(1)
    parts = []
    for y in range(side):
        row = grey8[y].astype(">u2") * 257
        pixels = np.stack([row, row[::-1], np.full(side, 40000, ">u2")], -1)
        parts.append(compressor.compress(b"\x00" + pixels.tobytes()))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 16, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))


def measure(path: Path, predictor: str, model: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(REPO / "pysrc"), str(path), predictor, str(model)],
                         check=False, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{path.name} ({predictor}): {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=8000)
    parser.add_argument("--model", type=Path, default=REPO / "build" / "models" / "attention_center.onnx")
    parser.add_argument("--only", nargs="*", help="these cases only (png-rgb8, png-rgb16, jpeg-rgb, ...)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        images = make_images(Path(folder), args.side)
        print(f"| file ({args.side}x{args.side}) | predictor | Pillow mode | peak RSS (MB) | after imports (MB) |")
        print("|---|---|---|---|---|")
        for name, path in images.items():
            if args.only and name not in args.only:
                continue
            for predictor in ("model", "fallback"):
                row = measure(path, predictor, args.model)
                print(f"| {name} | {row['predictor']} | {row['mode']} | {row['peak_kb'] / 1024:.0f} | "
                      f"{row['before_kb'] / 1024:.0f} |", flush=True)


if __name__ == "__main__":
    main()
