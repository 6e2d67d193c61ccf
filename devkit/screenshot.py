"""The README's screenshot, taken from the real page: `python3 build.py screenshot`.

Its own command, so that no test writes a tracked file.
"""

from __future__ import annotations

from pathlib import Path

from . import chromium
from .paths import REPO
from .server import BackgroundSite

SCREENSHOT = REPO / "docs" / "screenshot.png"


def take_screenshot(dist: Path, out: Path = SCREENSHOT) -> Path:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 (only this command needs Playwright)

    site = BackgroundSite(dist, isolate=True)
    try:
        with sync_playwright() as playwright:
            browser = chromium.launch(playwright)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(site.url)
            chromium.wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=120_000)
            page.wait_for_timeout(300)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
            browser.close()
    finally:
        site.close()
    return out
