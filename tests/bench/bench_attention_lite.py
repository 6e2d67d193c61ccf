"""Attention, full vs lite (RigL): per-image time in onnxruntime-web in the page (default threads).

Each row is the median over the same 1280x720 image: ``inference`` is Python's timer around the model
call (worker round trip and tensor transfer included: the lite model's weights are inputs, sent with
every run), ``session.run`` the worker's own timer inside onnxruntime-web.  Every packed student in
``.cache/rigl/packed/`` (written by ``python3 -m models.rigl.evaluate``) is timed too, installed through
the page's own ``attention.set_lite_weights``.
"""

from __future__ import annotations

from pathlib import Path

RUNS = 7
REPO = Path(__file__).resolve().parents[2]
PACKED = REPO / ".cache" / "rigl" / "packed"

_MEASURE = """async ([models, runs]) => {
    const app = window.codeclab, w = 1280, h = 720, rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < rgba.length; i++) rgba[i] = (i * 2654435761) >>> 24;
    const times = [];
    for (let i = 0; i <= runs; i++) {
      if (i === 1) await app.python.call("worker.model_timings");  // clears them after the warm-up
      const r = await app.python.call("attention.predict", { rgba: rgba.slice(), width: w, height: h, models });
      if (i > 0) times.push(r.timings.inference_ms);
    }
    const inside = await app.python.call("worker.model_timings");
    const median = (list) => { const s = [...list].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
    const name = models === "lite" ? "attention_lite" : "attention_center";
    return { inference: median(times), session: inside[name] ? median(inside[name]) : null };
}"""


def measure(page, models: str, runs: int) -> dict:
    return page.evaluate(_MEASURE, [models, runs])


def rows(ctx):
    from tests.bench.run import Row

    browser = ctx.browser()  # also puts tests/e2e (conftest.open_app) on the path
    from conftest import open_app

    dist_models = ctx.dist / "models"
    if not (dist_models / "attention_lite.onnx").exists():
        return [Row("attention", "lite vs full in the page", "–", "dist has no attention_lite (build with --upstream)")]
    page, _ = open_app(browser, ctx.site_url)
    results = []
    try:
        from codeclab.attention import lite as lite_weights

        def architecture(data: bytes) -> str:
            return lite_weights.unpack(data).meta.get("architecture", "base")

        shipped = (dist_models / "attention_lite.rigl").read_bytes()
        # the page's graph is the shipped student's layer list: only students of that architecture fit it
        students = [("shipped", shipped)]
        students += [(path.stem, path.read_bytes()) for path in sorted(PACKED.glob("*.rigl"))
                     if architecture(path.read_bytes()) == architecture(shipped)]
        full = measure(page, "full", ctx.runs(RUNS))
        results.append(Row("attention", "full model, in the page", f"{full['inference']:.1f} ms",
                           f"session.run {full['session']:.1f} ms; median of {ctx.runs(RUNS)}, 1280x720"))
        for name, data in students:
            info = page.evaluate("async (data) => window.codeclab.python.call('attention.set_lite_weights', "
                                 "{ data: new Uint8Array(data) })", list(data))
            lite = measure(page, "lite", ctx.runs(RUNS))
            results.append(Row("attention", f"lite {name} ({info['label']}), in the page", f"{lite['inference']:.1f} ms",
                               f"session.run {lite['session']:.1f} ms; {len(data)} B packed weights"))
    finally:
        page.context.close()
    return results
