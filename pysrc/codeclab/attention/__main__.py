"""python -m codeclab.attention predict IMAGE [IMAGE ...] [--model PATH] [--json] [--visualize OUT_DIR]

Predicts where people look first in each image.  ``--model`` takes the
converter's ONNX (default: the one build.py writes, build/models/attention_center.onnx),
upstream's ``center.tflite`` (the TFLite reference), or ``fallback`` for
codeclab's own spectral-residual predictor.  Without an installed model the
fallback is used and every answer says so.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ..errors import CodeclabError
from ..imaging import decode_rgb
from ..onnx_bridge import OnnxRunner
from .predict import MODEL_NAME, Prediction, TfliteCenterRunner, predict_pixels

DEFAULT_MODEL = Path("build") / "models" / f"{MODEL_NAME}.onnx"
_REPO = Path(__file__).resolve().parents[3]


def default_model_path() -> Path | None:
    """build/models/attention_center.onnx under the working directory, else under the checkout."""
    for candidate in (DEFAULT_MODEL, _REPO / DEFAULT_MODEL):
        if candidate.is_file():
            return candidate
    return None


def make_runner(model: str | None, threads: int, with_weights: bool = False):
    """(runner or None, label of the source, note for stderr or None)."""
    if model == "fallback":
        return None, "fallback", None
    if model is None:
        path = default_model_path()
        if path is None:
            return None, "fallback", (f"note: no model at {DEFAULT_MODEL} (run `python3 build.py`); "
                                      "using codeclab's fallback predictor (spectral residual saliency)")
    else:
        path = Path(model)
        if not path.is_file():
            raise CodeclabError(f"--model {model}: no such file")
    if path.suffix == ".tflite":
        return TfliteCenterRunner(path, num_threads=threads, with_weights=with_weights), str(path), None
    return OnnxRunner({MODEL_NAME: path}, num_threads=threads), str(path), None


def visualize(path: Path, pixels, prediction: Prediction, out_dir: Path) -> Path:
    """Write <stem>.attention.png: the image, the heatmap in orange, and the point."""
    import numpy as np
    from PIL import Image, ImageDraw

    rgb = pixels if pixels.dtype == np.uint8 else (pixels // 257).astype(np.uint8)
    image = Image.fromarray(np.ascontiguousarray(rgb))
    scale = min(1.0, 1024 / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.LANCZOS).convert("RGBA")
    if prediction.heatmap is not None and prediction.heatmap_box is not None:
        x0, y0, x1, y1 = (value * scale for value in prediction.heatmap_box)
        heat = (prediction.heatmap * 170).clip(0, 255).astype(np.uint8)
        box_size = (max(1, round(x1 - x0)), max(1, round(y1 - y0)))
        alpha = Image.fromarray(heat).resize(box_size, Image.Resampling.BILINEAR)
        overlay = Image.new("RGBA", box_size, (255, 90, 30, 0))
        overlay.putalpha(alpha)
        layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
        layer.paste(overlay, (round(x0), round(y0)))
        image = Image.alpha_composite(image, layer)
    draw = ImageDraw.Draw(image)
    cx, cy = (prediction.x + 0.5) * scale, (prediction.y + 0.5) * scale
    radius = max(6, round(min(image.size) / 40))
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=(255, 107, 53, 255), width=3)
    draw.line((cx - 2 * radius, cy, cx + 2 * radius, cy), fill=(255, 255, 255, 255), width=1)
    draw.line((cx, cy - 2 * radius, cx, cy + 2 * radius), fill=(255, 255, 255, 255), width=1)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{path.stem}.attention.png"
    image.convert("RGB").save(target)
    return target


def predict_command(args: argparse.Namespace) -> int:
    try:
        runner, source, note = make_runner(args.model, args.threads, with_weights=bool(args.visualize))
    except CodeclabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if note:
        print(note, file=sys.stderr)
    failures = 0
    for name in args.images:
        path = Path(name)
        try:
            started = time.perf_counter()
            data = path.read_bytes()
            image = decode_rgb(data)
            decode_ms = (time.perf_counter() - started) * 1000.0
            prediction = predict_pixels(image.source, runner=runner, predictor="fallback" if runner is None else "model")
        except OSError as err:
            print(f"error: {name}: {err.strerror or err}", file=sys.stderr)
            failures += 1
            continue
        except CodeclabError as err:
            print(f"error: {name}: {err}", file=sys.stderr)
            failures += 1
            continue
        timings = {"decode_ms": decode_ms, **prediction.timings}
        if args.visualize:
            visualize(path, image.pixels, prediction, Path(args.visualize))
        if args.json:
            record = {"path": str(path), "width": prediction.width, "height": prediction.height,
                      "x": round(prediction.x, 3), "y": round(prediction.y, 3), "model": prediction.model,
                      "model_file": source, "frame_x": round(prediction.frame_x, 4),
                      "frame_y": round(prediction.frame_y, 4), "upstream_x": prediction.upstream_x,
                      "upstream_y": prediction.upstream_y,
                      "timings": {key: round(value, 2) for key, value in timings.items()}}
            print(json.dumps(record), flush=True)
        else:
            print(f"{path}: ({prediction.x:.1f}, {prediction.y:.1f}) of {prediction.width}x{prediction.height}"
                  f"  [{prediction.model}]  inference {timings['inference_ms']:.1f} ms", flush=True)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codeclab.attention", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser("predict", help="predict the attention centre of images")
    predict.add_argument("images", nargs="+", metavar="IMAGE")
    predict.add_argument("--model", help="attention_center.onnx, center.tflite, or 'fallback' "
                         f"(default: {DEFAULT_MODEL} if present, else the fallback)")
    predict.add_argument("--json", action="store_true", help="one JSON object per line")
    predict.add_argument("--visualize", metavar="OUT_DIR", help="write <name>.attention.png with the point and heatmap")
    predict.add_argument("--threads", type=int, default=1, help="inference threads (default 1)")
    args = parser.parse_args(argv)
    return predict_command(args)


if __name__ == "__main__":
    sys.exit(main())
