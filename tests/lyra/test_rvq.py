from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from codeclab.lyra import rvq
from codeclab.lyra.errors import LyraError
from codeclab.lyra.models import codebooks_from_tflite
from codeclab.lyra.packet import pack, unpack
from codeclab.lyra.rvq import ResidualVectorQuantizer


@pytest.fixture(scope="module")
def quantizer(lyra_dir):
    interpreter = Interpreter(model_path=str(lyra_dir / "quantizer.tflite"))
    return interpreter.get_signature_runner("encode"), interpreter.get_signature_runner("decode")


def test_codebooks_shape_and_interpreter_agreement(codebooks, lyra_dir):
    assert codebooks.shape == (46, 16, 64) and codebooks.dtype == np.float32
    # The flatbuffer reader and the interpreter's decode signature give the same numbers.
    np.testing.assert_array_equal(codebooks, codebooks_from_tflite(lyra_dir / "quantizer.tflite"))
    assert np.all(np.abs(codebooks).sum(axis=2) > 0)


@pytest.mark.parametrize("num_quantizers", [16, 30, 46])
def test_encode_decode_match_tflite_on_real_frames(real_features, codebooks, quantizer, num_quantizers):
    encode_tfl, decode_tfl = quantizer
    assert real_features.shape[0] >= 100
    worst = 0.0
    for frame in real_features:
        expected = encode_tfl(input_frames=frame.reshape(1, 1, 64),
                              num_quantizers=np.array(num_quantizers, np.int32))
        assert int(np.asarray(expected["output_1"]).reshape(-1)[0]) == 4  # bits per quantizer
        tfl_indices = np.asarray(expected["output_0"]).reshape(-1)[:num_quantizers]
        ours = rvq.encode(frame, num_quantizers, codebooks)
        np.testing.assert_array_equal(ours, tfl_indices)
        full = -np.ones((46, 1, 1), np.int32)
        full[:num_quantizers, 0, 0] = ours
        tfl_features = decode_tfl(encoding_indices=full)["output_0"].reshape(-1)
        worst = max(worst, float(np.abs(rvq.decode(ours, codebooks) - tfl_features).max()))
    assert worst <= 1e-5


def test_more_quantizers_reduce_error(real_features, codebooks):
    q = ResidualVectorQuantizer(codebooks)
    errors = [np.mean([np.sum((q.decode(q.encode(f, n)) - f) ** 2) for f in real_features[:100]])
              for n in (16, 30, 46)]
    assert errors[0] > errors[1] > errors[2]


def test_decode_through_packet(real_features, codebooks):
    frame = real_features[50]
    indices = rvq.encode(frame, 30, codebooks)
    np.testing.assert_array_equal(rvq.decode(unpack(pack(indices)), codebooks), rvq.decode(indices, codebooks))


def test_rvq_errors(codebooks):
    with pytest.raises(LyraError, match="64 values"):
        rvq.encode(np.zeros(63), 16, codebooks)
    with pytest.raises(LyraError, match="num_quantizers"):
        rvq.encode(np.zeros(64), 47, codebooks)
    with pytest.raises(LyraError, match="outside"):
        rvq.decode([16], codebooks)
    with pytest.raises(LyraError, match="shape"):
        rvq.load_codebooks(np.zeros((46, 16, 63), np.float32))
    assert np.all(rvq.decode([-1] * 46, codebooks) == 0)


def test_decode_sums_the_stages_in_order_bit_for_bit():
    """The vectorised decode is the stage-by-stage float32 sum, exactly (unused stages skipped)."""
    rng = np.random.default_rng(3)
    books = rng.normal(0, 10, rvq.CODEBOOK_SHAPE).astype(np.float32)
    for count in (16, 30, 46, 46):
        indices = rng.integers(0, 16, count).astype(np.int32)
        indices[rng.integers(0, count, 4)] = -1
        expected = np.zeros(64, np.float32)
        for stage, index in enumerate(indices):
            if index != -1:
                expected += books[stage, index]
        assert np.array_equal(rvq.decode(indices, books), expected)
    assert np.array_equal(rvq.decode(-np.ones(46, np.int32), books), np.zeros(64, np.float32))
    with pytest.raises(LyraError, match="index 16 at stage 2"):
        rvq.decode(np.array([0, 1, 16, 3]), books)
