"""Lyra's streaming models: our ONNX against the TFLite interpreter, 100 frames, state carried."""

from __future__ import annotations

import numpy as np
import pytest

from .conftest import ort_session, tflite_interpreter

FRAMES = 100


class OnnxStream:
    """Runs a converted streaming model frame after frame, feeding state_out_k back as state_in_k."""

    def __init__(self, converted, input_name: str, output_name: str):
        self.session = ort_session(converted.model)
        self.state = converted.state_init()
        self.input_name, self.output_name = input_name, output_name

    def step(self, x: np.ndarray) -> np.ndarray:
        names = [o.name for o in self.session.get_outputs()]
        results = dict(zip(names, self.session.run(None, {self.input_name: x, **self.state})))
        self.state = {k.replace("state_out_", "state_in_"): v for k, v in results.items() if k.startswith("state_out_")}
        return results[self.output_name]


def tflite_stream(path):
    runner = tflite_interpreter(path).get_signature_runner()
    key = next(iter(runner.get_input_details()))
    return lambda x: next(iter(runner(**{key: x}).values())).copy()


@pytest.fixture(scope="module")
def encoder_features(tflite_files, converted, speech):
    tfl = tflite_stream(tflite_files["soundstream_encoder"])
    onx = OnnxStream(converted["soundstream_encoder"], "audio", "features")
    frames = speech[: FRAMES * 320].reshape(FRAMES, 1, 320)
    return np.stack([tfl(f) for f in frames]), np.stack([onx.step(f) for f in frames])


def relative_l2(have, want) -> float:
    return float(np.linalg.norm(have - want) / np.linalg.norm(want))


def test_encoder_features_match_tflite(encoder_features):
    want, have = encoder_features
    assert want.shape == have.shape == (FRAMES, 1, 1, 64)
    assert np.linalg.norm(want) > 1.0, "the test speech must produce non-trivial features"
    assert relative_l2(have, want) <= 1e-3


def test_rvq_indices_at_6kbps_match(encoder_features, tflite_files):
    from models.lyra_codebooks import extract_codebooks

    from codeclab.lyra.rvq import ResidualVectorQuantizer

    rvq = ResidualVectorQuantizer(extract_codebooks(tflite_files["quantizer"]))
    want, have = encoder_features
    same = [np.mean(rvq.encode(w.reshape(-1), 30) == rvq.encode(h.reshape(-1), 30)) for w, h in zip(want, have)]
    assert float(np.mean(same)) >= 0.99


def test_lyragan_output_snr(encoder_features, tflite_files, converted):
    features, _ = encoder_features
    tfl = tflite_stream(tflite_files["lyragan"])
    onx = OnnxStream(converted["lyragan"], "features", "audio")
    want = np.concatenate([tfl(f.reshape(1, 1, 64)).reshape(-1) for f in features])
    have = np.concatenate([onx.step(f.reshape(1, 1, 64)).reshape(-1) for f in features])
    assert np.sqrt(np.mean(want ** 2)) > 1e-3, "LyraGAN must produce audible output on real features"
    snr = 10 * np.log10(np.sum(want.astype(np.float64) ** 2) / max(np.sum((want - have).astype(np.float64) ** 2), 1e-30))
    assert snr >= 30.0, snr


def test_state_is_explicit_and_initialised(converted):
    for name, count in (("soundstream_encoder", 14), ("lyragan", 18)):
        model = converted[name]
        init = model.state_init()
        assert len(model.states) == count
        inputs = {i.name for i in model.model.graph.input}
        outputs = {o.name for o in model.model.graph.output}
        for k in range(count):
            assert f"state_in_{k}" in inputs and f"state_out_{k}" in outputs and f"state_in_{k}" in init
