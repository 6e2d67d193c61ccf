"""The onnxruntime behaviour that ops_f32 relies on, checked directly (so an onnxruntime upgrade that
changes it fails here, by name, rather than as a feature mismatch somewhere in a corpus clip)."""

from __future__ import annotations

import numpy as np
import pytest

from models.tflite2onnx.ops_f32 import mlas_block_k


def fma_chain(weights: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """(O x K) @ (K x N) as one fma chain per output from zero.  fma is emulated in float64: the
    product of two float32 is exact there; the sum's double rounding can differ from fma only on a
    float32 tie, which these seeded values do not hit."""
    acc = np.zeros((weights.shape[0], columns.shape[1]), np.float32)
    for k in range(weights.shape[1]):
        acc = (weights[:, k:k + 1].astype(np.float64) * columns[k:k + 1].astype(np.float64) + acc).astype(np.float32)
    return acc


def matmul(weights: np.ndarray, columns: np.ndarray) -> np.ndarray:
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph([helper.make_node("MatMul", ["w", "x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, columns.shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(weights, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(["y"], {"x": columns})[0]


@pytest.mark.parametrize("n", [2, 5, 20, 23, 40])
def test_matmul_is_one_chain_up_to_the_block_and_not_beyond(n):
    rng = np.random.default_rng(n)
    block = mlas_block_k(n, 4096)
    assert block == {2: 1024, 5: 1024, 20: 512, 23: 512, 40: 256}[n]
    for k, one_chain in ((block, True), (block + 1, False)):
        weights = rng.standard_normal((32, k)).astype(np.float32)
        columns = rng.standard_normal((k, n)).astype(np.float32)
        same = np.array_equal(matmul(weights, columns), fma_chain(weights, columns))
        assert same == one_chain, (n, k)


def test_a_short_k_is_never_split():
    assert all(mlas_block_k(n, k) >= k for n in (1, 16, 128, 512) for k in (1, 48, 65, 128) if n >= k)
