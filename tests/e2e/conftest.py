"""End-to-end fixtures: dist/ served on a free loopback port, Debian's Chromium via Playwright.

The suite runs against the dist/ that ``build.py test`` just built (``CODECLAB_DIST``);
run alone, it builds dist/ first if there is none.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from devkit import chromium
from devkit.build import NO_UPSTREAM_REASON, build
from devkit.chromium import wait_for_js
from devkit.paths import DIST, resolve_upstream
from devkit.server import BackgroundSite
from tests.needs import missing


@pytest.fixture(scope="session")
def dist() -> Path:
    path = Path(os.environ.get("CODECLAB_DIST", DIST))
    if not (path / "build-info.json").exists():
        build(resolve_upstream(None), path)  # as build.py does: $CODECLAB_UPSTREAM, else ../shared/upstream
    return path


@pytest.fixture(scope="session")
def dist_without_models(dist: Path, tmp_path_factory) -> Path:
    """The same site as a build made without the upstream files: no models/, and build-info says why
    (as the build writes it when it can neither find nor download them)."""
    root = tmp_path_factory.mktemp("dist-without-models") / "dist"
    shutil.copytree(dist, root, ignore=shutil.ignore_patterns("models"))
    info = json.loads((root / "build-info.json").read_text())
    info["models"] = {"available": False, "reason": NO_UPSTREAM_REASON,
                      "details": "cannot download https://example.invalid/center.tflite: <urlopen error [Errno -2]>"}
    (root / "build-info.json").write_text(json.dumps(info, indent=1))
    return root


@pytest.fixture(scope="session")
def site_without_models(dist_without_models: Path):
    served = BackgroundSite(dist_without_models, isolate=True)
    yield served
    served.close()


@pytest.fixture(scope="session")
def site(dist: Path):
    """dist/ served with COOP/COEP (cross-origin isolated, threads allowed)."""
    served = BackgroundSite(dist, isolate=True)
    yield served
    served.close()


@pytest.fixture(scope="session")
def plain_site(dist: Path):
    """dist/ served with no special headers, as a plain static host would."""
    served = BackgroundSite(dist, isolate=False)
    yield served
    served.close()


def chromium_path() -> str:
    path = chromium.chromium_path()
    if path is None:
        missing(f"Chromium not found at {os.environ.get('CHROMIUM', '/usr/bin/chromium')}: "
                    "apt-get install chromium, or set CHROMIUM")
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        instance = chromium.launch(playwright, executable)
        yield instance
        instance.close()


class PageWatch:
    """Records every request a page makes and every console error it logs."""

    def __init__(self, page, origin: str):
        self.page = page
        self.origin = origin
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", lambda message: message.type == "error" and self.console_errors.append(message.text))
        page.on("pageerror", lambda error: self.console_errors.append(f"pageerror: {error}"))

    def foreign_requests(self) -> list[str]:
        own = urlsplit(self.origin)
        foreign = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob"):
                continue
            if (parts.scheme, parts.netloc) != (own.scheme, own.netloc):
                foreign.append(url)
        return foreign


def open_app(browser, site_url: str, timeout_ms: int = 120_000):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    watch = PageWatch(page, site_url)
    page.goto(site_url)
    wait_for_js(page, "['ready', 'error'].includes(document.documentElement.dataset.state)", timeout=timeout_ms)
    state = page.evaluate("document.documentElement.dataset.state")
    assert state == "ready", f"app failed to boot: {page.inner_text('.boot-stage')}"
    return page, watch


@pytest.fixture
def app_page(browser, site):
    page, watch = open_app(browser, site.url)
    yield page, watch
    page.context.close()


@pytest.fixture
def watched_page(browser, site):
    """A booted page on the site; after the test, no request has left the page's origin."""
    page, watch = open_app(browser, site.url)
    yield page
    assert watch.foreign_requests() == []
    page.context.close()


def write_wav(path: Path, samples, rate: int) -> Path:
    """A mono 16-bit WAV of ``samples`` (int16 values) at ``rate``."""
    import wave

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return path


def wait_result(page, testid: str, timeout_ms: int = 120_000) -> dict:
    """Wait until the element with data-testid=testid has a data-result, and return it parsed."""
    import json

    locator = page.locator(f'[data-testid="{testid}"]')
    wait_for_js(page,
        "id => { const n = document.querySelector(`[data-testid=\"${id}\"]`); return n && n.dataset.result; }",
        arg=testid, timeout=timeout_ms,
    )
    return json.loads(locator.get_attribute("data-result"))
