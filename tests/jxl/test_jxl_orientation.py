"""Orientation: a JPEG transcoded by cjxl keeps its EXIF orientation in the JXL header; groups and
libjxl's centre live in codestream pixels, the page and the attention model in displayed pixels."""

from __future__ import annotations

import io
import subprocess

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from codeclab.jxl import service
from codeclab.jxl.orientation import display_size, pixel_to_codestream, rect_to_display, to_codestream, to_display

WIDTH, HEIGHT = 900, 600  # stored (codestream) size: 4 x 3 groups of 256


@given(st.integers(1, 8), st.floats(0, WIDTH), st.floats(0, HEIGHT))
def test_maps_are_inverse(orientation, x, y):
    dx, dy = to_display(x, y, WIDTH, HEIGHT, orientation)
    dw, dh = display_size(WIDTH, HEIGHT, orientation)
    assert 0 <= dx <= dw and 0 <= dy <= dh
    bx, by = to_codestream(dx, dy, WIDTH, HEIGHT, orientation)
    assert abs(bx - x) < 1e-6 and abs(by - y) < 1e-6


def _blocky_jpeg(orientation: int) -> tuple[bytes, np.ndarray]:
    """A JPEG of flat 16x16 colour blocks (decoders agree on it) tagged with an EXIF orientation."""
    from PIL import Image

    rng = np.random.default_rng(orientation)
    blocks = rng.integers(0, 256, (HEIGHT // 16 + 1, WIDTH // 16 + 1, 3), dtype=np.uint8)
    stored = np.kron(blocks, np.ones((16, 16, 1), dtype=np.uint8))[:HEIGHT, :WIDTH]
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    Image.fromarray(stored).save(out, "JPEG", quality=95, exif=exif, subsampling=0)
    return out.getvalue(), stored


@pytest.fixture(scope="module")
def oriented_files(tmp_path_factory, cjxl):
    folder = tmp_path_factory.mktemp("orient")
    files = {}
    for orientation in range(1, 9):
        jpeg, stored = _blocky_jpeg(orientation)
        (folder / f"o{orientation}.jpg").write_bytes(jpeg)
        subprocess.run([cjxl, str(folder / f"o{orientation}.jpg"), str(folder / f"o{orientation}.jxl")],
                       check=True, capture_output=True)
        files[orientation] = ((folder / f"o{orientation}.jxl").read_bytes(), stored)
    return files


@pytest.mark.parametrize("orientation", range(1, 9))
def test_header_orientation_and_display_size(oriented_files, orientation):
    info = service.inspect(oriented_files[orientation][0])
    assert info["orientation"] == orientation
    assert (info["width"], info["height"]) == (WIDTH, HEIGHT)
    assert (info["display_width"], info["display_height"]) == display_size(WIDTH, HEIGHT, orientation)


@pytest.mark.parametrize("orientation", [2, 3, 5, 6, 7, 8])
def test_mapping_matches_what_djxl_displays(oriented_files, orientation, decode):
    """djxl shows the stored pixel (x, y) at to_display(x, y): the libjxl decoder is the oracle."""
    data, stored = oriented_files[orientation]
    shown, _ = decode(data)
    assert shown.shape[:2] == display_size(WIDTH, HEIGHT, orientation)[::-1]
    rng = np.random.default_rng(0)
    for _ in range(50):
        x, y = int(rng.integers(2, WIDTH - 2)), int(rng.integers(2, HEIGHT - 2))
        if x % 16 in (0, 15) or y % 16 in (0, 15):
            continue  # stay inside a flat block
        dx, dy = (int(v) for v in pixel_to_display(x, y, orientation))
        assert np.abs(shown[dy, dx, :3].astype(int) - stored[y, x].astype(int)).max() <= 6, (x, y, dx, dy)


def pixel_to_display(x: int, y: int, orientation: int) -> tuple[float, float]:
    dx, dy = to_display(x + 0.5, y + 0.5, WIDTH, HEIGHT, orientation)
    return dx - 0.5, dy - 0.5


@pytest.mark.parametrize("orientation", [1, 6, 8, 3])
def test_centre_on_the_displayed_image_picks_the_right_group(oriented_files, orientation):
    data, _ = oriented_files[orientation]
    dw, dh = display_size(WIDTH, HEIGHT, orientation)
    display_centre = [0.8 * dw, 0.15 * dh]
    sx, sy = pixel_to_codestream(*display_centre, WIDTH, HEIGHT, orientation)
    expected_group = int(sy // 256) * 4 + int(sx // 256)
    out = service.reorder(data, center=display_centre)
    frame = next(f for f in out["info"]["frames"] if f["center_group"] is not None)
    assert frame["center_group"] == expected_group
    plan = service.load_plan(out["data"], display_centre)
    assert plan["center_group"] == expected_group
    x, y, w, h = next(g["rect"] for g in plan["groups"] if g["group"] == expected_group)
    assert x <= display_centre[0] < x + w and y <= display_centre[1] < y + h
    assert sum(g["rect"][2] * g["rect"][3] for g in plan["groups"]) == dw * dh


def test_rect_to_display_turns_a_corner_group():
    # stored top-left group, orientation 6 (turned 90 degrees clockwise): it shows at the top right
    assert rect_to_display([0, 0, 256, 256], WIDTH, HEIGHT, 6) == [HEIGHT - 256, 0, 256, 256]
