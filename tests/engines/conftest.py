"""Fixtures of the engine tests: the dist/ under test (as tests/e2e/conftest.py finds or builds it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devkit.build import build
from devkit.paths import DIST, resolve_upstream


@pytest.fixture(scope="session")
def dist() -> Path:
    path = Path(os.environ.get("CODECLAB_DIST", DIST))
    if not (path / "build-info.json").exists():
        build(resolve_upstream(None), path)
    return path
