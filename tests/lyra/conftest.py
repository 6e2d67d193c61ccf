"""Fixtures for the Lyra tests: the upstream model folder, codebooks, model bundles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from codeclab.lyra.models import LyraModels, TfliteRunner, load_models, onnx_files_present
from codeclab.lyra.wav import read_wav
from tests.needs import missing

REPO = Path(__file__).resolve().parents[2]
ONNX_DIR = REPO / "build" / "models" / "lyra"


@pytest.fixture(scope="session")
def lyra_dir(upstream) -> Path:
    path = upstream / "lyra"
    if not (path / "soundstream_encoder.tflite").is_file():
        missing("upstream Lyra models not present")
    return path


@pytest.fixture(scope="session")
def testdata(lyra_dir) -> Path:
    return lyra_dir / "testdata"


@pytest.fixture(scope="session")
def codebooks(lyra_dir) -> np.ndarray:
    from models.lyra_codebooks import extract_codebooks

    return extract_codebooks(lyra_dir / "quantizer.tflite")


@pytest.fixture()
def tflite_models(lyra_dir, codebooks) -> LyraModels:
    """A fresh TFLite bundle (its interpreters hold one stream's state)."""
    return LyraModels(TfliteRunner(lyra_dir, num_threads=1), codebooks, {}, "tflite")


@pytest.fixture()
def onnx_models():
    if not onnx_files_present(ONNX_DIR) or not (ONNX_DIR / "quantizer_codebooks.npy").is_file():
        missing(f"converted ONNX models not built in {ONNX_DIR} (run build.py)")
    return load_models(ONNX_DIR, "onnx")


@pytest.fixture(scope="session")
def speech16k(testdata) -> np.ndarray:
    return read_wav(testdata / "sample1_16kHz.wav").samples


@pytest.fixture(scope="session")
def real_features(lyra_dir, speech16k) -> np.ndarray:
    """[frames, 64] SoundStream encoder outputs for the upstream speech sample (TFLite, state carried)."""
    runner = TfliteRunner(lyra_dir)
    x = speech16k.astype(np.float32) / 32768.0
    frames = [runner.run_sync("soundstream_encoder", {"audio": x[i * 320:(i + 1) * 320][None]})["features"].reshape(-1)
              for i in range(x.size // 320)]
    return np.stack(frames)
