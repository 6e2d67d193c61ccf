"""The attention-center pipeline: pixels -> model frame -> model (or fallback) -> point in the image.

The model is the runner's ``attention_center``: input ``image`` float32
[1, 480, 640, 3] (RGB 0..1, NHWC); outputs ``center`` [1, 2] = (x, y) in frame
pixel indices and, in the converter's ONNX, ``weights`` — the model's sigmoid
weighting map over the frame, from which it takes the gravity centre.  Output
names are matched leniently (a lone 2-element output is the centre) so the
TFLite reference runner and other converters work too.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelUnavailableError
from ..onnx_bridge import has_model, run_model, run_model_sync
from . import saliency
from .errors import AttentionError, AttentionUnsupportedError
from .geometry import frame_box_to_original, frame_to_original, image_box_in_frame, upstream_center
from .preprocess import PadGeometry, model_input

MODEL_NAME = "attention_center"           # the runner name (dist/models/attention_center.onnx)
MODEL_LABEL = "attention-center"          # what the page and the CLI call the model's answers
INPUT_NAME = "image"
CENTER_OUTPUT = "center"
WEIGHTS_OUTPUT = "weights"
PREDICTORS = ("auto", "model", "fallback")


@dataclass
class Prediction:
    """One image's answer.  Points are pixel indices of the (original) image, floats."""

    x: float
    y: float
    width: int
    height: int
    model: str                       # MODEL_LABEL or the fallback's label
    predictor: str                   # "model" or "fallback"
    frame_x: float                   # the point in the 640x480 model frame
    frame_y: float
    upstream_x: int                  # what google/attention-center's script would print
    upstream_y: int
    heatmap: np.ndarray | None = None                 # float32 [h, w], 0..1, covering heatmap_box
    heatmap_box: list[float] | None = None            # [x0, y0, x1, y1] continuous original pixels
    timings: dict[str, float] = field(default_factory=dict)
    fallback_reason: str | None = None

    def to_dict(self, heatmap: bool = True) -> dict[str, Any]:
        result: dict[str, Any] = {
            "x": self.x, "y": self.y, "width": self.width, "height": self.height,
            "model": self.model, "predictor": self.predictor,
            "frame_x": self.frame_x, "frame_y": self.frame_y,
            "upstream_x": self.upstream_x, "upstream_y": self.upstream_y,
            "timings": dict(self.timings), "fallback_reason": self.fallback_reason,
        }
        if heatmap:
            result["heatmap"] = self.heatmap
            result["heatmap_shape"] = list(self.heatmap.shape) if self.heatmap is not None else None
            result["heatmap_box"] = self.heatmap_box
        return result


@dataclass
class Prepared:
    frame: np.ndarray          # float32 [1, 480, 640, 3]
    geometry: PadGeometry
    preprocess_ms: float


def prepare(pixels: np.ndarray) -> Prepared:
    """Resize-with-pad an [h, w, 3] RGB array (uint8, uint16 or float 0..1) into the model frame."""
    started = time.perf_counter()
    try:
        frame, geometry = model_input(pixels)
    except ValueError as err:
        raise AttentionUnsupportedError(f"cannot place this image in the model's 640x480 frame: {err}") from err
    return Prepared(frame=frame, geometry=geometry, preprocess_ms=_ms_since(started))


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


def _center_of(outputs: dict[str, np.ndarray]) -> tuple[float, float]:
    center = outputs.get(CENTER_OUTPUT)
    if center is None:
        pairs = [value for value in outputs.values() if np.asarray(value).size == 2]
        if len(pairs) != 1:
            raise AttentionError(f"the model returned no 2-element centre (outputs: {sorted(outputs)})")
        center = pairs[0]
    u, v = (float(value) for value in np.asarray(center, dtype=np.float64).reshape(-1))
    if not (math.isfinite(u) and math.isfinite(v)):
        raise AttentionError(f"the model returned a non-finite centre ({u}, {v})")
    return u, v


def _weights_of(outputs: dict[str, np.ndarray]) -> np.ndarray | None:
    weights = outputs.get(WEIGHTS_OUTPUT)
    if weights is None:
        maps = [value for key, value in outputs.items() if key != CENTER_OUTPUT and np.asarray(value).size > 2]
        weights = maps[0] if len(maps) == 1 else None
    if weights is None:
        return None
    weights = np.asarray(weights, dtype=np.float32)
    weights = weights.reshape([n for n in weights.shape if n != 1] or [1, 1])
    return weights if weights.ndim == 2 else None


def heatmap_over_image(weights: np.ndarray, geometry: PadGeometry) -> tuple[np.ndarray, list[float]]:
    """Crop a map over the whole frame to the cells covering the image; normalise it to 0..1.

    The map is treated generically as ``[mh, mw]`` cells tiling the 640x480
    frame; the box says which original-pixel rectangle the cropped cells cover
    (it can reach slightly outside the image when cells straddle the padding).
    """
    map_h, map_w = weights.shape
    x0, y0, x1, y1 = image_box_in_frame(geometry)
    cell_w, cell_h = geometry.frame_width / map_w, geometry.frame_height / map_h
    c0, c1 = int(math.floor(x0 / cell_w)), int(math.ceil(x1 / cell_w))
    r0, r1 = int(math.floor(y0 / cell_h)), int(math.ceil(y1 / cell_h))
    c1, r1 = max(c1, c0 + 1), max(r1, r0 + 1)
    crop = np.nan_to_num(weights[r0:r1, c0:c1].astype(np.float32))
    low, high = float(crop.min()), float(crop.max())
    crop = (crop - low) / (high - low) if high > low else np.zeros_like(crop)
    box = frame_box_to_original((c0 * cell_w, r0 * cell_h, c1 * cell_w, r1 * cell_h), geometry)
    return crop.astype(np.float32), box


def from_model_outputs(outputs: dict[str, np.ndarray], prepared: Prepared, inference_ms: float) -> Prediction:
    geometry = prepared.geometry
    u, v = _center_of(outputs)
    x, y = frame_to_original(u, v, geometry)
    up_x, up_y = upstream_center(u, v, geometry.width, geometry.height, geometry.frame_width, geometry.frame_height)
    weights = _weights_of(outputs)
    heatmap, box = heatmap_over_image(weights, geometry) if weights is not None else (None, None)
    return Prediction(x=x, y=y, width=geometry.width, height=geometry.height, model=MODEL_LABEL, predictor="model",
                      frame_x=u, frame_y=v, upstream_x=up_x, upstream_y=up_y, heatmap=heatmap, heatmap_box=box,
                      timings={"preprocess_ms": prepared.preprocess_ms, "inference_ms": inference_ms})


def fallback_prediction(prepared: Prepared, reason: str | None = None) -> Prediction:
    """The spectral-residual point, computed on the same frame the model would see."""
    started = time.perf_counter()
    geometry = prepared.geometry
    x0, y0, x1, y1 = image_box_in_frame(geometry)
    region = prepared.frame[0, y0:y1, x0:x1]
    found = saliency.predict_region(region)
    u, v = found.x + x0, found.y + y0
    x, y = frame_to_original(u, v, geometry)
    up_x, up_y = upstream_center(u, v, geometry.width, geometry.height, geometry.frame_width, geometry.frame_height)
    box = frame_box_to_original((x0, y0, x1, y1), geometry)
    return Prediction(x=x, y=y, width=geometry.width, height=geometry.height, model=saliency.NAME,
                      predictor="fallback", frame_x=u, frame_y=v, upstream_x=up_x, upstream_y=up_y,
                      heatmap=found.saliency, heatmap_box=box, fallback_reason=reason,
                      timings={"preprocess_ms": prepared.preprocess_ms, "inference_ms": _ms_since(started)})


def _check_predictor(predictor: str) -> None:
    if predictor not in PREDICTORS:
        raise AttentionError(f"unknown predictor {predictor!r}: choose one of {', '.join(PREDICTORS)}")


def _unavailable_reason(runner: Any) -> str:
    return "no model runner" if runner is None else f"the {MODEL_LABEL} model is not installed"


def predict_pixels(pixels: np.ndarray, runner: Any = None, predictor: str = "auto") -> Prediction:
    """Synchronous pipeline (CPython runners): the model when available, else the labelled fallback."""
    _check_predictor(predictor)
    prepared = prepare(pixels)
    if predictor != "fallback" and has_model(runner, MODEL_NAME):
        started = time.perf_counter()
        outputs = run_model_sync(runner, MODEL_NAME, {INPUT_NAME: prepared.frame})
        return from_model_outputs(outputs, prepared, _ms_since(started))
    if predictor == "model":
        raise ModelUnavailableError(_unavailable_reason(runner))
    return fallback_prediction(prepared, None if predictor == "fallback" else _unavailable_reason(runner))


async def predict_pixels_async(pixels: np.ndarray, runner: Any = None, predictor: str = "auto") -> Prediction:
    """The same over an awaitable runner (the page's onnxruntime-web)."""
    _check_predictor(predictor)
    prepared = prepare(pixels)
    if predictor != "fallback" and has_model(runner, MODEL_NAME):
        started = time.perf_counter()
        outputs = await run_model(runner, MODEL_NAME, {INPUT_NAME: prepared.frame})
        return from_model_outputs(outputs, prepared, _ms_since(started))
    if predictor == "model":
        raise ModelUnavailableError(_unavailable_reason(runner))
    return fallback_prediction(prepared, None if predictor == "fallback" else _unavailable_reason(runner))


class TfliteCenterRunner:
    """CPython reference runner on upstream's center.tflite (ai_edge_litert): the parity baseline.

    Feeds ``image`` to tensor ``image:0`` and returns ``concat:0`` as ``center``.
    TFLite has no weighting-map output; with ``with_weights`` the interpreter
    keeps its intermediate tensors (slower, no XNNPACK) and the map is read from
    the internal tensor ``truediv`` [1, 480, 640] (sigmoid / max, the gravity
    centre's weights).
    """

    WEIGHTS_TENSOR = "truediv"

    def __init__(self, path: str | Path, num_threads: int = 1, with_weights: bool = False):
        self.path = Path(path)
        self.num_threads = num_threads
        self.with_weights = with_weights
        self._interpreter = None
        self._weights_index: int | None = None

    def available(self, name: str) -> bool:
        return name == MODEL_NAME and self.path.is_file()

    def _open(self):
        if self._interpreter is None:
            if not self.path.is_file():
                raise ModelUnavailableError(f"TFLite model {self.path} not found")
            from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415 (CPython only)

            options: dict[str, Any] = {}
            if self.with_weights:
                from ai_edge_litert.interpreter import OpResolverType  # noqa: PLC0415 (CPython only)

                options = {"experimental_preserve_all_tensors": True,
                           "experimental_op_resolver_type": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
            interpreter = Interpreter(model_path=str(self.path), num_threads=self.num_threads, **options)
            interpreter.allocate_tensors()
            if self.with_weights:
                self._weights_index = next((d["index"] for d in interpreter.get_tensor_details()
                                            if d["name"] == self.WEIGHTS_TENSOR and len(d["shape"]) == 3), None)
            inputs = {detail["name"]: detail["index"] for detail in interpreter.get_input_details()}
            if "image:0" not in inputs:
                raise ModelUnavailableError(f"{self.path} has no image:0 input: not the attention-center model")
            self._interpreter = (interpreter, inputs["image:0"], interpreter.get_output_details()[0]["index"])
        return self._interpreter

    def run_sync(self, name: str, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if name != MODEL_NAME:
            raise ModelUnavailableError(f"the TFLite reference runner only runs {MODEL_NAME!r}, not {name!r}")
        interpreter, image_index, center_index = self._open()
        interpreter.set_tensor(image_index, np.ascontiguousarray(feeds[INPUT_NAME], dtype=np.float32))
        interpreter.invoke()
        outputs = {CENTER_OUTPUT: interpreter.get_tensor(center_index).copy()}
        if self._weights_index is not None:
            outputs[WEIGHTS_OUTPUT] = interpreter.get_tensor(self._weights_index).copy()
        return outputs

    async def run(self, name: str, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self.run_sync(name, feeds)
