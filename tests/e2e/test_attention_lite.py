"""The lite (RigL) attention model in Chromium: offered beside the full one, same answer as CPython, both shown."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.attention.helpers import blob_picture
from tests.needs import missing

from .test_attention import drop

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lite")
    blob_picture(640, 400, 11, spread=0.08).save(folder / "wide.png")
    blob_picture(300, 500, 12, spread=0.08).save(folder / "tall.png")
    return [folder / "wide.png", folder / "tall.png"]


def _cpython_lite(dist, path):
    """The same file through the same Python service in CPython onnxruntime, on dist's model files."""
    from codeclab.attention import lite, service
    from codeclab.onnx_bridge import OnnxRunner

    runner = OnnxRunner(models={"attention_lite": dist / "models" / "attention_lite.onnx",
                                "attention_center": dist / "models" / "attention_center.onnx"})
    saved = dict(lite._weights)
    try:
        service.set_lite_weights((dist / "models" / "attention_lite.rigl").read_bytes())
        work = service.predict(data=path.read_bytes(), name=path.name, runner=runner, models="both")
        with ThreadPoolExecutor(1) as pool:  # Playwright's sync API already runs an event loop in this thread
            return pool.submit(asyncio.run, work).result()
    finally:
        lite._weights.clear()
        lite._weights.update(saved)


def _drop(page, paths, models):
    """test_attention's drop with the model choice; every picture must give a result."""
    drop(page, paths, models, control="attention-models")
    assert page.inner_text('[data-testid="attention-error"]').strip() == ""


def test_lite_model_beside_the_full_one(app_page, dist, pictures):
    index = json.loads((dist / "models" / "index.json").read_text()) if (dist / "models" / "index.json").exists() else {}
    if "attention_lite" not in index:
        missing(f"{dist}/models has no attention_lite (the build writes it with the upstream models)")
    manifest = json.loads((dist / "models" / "manifest.json").read_text())
    entry = next(m for m in manifest["models"] if m["name"] == "attention_lite")
    full = next(m for m in manifest["models"] if m["name"] == "attention_center")
    assert entry["bytes"] + entry["weights_bytes"] < full["bytes"] / 8  # the point of RigL: a fraction of the download
    page, watch = app_page
    page.click('[data-testid="tab-attention"]')
    page.wait_for_selector('[data-testid="attention-model"][data-lite]', timeout=120_000)
    label = page.get_attribute('[data-testid="attention-model"]', "data-lite")
    assert "RigL" in label and "% sparse" in label
    options = page.eval_on_selector_all('[data-testid="attention-models"] option', "os => os.map(o => o.value)")
    assert options == ["both", "full", "lite"]

    _drop(page, pictures, "both")
    shots = page.locator(".attention-shot")
    assert page.locator(".attention-shot .attention-marker-lite").count() == 2
    for i, path in enumerate(pictures):
        caption = shots.nth(i).inner_text()
        assert label in caption and "px from the full model's centre" in caption
        assert "KB vs" in caption and "MB" in caption  # both sizes shown
        expected = _cpython_lite(dist, path)
        x, y = float(shots.nth(i).get_attribute("data-x")), float(shots.nth(i).get_attribute("data-y"))
        # the full model's centre: the converter's parity bar in the page is 0.5 model-frame px
        assert abs(x - expected["x"]) < 1.0 and abs(y - expected["y"]) < 1.0
    last = json.loads(page.get_attribute('[data-testid="attention-result"]', "data-result"))
    expected = _cpython_lite(dist, pictures[-1])
    assert last["lite"]["model"] == label
    assert abs(last["lite"]["x"] - expected["lite"]["x"]) < 0.5 and abs(last["lite"]["y"] - expected["lite"]["y"]) < 0.5
    assert abs(last["lite"]["distance"] - expected["lite_distance"]) < 1.0
    assert 0 < last["lite"]["ms"] < 5000 and last["ms"] > 0  # timings: measured, bounded (shared machine)

    assert label in page.inner_text('[data-testid="attention-model"]')  # still said after the runs
    _drop(page, pictures[:1], "lite")
    last = json.loads(page.get_attribute('[data-testid="attention-result"]', "data-result"))
    assert last["predictor"] == "lite" and last["model"] == label and last["lite"] is None
    assert label in page.locator(".attention-shot").last.inner_text()
    assert watch.foreign_requests() == []
