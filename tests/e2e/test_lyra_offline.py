"""Issue 31, offline that tells the truth, for Lyra: offline, a Lyra that was not saved says so in plain words
in the comparison too (never blaming the clip); saved, it streams with no connection at all (Chromium opens no
WebRTC data channel offline, so the page falls back to a MessageChannel and says so) and compares with Opus.

The clip is made here (tones under a syllable-rate envelope).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.chromium import wait_for_js

from .conftest import wait_result
from .test_lyra_limits import require_lyra_models, speech_like
from .test_offline import SameOriginSite, go_offline, reconnect_and_open_offline_details, wait_ready

pytestmark = pytest.mark.e2e

NOT_SAVED = "Not available offline: The Lyra speech codec is not saved for offline use on this device"


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return speech_like(tmp_path_factory.mktemp("lyra-offline") / "speech.wav", 1.5)


def compare(page) -> None:
    page.locator('[data-testid="lyra-compare"]').wait_for(state="visible")
    wait_for_js(page, "!document.querySelector('[data-testid=lyra-compare]').disabled", timeout=60_000)
    page.click('[data-testid="lyra-compare"]')


def test_lyra_offline_says_what_is_not_saved_and_once_saved_streams_and_compares_with_no_connection(browser, dist, clip):
    site = SameOriginSite(require_lyra_models(dist))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(site.url)
        wait_ready(page)
        wait_for_js(page, "document.documentElement.dataset.offline === 'ready'", timeout=180_000)

        # Offline with nothing of Lyra saved: the stream and the comparison both say so, and blame no file.
        go_offline(page, context, site)
        page.click('[data-testid="tab-lyra"]')
        page.set_input_files('[data-testid="lyra-input"]', str(clip))
        error = page.locator('[data-testid="lyra-error"]')
        error.wait_for(state="visible", timeout=120_000)
        assert error.inner_text().startswith(NOT_SAVED), error.inner_text()
        compare(page)
        compare_error = page.locator('[data-testid="lyra-compare-error"]')
        compare_error.wait_for(state="visible", timeout=120_000)
        said = compare_error.inner_text()
        assert said.startswith(NOT_SAVED), said
        assert "Make every tool available offline" in said and clip.name not in said and "Cannot use this file" not in said

        # Online once, every tool saved; then offline again, the emulation on the whole time.
        reconnect_and_open_offline_details(site, context, page)
        page.click('[data-testid="offline-save-all"]')
        wait_for_js(page, "document.querySelector('[data-testid=offline-status]').textContent === 'Available offline'",
                               timeout=300_000)
        go_offline(page, context, site)
        assert page.evaluate("navigator.onLine") is False
        page.click('[data-testid="tab-lyra"]')
        lacks = page.locator('[data-testid="lyra-lacks"]')
        assert lacks.is_hidden()  # this browser has WebRTC: nothing is said before a stream
        page.set_input_files('[data-testid="lyra-input"]', str(clip))
        summary = wait_result(page, "lyra-result", 120_000)
        assert summary["packets_encoded"] == 75 and summary["packets_arrived"] == summary["packets_sent"] == 75
        assert summary["ice_candidate"] is None  # the MessageChannel carried it
        assert lacks.is_visible()
        text = lacks.inner_text()
        assert text.startswith("WebRTC could not connect the two peers in this page (this browser is offline"), text
        assert text.endswith("Streaming, saved files and the comparison still work."), text
        assert error.is_hidden()

        compare(page)
        rows = wait_result(page, "lyra-compare-result", 300_000)
        assert {(r["codec"], r["bitrate"]) for r in rows} == {
            ("Lyra v2", 3200), ("Lyra v2", 6000), ("Lyra v2", 9200),
            ("Opus", 6000), ("Opus", 10000), ("Opus", 13000), ("Opus", 14000)}
        assert all(0 < r["stoi"] <= 1 for r in rows)
        assert compare_error.is_hidden()
    finally:
        context.close()
        site.close()
