"""The TFLite → ONNX converter: conversion time, ONNX sizes, and per-frame time of the Lyra models in
CPython onnxruntime against the TFLite interpreter (XNNPACK), one thread each."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
FRAMES = 300


def _per_frame_ms(step, frames: list[np.ndarray]) -> float:
    for x in frames[:20]:
        step(x)
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        for x in frames:
            step(x)
        runs.append((time.perf_counter() - started) * 1000 / len(frames))
    return statistics.median(runs)


def rows(ctx):
    from tests.bench.run import Row

    if ctx.upstream is None:
        return [Row("converter", "conversion", "skipped", "no upstream files (set CODECLAB_UPSTREAM)")]
    sys.path.insert(0, str(REPO))
    import onnxruntime as ort

    from codeclab.lyra.models import MODEL_IO, StatefulModel, TfliteRunner
    from codeclab.onnx_bridge import OnnxRunner
    from models.build_models import load_manifests
    from models.tflite2onnx import convert

    results = []
    converted = {}
    for manifest in load_manifests():
        if manifest.get("kind") == "codebooks":
            continue
        source = ctx.upstream / manifest["source"]["file"]
        started = time.perf_counter()
        model = convert(source, name=manifest["name"], input_names=manifest["rename_inputs"],
                        output_names=manifest["rename_outputs"], extra_outputs=manifest["extra_outputs"])
        seconds = time.perf_counter() - started
        converted[manifest["name"]] = (model, source)
        size = len(model.model.SerializeToString())
        nodes = len(model.model.graph.node)
        transposes = sum(n.op_type == "Transpose" for n in model.model.graph.node)
        results.append(Row("converter", f"{manifest['name']}: convert", f"{seconds * 1000:.0f} ms",
                           f"{source.stat().st_size / 1e6:.2f} MB tflite -> {size / 1e6:.2f} MB onnx, "
                           f"{nodes} nodes, {transposes} Transpose"))

    rng = np.random.default_rng(3)
    count = ctx.runs(FRAMES, 30)
    frames = {"soundstream_encoder": [(0.1 * rng.standard_normal((1, 320))).astype(np.float32) for _ in range(count)],
              "lyragan": [rng.standard_normal((1, 1, 64)).astype(np.float32) for _ in range(count)]}
    for name, inputs in frames.items():
        model, source = converted[name]
        in_name = MODEL_IO[name][0]
        # the codec's own path: StatefulModel over codeclab's OnnxRunner, against its TFLite runner
        stream = StatefulModel(OnnxRunner({name: model.model.SerializeToString()}), name, model.state_init())
        tflite = TfliteRunner(source.parent, num_threads=1)
        onnx_ms = _per_frame_ms(lambda x, stream=stream, in_name=in_name: stream.step({in_name: x}), inputs)
        tflite_ms = _per_frame_ms(lambda x, name=name, in_name=in_name, tflite=tflite: tflite.run_sync(name, {in_name: x}),
                                  inputs)
        results.append(Row("converter", f"{name}: ms per 20 ms frame, CPython", f"{onnx_ms:.3f} ms",
                           f"onnxruntime {ort.__version__}, 1 thread; TFLite interpreter {tflite_ms:.3f} ms "
                           f"(x{onnx_ms / tflite_ms:.1f})"))
    return results
