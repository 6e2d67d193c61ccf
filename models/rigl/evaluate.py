"""The held-out table: every trained student, through the code that ships, against the teacher.

    python3 -m models.rigl.evaluate            # writes docs/rigl/results.json (+ the runs' histories)

Each student is packed exactly as the page downloads it (nonzeros as float16 +
bitmask, zlib), unpacked by ``codeclab.attention.lite``, and run as the
hand-built ONNX graph in CPython onnxruntime through ``predict_lite_pixels`` —
the page's own prediction path — on the held-out images (photos never used in
training, augmented).  Centre error is the distance to the teacher's centre in
the 640x480 frame.  Also measured: the trivial "image centre" predictor, the
teacher's own size, and per-image inference time in CPython onnxruntime (one
thread); the page's onnxruntime-web times come from tests/bench or the e2e test.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np

from .data import HELD_OUT, REPO, Samples, cached_split, split_images
from .export import build_graph, pack_run
from .train import HELD_COUNT, HELD_SEED, MODEL_DIR, RUNS

RESULTS = REPO / "docs" / "rigl" / "results.json"
ORDER = ["dense", "rigl80", "rigl90", "rigl95", "set90", "static90", "set95", "static95", "rigl90-long", "rigl90-wall",
         "rigl90-wide", "rigl90-consensus", "rigl90-wide-consensus", "wide-dense", "wide-rigl80", "wide-rigl90",
         "wide-rigl95", "wide-rigl90-gc", "wide-rigl95-gc", "wide-set95-gc", "wide-static95-gc", "wide-dense-gc"]


def held_out_images(samples: Samples) -> list[np.ndarray]:
    """The held-out images again (the generator is seeded), checked against the labelled cache."""
    images, _, _ = split_images("held", HELD_COUNT, HELD_SEED)
    sizes = np.array([(image.shape[1], image.shape[0]) for image in images])
    if not np.array_equal(sizes, samples.sizes):
        raise RuntimeError("regenerated held-out images differ from the labelled cache: delete .cache/rigl")
    return images


def errors_of(predictions: list[tuple[float, float]], samples: Samples) -> np.ndarray:
    return np.hypot(*(np.asarray(predictions, np.float64) - samples.centre_big.astype(np.float64)).T)


def centre_baseline(samples: Samples) -> list[tuple[float, float]]:
    import codeclab.attention.geometry as geometry
    from codeclab.attention.preprocess import pad_geometry

    return [geometry.original_to_frame((w - 1) / 2, (h - 1) / 2, pad_geometry(int(w), int(h))) for w, h in samples.sizes]


def evaluate_student(packed: bytes, images: list[np.ndarray]) -> tuple[list[tuple[float, float]], float]:
    from codeclab.attention import lite
    from codeclab.onnx_bridge import OnnxRunner

    weights = lite.unpack(packed)
    graph = build_graph({name: list(t.shape) for name, t in weights.tensors.items()},
                        weights.meta.get("architecture", "base")).SerializeToString()
    runner = OnnxRunner(models={lite.LITE_MODEL_NAME: graph}, num_threads=1)
    points, times = [], []
    for image in images:
        prediction = asyncio.run(lite.predict_lite_pixels(image, runner, weights))
        points.append((prediction.frame_x, prediction.frame_y))
        times.append(prediction.timings["inference_ms"])
    return points, float(np.median(times[1:]))


def teacher_time(images: list[np.ndarray], count: int = 12) -> float:
    from codeclab.attention.predict import predict_pixels
    from codeclab.onnx_bridge import OnnxRunner

    runner = OnnxRunner(model_dir=MODEL_DIR, num_threads=1)
    times = [predict_pixels(image, runner, "model").timings["inference_ms"] for image in images[:count]]
    return float(np.median(times[1:]))


SELF_VIEWS = {"mirrored": (True, 0.0, 0.0, 0.0, 0.0), "2 % off the left": (False, 0.02, 0.0, 0.0, 0.0),
              "2 % off the right": (False, 0.0, 0.0, 0.02, 0.0)}


def teacher_self_disagreement(images: list[np.ndarray], samples: Samples) -> dict:
    """The quality bar's yardstick, summarised (``teacher_view_errors``)."""
    return bar_summary(teacher_view_errors(images, samples))


def bar_summary(view_errors: dict[str, np.ndarray]) -> dict:
    """Median / p90 over every image and view, and per view."""
    every = np.concatenate(list(view_errors.values()))
    return {**summary(every), "views": {name: summary(e) for name, e in view_errors.items()}}


def teacher_view_errors(images: list[np.ndarray], samples: Samples) -> dict[str, np.ndarray]:
    """How far the teacher's centre moves, on the held-out images, when the photo is mirrored or loses 2 % of its
    width: views a viewer does not tell apart, whose salient thing is the same.  Each view's centre is mapped
    back onto the photo and into its 640x480 frame, then compared with the teacher's centre on the photo itself.
    This is the quality bar's yardstick: a lite centre no farther from the full model's than the full model's
    own centre moves with such a view is as good as the full model's own framing-to-framing agreement."""
    from codeclab.attention.geometry import original_to_frame
    from codeclab.attention.preprocess import pad_geometry
    from codeclab.onnx_bridge import OnnxRunner

    from .data import TEACHER_HEIGHT, TEACHER_WIDTH, view_centre

    runner = OnnxRunner(model_dir=MODEL_DIR, num_threads=1)
    errors = {name: [] for name in SELF_VIEWS}
    for image, own in zip(images, samples.centre_big.astype(np.float64)):
        h, w = image.shape[:2]
        for name, view in SELF_VIEWS.items():
            (x, y), _, _ = view_centre(image, view, runner)
            point = original_to_frame(x, y, pad_geometry(w, h, TEACHER_WIDTH, TEACHER_HEIGHT))
            errors[name].append(float(np.hypot(point[0] - own[0], point[1] - own[1])))
    return {name: np.asarray(e) for name, e in errors.items()}


def summary(errors: np.ndarray) -> dict:
    return {"median_px": round(float(np.median(errors)), 1), "p90_px": round(float(np.percentile(errors, 90)), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m models.rigl.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--fresh", action="store_true",
                        help="drop the rows of students not in .cache/rigl/runs (default: keep them from --out)")
    args = parser.parse_args(argv)
    import torch

    from codeclab.attention import lite

    torch.set_num_threads(1)
    samples = cached_split("held", HELD_COUNT, HELD_SEED, MODEL_DIR)
    images = held_out_images(samples)
    teacher_file = MODEL_DIR / "attention_center.onnx"
    teacher_bytes = teacher_file.read_bytes()
    rows = [{"name": "teacher (full)", "kind": "teacher", "median_px": 0.0, "p90_px": 0.0,
             "download_bytes": len(teacher_bytes), "download_gzip_bytes": len(gzip.compress(teacher_bytes, 9)),
             "cpython_ms": round(teacher_time(images), 2)},
            {"name": "image centre", "kind": "baseline", **summary(errors_of(centre_baseline(samples), samples)),
             "download_bytes": 0}]
    bar = teacher_self_disagreement(images, samples)
    print(f"teacher vs itself (mirrored, 2 % cropped): median {bar['median_px']} px, p90 {bar['p90_px']} px",
          file=sys.stderr)
    records = {}
    from .student import Student

    shapes = {k: tuple(v.shape) for k, v in Student().state_dict().items()}
    for name in ORDER:
        path = RUNS / f"{name}.pt"
        if not path.is_file():
            continue
        run = torch.load(path, weights_only=False)
        if {k: tuple(v.shape) for k, v in run["state_dict"].items()} != shapes:
            print(f"{name}: trained with an earlier architecture.py, its row is kept from {args.out.name}",
                  file=sys.stderr)
            continue
        packed = pack_run(run)
        (RUNS.parent / "packed").mkdir(parents=True, exist_ok=True)
        (RUNS.parent / "packed" / f"{name}.rigl").write_bytes(packed)  # for tests/bench/bench_attention_lite.py
        points, ms = evaluate_student(packed, images)
        errors = errors_of(points, samples)
        record = run["record"]
        records[name] = record
        unpacked = lite.unpack(packed)
        graph_bytes = len(build_graph({k: list(v.shape) for k, v in unpacked.tensors.items()},
                                      unpacked.meta.get("architecture", "base")).SerializeToString())
        rows.append({"name": name, "kind": record["method"], "sparsity": round(record["sparsity"], 3),
                     **summary(errors), "download_bytes": len(packed) + graph_bytes, "weights_bytes": len(packed),
                     "vs_consensus_median_px": round(float(np.median(
                         np.hypot(*(np.asarray(points) - samples.consensus_big.astype(np.float64)).T))), 1),
                     "target": record.get("target", "teacher"), "architecture": record.get("architecture", "base"),
                     "graph_bytes": graph_bytes, "cpython_ms": round(ms, 2),
                     "per_photo_median_px": {HELD_OUT[p]: round(float(np.median(errors[samples.photo == p])), 1)
                                             for p in range(len(HELD_OUT))},
                     "train_seconds": round(record["train_seconds"]), "steps": record["steps"],
                     "train_photos": record.get("train_photos", 20), "train_images": record.get("train_images", 3000),
                     "parameters": int(sum(v.numel() for k, v in run["state_dict"].items()
                                           if k.endswith(("conv.weight", "conv.bias", "norm.weight", "norm.bias"))))})
        print(f"{name:9s} sparsity {record['sparsity']:.3f}  median {rows[-1]['median_px']:6.1f}  "
              f"p90 {rows[-1]['p90_px']:6.1f}  {len(packed) / 1024:7.1f} KiB  {ms:.2f} ms", file=sys.stderr)
    if not args.fresh and args.out.is_file():  # students trained earlier (their .pt no longer here) keep their rows
        old = json.loads(args.out.read_text())
        old_runs = json.loads((args.out.parent / "runs.json").read_text())
        done = {row["name"] for row in rows}
        kept = [row for row in old["rows"] if row["name"] not in done and row["kind"] not in ("teacher", "baseline")]
        rows += kept
        records.update({row["name"]: old_runs[row["name"]] for row in kept if row["name"] in old_runs})
        rank = {name: i for i, name in enumerate(["teacher (full)", "image centre", *ORDER])}
        rows.sort(key=lambda row: rank.get(row["name"], len(rank)))
        records = {name: records[name] for name in sorted(records, key=lambda n: rank.get(n, len(rank)))}
    result = {"held_out_photos": list(HELD_OUT), "held_out_images": len(samples), "rows": rows,
              "teacher_self_disagreement": bar,
              "teacher_vs_consensus": summary(np.hypot(*(samples.centre_big - samples.consensus_big).T)),
              "measured": time.strftime("%Y-%m-%d", time.gmtime())}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    (args.out.parent / "runs.json").write_text(json.dumps(records, indent=1))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
