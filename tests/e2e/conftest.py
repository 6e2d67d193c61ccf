"""End-to-end fixtures: dist/ served on a free loopback port, Debian's Chromium via Playwright.

The suite runs against the dist/ that ``build.py test`` just built (``CODECLAB_DIST``);
run alone, it builds dist/ first if there is none.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.needs import missing

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage",
    "--enable-unsafe-swiftshader", "--use-angle=swiftshader",
]


def _build_module():
    spec = importlib.util.spec_from_file_location("codeclab_build", REPO / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_module = _build_module()


@pytest.fixture(scope="session")
def dist() -> Path:
    path = Path(os.environ.get("CODECLAB_DIST", REPO / "dist"))
    if not (path / "build-info.json").exists():
        upstream = os.environ.get("CODECLAB_UPSTREAM")
        build_module.build(Path(upstream) if upstream else None, path)
    return path


class Site:
    def __init__(self, root: Path, isolate: bool):
        self.server = build_module.make_server(root, 0, isolate)
        self.url = "http://127.0.0.1:%d/" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def dist_without_models(dist: Path, tmp_path_factory) -> Path:
    """The same site as a build made without the upstream files: no models/, and build-info says why
    (as build.py writes it when it can neither find nor download them)."""
    import json  # noqa: PLC0415

    root = tmp_path_factory.mktemp("dist-without-models") / "dist"
    shutil.copytree(dist, root, ignore=shutil.ignore_patterns("models"))
    info = json.loads((root / "build-info.json").read_text())
    info["models"] = {"available": False, "reason": "model files not found: no --upstream folder and no network"}
    (root / "build-info.json").write_text(json.dumps(info, indent=1))
    return root


@pytest.fixture(scope="session")
def site_without_models(dist_without_models: Path):
    served = Site(dist_without_models, isolate=True)
    yield served
    served.close()


@pytest.fixture(scope="session")
def site(dist: Path):
    """dist/ served with COOP/COEP (cross-origin isolated, threads allowed)."""
    served = Site(dist, isolate=True)
    yield served
    served.close()


@pytest.fixture(scope="session")
def plain_site(dist: Path):
    """dist/ served with no special headers, as a plain static host would."""
    served = Site(dist, isolate=False)
    yield served
    served.close()


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(path).exists() and not shutil.which(path):
        missing(f"Chromium not found at {path}: apt-get install chromium, or set CHROMIUM")
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True)
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
    page.wait_for_function("document.documentElement.dataset.state === 'ready' || document.documentElement.dataset.state === 'error'", timeout=timeout_ms)
    state = page.evaluate("document.documentElement.dataset.state")
    assert state == "ready", f"app failed to boot: {page.inner_text('.boot-stage')}"
    return page, watch


@pytest.fixture
def app_page(browser, site):
    page, watch = open_app(browser, site.url)
    yield page, watch
    page.context.close()


def wait_result(page, testid: str, timeout_ms: int = 120_000) -> dict:
    """Wait until the element with data-testid=testid has a data-result, and return it parsed."""
    import json

    locator = page.locator(f'[data-testid="{testid}"]')
    page.wait_for_function(
        "id => { const n = document.querySelector(`[data-testid=\"${id}\"]`); return n && n.dataset.result; }",
        arg=testid, timeout=timeout_ms,
    )
    return json.loads(locator.get_attribute("data-result"))
