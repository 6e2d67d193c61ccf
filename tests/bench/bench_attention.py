"""Attention center: per-image inference (browser wasm single/multi-thread, CPython onnxruntime,
TFLite reference) and Pyodide preprocessing of a 12 MP image."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

RUNS = 5
REPO = Path(__file__).resolve().parents[2]
ONNX = REPO / "build" / "models" / "attention_center.onnx"


def _images(ctx) -> list[np.ndarray]:
    from codeclab.imaging import decode_rgb

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8), rng.integers(0, 256, (900, 600, 3), dtype=np.uint8)]
    if ctx.upstream is not None:
        bee = ctx.upstream / "attention-center" / "white_eyes_bee.jpg"
        if bee.is_file():
            images.insert(0, decode_rgb(bee.read_bytes()).pixels)
    return images


def _cpython_median(runner, frames, runs: int) -> float:
    from codeclab.attention.predict import INPUT_NAME, MODEL_NAME

    times = []
    for frame in frames:
        runner.run_sync(MODEL_NAME, {INPUT_NAME: frame})  # warm-up
        for _ in range(runs):
            started = time.perf_counter()
            runner.run_sync(MODEL_NAME, {INPUT_NAME: frame})
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


PAGE_PREPROCESS = """async (runs) => {
    const app = window.codeclab, w = 4000, h = 3000, times = [];
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < rgba.length; i += 4099) rgba[i] = i & 255;
    for (let i = 0; i < runs; i++) {
      const r = await app.python.call("attention.predict", { rgba: rgba.slice(), width: w, height: h, predictor: "fallback" });
      times.push(r.timings.preprocess_ms);
    }
    times.sort((a, b) => a - b); return times[Math.floor(times.length / 2)];
}"""

PAGE_INFERENCE = """async (runs) => {
    const app = window.codeclab, times = [];
    const w = 1280, h = 720, rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < rgba.length; i++) rgba[i] = (i * 2654435761) >>> 24;
    for (let i = 0; i <= runs; i++) {
      const r = await app.python.call("attention.predict", { rgba: rgba.slice(), width: w, height: h, predictor: "model" });
      if (i > 0) times.push(r.timings.inference_ms);
    }
    times.sort((a, b) => a - b); return times[Math.floor(times.length / 2)];
}"""


def _ratio(Row, what: str, page_ms: float, reference_ms: float | None, reference: str, goal: str):
    if reference_ms is None:
        return Row("attention", what, "–", f"no {reference} figure in this run")
    return Row("attention", what, f"{page_ms / reference_ms:.2f}",
               f"{page_ms:.0f} ms in the page ÷ {reference_ms:.0f} ms {reference}, same run; goal {goal}")


def _browser_rows(ctx, Row, reference: dict) -> list:
    """The page on each host; each figure also divided by its CPython reference from the same run."""
    rows = []
    runs = ctx.runs(RUNS)
    browser = ctx.browser()
    from conftest import open_app

    has_model = (ctx.dist / "models" / "attention_center.onnx").exists()
    # The app picks cores - 1 threads by itself (1 on a 2-core machine); ?threads=2 forces two.
    for label, url in (("2 threads (cross-origin isolated, ?threads=2)", ctx.site_url + "?threads=2"),
                       ("default threads (cross-origin isolated)", ctx.site_url),
                       ("single-threaded (plain host)", ctx.plain_url)):
        page, _ = open_app(browser, url)
        threads = page.evaluate("window.codeclab.runtime.threads")
        if has_model:
            ms = page.evaluate(PAGE_INFERENCE, runs)
            rows.append(Row("attention", f"browser inference, wasm {label}", f"{ms:.0f} ms",
                            f"median of {runs} after warm-up, onnxruntime-web, {threads} thread(s), 1280x720 input"))
            rows.append(_ratio(Row, f"browser inference ÷ CPython onnxruntime, {label}", ms, reference.get("inference"),
                               "CPython onnxruntime", "≤ 1.2"))
        else:
            rows.append(Row("attention", f"browser inference, wasm {label}", "–", "dist/models/attention_center.onnx not built"))
        if url == ctx.site_url:  # the default page
            preprocess_runs = ctx.runs(3)
            ms = page.evaluate(PAGE_PREPROCESS, preprocess_runs)
            rows.append(Row("attention", "Pyodide preprocessing, 12 MP (4000x3000) -> 640x480", f"{ms:.0f} ms",
                            f"median of {preprocess_runs}: TensorFlow-exact bicubic antialias resize_with_pad in numpy (wasm)"))
            rows.append(_ratio(Row, "Pyodide preprocessing ÷ CPython preprocessing, 12 MP", ms, reference["preprocess"],
                               "CPython numpy", "≤ 1.5"))
        page.context.close()
    return rows


def rows(ctx):
    from tests.bench.run import Row

    sys.path.insert(0, str(REPO / "pysrc"))
    from codeclab.attention.predict import TfliteCenterRunner
    from codeclab.attention.preprocess import model_input
    from codeclab.onnx_bridge import OnnxRunner

    results, reference = [], {}
    runs = ctx.runs(RUNS)
    frames = [model_input(image)[0] for image in _images(ctx)]
    big = np.random.default_rng(1).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
    times = []
    for _ in range(ctx.runs(3)):
        started = time.perf_counter()
        model_input(big)
        times.append((time.perf_counter() - started) * 1000)
    reference["preprocess"] = statistics.median(times)
    results.append(Row("attention", "CPython preprocessing, 12 MP -> 640x480", f"{reference['preprocess']:.0f} ms",
                       f"median of {len(times)}, numpy"))
    if ONNX.is_file():
        reference["inference"] = _cpython_median(OnnxRunner({"attention_center": ONNX}), frames, runs)
        results.append(Row("attention", "CPython onnxruntime inference", f"{reference['inference']:.1f} ms",
                           f"median, {len(frames)} images x {runs}, 1 thread"))
    else:
        results.append(Row("attention", "CPython onnxruntime inference", "–", "build/models/attention_center.onnx not built"))
    tflite = ctx.upstream / "attention-center" / "center.tflite" if ctx.upstream else None
    if tflite is not None and tflite.is_file():
        ms = _cpython_median(TfliteCenterRunner(tflite), frames, runs)
        results.append(Row("attention", "CPython TFLite inference (reference)", f"{ms:.1f} ms",
                           f"median, {len(frames)} images x {runs}, ai-edge-litert + XNNPACK, 1 thread"))
    else:
        results.append(Row("attention", "CPython TFLite inference (reference)", "–", "upstream center.tflite not found"))
    results.extend(_browser_rows(ctx, Row, reference))
    return results
