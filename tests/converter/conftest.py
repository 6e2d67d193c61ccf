"""Fixtures for the converter tests: the upstream .tflite files and their conversions."""

from __future__ import annotations

import sys
import wave
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # the converter lives in models/, beside pysrc/


@pytest.fixture(scope="session")
def tflite_files(upstream) -> dict[str, Path]:
    files = {"attention_center": upstream / "attention-center" / "center.tflite",
             "soundstream_encoder": upstream / "lyra" / "soundstream_encoder.tflite",
             "lyragan": upstream / "lyra" / "lyragan.tflite",
             "quantizer": upstream / "lyra" / "quantizer.tflite"}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        pytest.fail(f"upstream folder {upstream} lacks {missing}")
    return files


@pytest.fixture(scope="session")
def converted(tflite_files):
    """name -> ConvertedModel, converted with the same recipes as the build (models/manifests)."""
    from models.build_models import load_manifests
    from models.tflite2onnx import convert

    out = {}
    for manifest in load_manifests():
        if manifest.get("kind") == "codebooks":
            continue
        out[manifest["name"]] = convert(tflite_files[manifest["name"]], name=manifest["name"],
                                        input_names=manifest.get("rename_inputs"),
                                        output_names=manifest.get("rename_outputs"),
                                        extra_outputs=manifest.get("extra_outputs"))
    return out


@pytest.fixture(scope="session")
def speech(upstream) -> np.ndarray:
    """Lyra's own 16 kHz test speech as float32 in -1..1."""
    with wave.open(str(upstream / "lyra" / "testdata" / "sample1_16kHz.wav")) as handle:
        assert handle.getframerate() == 16000
        data = np.frombuffer(handle.readframes(handle.getnframes()), "<i2")
    return data.astype(np.float32) / 32768.0


def onnx_stream(converted, name: str, threads: int = 1):
    """A converted model as the codec runs it: codeclab's OnnxRunner (over the serialized model) and
    StatefulModel, which feeds each state_out_k back as the next frame's state_in_k."""
    from codeclab.lyra.models import StatefulModel
    from codeclab.onnx_bridge import OnnxRunner

    runner = OnnxRunner({name: converted.model.SerializeToString()}, num_threads=threads)
    return StatefulModel(runner, name, converted.state_init())
