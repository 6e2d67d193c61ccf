"""The hosted demo on a plain static host (no COOP/COEP), under a project sub-path as GitHub Pages serves it:
a first visit downloads only what the tool it uses needs, compressed; from the first reload the service
worker makes the page cross-origin isolated, and Lyra runs on its threaded build."""

from __future__ import annotations

import json
import time
import wave
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image

from devkit.chromium import wait_for_js
from devkit.server import BackgroundSite

from .conftest import wait_result
from .test_offline import Traffic, wait_ready

pytestmark = pytest.mark.e2e

BASE_PATH = "/codeclab/"


def wait_for_quiet_wire(site: BackgroundSite, quiet_s: float = 3.0, limit_s: float = 120.0) -> int:
    """The bytes sent once nothing more has gone out for `quiet_s` seconds."""
    deadline = time.monotonic() + limit_s
    sent, since = site.bytes_sent, time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        if site.bytes_sent != sent:
            sent, since = site.bytes_sent, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return sent
    raise AssertionError(f"the host was still sending after {limit_s} s")


def files_requested(traffic: Traffic, site_url: str, manifest: dict) -> dict[str, set[str]]:
    """The manifest's files the browser asked for, by group."""
    groups: dict[str, set[str]] = {}
    for url in traffic.requests:
        rel = url.split("?")[0].removeprefix(site_url)
        entry = manifest["files"].get(rel)
        if url.startswith(site_url) and entry:
            groups.setdefault(entry["group"], set()).add(rel)
    return groups


def speech_like_wav(path: Path, seconds: float = 0.6, rate: int = 16000) -> Path:
    """A voiced sound (a 140 Hz pulse train through a moving formant): made here, so this smoke needs no
    upstream test data (the publishing workflow runs it on a fresh machine)."""
    t = np.arange(int(seconds * rate)) / rate
    pulses = (np.cumsum(np.full(t.shape, 140 / rate)) % 1) < 0.05
    signal = 0.3 * pulses * np.sin(2 * np.pi * (700 + 500 * np.sin(2 * np.pi * 2 * t)) * t)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((signal * 32767).astype("<i2").tobytes())
    return path


def test_plain_host_under_a_sub_path(browser, dist: Path, tmp_path):
    manifest = json.loads((dist / "offline-manifest.json").read_text())
    ys, xs = np.mgrid[0:120, 0:160]
    picture = tmp_path / "photo.png"
    Image.fromarray(np.stack([xs, ys, np.full(xs.shape, 120)], -1).astype(np.uint8)).save(picture)
    speech = speech_like_wav(tmp_path / "speech.wav")
    site = BackgroundSite(dist, isolate=False, base_path=BASE_PATH)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        traffic = Traffic(context, site.url)
        page = context.new_page()
        page.goto(site.url)
        wait_ready(page)
        assert page.evaluate("crossOriginIsolated") is False  # the host sent no COOP/COEP
        page.set_input_files('[data-testid="attention-input"]', str(picture))
        wait_for_js(page, "document.querySelectorAll('.attention-shot').length >= 1", timeout=120_000)
        assert page.evaluate("document.querySelector('.attention-shot').dataset.predictor") == "model"
        # What the Attention tool used is saved for offline use once it has been used ...
        wait_for_js(page, "(document.documentElement.dataset.offlineTools || '').split(' ').includes('attention')",
                               timeout=180_000)
        first_visit = wait_for_quiet_wire(site)
        # ... and nothing of the tools that were not used was downloaded.
        requested = files_requested(traffic, site.url, manifest)
        assert set(requested) <= {"shell", "python", "models-runtime", "attention"}, sorted(requested)
        used = sum(e["size"] for e in manifest["files"].values() if e["group"] in ("shell", "python", "models-runtime", "attention"))
        print(f"\nfirst visit, one image on Attention: {first_visit / 1e6:.2f} MB on the wire "
              f"(the files it used weigh {used / 1e6:.2f} MB)")
        # Compressed and fetched once each: well under the files' own sizes.
        assert first_visit < used * 0.6
        # The site stays under its sub-path: no request leaves it (nor the origin).
        assert [u for u in traffic.requests if urlsplit(u).scheme == "http" and not u.startswith(site.url)] == []

        page.reload()
        wait_ready(page)
        assert page.evaluate("crossOriginIsolated") is True  # the service worker added COOP/COEP
        assert page.evaluate("window.codeclab.runtime.crossOriginIsolated") is True  # the Python worker too
        assert page.evaluate("typeof SharedArrayBuffer") == "function"
        page.click('[data-testid="tab-lyra"]')
        page.set_input_files('[data-testid="lyra-input"]', str(speech))
        streamed = wait_result(page, "lyra-result", 120_000)
        assert streamed["packets_encoded"] > 0 and streamed["packets_received"] > 0
        runtime = page.evaluate("window.codeclab.python.call('worker.lyra_runtime', {})")
        assert runtime["active"] == "litert" and runtime["threaded_build"] is True, runtime
        assert page.evaluate("window.codeclab.runtime.crossOriginIsolated") is True
        assert traffic.failed == []
        assert traffic.foreign() == []
    finally:
        context.close()
        site.close()
