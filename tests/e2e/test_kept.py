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

from devkit.chromium import wait_for_js

from .conftest import wait_result

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
    files = {"small.png": out / "small.png", "big.png": out / "big.png", "small.jxl": out / "small.jxl", "other.png": out / "other.png"}
    noisy(400, 300, 1).save(files["small.png"])
    noisy(320, 240, 3).save(files["other.png"])
    noisy(2400, 1600, 2).save(files["big.png"])
    subprocess.run([cjxl, str(files["small.png"]), str(files["small.jxl"]), "-d", "1.5", "-e", "3", "--quiet"],
                   check=True, capture_output=True)
    return files


@pytest.fixture
def page(watched_page):
    return watched_page


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
    wait_for_js(page, "document.querySelector('[data-testid=jxl-progress]').dataset.stage"
                           "?.startsWith('Encoding 2400×1600 to JPEG XL')", timeout=60_000)
    assert page.locator('[data-testid="jxl-cancel"]').is_visible()
    page.wait_for_timeout(500)
    assert " s" in page.inner_text('[data-testid="jxl-progress"]')  # the time spent so far is shown
    page.click('[data-testid="jxl-cancel"]')
    wait_for_js(page, "!document.querySelector('[data-testid=jxl-notice]').hidden", timeout=10_000)
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


# ---------------------------------------------------------------- the last result survives a reload

KEPT_SENTENCE = "{name} ({size}) is kept in this browser: after a reload this tab offers to show it again."
WONT_SURVIVE = "so this result will not survive a reload."


def reload(page) -> None:
    page.reload()
    wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=120_000)


def without_timings(result: dict) -> dict:
    return {key: value for key, value in result.items() if not key.endswith("_ms") and key != "ms"}


def kept_text(page, tool: str) -> str:
    wait_for_js(page, f"['kept', 'not-kept'].includes(document.querySelector('[data-testid={tool}-kept]').dataset.state)",
                           timeout=30_000)
    return page.inner_text(f'[data-testid="{tool}-kept-text"]')


def size_text(page, path: Path) -> str:
    return page.evaluate("async n => (await import('./lib/ui.js')).formatBytes(n)", path.stat().st_size)


def with_big_box(codestream_jxl: Path, out: Path, extra_bytes: int) -> Path:
    """The JPEG XL file in a container, followed by an XML box of `extra_bytes` (a large file that is still a
    valid JPEG XL: decoders skip the box)."""
    codestream = codestream_jxl.read_bytes()
    assert codestream[:2] == b"\xff\x0a"
    box = lambda kind, payload: (8 + len(payload)).to_bytes(4, "big") + kind + payload  # noqa: E731 (a one-line helper)
    signature = bytes([0, 0, 0, 0x0C, 0x4A, 0x58, 0x4C, 0x20, 0x0D, 0x0A, 0x87, 0x0A])
    xml = b"<?xml version='1.0'?><x>" + b" " * (extra_bytes - 30) + b"</x>"
    out.write_bytes(signature + box(b"ftyp", b"jxl \0\0\0\0jxl ") + box(b"jxlc", codestream) + box(b"xml ", xml))
    return out


def test_the_last_jxl_result_comes_back_after_a_reload_and_can_be_forgotten(page, made):
    page.click('[data-testid="tab-jxl"]')
    page.select_option('[data-testid="jxl-quality"]', "90")
    first = jxl_drop(page, made["small.png"])
    assert kept_text(page, "jxl") == KEPT_SENTENCE.format(name="small.png", size=size_text(page, made["small.png"]))
    reload(page)
    page.click('[data-testid="tab-jxl"]')
    assert page.locator('[data-testid="jxl-result"]').is_hidden()
    again = page.locator('[data-testid="jxl-kept-restore"]')
    again.wait_for(state="visible", timeout=30_000)
    assert again.inner_text() == f"Show last result again (small.png, {size_text(page, made['small.png'])})"
    assert page.input_value('[data-testid="jxl-quality"]') == "85"  # the page's default until asked
    again.click()
    restored = wait_result(page, "jxl-result", 240_000)
    assert without_timings(restored) == without_timings(first)
    assert page.input_value('[data-testid="jxl-quality"]') == "90"  # encoded again as it was
    # Forget: nothing is offered after the next reload.
    page.click('[data-testid="jxl-kept-forget"]')
    wait_for_js(page, "document.querySelector('[data-testid=jxl-kept-text]').textContent.startsWith('Forgotten')", timeout=10_000)
    assert page.inner_text('[data-testid="jxl-kept-text"]') == "Forgotten: nothing of it is kept in this browser now."
    reload(page)
    page.click('[data-testid="tab-jxl"]')
    page.wait_for_timeout(1000)  # the lookup is asynchronous: give it time to (not) offer anything
    assert page.locator('[data-testid="jxl-kept"]').is_hidden()


def test_a_file_too_big_to_keep_says_its_result_will_not_survive_a_reload(page, made, tmp_path):
    big = with_big_box(made["small.jxl"], tmp_path / "annotated.jxl", 21 * 1024 * 1024)
    small = jxl_drop(page, made["small.jxl"])
    assert kept_text(page, "jxl").startswith("small.jxl (")
    assert jxl_drop(page, big)["groups"] == small["groups"]
    said = kept_text(page, "jxl")
    assert said == (f"Not kept: annotated.jxl ({size_text(page, big)}) is larger than the 20.0 MB this page keeps in the "
                    f"browser, {WONT_SURVIVE}"), said
    reload(page)
    page.click('[data-testid="tab-jxl"]')
    page.wait_for_timeout(1000)
    assert page.locator('[data-testid="jxl-kept"]').is_hidden()  # nor is the earlier, smaller file offered as "last"


def test_where_the_browser_keeps_nothing_the_page_says_so(browser, site, made):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script("Object.defineProperty(window, 'indexedDB', { value: undefined });")
    page = context.new_page()
    try:
        page.goto(site.url)
        wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=120_000)
        jxl_drop(page, made["small.jxl"])
        assert kept_text(page, "jxl") == ("Not kept: this browser did not let the page keep it (this browser has no IndexedDB here), "
                                          f"{WONT_SURVIVE}")
        assert page.locator('[data-testid="jxl-error"]').is_hidden()
    finally:
        context.close()


def test_the_last_texture_encode_comes_back_with_its_settings(page, made):
    page.click('[data-testid="tab-basis"]')
    page.select_option('[data-testid="basis-mode"]', "uastc")
    page.select_option('[data-testid="basis-uastc-level"]', "1")
    page.locator('[data-testid="basis-result"]').evaluate("n => delete n.dataset.result")
    page.set_input_files('[data-testid="basis-input"]', str(made["small.png"]))
    first = wait_result(page, "basis-result", 180_000)
    assert kept_text(page, "basis").startswith("small.png (")
    reload(page)
    page.click('[data-testid="tab-basis"]')
    page.locator('[data-testid="basis-kept-restore"]').click(timeout=30_000)
    restored = wait_result(page, "basis-result", 180_000)
    assert without_timings(restored) == without_timings(first)
    assert page.input_value('[data-testid="basis-mode"]') == "uastc"
    assert page.input_value('[data-testid="basis-uastc-level"]') == "1"
    assert page.locator('[data-testid="basis-kept-restore"]').is_hidden()


CENTRES = "[...document.querySelectorAll('.attention-shot')].map(s => [s.dataset.x, s.dataset.y, s.dataset.predictor])"


def test_the_last_attention_images_come_back_with_the_menus(page, made):
    page.select_option('[data-testid="attention-predictor"]', "fallback")
    page.set_input_files('[data-testid="attention-input"]', [str(made["small.png"]), str(made["other.png"])])
    wait_for_js(page, "document.querySelectorAll('.attention-shot[data-x]').length === 2", timeout=120_000)
    centres = page.evaluate(CENTRES)
    assert kept_text(page, "attention").startswith("2 files (")
    reload(page)
    page.locator('[data-testid="attention-kept-restore"]').click(timeout=30_000)
    wait_for_js(page, "document.querySelectorAll('.attention-shot[data-x]').length === 2", timeout=120_000)
    assert page.input_value('[data-testid="attention-predictor"]') == "fallback"
    assert page.evaluate(CENTRES) == centres
