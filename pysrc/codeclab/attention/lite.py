"""The lite attention model: a RigL-trained sparse student, downloaded as packed sparse weights.

The download is two files (written by models/rigl/export.py at build time):

* ``attention_lite.onnx`` — the graph only: every weight is a graph *input*;
* ``attention_lite.rigl`` — the weights, packed: for each sparse tensor a
  bitmask of its nonzeros plus those nonzeros as float16, for each dense one
  (biases) its values as float16; the whole compressed with zlib.

Python unpacks the weights once with numpy and feeds them with every run, so
what the page downloads is nonzeros + mask, compressed — the size the RigL
table reports.  The student sees the image through the same TensorFlow-exact
``resize_with_pad`` as the full model, into a 160x120 frame; its centre is
mapped through the original image's pixels into the full model's 640x480
frame, so the two models' answers are directly comparable.

Packed layout (before zlib): ``b"CLRG"``, uint32 little-endian header length,
the UTF-8 JSON header ``{"format": "codeclab-rigl", "version": 1, "meta": {...},
"tensors": [{"name", "shape", "nonzeros" | null}]}``, then each tensor's bytes
in header order (sparse: ``ceil(size / 8)`` mask bytes, MSB first as
``numpy.packbits``, then ``nonzeros`` float16 values in C order; dense:
``size`` float16 values).
"""

from __future__ import annotations

import json
import math
import struct
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ModelUnavailableError
from ..onnx_bridge import has_model, run_model
from .errors import LiteWeightsError
from .geometry import frame_to_original, original_to_frame, upstream_center
from .predict import Prediction, heatmap_over_image
from .preprocess import MODEL_HEIGHT, MODEL_WIDTH, pad_geometry, resize_with_pad

LITE_MODEL_NAME = "attention_lite"
WEIGHTS_FILE = "attention_lite.rigl"
MAGIC = b"CLRG"
FORMAT = "codeclab-rigl"
VERSION = 1
FRAME_HEIGHT, FRAME_WIDTH = 120, 160
INPUT_NAME = "image"


@dataclass
class LiteWeights:
    """Unpacked weights (float32, dense) and what the header says about them."""

    tensors: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def sparsity(self) -> float:
        """Fraction of zeros over the tensors the header marks sparse."""
        return float(self.meta.get("sparsity", 0.0))

    @property
    def label(self) -> str:
        percent = round(100 * self.sparsity)
        if not percent:
            return "attention-lite (dense)"
        method = {"set": "SET", "static": "static mask"}.get(str(self.meta.get("method")), "RigL")
        return f"attention-lite ({method}, {percent} % sparse)"


def pack(tensors: dict[str, np.ndarray], sparse: set[str], meta: dict[str, Any] | None = None) -> bytes:
    """Tensors -> the packed, zlib-compressed bytes (the inverse of :func:`unpack`)."""
    header: dict[str, Any] = {"format": FORMAT, "version": VERSION, "meta": meta or {}, "tensors": []}
    blobs = []
    for name, tensor in tensors.items():
        values = np.asarray(tensor, dtype=np.float16)
        entry: dict[str, Any] = {"name": name, "shape": list(values.shape), "nonzeros": None}
        if name in sparse:
            mask = values != 0
            entry["nonzeros"] = int(mask.sum())
            blobs += [np.packbits(mask.reshape(-1)).tobytes(), values[mask].tobytes()]
        else:
            blobs.append(values.tobytes())
        header["tensors"].append(entry)
    head = json.dumps(header, separators=(",", ":")).encode()
    return zlib.compress(MAGIC + struct.pack("<I", len(head)) + head + b"".join(blobs), 9)


def unpack(data: bytes) -> LiteWeights:
    """The packed bytes -> dense float32 tensors.  Malformed input raises :class:`LiteWeightsError` (a ``FormatError``)."""
    try:
        raw = zlib.decompress(bytes(data))
    except zlib.error as err:
        raise LiteWeightsError(f"lite weights are not zlib data: {err}", offset=0) from err
    if raw[:4] != MAGIC:
        raise LiteWeightsError(f"lite weights start with {raw[:4]!r}, expected {MAGIC!r}", offset=0, field="magic")
    if len(raw) < 8:
        raise LiteWeightsError("lite weights end inside the header length", offset=4, field="header_length")
    (head_length,) = struct.unpack_from("<I", raw, 4)
    if 8 + head_length > len(raw):
        raise LiteWeightsError(f"header of {head_length} bytes runs past the end ({len(raw)} bytes)", offset=4,
                          field="header_length")
    try:
        header = json.loads(raw[8:8 + head_length])
    except ValueError as err:
        raise LiteWeightsError(f"header is not JSON: {err}", offset=8, field="header") from err
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("version") != VERSION:
        raise LiteWeightsError(f"not {FORMAT} version {VERSION}", offset=8, field="format")
    offset = 8 + head_length
    tensors: dict[str, np.ndarray] = {}
    for index, entry in enumerate(header.get("tensors", [])):
        where = f"tensors[{index}]"
        try:
            name, shape, nonzeros = str(entry["name"]), [int(n) for n in entry["shape"]], entry["nonzeros"]
        except (KeyError, TypeError, ValueError) as err:
            raise LiteWeightsError(f"bad tensor entry: {err}", offset=8, field=where) from err
        size = math.prod(shape)
        if nonzeros is None:
            values, offset = _take(raw, offset, size * 2, f"{where} ({name}) values")
            tensors[name] = np.frombuffer(values, np.float16).astype(np.float32).reshape(shape)
            continue
        mask_bytes, offset = _take(raw, offset, (size + 7) // 8, f"{where} ({name}) mask")
        mask = np.unpackbits(np.frombuffer(mask_bytes, np.uint8), count=size).astype(bool)
        if int(mask.sum()) != int(nonzeros):
            raise LiteWeightsError(f"{name}: mask has {int(mask.sum())} ones, header says {nonzeros}",
                              offset=offset - len(mask_bytes), field=f"{where}.nonzeros")
        values, offset = _take(raw, offset, int(nonzeros) * 2, f"{where} ({name}) values")
        dense = np.zeros(size, np.float32)
        dense[mask] = np.frombuffer(values, np.float16)
        tensors[name] = dense.reshape(shape)
    if offset != len(raw):
        raise LiteWeightsError(f"{len(raw) - offset} bytes after the last tensor", offset=offset, field="end")
    return LiteWeights(tensors=tensors, meta=dict(header.get("meta") or {}))


def _take(raw: bytes, offset: int, count: int, what: str) -> tuple[bytes, int]:
    if offset + count > len(raw):
        raise LiteWeightsError(f"{what}: needs {count} bytes, {len(raw) - offset} left", offset=offset, field=what)
    return raw[offset:offset + count], offset + count


# ---------------------------------------------------------------- prediction

_weights: dict[str, LiteWeights] = {}


def set_weights(data: bytes) -> dict[str, Any]:
    """Install the packed weights the page fetched; returns what the page shows about them."""
    weights = unpack(data)
    _weights[LITE_MODEL_NAME] = weights
    return {"label": weights.label, "sparsity": weights.sparsity, "bytes": len(data),
            "nonzeros": weights.meta.get("nonzeros"), "parameters": weights.meta.get("parameters")}


def installed_weights() -> LiteWeights | None:
    return _weights.get(LITE_MODEL_NAME)


def lite_available(runner: Any, weights: LiteWeights | None) -> bool:
    return weights is not None and has_model(runner, LITE_MODEL_NAME)


async def predict_lite_pixels(pixels: np.ndarray, runner: Any, weights: LiteWeights | None = None) -> Prediction:
    """The lite model's answer for an [h, w, 3] RGB array, expressed like the full model's."""
    weights = weights or installed_weights()
    if not lite_available(runner, weights):
        raise ModelUnavailableError("the lite attention model is not installed in this build")
    started = time.perf_counter()
    height, width = pixels.shape[:2]
    frame, small = resize_with_pad(pixels, FRAME_HEIGHT, FRAME_WIDTH)
    big = pad_geometry(width, height, MODEL_WIDTH, MODEL_HEIGHT)
    preprocess_ms = (time.perf_counter() - started) * 1000.0
    started = time.perf_counter()
    outputs = await run_model(runner, LITE_MODEL_NAME, {INPUT_NAME: frame[None], **weights.tensors})
    inference_ms = (time.perf_counter() - started) * 1000.0
    su, sv = (float(v) for v in np.asarray(outputs["center"], np.float64).reshape(-1))
    x, y = frame_to_original(su, sv, small)
    u, v = original_to_frame(x, y, big)
    up_x, up_y = upstream_center(u, v, width, height, MODEL_WIDTH, MODEL_HEIGHT)
    cells = np.asarray(outputs["weights"], np.float32).reshape(outputs["weights"].shape[-2:])
    heatmap, box = heatmap_over_image(cells, small)
    return Prediction(x=x, y=y, width=width, height=height, model=weights.label, predictor="lite",
                      frame_x=u, frame_y=v, upstream_x=up_x, upstream_y=up_y, heatmap=heatmap, heatmap_box=box,
                      timings={"preprocess_ms": preprocess_ms, "inference_ms": inference_ms})
