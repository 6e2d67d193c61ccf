"""Lyra's streaming models: our ONNX against the TFLite interpreter, 100 frames, state carried."""

from __future__ import annotations

import numpy as np
import pytest

from codeclab.lyra.models import MODEL_IO

from .conftest import onnx_stream

FRAMES = 100


def tflite_stream(lyra_dir, name):
    """The reference: codeclab.lyra's TFLite runner (the interpreter keeps the state itself)."""
    from codeclab.lyra.models import TfliteRunner

    runner = TfliteRunner(lyra_dir, num_threads=1)
    in_name, out_name = MODEL_IO[name]
    return lambda x: runner.run_sync(name, {in_name: x})[out_name]


def onnx_step(converted, name):
    stream = onnx_stream(converted, name)
    in_name, out_name = MODEL_IO[name]
    return lambda x: stream.step({in_name: x})[out_name]


@pytest.fixture(scope="module")
def encoder_features(tflite_files, converted, speech):
    tfl = tflite_stream(tflite_files["soundstream_encoder"].parent, "soundstream_encoder")
    onx = onnx_step(converted["soundstream_encoder"], "soundstream_encoder")
    frames = speech[: FRAMES * 320].reshape(FRAMES, 1, 320)
    return np.stack([tfl(f) for f in frames]), np.stack([onx(f) for f in frames])


def relative_l2(have, want) -> float:
    return float(np.linalg.norm(have - want) / np.linalg.norm(want))


def test_encoder_features_match_tflite(encoder_features):
    want, have = encoder_features
    assert want.shape == have.shape == (FRAMES, 1, 1, 64)
    assert np.linalg.norm(want) > 1.0, "the test speech must produce non-trivial features"
    assert np.array_equal(have, want), f"{int(np.sum(have != want))} feature values differ, rel. L2 {relative_l2(have, want)}"


def test_rvq_indices_at_6kbps_match(encoder_features, tflite_files):
    from codeclab.lyra.rvq import ResidualVectorQuantizer
    from models.lyra_codebooks import extract_codebooks

    rvq = ResidualVectorQuantizer(extract_codebooks(tflite_files["quantizer"]))
    want, have = encoder_features
    same = [np.mean(rvq.encode(w.reshape(-1), 30) == rvq.encode(h.reshape(-1), 30)) for w, h in zip(want, have)]
    assert float(np.mean(same)) == 1.0


def test_lyragan_output_identical(encoder_features, tflite_files, converted):
    features, _ = encoder_features
    tfl = tflite_stream(tflite_files["lyragan"].parent, "lyragan")
    onx = onnx_step(converted["lyragan"], "lyragan")
    want = np.concatenate([tfl(f.reshape(1, 1, 64)).reshape(-1) for f in features])
    have = np.concatenate([onx(f.reshape(1, 1, 64)).reshape(-1) for f in features])
    assert np.sqrt(np.mean(want ** 2)) > 1e-3, "LyraGAN must produce audible output on real features"
    assert np.array_equal(have, want), f"max |diff| {float(np.abs(have - want).max())}"


def test_state_is_explicit_and_initialised(converted):
    for name, count in (("soundstream_encoder", 14), ("lyragan", 18)):
        model = converted[name]
        init = model.state_init()
        assert len(model.states) == count
        inputs = {i.name for i in model.model.graph.input}
        outputs = {o.name for o in model.model.graph.output}
        for k in range(count):
            assert f"state_in_{k}" in inputs and f"state_out_{k}" in outputs and f"state_in_{k}" in init
