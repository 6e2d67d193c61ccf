"""The service worker (web/sw.js): every tool works offline after one visit, and a new deploy replaces the old
version cleanly (update prompt, reload, new version running, old cache gone)."""

from __future__ import annotations

import contextlib
import functools
import json
import re
import shutil
import threading
import wave
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image

from devkit.chromium import wait_for_js
from devkit.offline import write_offline_files
from devkit.server import BackgroundSite, QuietServer, SiteHandler, make_server

from .conftest import wait_result

pytestmark = pytest.mark.e2e



def tool_ids(dist: Path) -> list[str]:
    """The tools as the build lists them for the page (dist/tools.json, from the tools' manifests), tab order."""
    return [tool["id"] for tool in json.loads((dist / "tools.json").read_text())["tools"]]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, upstream: Path) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("offline")
    ys, xs = np.mgrid[0:96, 0:128]
    picture = np.stack([xs * 2, ys * 2, np.full(xs.shape, 90)], -1).astype(np.uint8)
    picture[30:60, 70:100] = (250, 220, 40)
    Image.fromarray(picture).save(folder / "picture.png")
    with wave.open(str(upstream / "lyra" / "testdata" / "sample1_16kHz.wav")) as source:
        params = source.getparams()
        frames = source.readframes(int(0.6 * params.framerate))
    with wave.open(str(folder / "speech.wav"), "wb") as out:
        out.setparams(params)
        out.writeframes(frames)
    return {"png": folder / "picture.png", "wav": folder / "speech.wav"}


class Traffic:
    """Every request of a browser context (page, workers, service worker) and every one that failed."""

    def __init__(self, context, origin: str):
        self.origin = urlsplit(origin).netloc
        self.requests: list[str] = []
        self.failed: list[str] = []
        context.on("request", lambda request: self.requests.append(request.url))
        context.on("requestfailed", lambda request: self.failed.append(f"{request.url}: {request.failure}"))

    def foreign(self) -> list[str]:
        return [u for u in self.requests if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).netloc != self.origin]


def wait_ready(page) -> None:
    wait_for_js(page, "['ready', 'error'].includes(document.documentElement.dataset.state)", timeout=180_000)
    assert page.evaluate("document.documentElement.dataset.state") == "ready", page.inner_text(".boot-stage")


@contextlib.contextmanager
def saved_site(browser, root: Path):
    """``root`` served (isolated) and a fresh profile on it, booted, with the shell and Python saved for offline
    use: (site, context, page); the profile and the host are closed at the end, whatever happened."""
    site = BackgroundSite(root, isolate=True)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(site.url)
        wait_ready(page)
        wait_for_js(page, "document.documentElement.dataset.offline === 'ready'", timeout=120_000)
        yield site, context, page
    finally:
        context.close()
        site.close()


def open_tracked(context, url: str):
    """A page of ``context`` on ``url``, booted, with every request it makes recorded: (traffic, page)."""
    traffic = Traffic(context, url)
    page = context.new_page()
    page.goto(url)
    wait_ready(page)
    return traffic, page


def use_every_tool(page, inputs: dict[str, Path], lyra_stream: bool = True) -> dict[str, dict]:
    """Use each tool once, as a person would; return what each showed. Lyra decodes the .lyra file of
    `inputs` and, if `lyra_stream`, streams the clip over its WebRTC loopback (and saves its .lyra file)."""
    shown = {}
    page.click('[data-testid="tab-attention"]')
    page.set_input_files('[data-testid="attention-input"]', str(inputs["png"]))
    wait_for_js(page, "document.querySelectorAll('.attention-shot').length >= 1", timeout=120_000)
    shown["attention"] = page.evaluate("(() => { const s = document.querySelector('.attention-shot');"
                                       " return {x: Number(s.dataset.x), y: Number(s.dataset.y), predictor: s.dataset.predictor}; })()")

    page.click('[data-testid="tab-jxl"]')
    page.set_input_files('[data-testid="jxl-input"]', str(inputs["png"]))
    # What the tool computed, not how long it took (timings differ from run to run).
    shown["jxl"] = {key: value for key, value in wait_result(page, "jxl-result", 180_000).items() if not key.endswith("_ms")}

    page.click('[data-testid="tab-lyra"]')
    if lyra_stream:
        page.set_input_files('[data-testid="lyra-input"]', str(inputs["wav"]))
        shown["lyra"] = wait_result(page, "lyra-result", 120_000)
        with page.expect_download() as download:
            page.click('[data-testid="lyra-download-lyra"]')
        inputs["lyra"] = inputs["wav"].with_name("speech.lyra")
        inputs["lyra"].write_bytes(Path(download.value.path()).read_bytes())
    page.set_input_files('[data-testid="lyra-input"]', str(inputs["lyra"]))
    shown["lyra-file"] = wait_result(page, "lyra-file-result", 120_000)

    page.click('[data-testid="tab-basis"]')
    page.set_input_files('[data-testid="basis-input"]', str(inputs["png"]))
    shown["basis"] = wait_result(page, "basis-result", 180_000)
    return shown


def test_every_tool_works_offline_after_one_visit(browser, dist, inputs):
    site = BackgroundSite(dist, isolate=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    try:
        traffic, page = open_tracked(context, site.url)
        # A fresh profile starts Python anew and keeps a snapshot of the started interpreter.
        assert page.evaluate("document.documentElement.dataset.pythonSnapshot") == "made"
        online = use_every_tool(page, inputs)
        # Each tool's pieces are saved the first time it is opened; wait until all are.
        wait_for_js(page,
            "tools => tools.every(t => (document.documentElement.dataset.offlineTools || '').split(' ').includes(t))",
            arg=tool_ids(dist), timeout=180_000)
        assert page.evaluate("document.documentElement.dataset.offline") == "ready"
        assert page.inner_text('[data-testid="offline-status"]') == "Available offline"
        assert offline_list(page) == {tool: True for tool in tool_ids(dist)}

        site.close()  # the host is gone, and the browser is offline too
        context.set_offline(True)
        traffic.failed.clear()
        page.reload()
        wait_ready(page)
        assert page.evaluate("crossOriginIsolated") is True  # COOP/COEP kept by the cached responses
        # ... and restores it (every tool below then runs on the restored interpreter).
        assert page.evaluate("document.documentElement.dataset.pythonSnapshot") == "restored"
        offline = use_every_tool(page, inputs, lyra_stream=False)
        assert offline["attention"] == online["attention"] and online["attention"]["predictor"] == "model"
        assert offline["jxl"] == online["jxl"]
        assert offline["lyra-file"]["packets"] == online["lyra"]["packets_encoded"]
        assert offline["basis"]["encoded"] is True and offline["basis"]["file_size"] == online["basis"]["file_size"]
        # Chromium's offline emulation also stops WebRTC from opening even a loopback data channel, so the
        # Lyra stream is checked with emulation off and the host still gone: it needs nothing from it.
        context.set_offline(False)
        page.click('[data-testid="tab-lyra"]')
        page.set_input_files('[data-testid="lyra-input"]', str(inputs["wav"]))
        streamed = wait_result(page, "lyra-result", 120_000)
        assert streamed["packets_encoded"] == online["lyra"]["packets_encoded"] and streamed["packets_received"] > 0
        assert [url for url in traffic.failed if "/version.json:" not in url] == []  # the deploy check may fail
        assert traffic.foreign() == []
    finally:
        context.close()
        site.close()


def _cache_names(page) -> list[str]:
    return page.evaluate("caches.keys()")


def test_a_new_deploy_replaces_the_old_version_cleanly(browser, dist, tmp_path):
    root = tmp_path / "site"
    shutil.copytree(dist, root)
    with saved_site(browser, root) as (site, context, page):
        first = page.evaluate("document.documentElement.dataset.offlineVersion")
        assert first == json.loads((root / "offline-manifest.json").read_text())["version"]
        assert page.locator('[data-testid="update-banner"]').is_hidden()

        # Deploy a new build over the old one: one file changes, and so do its manifest entry and the version.
        info = json.loads((root / "build-info.json").read_text())
        info["built"] = "the second deploy"
        (root / "build-info.json").write_text(json.dumps(info, indent=1))
        second = write_offline_files(root)
        assert second != first

        page.evaluate("window.codeclab.offline.checkForUpdate()")
        banner = page.locator('[data-testid="update-banner"]')
        banner.wait_for(state="visible", timeout=60_000)
        assert "A new version of codeclab is ready" in banner.inner_text()
        assert page.evaluate("window.codeclab.buildInfo.built") != "the second deploy"  # nothing swapped under the page

        # The new version was installed beside the old one, reusing every unchanged file: with the host gone,
        # it still starts (Python and all) from its own cache.
        site.close()
        context.set_offline(True)
        with page.expect_navigation(timeout=60_000):
            page.click('[data-testid="update-reload"]')
        wait_ready(page)
        assert page.evaluate("document.documentElement.dataset.offlineVersion") == second
        assert page.evaluate("window.codeclab.buildInfo.built") == "the second deploy"
        assert sorted(_cache_names(page)) == [f"codeclab-{second}", "codeclab-snapshot"]  # the old version is gone
        assert page.evaluate("document.documentElement.dataset.pythonSnapshot") == "restored"  # same Pyodide
        assert page.locator('[data-testid="update-banner"]').is_hidden()
        assert page.evaluate("crossOriginIsolated") is True


class HeldSite:
    """dist/ served with COOP/COEP, holding back one file until release() (a slow download, on demand)."""

    def __init__(self, root: Path, held_suffix: str):
        self.released = threading.Event()
        released = self.released

        class Handler(SiteHandler):
            isolate = True

            def do_GET(self):
                if self.path.split("?")[0].endswith(held_suffix):
                    released.wait(180)
                super().do_GET()

        self.server = QuietServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def test_boot_shows_the_bytes_and_the_tabs_work_while_python_starts(browser, dist):
    site = HeldSite(dist, ".whl")  # Pyodide's runtime arrives, the wheels wait
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(site.url)
        stage = page.locator('[data-testid="boot-stage"]')
        wait_for_js(page, "/MB of [0-9.]+ MB/.test(document.querySelector('[data-testid=boot-stage]').textContent)"
                               " && Number(document.querySelector('[data-testid=boot-progress]').getAttribute('aria-valuenow')) > 40",
                               timeout=120_000)
        text = stage.inner_text()
        received, total = (float(x) for x in re.search(r"([0-9.]+) MB of ([0-9.]+) MB", text).groups())
        sizes = json.loads((dist / "offline-manifest.json").read_text())["files"]
        expected = sum(e["size"] for rel, e in sizes.items() if e["group"] == "python" and not re.search(r"\.m?js$", rel))
        assert total == round(expected / 1e6, 1) and 0 < received < total, text
        assert page.evaluate("document.documentElement.dataset.state") == "booting"
        # The tabs are not blocked: each opens, and a tool that needs Python says it is starting.
        for tool in tool_ids(dist):
            page.click(f'[data-testid="tab-{tool}"]')  # Playwright refuses a click an overlay would take
            wait = page.locator(f'[data-testid="{tool}-python-wait"]')
            wait.wait_for(state="visible", timeout=30_000)  # the tab's module is loaded as it is first opened
            assert page.locator(f"#panel-{tool}").is_visible() and wait.is_visible() and "Python is starting" in wait.inner_text(), (
                page.evaluate("document.documentElement.dataset.state"), page.inner_html(f"#panel-{tool}")[:600])
        page.click('[data-testid="tab-about"]')
        assert page.locator("#panel-about h2").inner_text() == "About codeclab"
        site.released.set()
        wait_ready(page)
        assert page.locator(".python-wait").count() == 0
        assert page.locator('[data-testid="boot-progress"]').is_hidden()
    finally:
        context.close()
        site.close()


def test_about_shows_what_is_saved_and_clears_it_and_the_app_is_installable(browser, dist):
    site = BackgroundSite(dist, isolate=False)  # the plain static host
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(site.url + "#about")
        wait_ready(page)
        wait_for_js(page, "document.documentElement.dataset.offline === 'ready'", timeout=120_000)
        manifest = json.loads((dist / "offline-manifest.json").read_text())
        rows = page.locator('[data-testid="about-offline"] tr')
        wait_for_js(page, "document.querySelectorAll('[data-testid=about-offline] tr').length > 0")
        shown = {rows.nth(i).get_attribute("data-group"): rows.nth(i).inner_text() for i in range(rows.count())}
        assert set(shown) == {entry["group"] for entry in manifest["files"].values()}
        python_mb = sum(e["size"] for e in manifest["files"].values() if e["group"] == "python") / 1e6
        assert f"{python_mb:.1f} MB" in shown["python"] and "saved" in shown["python"]
        assert "not yet" in shown["basis"]  # the Textures tab was never opened
        assert "saved in this browser" in page.inner_text('[data-testid="about-offline-summary"]')

        page.click('[data-testid="about-offline-clear"]')
        wait_for_js(page, "document.querySelector('[data-testid=about-offline-summary]').textContent.startsWith('Cleared')")
        assert _cache_names(page) == []  # the version and the Python snapshot
        assert page.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0
        assert page.inner_text('[data-testid="offline-status"]') == "Not saved for offline"

        # Installable: the page links a web app manifest whose icons are real PNGs of the sizes it says.
        href = page.get_attribute('link[rel="manifest"]', "href")
        app_manifest = json.loads((dist / href).read_text())
        assert app_manifest["display"] == "standalone" and app_manifest["start_url"] == "./"
        for icon in app_manifest["icons"]:
            width, height = (int(x) for x in icon["sizes"].split("x"))
            with Image.open(dist / icon["src"]) as image:
                assert image.format == "PNG" and image.size == (width, height)
        assert {icon["sizes"] for icon in app_manifest["icons"]} >= {"192x192", "512x512"}
        assert page.evaluate("fetch('manifest.webmanifest').then(r => r.headers.get('content-type'))") == "application/manifest+json"
    finally:
        context.close()
        site.close()


def offline_list(page) -> dict[str, bool]:
    """What the list under the offline indicator says of each tool: saved (True) or not."""
    items = page.locator('[data-testid="offline-tools"] li')
    return {items.nth(i).get_attribute("data-tool"): items.nth(i).get_attribute("data-saved") == "true" for i in range(items.count())}


class SameOriginSite:
    """dist/ served on one loopback port that can be closed (the host is gone) and opened again on the same port
    (the same origin: its service worker and caches)."""

    def __init__(self, root: Path):
        self.root = root
        self.port = 0
        self.server = None
        self.open()
        self.url = f"http://127.0.0.1:{self.port}/"

    def open(self) -> None:
        self.server = make_server(self.root, self.port, True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None



def reconnect_and_open_offline_details(site, context, page) -> None:
    """Online again: the host answers, the page reloads and boots, and the offline details are open."""
    site.open()
    context.set_offline(False)
    page.reload()
    wait_ready(page)
    wait_for_js(page, "document.documentElement.dataset.offline === 'ready'", timeout=60_000)
    page.click('[data-testid="offline-details"] summary')

def go_offline(page, context, site) -> None:
    site.close()
    context.set_offline(True)
    page.reload()
    wait_ready(page)


def error_of(page, tool: str, timeout: int = 120_000) -> str:
    area = page.locator(f'[data-testid="{tool}-error"]')
    area.wait_for(state="visible", timeout=timeout)
    wait_for_js(page, "area => area.textContent.trim().length > 0", arg=area.element_handle(), timeout=timeout)
    return area.inner_text()


def first_centre(page) -> list[float]:
    wait_for_js(page, "document.querySelectorAll('.attention-shot').length >= 1", timeout=120_000)
    return page.evaluate("(() => { const s = document.querySelector('.attention-shot');"
                         " return [Number(s.dataset.x), Number(s.dataset.y)]; })()")


NOT_SAVED = {"jxl": "The JPEG XL encoder", "lyra": "The Lyra speech codec", "basis": "The Basis Universal codec"}


def test_offline_says_which_tools_are_saved_and_saves_them_all_on_request(browser, dist, inputs):
    site = SameOriginSite(dist)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    try:
        traffic, page = open_tracked(context, site.url)
        # A first visit that uses one tool: only that tool is saved (fetching only what is used is the default).
        page.set_input_files('[data-testid="attention-input"]', str(inputs["png"]))
        online = first_centre(page)
        wait_for_js(page, "(document.documentElement.dataset.offlineTools || '').split(' ').includes('attention')", timeout=180_000)

        go_offline(page, context, site)
        status = page.locator('[data-testid="offline-status"]')
        wait_for_js(page, "document.documentElement.dataset.offline === 'ready'", timeout=60_000)
        assert status.inner_text() == "Offline: 1 of 4 tools"
        assert status.get_attribute("data-tools") == "some"
        assert "Not saved: JPEG XL, Speech (Lyra), Textures (Basis)" in status.get_attribute("title")
        page.click('[data-testid="offline-details"] summary')
        assert offline_list(page) == {"attention": True, "jxl": False, "lyra": False, "basis": False}
        shown = page.inner_text('[data-testid="offline-tools"]')
        assert "Attention center: saved" in shown and "JPEG XL: not saved" in shown, shown

        # The saved tool works; each other one says in plain words that it is not saved, and blames no file.
        page.set_input_files('[data-testid="attention-input"]', str(inputs["png"]))
        assert first_centre(page) == online
        for tool, input_file in (("jxl", inputs["png"]), ("lyra", inputs["wav"]), ("basis", inputs["png"])):
            page.click(f'[data-testid="tab-{tool}"]')
            page.set_input_files(f'[data-testid="{tool}-input"]', str(input_file))
            text = error_of(page, tool)
            assert text.startswith(f"Not available offline: {NOT_SAVED[tool]} is not saved for offline use on this device"), text
            assert "Make every tool available offline" in text, text
            assert "Cannot use this file" not in text and input_file.name not in text, text
            assert "Failed to fetch" not in text.split("details")[0] and "worker" not in text.split("details")[0], text

        # Asked to save everything with no connection, the list says to connect first (and nothing changes).
        page.click('[data-testid="offline-save-all"]')
        wait_for_js(page, "document.querySelector('[data-testid=offline-note]').textContent.includes('no connection')")
        assert page.locator('[data-testid="offline-save-all"]').is_enabled()
        assert offline_list(page) == {"attention": True, "jxl": False, "lyra": False, "basis": False}

        # Online again: one click saves every tool, and says how much it downloads first.
        reconnect_and_open_offline_details(site, context, page)
        button = page.locator('[data-testid="offline-save-all"]')
        manifest = json.loads((dist / "offline-manifest.json").read_text())
        status_now = page.evaluate("window.codeclab.offline.ask({type: 'status'})")
        missing = sum(g["bytes"] - g["cachedBytes"] for g in status_now["groups"].values())
        assert missing > 0 and int(button.get_attribute("data-bytes")) == missing
        assert button.inner_text() == f"Make every tool available offline ({missing / 1e6:.1f} MB)"
        unsaved = sum(e["size"] for e in manifest["files"].values() if e["group"] in ("jxl", "lyra", "basis"))
        assert missing >= unsaved  # at least the three tools' own files
        button.click()
        wait_for_js(page, "document.querySelector('[data-testid=offline-status]').textContent === 'Available offline'",
                               timeout=300_000)
        assert offline_list(page) == {tool: True for tool in tool_ids(dist)}
        assert button.is_hidden()

        # Offline again: every tool works (Lyra's stream with the host gone, see the test above).
        go_offline(page, context, site)
        traffic.failed.clear()
        assert page.inner_text('[data-testid="offline-status"]') == "Available offline"
        page.click('[data-testid="tab-jxl"]')
        page.set_input_files('[data-testid="jxl-input"]', str(inputs["png"]))
        assert wait_result(page, "jxl-result", 180_000)
        page.click('[data-testid="tab-basis"]')
        page.set_input_files('[data-testid="basis-input"]', str(inputs["png"]))
        assert wait_result(page, "basis-result", 180_000)["encoded"] is True
        context.set_offline(False)  # WebRTC's loopback needs the emulation off; the host stays gone
        page.click('[data-testid="tab-lyra"]')
        page.set_input_files('[data-testid="lyra-input"]', str(inputs["wav"]))
        assert wait_result(page, "lyra-result", 120_000)["packets_received"] > 0
        assert page.locator('[data-testid="jxl-error"]').is_hidden() and page.locator('[data-testid="basis-error"]').is_hidden()
        # The one request meant for the network whatever is stored: the deploy check (lib/update.js), which
        # fails quietly while the host is gone.
        assert [url for url in traffic.failed if "/version.json:" not in url] == []
        assert traffic.foreign() == []
    finally:
        context.close()
        site.close()
