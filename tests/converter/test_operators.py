"""Every operator, converted in place, against the interpreter: sub-graphs cut from the real models.

For each operator kind we take a few of its outputs inside the real models, make
that tensor the TFLite model's output (by rewriting the subgraph's output index in
the flatbuffer), and expose the same tensor from our ONNX graph.  Both run on the
same input (and, for Lyra, the same 5 frames of streaming state); the probed
tensors must agree: in the Lyra models every tensor exactly (the XNNPACK arithmetic,
int8 and float summation order alike, is reproduced bit for bit); in the attention
model int8 codes exactly and float tensors to float32 rounding.
"""

from __future__ import annotations

import struct
from collections import defaultdict

import numpy as np
import pytest

from .conftest import onnx_stream

OUTPUTS_FIELD = 8  # vtable slot of SubGraph.outputs in the TFLite schema


def with_output(blob: bytes, tensor_index: int) -> bytes:
    import tflite

    patched = bytearray(blob)
    subgraph = tflite.Model.GetRootAsModel(patched, 0).Subgraphs(0)
    start = subgraph._tab.Vector(subgraph._tab.Offset(OUTPUTS_FIELD))
    struct.pack_into("<i", patched, start, tensor_index)
    return bytes(patched)


def probes(path, per_kind: int = 3) -> dict[str, list[int]]:
    """Operator kind -> output tensor indices of its first, middle and last occurrence."""
    from models.tflite2onnx.reader import read_tflite

    kinds = defaultdict(list)
    subgraph = read_tflite(path).subgraphs[0]
    for op in subgraph.operators:
        if op.outputs and subgraph.tensors[op.outputs[0]].type_name != "resource":
            kinds[op.opcode].append(op.outputs[0])
    picked = {}
    for kind, outputs in kinds.items():
        positions = sorted({0, len(outputs) // 2, len(outputs) - 1})[:per_kind]
        picked[kind] = [outputs[p] for p in positions]
    return picked


def run_tflite(blob: bytes, inputs: list[np.ndarray]) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=blob, num_threads=1)
    interpreter.allocate_tensors()
    detail = next(d for d in interpreter.get_input_details() if d["dtype"] is not np.bytes_ and d["dtype"] is not object)
    for x in inputs:
        interpreter.set_tensor(detail["index"], x)
        interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy()


def run_onnx(path, manifest_name: str, tensors: list[int], input_name: str, inputs: list[np.ndarray]):
    from models.build_models import load_manifests
    from models.tflite2onnx import convert

    manifest = next(m for m in load_manifests() if m["name"] == manifest_name)
    converted = convert(path, input_names=manifest["rename_inputs"], output_names=manifest["rename_outputs"],
                        extra_outputs={t: f"probe_{t}" for t in tensors})
    stream = onnx_stream(converted, manifest_name, threads=2)
    for x in inputs:
        results = stream.step({input_name: x})
    return {t: results[f"probe_{t}"] for t in tensors}


def compare(kind: str, tensor: int, want: np.ndarray, have: np.ndarray, int8_exact: bool,
            float_exact: bool = False) -> None:
    have = np.asarray(have).reshape(want.shape)
    if float_exact:
        assert np.array_equal(have.astype(want.dtype), want), (kind, tensor, int(np.sum(have != want)))
        return
    if want.dtype == np.int8:
        diff = np.abs(have.astype(np.int64) - want.astype(np.int64))
        if int8_exact:
            assert diff.max() == 0, (kind, tensor, int(diff.max()), int((diff > 0).sum()))
        else:  # after float layers a value can sit on a rounding edge: at most 1 code, rarely
            assert diff.max() <= 1 and np.mean(diff == 0) >= 0.99, (kind, tensor, int(diff.max()), np.mean(diff == 0))
        return
    want64, have64 = want.astype(np.float64), have.astype(np.float64)
    scale = max(float(np.abs(want64).max()), 1e-6)
    assert float(np.abs(have64 - want64).max()) <= 1e-3 * scale + 1e-6, (kind, tensor, float(np.abs(have64 - want64).max()), scale)


def _lyra_frames(speech, count, kind):
    if kind == "soundstream_encoder":
        return [speech[i * 320:(i + 1) * 320].reshape(1, 320) for i in range(count)]
    rng = np.random.default_rng(5)
    return [(2.0 * rng.standard_normal((1, 1, 64))).astype(np.float32) for _ in range(count)]


@pytest.mark.parametrize("name,input_name", [("soundstream_encoder", "audio"), ("lyragan", "features")])
def test_every_lyra_operator_in_place(name, input_name, tflite_files, speech):
    path = tflite_files[name]
    blob = path.read_bytes()
    picked = probes(path)
    frames = _lyra_frames(speech, 5, name)
    tensors = [t for ts in picked.values() for t in ts]
    have = run_onnx(path, name, tensors, input_name, frames)
    for kind, indices in picked.items():
        for tensor in indices:
            compare(kind, tensor, run_tflite(with_output(blob, tensor), frames), have[tensor], True, float_exact=True)
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "LEAKY_RELU", "ADD", "QUANTIZE", "DEQUANTIZE", "CONCATENATION",
            "STRIDED_SLICE", "RESHAPE", "READ_VARIABLE"} <= set(picked)
    if name == "lyragan":
        assert {"TRANSPOSE_CONV", "SPLIT", "SUB"} <= set(picked)


def test_every_attention_operator_in_place(tflite_files, upstream):
    from codeclab.attention.preprocess import model_input
    from codeclab.imaging import decode_rgb

    bee = decode_rgb((upstream / "attention-center" / "white_eyes_bee.jpg").read_bytes()).pixels
    frame = model_input(bee.astype(np.float32) / 255.0)[0]
    path = tflite_files["attention_center"]
    blob = path.read_bytes()
    picked = probes(path, per_kind=2)
    tensors = [t for ts in picked.values() for t in ts]
    have = run_onnx(path, "attention_center", tensors, "image", [frame])
    from models.tflite2onnx.reader import read_tflite

    subgraph = read_tflite(path).subgraphs[0]
    producer = {op.outputs[0]: op for op in subgraph.operators if op.outputs}
    for kind, indices in picked.items():
        for tensor in indices:
            source = subgraph.tensors[producer[tensor].inputs[0]]
            if kind == "DEQUANTIZE" and source.data is not None:
                # XNNPACK takes fp16 weights directly and never fills this tensor: check the
                # dequantised constant against numpy's fp16 -> fp32 instead.
                want = source.data.astype(np.float32)
            else:
                want = run_tflite(with_output(blob, tensor), [frame])
            compare(kind, tensor, want, have[tensor], True)
    expected = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "BATCH_MATMUL", "ADD", "ADD_N", "SUB", "MUL",
                "DIV", "NEG", "SQUARE", "RSQRT", "MEAN", "SUM", "REDUCE_MAX", "LOGISTIC", "HARD_SWISH", "RELU",
                "MAX_POOL_2D", "RESIZE_BILINEAR", "CONCATENATION", "RESHAPE", "STRIDED_SLICE", "SLICE", "PACK",
                "SHAPE", "BROADCAST_ARGS", "BROADCAST_TO", "DEQUANTIZE"}
    assert expected <= set(picked), expected - set(picked)
