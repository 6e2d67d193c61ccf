"""Fixtures for the attention-center tests: upstream model + bee, the converter's ONNX when built."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.needs import missing

REPO = Path(__file__).resolve().parents[2]
ONNX_MODEL = REPO / "build" / "models" / "attention_center.onnx"


def _upstream_file(upstream: Path, name: str) -> Path:
    path = upstream / "attention-center" / name
    if not path.is_file():
        missing(f"{path} missing")
    return path


@pytest.fixture(scope="session")
def center_tflite(upstream: Path) -> Path:
    return _upstream_file(upstream, "center.tflite")


@pytest.fixture(scope="session")
def bee_path(upstream: Path) -> Path:
    return _upstream_file(upstream, "white_eyes_bee.jpg")


@pytest.fixture(scope="session")
def onnx_model() -> Path:
    if not ONNX_MODEL.is_file():
        missing(f"{ONNX_MODEL} not built yet (the converter writes it: python3 build.py)")
    return ONNX_MODEL
