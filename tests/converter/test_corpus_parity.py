"""Lyra's converted models against the TFLite interpreter on a generated corpus: every value equal.

The corpus (corpus.py) is > 5,000 frames of generated audio in clips; each clip is
one stream, state carried frame to frame in both runtimes and reset between clips.
The reference is codeclab.lyra's TFLite runner (ai-edge-litert with its default
XNNPACK delegate); ours is the converted ONNX in onnxruntime through the codec's
own OnnxRunner/StatefulModel.  Equality is exact (np.array_equal), not a tolerance:
one quantisation step that flips in the encoder is carried on by its state, so
"close" is not a property that holds over long streams.
"""

from __future__ import annotations

import numpy as np
import pytest

from codeclab.lyra.models import MODEL_IO

from .conftest import onnx_stream
from .corpus import build_corpus

MIN_FRAMES = 5000


@pytest.fixture(scope="module")
def corpus():
    clips = build_corpus()
    assert sum(len(c.frames) for c in clips) >= MIN_FRAMES
    return clips


def _reference(lyra_dir):
    from codeclab.lyra.models import TfliteRunner

    return TfliteRunner(lyra_dir, num_threads=1)  # a fresh runner is a fresh state


def _stream_mismatches(name, clips_inputs, tflite_dir, converted):
    """Run each clip's inputs through both runtimes; return (frames, [(clip, first bad frame, max diff)])."""
    in_name, out_name = MODEL_IO[name]
    frames, bad, outputs = 0, [], []
    for clip_name, inputs in clips_inputs:
        reference = _reference(tflite_dir)
        ours = onnx_stream(converted, name)
        clip_out = []
        for index, x in enumerate(inputs):
            want = reference.run_sync(name, {in_name: x})[out_name]
            have = ours.step({in_name: x})[out_name]
            frames += 1
            clip_out.append(want)
            if not np.array_equal(want, have) and (not bad or bad[-1][0] != clip_name):
                bad.append((clip_name, index, float(np.abs(want - have).max())))
        outputs.append((clip_name, clip_out))
    return frames, bad, outputs


@pytest.fixture(scope="module")
def encoder_run(corpus, tflite_files, converted):
    return _stream_mismatches("soundstream_encoder", [(c.name, list(c.frames)) for c in corpus],
                              tflite_files["soundstream_encoder"].parent, converted["soundstream_encoder"])


def test_encoder_features_identical_over_the_corpus(encoder_run):
    frames, bad, outputs = encoder_run
    assert frames >= MIN_FRAMES
    assert not bad, f"features differ (clip, first frame, max |diff|): {bad}"
    features = np.concatenate([np.concatenate(o) for _, o in outputs])
    assert np.unique(np.round(features, 3)).size > 100, "the corpus must drive the features over a wide range"


def test_lyragan_audio_identical_over_the_corpus_features(encoder_run, tflite_files, converted):
    _, _, outputs = encoder_run
    frames, bad, audio = _stream_mismatches("lyragan", outputs, tflite_files["lyragan"].parent, converted["lyragan"])
    assert frames >= MIN_FRAMES
    assert not bad, f"decoded audio differs (clip, first frame, max |diff|): {bad}"
    assert np.sqrt(np.mean(np.concatenate([np.concatenate(a) for _, a in audio]) ** 2)) > 1e-3


def test_corpus_is_deterministic():
    first, second = build_corpus(), build_corpus()
    assert [c.name for c in first] == [c.name for c in second]
    assert all(np.array_equal(a.audio, b.audio) for a, b in zip(first, second))
    assert all(np.all(np.abs(c.audio) <= 1.0) and c.audio.dtype == np.float32 for c in first)
