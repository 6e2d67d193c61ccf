"""Attention-first JPEG XL, CPython rows: codeclab.jxl reorder of a ~3 MB file vs `cjxl` re-encoding
the same image with a centre (the only other way to get that order), and bytes until the group under
the attention centre is complete, scanline vs attention-first, on skimage sample images.

The Pyodide rows (the same calls in the page) are in bench_jxl_browser.py.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

RUNS = 5
TARGET_BYTES = 3_000_000
SAMPLE_IMAGES = ("astronaut", "coffee", "chelsea", "rocket", "camera", "hubble_deep_field",
                 "immunohistochemistry", "retina", "colorwheel", "coins", "moon", "clock")


def _timed(fn, runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times), times


def _large_png(path: Path) -> None:
    """A ~10 MP photo-like image (tiled astronaut + mild noise) that encodes to about 3 MB."""
    from PIL import Image
    from skimage import data

    astro = data.astronaut()
    tiles = np.tile(astro, (6, 8, 1))[:2900, :3900]
    noise = np.random.default_rng(3).integers(-6, 7, tiles.shape)
    Image.fromarray(np.clip(tiles.astype(np.int16) + noise, 0, 255).astype(np.uint8)).save(path)


def _encode(cjxl: str, src: Path, dst: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([cjxl, str(src), str(dst), *args], check=True, capture_output=True)
    return (time.perf_counter() - start) * 1000.0


def _encode_near(cjxl: str, src: Path, dst: Path, target: int) -> str:
    """The distance (tried coarse to fine) whose output is closest to ``target`` bytes."""
    best = None
    for distance in ("0.3", "0.5", "0.8", "1.2", "2"):
        _encode(cjxl, src, dst, "-d", distance, "-e", "3")
        size = dst.stat().st_size
        if best is None or abs(size - target) < abs(best[1] - target):
            best = (distance, size)
    _encode(cjxl, src, dst, "-d", best[0], "-e", "3")
    return best[0]


def _predictor(ctx):
    """(predict(pixels) -> (x, y), label): upstream center.tflite when present, else the fallback."""
    from codeclab.attention.predict import TfliteCenterRunner, predict_pixels

    model = ctx.upstream / "attention-center" / "center.tflite" if ctx.upstream else None
    runner = TfliteCenterRunner(model) if model and model.is_file() else None
    label = "upstream center.tflite" if runner else "codeclab fallback saliency (no upstream model)"

    def predict(pixels):
        p = predict_pixels(pixels, runner=runner, predictor="model" if runner else "fallback")
        return p.x, p.y

    return predict, label


def _bytes_to_center_rows(Row, cjxl: str, tmp: Path, ctx) -> list:
    from PIL import Image
    from skimage import data

    from codeclab.jxl import service

    predict, label = _predictor(ctx)
    rows, ratios = [], []
    for name in SAMPLE_IMAGES[:2] if ctx.quick else SAMPLE_IMAGES:
        image = getattr(data, name)()
        if image.ndim == 2:
            image = np.stack([image] * 3, axis=-1)
        image = image[..., :3]
        if image.dtype != np.uint8:
            image = (255 * (image - image.min()) / max(np.ptp(image), 1e-9)).astype(np.uint8)
        # test images are small; upscale to at least 1024 px on the short side so there are several groups
        scale = max(1, int(np.ceil(1024 / min(image.shape[:2]))))
        big = Image.fromarray(image).resize((image.shape[1] * scale, image.shape[0] * scale), Image.BICUBIC)
        png, jxl = tmp / f"{name}.png", tmp / f"{name}.jxl"
        big.save(png)
        _encode(cjxl, png, jxl, "-d", "1", "-e", "3", "--group_order=0")
        scan = jxl.read_bytes()
        x, y = predict(np.asarray(big))
        attention = service.reorder(scan, center=[x, y])["data"]
        first = service.load_plan(attention, [x, y])["bytes_to_center"]
        scanline = service.load_plan(scan, [x, y])["bytes_to_center"]
        ratios.append(scanline / first)
        rows.append(Row("jxl", f"bytes to centre: {name} {big.width}x{big.height}",
                        f"{first:,} vs {scanline:,} B",
                        f"attention-first vs scanline at ({x:.0f},{y:.0f}); ratio {scanline / first:.2f}; total {len(scan):,} B"))
    rows.append(Row("jxl", "bytes to centre, median ratio scanline / attention-first",
                    f"{statistics.median(ratios):.2f}",
                    f"{len(ratios)} skimage images, cjxl -d 1 -e 3, centre by {label}; "
                    f"min {min(ratios):.2f}, max {max(ratios):.2f}"))
    return rows


def rows(ctx):
    from codeclab.jxl import service
    from tests.bench.run import Row

    cjxl = shutil.which("cjxl")
    if cjxl is None:
        return [Row("jxl", "CPython reorder benchmark", "skipped", "cjxl not installed (apt-get install libjxl-tools)")]
    out = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        png, jxl = tmp / "large.png", tmp / "large.jxl"
        _large_png(png)
        distance = _encode_near(cjxl, png, jxl, TARGET_BYTES)
        data = jxl.read_bytes()
        info = service.inspect(data)
        center = [info["width"] * 0.3, info["height"] * 0.6]
        size_note = (f"{len(data) / 1e6:.2f} MB, {info['width']}x{info['height']}, "
                     f"{info['frames'][0]['num_groups']} groups, cjxl -d {distance} -e 3")
        runs = ctx.runs(RUNS)
        t_inspect, _ = _timed(lambda: service.inspect(data), runs)
        t_reorder, times = _timed(lambda: service.reorder_bytes(data, center), runs)
        t_plan, _ = _timed(lambda: service.load_plan(data, center), runs)
        out.append(Row("jxl", "CPython inspect (~3 MB JXL)", f"{t_inspect:.1f} ms", size_note))
        out.append(Row("jxl", "CPython reorder around a centre (~3 MB JXL)", f"{t_reorder:.1f} ms",
                       f"median of {runs}; min {min(times):.1f}, max {max(times):.1f}; lossless, no re-encode"))
        out.append(Row("jxl", "CPython load_plan (~3 MB JXL)", f"{t_plan:.1f} ms", f"median of {runs}"))
        cx, cy = int(center[0]), int(center[1])
        enc = [_encode(cjxl, png, tmp / "re.jxl", "-d", distance, "-e", "3", "--group_order=1",
                       f"--center_x={cx}", f"--center_y={cy}") for _ in range(ctx.runs(3, 1))]
        out.append(Row("jxl", "cjxl re-encode with that centre (same image)", f"{statistics.median(enc):.0f} ms",
                       f"median of {len(enc)}; -d {distance} -e 3 --group_order=1, 2 threads; "
                       f"{statistics.median(enc) / t_reorder:.0f}x the reorder time"))
        out.extend(_bytes_to_center_rows(Row, cjxl, tmp, ctx))
    return out


if __name__ == "__main__":  # quick look without the browser runner: python3 -m tests.bench.bench_jxl
    from tests.bench.run import REPO, Context, print_table

    upstream = REPO.parent / "shared" / "upstream"
    print_table(rows(Context(dist=REPO / "dist", upstream=upstream if upstream.is_dir() else None)))
