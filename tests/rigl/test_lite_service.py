"""The page's lite path in CPython: attention.set_lite_weights + attention.predict(models=lite|both)."""

from __future__ import annotations

import asyncio
import io
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from codeclab.attention import lite, service
from codeclab.errors import CodeclabError, ModelUnavailableError
from codeclab.onnx_bridge import OnnxRunner
from models.rigl.export import CHECKPOINT, build_graph
from tests.needs import missing

REPO = Path(__file__).resolve().parents[2]
FULL_MODEL = REPO / "build" / "models" / "attention_center.onnx"


@pytest.fixture
def packed() -> bytes:
    if not CHECKPOINT.is_file():
        pytest.fail(f"{CHECKPOINT} is committed with the repository and must exist")
    return CHECKPOINT.read_bytes()


@pytest.fixture
def runner(packed):
    weights = lite.unpack(packed)
    graph = build_graph({name: list(t.shape) for name, t in weights.tensors.items()},
                        weights.meta.get("architecture", "base")).SerializeToString()
    models = {lite.LITE_MODEL_NAME: graph}
    if FULL_MODEL.is_file():
        models["attention_center"] = FULL_MODEL
    return OnnxRunner(models=models)


@pytest.fixture(autouse=True)
def no_installed_weights(monkeypatch):
    monkeypatch.setattr(lite, "_weights", {})


def _jpeg(width=300, height=200) -> bytes:
    yy, xx = np.mgrid[0:height, 0:width]
    disc = np.exp(-((xx - 0.7 * width) ** 2 + (yy - 0.3 * height) ** 2) / (2 * 20.0 ** 2))
    pixels = np.clip(30 + 220 * disc[..., None] * np.array([1.0, 0.9, 0.6]) + 10 * (xx[..., None] % 7), 0, 255)
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def test_committed_checkpoint_is_small_and_sparse(packed):
    weights = lite.unpack(packed)
    assert len(packed) < 300 * 1024
    sparse = [t for name, t in weights.tensors.items() if name.endswith(".weight")]
    zeros = sum(int((t == 0).sum()) for t in sparse) / sum(t.size for t in sparse)
    assert abs(zeros - weights.sparsity) < 0.005
    assert f"{round(100 * weights.sparsity)} % sparse" in weights.label


def test_lite_prediction_through_the_service(packed, runner):
    info = service.set_lite_weights(packed)
    assert info["bytes"] == len(packed) and "RigL" in info["label"]
    assert service.status(runner)["lite"] == info["label"]
    result = asyncio.run(service.predict(data=_jpeg(), name="disc.jpg", runner=runner, models="lite"))
    assert result["predictor"] == "lite" and result["model"] == info["label"]
    assert 0 <= result["x"] < 300 and 0 <= result["y"] < 200
    assert result["heatmap"].ndim == 2 and result["timings"]["inference_ms"] > 0


def test_both_models_side_by_side(packed, runner):
    if not FULL_MODEL.is_file():
        missing(f"{FULL_MODEL} not built yet (python3 build.py)")
    service.set_lite_weights(packed)
    result = asyncio.run(service.predict(data=_jpeg(), name="disc.jpg", runner=runner, models="both"))
    assert result["predictor"] == "model" and result["lite"]["predictor"] == "lite"
    assert "heatmap" not in result["lite"]
    expected = math.hypot(result["lite"]["frame_x"] - result["frame_x"], result["lite"]["frame_y"] - result["frame_y"])
    assert result["lite_distance"] == pytest.approx(expected)


def test_lite_without_weights_says_so(runner):
    with pytest.raises(ModelUnavailableError, match="lite"):
        asyncio.run(service.predict(data=_jpeg(), runner=runner, models="lite"))
    assert service.status(runner)["lite"] is None


def test_unknown_models_choice_is_refused(runner):
    with pytest.raises(CodeclabError, match="full, lite, both"):
        asyncio.run(service.predict(data=_jpeg(), runner=runner, models="tiny"))


def test_the_fallback_beside_the_lite_model_is_named_as_what_it_compares_with(packed, runner):
    """Issue 31: with "full + lite" and the fallback, the lite card said "from the full model's centre"."""
    service.set_lite_weights(packed)
    result = asyncio.run(service.predict(data=_jpeg(), name="disc.jpg", runner=runner, models="both", predictor="fallback"))
    assert result["predictor"] == "fallback"
    assert result["lite_compared_with"] == {"predictor": "fallback", "model": result["model"]}
    assert "spectral" in result["model"].lower()
    expected = math.hypot(result["lite"]["frame_x"] - result["frame_x"], result["lite"]["frame_y"] - result["frame_y"])
    assert result["lite_distance"] == pytest.approx(expected)


@pytest.mark.parametrize("predictor", ["fallback", "model"])
def test_the_lite_model_alone_refuses_a_predictor_choice_it_would_ignore(packed, runner, predictor):
    """Issue 31: predictor "fallback" with model "lite" silently gave the lite answer."""
    from codeclab.attention.errors import AttentionUnsupportedError

    service.set_lite_weights(packed)
    with pytest.raises(AttentionUnsupportedError, match="lite model alone takes no predictor"):
        asyncio.run(service.predict(data=_jpeg(), runner=runner, models="lite", predictor=predictor))
