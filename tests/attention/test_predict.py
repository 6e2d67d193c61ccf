"""The model pipeline against upstream's TFLite, the converter's ONNX (when built), the fallback, the service."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from PIL import Image

from codeclab.attention import service
from codeclab.attention.predict import (
    MODEL_LABEL,
    TfliteCenterRunner,
    fallback_prediction,
    heatmap_over_image,
    predict_pixels,
    prepare,
)
from codeclab.attention.preprocess import pad_geometry
from codeclab.attention.saliency import NAME as FALLBACK_NAME
from codeclab.browser import rpc
from codeclab.errors import ModelUnavailableError, UnsupportedError
from codeclab.imaging import decode_rgb
from codeclab.onnx_bridge import OnnxRunner
from tests.attention.helpers import encode, textured


@pytest.fixture(scope="module")
def tflite_runner(center_tflite):
    return TfliteCenterRunner(center_tflite)


@pytest.fixture(scope="module")
def bee(bee_path):
    return decode_rgb(bee_path.read_bytes())


def test_bee_matches_tensorflow_pipeline(tflite_runner, bee):
    """TensorFlow's resize_with_pad + this TFLite model give (269.0, 265.0) in the frame (shared/upstream/README.md)."""
    prediction = predict_pixels(bee.pixels, tflite_runner)
    assert prediction.model == MODEL_LABEL and prediction.predictor == "model"
    assert prediction.frame_x == pytest.approx(269.0, abs=0.05)
    assert prediction.frame_y == pytest.approx(265.0, abs=0.05)
    # exact inverse: (269.0 + 0.5 - 147) * 1484/344 - 0.5 and (265.0 + 0.5) * 2069/480 - 0.5
    assert prediction.x == pytest.approx(527.96, abs=0.3)
    assert prediction.y == pytest.approx(1143.97, abs=0.3)
    assert (prediction.upstream_x, prediction.upstream_y) == (521, 1142)  # encode_with_centers.py's formula
    assert abs(prediction.y - prediction.upstream_y) <= 2
    assert prediction.heatmap is None  # TFLite exposes no weighting map by default


@pytest.mark.slow
def test_bee_reference_kernels_reproduce_upstream_readme(center_tflite, bee):
    """Without XNNPACK (TFLite reference kernels) upstream's own formula prints the README's (522, 1143)."""
    runner = TfliteCenterRunner(center_tflite, with_weights=True)
    prediction = predict_pixels(bee.pixels, runner)
    assert (prediction.upstream_x, prediction.upstream_y) == (522, 1143)
    assert prediction.heatmap.shape == (480, 344)
    assert prediction.heatmap_box == pytest.approx([0, 0, 1484, 2069], abs=0.01)
    assert prediction.heatmap.min() == 0 and prediction.heatmap.max() == 1
    # the model's point is the gravity centre of that map (over the whole frame)
    peak_y, peak_x = np.unravel_index(np.argmax(prediction.heatmap), prediction.heatmap.shape)
    assert 0 <= peak_x < 344 and 0 <= peak_y < 480


def test_onnx_agrees_with_tflite(onnx_model, tflite_runner, bee):
    onnx = predict_pixels(bee.pixels, OnnxRunner({"attention_center": onnx_model}))
    reference = predict_pixels(bee.pixels, tflite_runner)
    assert abs(onnx.x - reference.x) <= 2 and abs(onnx.y - reference.y) <= 2
    assert onnx.heatmap is not None and onnx.heatmap.ndim == 2
    assert onnx.heatmap_box[0] <= 0.5 and onnx.heatmap_box[2] >= 1483


def test_heatmap_crop_of_a_coarse_map():
    """A map of 15x20 cells over the frame: the crop covers the cells that touch the image."""
    geometry = pad_geometry(1484, 2069)  # image in frame columns 147..491
    weights = np.zeros((15, 20), np.float32)
    weights[7, 10] = 5.0
    heatmap, box = heatmap_over_image(weights, geometry)
    assert heatmap.shape == (15, 12)  # cells 4 (128..160) .. 15 (480..512)
    assert heatmap.max() == 1.0 and heatmap[7, 6] == 1.0
    assert box[0] == pytest.approx((128 - 147) * geometry.inv_scale_x)
    assert box[2] == pytest.approx((512 - 147) * geometry.inv_scale_x)


def test_fallback_finds_a_lone_blob():
    image = np.full((300, 500, 3), 90, np.uint8)
    image[200:230, 80:110] = (250, 240, 40)
    prediction = predict_pixels(image, runner=None)
    assert prediction.model == FALLBACK_NAME and prediction.predictor == "fallback"
    assert abs(prediction.x - 95) < 25 and abs(prediction.y - 215) < 25
    assert prediction.heatmap.shape[1] == 64 and prediction.heatmap_box == pytest.approx([0, 0, 500, 300], abs=0.01)


def test_fallback_on_a_flat_image_is_the_middle():
    prediction = fallback_prediction(prepare(np.full((10, 10, 3), 7, np.uint8)))
    assert prediction.x == pytest.approx(4.5, abs=0.01) and prediction.y == pytest.approx(4.5, abs=0.01)


def run(coroutine):
    return asyncio.run(coroutine)


def test_service_with_the_model(tflite_runner, bee_path):
    result = run(service.predict(data=bee_path.read_bytes(), name="bee.jpg", runner=tflite_runner))
    assert result["model"] == MODEL_LABEL and result["name"] == "bee.jpg"
    assert (result["width"], result["height"]) == (1484, 2069)
    assert result["x"] == pytest.approx(527.96, abs=0.3)
    assert set(result["timings"]) == {"decode_ms", "preprocess_ms", "inference_ms", "total_ms"}


def test_service_falls_back_without_a_model():
    data = encode(Image.fromarray(textured(120, 80)), "PNG")
    result = run(service.predict(data=data))
    assert result["model"] == FALLBACK_NAME and result["fallback_reason"] == "no model runner"
    assert result["heatmap"].dtype == np.float32 and list(result["heatmap"].shape) == result["heatmap_shape"]
    with pytest.raises(ModelUnavailableError):
        run(service.predict(data=data, predictor="model"))
    assert service.status()["predictor"] == "fallback"


def test_service_rgba_from_a_downscaled_page_image():
    """The page sends a 1/4-size RGBA copy of a huge image: the answer is in the file's pixels."""
    pixels = textured(160, 120)
    rgba = np.concatenate([pixels, np.full((120, 160, 1), 255, np.uint8)], axis=2)
    small = run(service.predict(rgba=rgba.tobytes(), width=160, height=120))
    big = run(service.predict(rgba=rgba.tobytes(), width=160, height=120, original_width=640, original_height=480))
    assert (big["width"], big["height"]) == (640, 480)
    assert big["x"] == pytest.approx((small["x"] + 0.5) * 4 - 0.5)
    assert big["heatmap_box"][2] == pytest.approx(small["heatmap_box"][2] * 4)


@pytest.mark.parametrize("make", [
    lambda: encode(Image.new("RGB", (1, 1), (200, 10, 10)), "PNG"),
    lambda: encode(Image.fromarray(textured(64, 48)).convert("CMYK"), "JPEG"),
    lambda: encode(Image.fromarray(np.arange(4800, dtype=np.uint16).reshape(60, 80) * 13), "PNG"),
])
def test_service_handles_odd_images(make):
    result = run(service.predict(data=make()))
    assert 0 <= result["x"] <= result["width"] - 1 and 0 <= result["y"] <= result["height"] - 1


def test_service_refuses_a_too_thin_image():
    with pytest.raises(UnsupportedError, match="640x480 frame"):
        run(service.predict(data=encode(Image.new("RGB", (2000, 1)), "PNG")))


def test_page_route_passes_the_runner(tflite_runner):
    data = encode(Image.fromarray(textured(64, 64)), "PNG")
    result = run(rpc.call("attention.predict", {"data": data, "name": "t.png"}, tflite_runner))
    assert result["model"] == MODEL_LABEL
    payload = rpc.error_payload(_raises(lambda: run(rpc.call("attention.predict", {"data": b"nope"}))))
    assert payload["expected"] and "not an image" in payload["message"]


def _raises(action):
    try:
        action()
    except Exception as err:  # noqa: BLE001 (the error itself is what the caller checks)
        return err
    raise AssertionError("no error raised")
