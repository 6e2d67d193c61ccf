"""What the page calls: ``attention.predict`` (see web/tools/attention/index.js).

Plain Python in, a JSON-able dict (plus one numpy heatmap) out; the model runs
through whatever runner the caller passes (onnxruntime-web in the page).
"""

from __future__ import annotations

import time
from typing import Any

from ..imaging import DecodedImage, decode_rgb, rgba_to_rgb
from ..onnx_bridge import has_model
from . import lite as lite_model
from . import saliency
from .errors import AttentionError, AttentionUnsupportedError
from .geometry import rescale_point
from .predict import MODEL_LABEL, MODEL_NAME, Prediction, predict_pixels_async

MODEL_CHOICES = ("full", "lite", "both")   # the page's "model" select: full, lite (RigL), or both side by side


def _decode(data: Any, rgba: Any, width: Any, height: Any) -> DecodedImage:
    if data is not None:
        image = decode_rgb(data)  # validates the file (truncation, size) and reads its orientation
        if rgba is not None and image.format == "JPEG" and image.mode in ("RGB", "L"):
            # The page also sent the browser's decode of this JPEG. Chromium decodes with
            # libjpeg-turbo exactly as CPython's Pillow and upstream's TensorFlow do (verified
            # bit-identical on the bee photo), while Pyodide's Pillow 10.2 uses another libjpeg
            # whose +-1 differences move this input-sensitive model by ~1 % of the image.
            browser = rgba_to_rgb(rgba, width, height)
            if (browser.width, browser.height) == (image.width, image.height):
                return DecodedImage(source=browser.source, format=image.format, mode=image.mode,
                                    orientation=image.orientation)
        return image
    if rgba is not None:
        if width is None or height is None:
            raise AttentionError("rgba pixels need width and height")
        return rgba_to_rgb(rgba, width, height)
    raise AttentionError("nothing to predict: pass the file bytes (data) or rgba pixels with width and height")


def _to_original_size(prediction: Prediction, size: tuple[int, int]) -> None:
    """The page downscaled a huge image before sending it: express the answer in the file's pixels."""
    small = (prediction.width, prediction.height)
    prediction.x, prediction.y = rescale_point(prediction.x, prediction.y, small, size)
    if prediction.heatmap_box is not None:
        sx, sy = size[0] / small[0], size[1] / small[1]
        x0, y0, x1, y1 = prediction.heatmap_box
        prediction.heatmap_box = [x0 * sx, y0 * sy, x1 * sx, y1 * sy]
    prediction.width, prediction.height = size


async def predict(data: Any = None, name: str | None = None, rgba: Any = None, width: int | None = None,
                  height: int | None = None, original_width: int | None = None, original_height: int | None = None,
                  runner: Any = None, predictor: str = "auto", models: str = "full") -> dict[str, Any]:
    """Attention centre of one image, from its file bytes or from RGBA pixels.

    Returns ``{x, y, width, height, model, predictor, frame_x, frame_y,
    upstream_x, upstream_y, timings: {decode_ms, preprocess_ms, inference_ms,
    total_ms}, heatmap, heatmap_shape, heatmap_box, name, format, mode,
    orientation, fallback_reason}``.  ``x``/``y`` are pixel indices of the
    original image (floats); ``heatmap_box`` is the [x0, y0, x1, y1] rectangle
    of original pixels the heatmap covers.

    ``models``: ``"full"`` (Google's model, or the fallback), ``"lite"`` (the
    RigL-trained sparse student, see :func:`set_lite_weights`) or ``"both"``:
    the full answer plus ``lite`` (the student's answer, same keys without the
    heatmap), ``lite_distance`` (between the two centres, in 640x480 frame
    pixels) and ``lite_compared_with`` (``{predictor, model}``: what the lite
    centre was measured against, the full model or the fallback).
    ``predictor`` chooses what fills the full place; the lite model alone takes
    no predictor, so ``models="lite"`` with a predictor other than ``"auto"`` is
    refused rather than silently ignored.
    """
    if models not in MODEL_CHOICES:
        raise AttentionError(f"unknown models {models!r}: choose one of {', '.join(MODEL_CHOICES)}")
    if models == "lite" and predictor != "auto":
        raise AttentionUnsupportedError(
            f"the lite model alone takes no predictor choice (got {predictor!r}): choose models 'both' to compare "
            "it with that predictor, or predictor 'auto'")
    started = time.perf_counter()
    image = _decode(data, rgba, width, height)
    decode_ms = (time.perf_counter() - started) * 1000.0
    original = (int(original_width), int(original_height)) if original_width and original_height else None
    if original == (image.width, image.height):
        original = None
    if models == "lite":
        prediction = await lite_model.predict_lite_pixels(image.source, runner)
    else:
        prediction = await predict_pixels_async(image.source, runner=runner, predictor=predictor)
    if original:
        _to_original_size(prediction, original)
    result = prediction.to_dict()
    if models == "both":
        second = await lite_model.predict_lite_pixels(image.source, runner)
        if original:
            _to_original_size(second, original)
        result["lite"] = second.to_dict(heatmap=False)
        result["lite_distance"] = float(((second.frame_x - prediction.frame_x) ** 2
                                         + (second.frame_y - prediction.frame_y) ** 2) ** 0.5)
        result["lite_compared_with"] = {"predictor": prediction.predictor, "model": prediction.model}
    result["timings"] = {"decode_ms": decode_ms, **result["timings"],
                         "total_ms": (time.perf_counter() - started) * 1000.0}
    result.update(name=name, format=image.format, mode=image.mode, orientation=image.orientation)
    return result


def status(runner: Any = None) -> dict[str, Any]:
    """Which predictor the page will get: the model, or the labelled fallback; and whether the lite one runs."""
    lite = lite_model.installed_weights()
    found = {"lite": lite.label if lite_model.lite_available(runner, lite) else None}
    if has_model(runner, MODEL_NAME):
        return {"predictor": "model", "model": MODEL_LABEL, **found}
    return {"predictor": "fallback", "model": saliency.NAME, **found}


def set_lite_weights(data: Any) -> dict[str, Any]:
    """Install the lite model's packed weights (``attention_lite.rigl`` as fetched by the page)."""
    return lite_model.set_weights(bytes(data))
