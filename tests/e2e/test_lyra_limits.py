"""Issue 26: where this browser cannot do something Lyra's stream needs, the page says so in plain words and
keeps going. A decoder slower than real time is judged by measurement (a slower decoder is put in the
receiver's place here: its delay is real, so the measured factor has a floor), and a browser without WebRTC
(its constructor removed before the page starts) streams over the MessageChannel fallback and says what it lacks.

The speech-like clip is made here (tones under a syllable-rate envelope).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from devkit.chromium import CHROMIUM_FLAGS, wait_for_js
from tests.needs import missing

from .conftest import PageWatch, chromium_path, wait_result, write_wav

pytestmark = pytest.mark.e2e

LYRA_MODELS = ("soundstream_encoder", "lyragan")
# What the slower decoder adds to each 20 ms frame: at least twice real time, whatever the real decoder takes.
ADDED_MS_PER_FRAME = 40


@pytest.fixture(scope="module")
def lyra_dist(dist: Path) -> Path:
    return require_lyra_models(dist)


def require_lyra_models(dist: Path) -> Path:
    names = json.loads((dist / "models" / "index.json").read_text()) if (dist / "models" / "index.json").exists() else {}
    absent = [name for name in LYRA_MODELS if not any(k == name or k.endswith("/" + name) for k in names)]
    if absent:
        missing(f"Lyra models {absent} are not in {dist}/models (build with the upstream files)")
    return dist


def speech_like(path: Path, seconds: float, rate: int = 16000) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    voice = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((180, 360, 540, 720, 1100), start=1))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)  # four "syllables" a second
    samples = (0.25 * voice * envelope / 2.3 * 32767).astype("<i2")
    return write_wav(path, samples, rate)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return speech_like(tmp_path_factory.mktemp("lyra-limits") / "speech.wav", 3.0)


def open_lyra(browser, url: str, init_script: str | None = None):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    watch = PageWatch(page, url)
    page.goto(url + "#lyra")
    wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=120_000)
    page.click('[data-testid="tab-lyra"]')
    return page, watch


def stream(page, path: Path, timeout_ms: int = 120_000) -> dict:
    page.evaluate("delete document.querySelector('[data-testid=lyra-result]').dataset.result")
    page.set_input_files('[data-testid="lyra-input"]', str(path))
    return wait_result(page, "lyra-result", timeout_ms)


def test_a_decoder_slower_than_real_time_is_measured_and_said_and_the_stream_goes_on(browser, site, lyra_dist, clip):
    page, watch = open_lyra(browser, site.url)
    try:
        page.evaluate("""added => {
            const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
            window.codeclab.lyra.wrapDecoder = (real) => ({ ...real,
                async decode(packet) { await sleep(added); return real.decode(packet); },
                async decodeMany(packets) { await sleep(added * packets.length); return real.decodeMany(packets); } });
        }""", ADDED_MS_PER_FRAME)
        page.set_input_files('[data-testid="lyra-input"]', str(clip))
        note = page.locator('[data-testid="lyra-speed"]')
        note.wait_for(state="visible", timeout=60_000)  # said while the stream runs
        assert page.evaluate("window.codeclab.lyra.session !== null")
        text = note.inner_text()
        match = re.fullmatch(r"This browser decodes Lyra slower than real time \(×(\d+(?:\.\d)?)\); playback will stall\. "
                             r"Saved files and the comparison still work\.", text)
        assert match, text
        assert float(match.group(1)) >= 1.9  # the added delay alone is twice real time
        summary = wait_result(page, "lyra-result", 180_000)  # and it keeps going to the end
        assert summary["slower_than_real_time"] >= 1.9
        assert summary["packets_encoded"] == 150 and summary["frames_played"] >= 150
        assert note.is_visible() and note.inner_text() == text  # the verdict stays
        assert page.locator('[data-testid="lyra-error"]').is_hidden()
        assert watch.foreign_requests() == []
    finally:
        page.context.close()


def test_without_webrtc_the_stream_says_what_is_missing_and_works_over_a_message_channel(browser, site, lyra_dist, clip):
    page, watch = open_lyra(browser, site.url, "delete window.RTCPeerConnection; delete window.webkitRTCPeerConnection;")
    try:
        assert page.evaluate("typeof RTCPeerConnection") == "undefined"
        lacks = page.locator('[data-testid="lyra-lacks"]')
        assert lacks.is_visible()
        text = lacks.inner_text()
        assert text.startswith("This browser has no WebRTC, so the two peers in this page pass packets over a MessageChannel")
        assert text.endswith("Streaming, saved files and the comparison still work.")
        assert page.locator('[data-testid="lyra-listen"]').is_hidden()  # calls to another tab need WebRTC
        summary = stream(page, clip)
        assert summary["ice_candidate"] is None  # no ICE pair: the fallback carried the packets
        assert summary["packets_encoded"] == 150
        assert summary["packets_sent"] == summary["packets_arrived"] == 150 and summary["lost_on_the_way"] == 0
        assert page.locator('[data-testid="lyra-error"]').is_hidden()
        assert watch.foreign_requests() == []
    finally:
        page.context.close()


def test_with_webrtc_nothing_is_said_to_be_missing(browser, site, lyra_dist):
    page, _ = open_lyra(browser, site.url)
    try:
        assert page.locator('[data-testid="lyra-lacks"]').is_hidden()
        assert page.locator('[data-testid="lyra-listen"]').is_visible()
    finally:
        page.context.close()


def test_the_last_clip_streams_again_after_a_reload_and_a_microphone_recording_is_said_not_to_be_kept(browser, site, lyra_dist, clip):
    # A Chromium of its own whose fake microphone plays the clip made here.
    flags = CHROMIUM_FLAGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                              f"--use-file-for-fake-audio-capture={clip}"]
    fake_mic_browser = browser.browser_type.launch(executable_path=chromium_path(), args=flags, headless=True)
    try:
        page, watch = open_lyra(fake_mic_browser, site.url)
        page.select_option('[data-testid="lyra-bitrate"]', "3200")
        first = stream(page, clip)
        kept = page.locator('[data-testid="lyra-kept-text"]')
        wait_for_js(page, "document.querySelector('[data-testid=lyra-kept]').dataset.state === 'kept'", timeout=30_000)
        said = kept.inner_text()
        assert said.startswith("speech.wav (") and said.endswith("after a reload this tab offers to show it again."), said
        page.reload()
        wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=120_000)
        page.click('[data-testid="tab-lyra"]')
        assert page.input_value('[data-testid="lyra-bitrate"]') == "6000"
        again = page.locator('[data-testid="lyra-kept-restore"]')
        again.wait_for(state="visible", timeout=30_000)
        assert again.inner_text().startswith("Show last result again (speech.wav, ")
        page.evaluate("delete document.querySelector('[data-testid=lyra-result]').dataset.result")
        again.click()
        restored = wait_result(page, "lyra-result", 120_000)  # streamed again, at the bitrate it had
        assert page.input_value('[data-testid="lyra-bitrate"]') == "3200"
        assert restored["packets_encoded"] == first["packets_encoded"] == 150
        assert restored["packet_bitrates"] == first["packet_bitrates"] == [3200]
        # The microphone is never kept, and the page says so; the clip kept before is no longer offered.
        page.click('[data-testid="lyra-mic"]')
        wait_for_js(page, "document.querySelector('[data-testid=lyra-kept]').dataset.state === 'not-kept'", timeout=30_000)
        assert kept.inner_text() == ("Not kept: a microphone recording is not kept in this browser, "
                                     "so this result will not survive a reload.")
        page.click('[data-testid="lyra-stop"]')
        page.reload()
        wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=120_000)
        page.click('[data-testid="tab-lyra"]')
        page.wait_for_timeout(1000)  # the lookup is asynchronous: give it time to (not) offer anything
        assert page.locator('[data-testid="lyra-kept"]').is_hidden()
        assert watch.foreign_requests() == []
    finally:
        fake_mic_browser.close()
