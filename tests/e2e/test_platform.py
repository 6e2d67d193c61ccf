"""The platform: the page boots Python, reports errors, and stays on its own origin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from devkit.chromium import wait_for_js

from .conftest import open_app

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def test_boots_to_ready_with_python_and_numpy(app_page):
    page, watch = app_page
    info = page.evaluate("window.codeclab.python.call('platform.info')")
    assert info["implementation"] == "cpython" and info["platform"] == "emscripten"
    assert info["numpy"].startswith("2.0.")
    assert info["pillow"] == "10.2.0"
    runtime = page.evaluate("window.codeclab.runtime")
    assert runtime["crossOriginIsolated"] is True
    assert runtime["threads"] >= 1
    assert watch.console_errors == []


def test_a_bad_file_gets_a_plain_error_and_the_app_keeps_working(app_page, tmp_path):
    """A real error path (a text file given to a tool) reads as plain words: no Python repr, no class name,
    the byte offset on the smaller details line; the worker keeps answering. The About panel has no
    "Test error reporting" button any more (issue 18)."""
    page, _ = app_page
    page.click('[data-testid="tab-about"]')
    assert page.locator('[data-testid="about-test-error"]').count() == 0
    assert "Test error" not in page.inner_text("#panel-about")
    notes = tmp_path / "notes.png"  # a PNG signature, then words: it reaches Python's decoder
    notes.write_bytes(b"\x89PNG\r\n\x1a\n" + b"this is a text file, not a picture\n" * 3)
    page.click('[data-testid="tab-attention"]')
    page.set_input_files('[data-testid="attention-input"]', str(notes))
    line = page.locator('[data-testid="attention-error"] > div').first
    line.wait_for(timeout=60_000)
    text = line.inner_text()
    details = line.locator('[data-testid="error-details"]').text_content()  # behind a closed "details" disclosure
    assert details.endswith("byte offset 0") and "byte offset" not in text
    assert line.locator("details").get_attribute("open") is None
    assert "the image header is corrupt" in text
    for leak in ("b'", "Error", "Traceback", "(starts with"):
        assert leak not in text, text
    # An unknown method is a readable error too, and the worker still answers afterwards.
    message = page.evaluate("window.codeclab.python.call('nosuch.tool').then(() => 'no error', e => e.message)")
    assert "unknown method" in message
    good = tmp_path / "good.png"
    Image.new("RGB", (64, 48), (30, 120, 200)).save(good)
    page.select_option('[data-testid="attention-predictor"]', "fallback")
    page.set_input_files('[data-testid="attention-input"]', str(good))
    page.locator(".attention-shot").wait_for(timeout=60_000)
    assert page.evaluate("window.codeclab.python.call('platform.info')")["codeclab"]


def test_no_request_leaves_the_origin(browser, site):
    page, watch = open_app(browser, site.url)
    try:
        for tab in ("attention", "jxl", "lyra", "basis", "about"):
            page.click(f'[data-testid="tab-{tab}"]')
        page.wait_for_timeout(500)
        assert watch.requests, "no requests were recorded at all"
        assert watch.foreign_requests() == []
    finally:
        page.context.close()


def test_works_single_threaded_without_isolation_headers(browser, plain_site):
    page, watch = open_app(browser, plain_site.url)
    try:
        runtime = page.evaluate("window.codeclab.runtime")
        assert runtime["crossOriginIsolated"] is False
        assert runtime["threads"] == 1
        assert page.evaluate("window.codeclab.python.call('platform.info')")["numpy"]
        assert watch.foreign_requests() == []
    finally:
        page.context.close()


def test_serves_wasm_with_correct_mime_and_isolation_headers(site):
    import urllib.request

    with urllib.request.urlopen(site.url + "pyodide/pyodide.asm.wasm") as response:
        assert response.headers["Content-Type"] == "application/wasm"
        assert response.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    with urllib.request.urlopen(site.url + "vendor/ort/ort.wasm.min.mjs") as response:
        assert response.headers["Content-Type"].startswith("text/javascript")


def test_about_lists_bundled_versions(app_page, dist):
    page, _ = app_page
    page.click('[data-testid="tab-about"]')
    wait_for_js(page, "document.querySelector('[data-testid=about-runtime]')?.children.length > 0")
    text = page.inner_text("#panel-about")
    info = json.loads((dist / "build-info.json").read_text())
    for entry in info["vendor"]:
        assert entry["name"] in text and entry["version"] in text


def test_the_page_renders_for_a_screenshot(app_page, tmp_path):
    """The page draws something worth a picture (the README's own comes from `python3 build.py screenshot`;
    tests never write tracked files)."""
    page, _ = app_page
    page.wait_for_timeout(300)
    path = tmp_path / "screenshot.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000


def test_tabs_are_named_after_their_tools_and_old_links_still_work(browser, site):
    page, _ = open_app(browser, site.url + "#speech")
    try:
        tabs = page.eval_on_selector_all('[role="tab"]', "tabs => tabs.map(t => t.dataset.testid)")
        assert tabs == ["tab-attention", "tab-jxl", "tab-lyra", "tab-basis", "tab-about"]
        wait_for_js(page, "document.getElementById('tab-lyra').getAttribute('aria-selected') === 'true'")
        assert page.is_visible("#panel-lyra") and page.is_hidden("#panel-attention")
        for old, tool in (("image", "attention"), ("textures", "basis")):
            page.evaluate("h => { location.hash = h; }", old)
            wait_for_js(page, f"document.getElementById('tab-{tool}').getAttribute('aria-selected') === 'true'")
    finally:
        page.context.close()
