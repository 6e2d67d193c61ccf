"""Issue 31, "nothing lost": a long JPEG XL encode can be cancelled, keeping the result shown before; the last
result per tool survives a reload when its input is small enough to keep (or the page says it will not).

Every input is made here (numpy/Pillow pictures, cjxl files).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .conftest import open_app, wait_result

pytestmark = pytest.mark.e2e


def noisy(width: int, height: int, seed: int) -> Image.Image:
    """A picture of noise over a gradient: slow for a lossless encoder, reproducible from the seed."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    pixels = (xx * 255 // width)[..., None] + rng.integers(0, 90, (height, width, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def made(tmp_path_factory, cjxl) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("kept")
    files = {"small.png": out / "small.png", "big.png": out / "big.png", "small.jxl": out / "small.jxl"}
    noisy(400, 300, 1).save(files["small.png"])
    noisy(2400, 1600, 2).save(files["big.png"])
    subprocess.run([cjxl, str(files["small.png"]), str(files["small.jxl"]), "-d", "1.5", "-e", "3", "--quiet"],
                   check=True, capture_output=True)
    return files


@pytest.fixture
def page(browser, site):
    page, watch = open_app(browser, site.url)
    yield page
    assert watch.foreign_requests() == []
    page.context.close()


def jxl_drop(page, path: Path) -> dict:
    page.click('[data-testid="tab-jxl"]')
    page.locator('[data-testid="jxl-result"]').evaluate("n => delete n.dataset.result")
    page.set_input_files('[data-testid="jxl-input"]', str(path))
    return wait_result(page, "jxl-result", 240_000)


def test_a_long_jxl_encode_shows_progress_and_can_be_cancelled_keeping_the_result(page, made):
    before = jxl_drop(page, made["small.jxl"])
    page.select_option('[data-testid="jxl-quality"]', "lossless")
    started = time.monotonic()
    page.set_input_files('[data-testid="jxl-input"]', str(made["big.png"]))
    page.wait_for_function("document.querySelector('[data-testid=jxl-progress]').dataset.stage"
                           "?.startsWith('Encoding 2400×1600 to JPEG XL')", timeout=60_000)
    assert page.locator('[data-testid="jxl-cancel"]').is_visible()
    page.wait_for_timeout(500)
    assert " s" in page.inner_text('[data-testid="jxl-progress"]')  # the time spent so far is shown
    page.click('[data-testid="jxl-cancel"]')
    page.wait_for_function("!document.querySelector('[data-testid=jxl-notice]').hidden", timeout=10_000)
    cancelled_after = time.monotonic() - started
    assert page.inner_text('[data-testid="jxl-notice"]') == "Encoding big.png cancelled. Still showing small."
    assert page.locator('[data-testid="jxl-progress"]').is_hidden()
    assert page.locator('[data-testid="jxl-error"]').is_hidden()
    result = page.locator('[data-testid="jxl-result"]')
    assert result.is_visible() and "jxl-result-stale" not in result.get_attribute("class")
    assert wait_result(page, "jxl-result") == before
    # the encoder starts afresh for the next image, and the notice goes
    page.select_option('[data-testid="jxl-quality"]', "85")
    again = jxl_drop(page, made["small.png"])
    assert again["source"] == "png" and again["width"] == 400
    assert page.locator('[data-testid="jxl-notice"]').is_hidden()
    print(f"cancelled a lossless JPEG XL encode of 2400×1600 after {cancelled_after:.1f} s")
