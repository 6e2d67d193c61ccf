"""Updates that arrive (web/lib/update.js): dist/version.json, never cached, lets an open page notice a deploy
(on load, and on focus at most every few minutes); a deploy marked required switches the page over when no
tool is running, and not while one is."""

from __future__ import annotations

import json
import shutil
import urllib.request

import pytest

from devkit.chromium import wait_for_js
from devkit.offline import write_offline_files
from devkit.server import BackgroundSite

pytestmark = pytest.mark.e2e

VERSION_FETCHES = "version.json"


@pytest.fixture
def deployed(dist, tmp_path):
    """A copy of dist/ served with COOP/COEP, which a test may redeploy over."""
    root = tmp_path / "site"
    shutil.copytree(dist, root)
    site = BackgroundSite(root, isolate=True)
    yield root, site
    site.close()


def redeploy(root, required: bool) -> str:
    """A new build over the old one, as the offline tests make it: one file changes, so does the version."""
    info = json.loads((root / "build-info.json").read_text())
    info["built"] = "the second deploy"
    (root / "build-info.json").write_text(json.dumps(info, indent=1))
    return write_offline_files(root, required=required)


def open_counting(browser, site):
    """A page whose clock the test can move (Playwright's clock: time flows, fast_forward jumps), and the
    number of times anything in its context asked for version.json."""
    context = browser.new_context()
    asked = []
    context.on("request", lambda request: request.url.endswith(VERSION_FETCHES) and asked.append(request.url))
    page = context.new_page()
    page.clock.install()
    page.goto(site.url)
    wait_for_js(page, "['ready', 'error'].includes(document.documentElement.dataset.state)", timeout=180_000)
    assert page.evaluate("document.documentElement.dataset.state") == "ready", page.inner_text(".boot-stage")
    wait_for_js(page, "document.documentElement.dataset.offline === 'ready'", timeout=120_000)
    return context, page, asked


def test_a_redeploy_is_noticed_on_focus_at_most_every_few_minutes(browser, deployed):
    root, site = deployed
    first = json.loads((root / "version.json").read_text())
    assert first["required"] is False
    with urllib.request.urlopen(site.url + "version.json") as response:
        assert response.headers["Cache-Control"] == "no-store"
    context, page, asked = open_counting(browser, site)
    try:
        # On load: read once, the running version.
        wait_for_js(page, f"document.documentElement.dataset.deployedVersion === '{first['version']}'", timeout=30_000)
        assert page.evaluate("document.documentElement.dataset.offlineVersion") == first["version"]
        read_on_load = len(asked)
        assert read_on_load >= 1
        second = redeploy(root, required=False)

        # Focus again within minutes: not read again.
        page.evaluate("window.dispatchEvent(new Event('focus'))")
        page.wait_for_timeout(1000)
        assert len(asked) == read_on_load
        assert page.locator('[data-testid="update-banner"]').is_hidden()

        # Minutes later: read, the new deploy noticed, its worker installed beside the old one, the banner shown.
        page.clock.fast_forward("05:01")
        page.evaluate("window.dispatchEvent(new Event('focus'))")
        wait_for_js(page, f"document.documentElement.dataset.deployedVersion === '{second}'", timeout=30_000)
        page.locator('[data-testid="update-banner"]').wait_for(state="visible", timeout=60_000)
        assert len(asked) > read_on_load
        assert page.evaluate("document.documentElement.dataset.updateState") is None  # not required: the visitor chooses
        assert page.evaluate("window.codeclab.buildInfo.built") != "the second deploy"
        # The service worker passed version.json to the network; no cache holds it.
        assert page.evaluate("caches.match('version.json').then((hit) => hit === undefined)") is True
    finally:
        context.close()


def test_a_required_redeploy_switches_over_when_idle_and_not_while_busy(browser, deployed):
    root, site = deployed
    context, page, _ = open_counting(browser, site)
    try:
        first = page.evaluate("document.documentElement.dataset.offlineVersion")
        wait_for_js(page, f"document.documentElement.dataset.deployedVersion === '{first}'", timeout=30_000)
        # Work an update must not cut (a Lyra stream takes such a hold: tests/e2e/test_lyra.py -k holds_off).
        page.evaluate("window.releaseWork = window.codeclab.updates.hold(); window.samePage = true")
        second = redeploy(root, required=True)
        page.clock.fast_forward("05:01")
        page.evaluate("window.dispatchEvent(new Event('focus'))")
        wait_for_js(page, "document.documentElement.dataset.updateState === 'waiting'", timeout=30_000)
        wait_for_js(page, "navigator.serviceWorker.getRegistration().then((r) => Boolean(r?.waiting))", timeout=60_000)
        page.wait_for_timeout(4000)  # twice the quiet time the switch waits for
        assert page.evaluate("window.samePage") is True, "the page switched while busy"
        assert page.evaluate("document.documentElement.dataset.updateState") == "waiting"
        assert page.evaluate("window.codeclab.buildInfo.built") != "the second deploy"

        with page.expect_navigation(timeout=60_000):
            page.evaluate("window.releaseWork()")
        wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=180_000)
        wait_for_js(page, f"document.documentElement.dataset.offlineVersion === '{second}'", timeout=60_000)
        assert page.evaluate("window.codeclab.buildInfo.built") == "the second deploy"
        assert page.evaluate("window.samePage") is None
    finally:
        context.close()


def test_a_file_of_another_deploy_makes_the_page_switch_over(browser, deployed, tmp_path):
    """The page runs version A; the host now serves B (not marked required). A tool used for the first time
    fetches a file whose bytes are B's, not what A's manifest names: the service worker does not keep it, and the
    page switches to B at its next idle moment instead of going on with a mix of two versions."""
    from PIL import Image

    root, site = deployed
    picture = tmp_path / "picture.png"
    Image.new("RGB", (64, 48), (200, 120, 40)).save(picture)
    context, page, _ = open_counting(browser, site)
    try:
        first = page.evaluate("document.documentElement.dataset.offlineVersion")
        assert "basis" not in (page.evaluate("document.documentElement.dataset.offlineTools") or "")
        page.evaluate("window.samePage = true")
        script = root / "vendor" / "basis" / "basis_transcoder.js"
        script.write_text(script.read_text() + "\n// the second deploy\n")
        for copy in (script.with_name(script.name + ".br"), script.with_name(script.name + ".gz")):
            copy.unlink(missing_ok=True)
        second = redeploy(root, required=False)

        page.click('[data-testid="tab-basis"]')
        with page.expect_navigation(timeout=120_000):
            page.set_input_files('[data-testid="basis-input"]', str(picture))
            wait_for_js(page, "document.documentElement.dataset.updateState === 'waiting'", timeout=60_000)
        wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=180_000)
        wait_for_js(page, f"document.documentElement.dataset.offlineVersion === '{second}'", timeout=60_000)
        assert second != first
        assert page.evaluate("window.samePage") is None
        assert page.evaluate("window.codeclab.buildInfo.built") == "the second deploy"
    finally:
        context.close()
