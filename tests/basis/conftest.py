"""Session fixtures: the test textures, made once with the real basisu, and
what ``basisu -info`` says about each."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.basis.cases import CASES, IMAGES, draw_image, parse_basisu_info, run_basisu


@pytest.fixture(scope="session")
def texture_dir(basisu: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("basis_textures")
    for key, (w, h, alpha) in IMAGES.items():
        Image.fromarray(draw_image(w, h, alpha)).save(out / f"{key}.png")
    for case in CASES:
        run_basisu(basisu, *case.flags, "-file", f"{case.image}.png", "-output_file", case.name, cwd=out)
    return out


@pytest.fixture(scope="session")
def textures(texture_dir: Path) -> dict[str, bytes]:
    return {case.name: (texture_dir / case.name).read_bytes() for case in CASES}


@pytest.fixture(scope="session")
def basisu_info(basisu: Path, texture_dir: Path) -> dict[str, dict]:
    return {
        case.name: parse_basisu_info(run_basisu(basisu, "-info", "-file", case.name, cwd=texture_dir))
        for case in CASES
    }
