"""Lyra in the page: real-time streaming over a real WebRTC data channel, checked against CPython.

Each streaming test plays a short upstream speech clip in real time (the real-time path has
no fast-forward), so the clips are kept to a few seconds.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from .conftest import CHROMIUM_FLAGS, chromium_path, open_app, wait_result

pytestmark = pytest.mark.e2e

STREAM_TIMEOUT_MS = 60_000
LYRA_MODELS = ("soundstream_encoder", "lyragan")  # runner names in dist/models/index.json


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def lyra_dist(dist: Path) -> Path:
    index = dist / "models" / "index.json"
    names = json.loads(index.read_text()) if index.exists() else {}
    missing = [name for name in LYRA_MODELS if not any(k == name or k.endswith("/" + name) for k in names)]
    if missing:
        reason = json.loads((dist / "build-info.json").read_text()).get("models", {}).get("reason")
        pytest.skip(f"Lyra models {missing} are not in {dist}/models (build with --upstream; {reason or 'not converted'})")
    return dist


@pytest.fixture(scope="module")
def speech_wav(upstream: Path) -> Path:
    return upstream / "lyra" / "testdata" / "sample1_16kHz.wav"


@pytest.fixture(scope="module")
def short_wav(speech_wav: Path, tmp_path_factory) -> Path:
    """The first 1.2 s of the upstream sample (for the tests that only need a stream to finish)."""
    with wave.open(str(speech_wav)) as source:
        params = source.getparams()
        frames = source.readframes(int(1.2 * params.framerate))
    path = tmp_path_factory.mktemp("lyra") / "short.wav"
    with wave.open(str(path), "wb") as out:
        out.setparams(params)
        out.writeframes(frames)
    return path


@pytest.fixture(scope="module")
def cpython_models(lyra_dist: Path, upstream: Path):
    """What the page runs by default (LiteRT.js on the upstream .tflite files), on CPython's TFLite
    interpreter. One interpreter holds one stream's state: take ``.fresh()`` per decoder."""
    from codeclab.lyra.models import load_models  # noqa: PLC0415

    return load_models(upstream / "lyra", backend="tflite")


@pytest.fixture
def lyra_page(browser, site, lyra_dist):
    page, watch = open_app(browser, site.url + "#speech")
    page.click('[data-testid="tab-speech"]')
    yield page, watch
    page.context.close()


# ---------------------------------------------------------------- helpers

def set_loss(page, percent: float, burst: float = 1.0, seed: int = 1234) -> None:
    page.evaluate(
        """([percent, burst, seed]) => {
            window.codeclab.speech.seed = seed;
            for (const [id, value] of [['lyra-loss', percent], ['lyra-burst', burst]]) {
              const input = document.querySelector(`[data-testid="${id}"]`);
              input.value = String(value);
              input.dispatchEvent(new Event('input', {bubbles: true}));
            }
        }""",
        [percent, burst, seed],
    )


def stream_file(page, path: Path) -> tuple[dict, dict]:
    page.set_input_files('[data-testid="lyra-input"]', str(path))
    result = wait_result(page, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
    return result, page.evaluate("window.codeclab.speech.export()")


def cpython_replay(models, export: dict) -> np.ndarray:
    """Decode the packets the receiver got, in the receiver's playout order, with CPython."""
    from codeclab.lyra.decoder import LyraDecoder  # noqa: PLC0415

    received = {seq: bytes(payload) for seq, payload in export["received"]}
    decoder = LyraDecoder(export["sample_rate"], models.fresh())
    hop = export["sample_rate"] // 50
    parts = []
    for entry in export["log"]:
        if entry["kind"] == "skip":
            continue
        if entry["kind"] == "packet":
            assert decoder.set_encoded_packet(received[entry["seq"]])
        parts.append(decoder.decode_samples(hop))
    return np.concatenate(parts).astype(np.float64) / 32768.0


def snr_db(reference: np.ndarray, test: np.ndarray) -> float:
    n = min(reference.size, test.size)
    reference, test = reference[:n], test[:n]
    noise = np.sum((reference - test) ** 2)
    return float(10 * np.log10(np.sum(reference ** 2) / max(noise, 1e-20)))


# ---------------------------------------------------------------- transport pieces (no models needed)

def test_loopback_data_channel_is_a_media_like_transport(app_page):
    page, watch = app_page
    outcome = page.evaluate("""async () => {
        const { openLoopback } = await import('./lib/rtc-link.js');
        const link = await openLoopback();
        const got = [];
        link.onPacket = (bytes) => got.push(bytes.length);
        for (let i = 0; i < 200; i++) link.send(new Uint8Array(6 + (i % 3 === 0 ? 8 : 23)));
        const t = performance.now();
        while (got.length < 200 && performance.now() - t < 5000) await new Promise(r => setTimeout(r, 20));
        const pair = await link.selectedPair();
        const stats = await link.receiverStats();
        link.close();
        return { got, pair, stats, config: link.mediaConfig };
    }""")
    assert outcome["config"] == {"ordered": False, "maxRetransmits": 0, "protocol": ""}
    assert len(outcome["got"]) == 200, "loopback lost messages"
    assert sorted(set(outcome["got"])) == [14, 29], "one packet must be one message"
    assert outcome["pair"]["candidateType"] == "host" and outcome["pair"]["protocol"] == "udp"
    assert outcome["stats"]["messagesReceived"] == 200
    assert watch.foreign_requests() == []


def test_gilbert_elliott_loss_rate_and_bursts(app_page):
    page, _ = app_page
    stats = page.evaluate("""async () => {
        const { GilbertElliott } = await import('./lib/gilbert.js');
        const out = {};
        for (const [rate, burst] of [[0.1, 1], [0.1, 4], [0.3, 2], [0, 3]]) {
          const model = new GilbertElliott({ lossRate: rate, meanBurst: burst, seed: 99 });
          let lost = 0, bursts = 0, previous = false;
          const n = 200000;
          for (let i = 0; i < n; i++) {
            const drop = model.drop();
            lost += drop; if (drop && !previous) bursts += 1; previous = drop;
          }
          out[`${rate}/${burst}`] = { rate: lost / n, meanBurst: bursts ? lost / bursts : 0 };
        }
        const a = new GilbertElliott({ lossRate: 0.2, meanBurst: 2, seed: 5 });
        const b = new GilbertElliott({ lossRate: 0.2, meanBurst: 2, seed: 5 });
        out.reproducible = Array.from({length: 500}, () => a.drop()).join() === Array.from({length: 500}, () => b.drop()).join();
        return out;
    }""")
    assert stats.pop("reproducible") is True
    for key, measured in stats.items():
        rate, burst = map(float, key.split("/"))
        assert abs(measured["rate"] - rate) < 0.01, (key, measured)
        if rate:
            assert abs(measured["meanBurst"] - burst) < 0.1 * burst, (key, measured)


def test_jitter_buffer_orders_detects_late_and_adapts(app_page):
    page, _ = app_page
    out = page.evaluate("""async () => {
        const { JitterBuffer, frameMessage, parseMessage } = await import('./lib/jitter-buffer.js');
        const parsed = parseMessage(frameMessage(70000, 123456.7, new Uint8Array([1, 2, 3])));
        const jb = new JitterBuffer({ minDepth: 2, maxDepth: 15 });
        jb.start(0);
        // Steady arrivals: the target stays at the minimum.
        for (let seq = 0; seq < 50; seq++) jb.push(seq, new Uint8Array([seq]), seq * 20, 1000 + seq * 20 + (seq % 2));
        const steady = jb.targetDepth;
        const order = [];
        while (jb.depth) order.push(jb.pop().payload[0]);
        // Reordered and missing packets come out in sequence order, gaps as null.
        for (const seq of [52, 50, 54, 53]) jb.push(seq, new Uint8Array([seq]), seq * 20, 2000 + seq * 20);
        const slots = [];
        for (let i = 0; i < 5; i++) { const { seq, payload } = jb.pop(); slots.push(payload ? payload[0] : null); }
        const late = jb.push(51, new Uint8Array([51]), 51 * 20, 3200);
        // Arrivals that wobble by +-60 ms raise the target.
        for (let seq = 55; seq < 120; seq++) jb.push(seq, new Uint8Array([1]), seq * 20, 4000 + seq * 20 + (seq % 3) * 60);
        return { parsed: { seq: parsed.seq, sendMs: parsed.sendMs, payload: Array.from(parsed.payload) }, steady, order, slots, late, jittery: jb.targetDepth };
    }""")
    assert out["parsed"] == {"seq": 70000, "sendMs": 123457 & 0xFFFF, "payload": [1, 2, 3]}
    assert out["steady"] == 2
    assert out["order"] == list(range(50))
    assert out["slots"] == [50, None, 52, 53, 54] and out["late"] == "late"
    assert out["jittery"] >= 5


def test_without_models_the_panel_says_why(app_page, dist, short_wav):
    index = dist / "models" / "index.json"
    if index.exists() and any(k.endswith("lyragan") for k in json.loads(index.read_text())):
        pytest.skip("this build has the Lyra models")
    page, _ = app_page
    page.click('[data-testid="tab-speech"]')
    assert "not in this build" in page.inner_text('[data-testid="lyra-notice"]')
    page.set_input_files('[data-testid="lyra-input"]', str(short_wav))
    page.wait_for_function("document.querySelector('[data-testid=lyra-error]').hidden === false", timeout=30_000)
    assert "not in this build" in page.inner_text('[data-testid="lyra-error"]')


# ---------------------------------------------------------------- tests

def test_stream_without_loss_matches_cpython_decode(lyra_page, speech_wav, cpython_models):
    page, watch = lyra_page
    result, export = stream_file(page, speech_wav)
    with wave.open(str(speech_wav)) as w:
        expected_frames = -(-w.getnframes() * 50 // w.getframerate())
    assert result["packets_sent"] == expected_frames
    assert result["packets_received"] == result["packets_sent"]
    assert result["concealed"] == 0 and result["dropped"] == 0 and result["late"] == 0
    assert result["bitrate"] == 6000
    assert result["underruns"] == 0
    assert result["ice_candidate"] == "host/udp", "the peers must connect directly, with no STUN/TURN server"
    assert result["receiver_worker"] == "own"
    assert 0 < result["decode_ms_per_frame"] < 20
    assert all(len(p) == 15 for _, p in export["received"])
    decoded = np.asarray(export["decoded"], dtype=np.float64)
    kinds = {k: sum(e["kind"] == k for e in export["log"]) for k in {e["kind"] for e in export["log"]}}
    assert decoded.size == len([e for e in export["log"] if e["kind"] != "skip"]) * 320, (kinds, result)
    assert np.sqrt(np.mean(decoded ** 2)) > 0.01, "the decoded speech is silent"
    reference = cpython_replay(cpython_models, export)
    assert snr_db(reference, decoded) >= 30.0
    # The data channel really is a media-like transport.
    config = page.evaluate("window.codeclab.speech.last.receiver.link.mediaConfig")
    assert config == {"ordered": False, "maxRetransmits": 0, "protocol": ""}
    assert watch.foreign_requests() == [] and watch.console_errors == []
    # Spectrograms, A/B playback and downloads appear afterwards.
    assert page.locator('[data-testid="lyra-spec-decoded"]').evaluate("c => c.width") > 100
    assert page.locator('[data-testid="lyra-spec-original"]').evaluate("c => c.width") > 100
    page.click('[data-testid="lyra-play-original"]')
    page.click('[data-testid="lyra-play-decoded"]')
    assert page.locator("button.play.playing").count() == 1
    assert "playing" in (page.get_attribute('[data-testid="lyra-play-decoded"]', "class") or "")
    with page.expect_download() as wav_download:
        page.click('[data-testid="lyra-download-wav"]')
    with wave.open(str(wav_download.value.path())) as w:
        assert w.getframerate() == 16000 and w.getnframes() == decoded.size
    with page.expect_download() as download:
        page.click('[data-testid="lyra-download-lyra"]')
    lyra_file = Path(download.value.path())
    assert lyra_file.stat().st_size == result["packets_encoded"] * 15
    # The .lyra file dropped back in decodes (offline) to the same audio the stream played.
    named = lyra_file.with_name("stream.lyra")
    named.write_bytes(lyra_file.read_bytes())
    page.set_input_files('[data-testid="lyra-input"]', str(named))
    info = wait_result(page, "lyra-file-result")
    assert info["packets"] == result["packets_encoded"] and info["bitrate"] == 6000
    offline = np.asarray(page.evaluate("Array.from(window.codeclab.speech.last.decoded)"), dtype=np.float64)
    # The whole file, decoded in the page, against CPython decoding the same file.
    from codeclab.lyra.decoder import LyraDecoder  # noqa: PLC0415

    data = lyra_file.read_bytes()
    whole = LyraDecoder(16000, cpython_models.fresh()).decode_packets(
        [data[i:i + 15] for i in range(0, len(data), 15)]).astype(np.float64) / 32768.0
    assert offline.size == whole.size and np.array_equal(whole, offline), "LiteRT.js in the page is TFLite in CPython"
    # And the stream's own decode is the offline one, sample for sample, up to the first time the jitter
    # buffer adapted (a skipped packet or a stretched frame changes the decoder's path from there on; a
    # cold browser may adapt within the first second, so only a short stretch is guaranteed).
    adapted = [i for i, e in enumerate(export["log"]) if e["kind"] != "packet"]
    same = (adapted[0] if adapted else len(export["log"])) * 320
    if not adapted:
        assert offline.size == decoded.size
    assert same >= 10 * 320, (same, decoded.size, export["log"][adapted[0]])
    assert snr_db(decoded[:same], offline[:same]) >= 60.0


def test_loss_is_concealed_and_playback_never_stalls(lyra_page, speech_wav):
    page, _ = lyra_page
    set_loss(page, 10, 1.0, seed=42)
    result, export = stream_file(page, speech_wav)
    assert result["dropped"] > 0
    assert result["packets_received"] == result["packets_sent"]
    assert result["packets_sent"] + result["dropped"] == result["packets_encoded"]
    assert result["late"] == 0
    assert result["concealed"] == result["dropped"]
    assert result["underruns"] == 0, result
    concealed = {e["seq"] for e in export["log"] if e["kind"] == "conceal"}
    assert concealed == set(export["dropped"])


def test_bitrate_switch_and_pause_mid_stream(lyra_page, speech_wav, cpython_models):
    page, _ = lyra_page
    sent = "window.codeclab.speech.session?.sender.packets.length || 0"
    page.set_input_files('[data-testid="lyra-input"]', str(speech_wav))
    page.wait_for_function(f"({sent}) >= 40", timeout=30_000)
    page.select_option('[data-testid="lyra-bitrate"]', "3200")
    page.wait_for_function(f"({sent}) >= 80", timeout=30_000)
    page.click('[data-testid="lyra-pause"]')
    page.wait_for_function("window.codeclab.speech.session?.receiver.state === 'paused'", timeout=10_000)
    held = page.evaluate(sent)
    page.wait_for_timeout(500)
    assert page.evaluate(sent) == held, "the sender kept sending while paused"
    page.click('[data-testid="lyra-pause"]')  # resume
    result = wait_result(page, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
    export = page.evaluate("window.codeclab.speech.export()")
    sizes = [len(payload) for _, payload in sorted(export["received"])]
    assert sizes[0] == 15 and sizes[-1] == 8 and sorted(set(sizes)) == [8, 15]
    assert sizes == sorted(sizes, reverse=True), "the bitrate changed back and forth"
    assert result["bitrate"] == 3200
    assert result["packets_received"] == result["packets_sent"] == result["packets_encoded"]
    assert result["concealed"] == 0 and result["underruns"] == 0 and result["late"] == 0
    decoded = np.asarray(export["decoded"], dtype=np.float64)
    assert snr_db(cpython_replay(cpython_models, export), decoded) >= 30.0


def test_bad_inputs_show_a_readable_error_and_the_panel_keeps_working(lyra_page, upstream, short_wav, tmp_path):
    page, _ = lyra_page
    error = page.locator('[data-testid="lyra-error"]')
    not_audio = tmp_path / "notes.txt"
    not_audio.write_text("this is not audio\n" * 20)
    cases = [
        (not_audio, "could not decode"),
        (upstream / "lyra" / "testdata" / "invalid.wav", "could not decode"),
        (upstream / "lyra" / "testdata" / "no_encoded_packet.lyra", "empty"),
        (upstream / "lyra" / "testdata" / "incomplete_encoded_packet.lyra", "9 bytes"),
    ]
    for path, phrase in cases:
        page.set_input_files('[data-testid="lyra-input"]', str(path))
        page.wait_for_function("document.querySelector('[data-testid=lyra-error]').hidden === false", timeout=30_000)
        text = error.inner_text()
        assert phrase in text.lower(), f"{path.name}: {text!r}"
        assert "Internal error" not in text and "Something went wrong" not in text
        page.evaluate("document.querySelector('[data-testid=lyra-error]').hidden = true")
    result, _ = stream_file(page, short_wav)
    assert result["packets_sent"] == 60 and error.is_hidden()


def test_microphone_path_with_fake_capture(browser, site, lyra_dist, speech_wav, cpython_models):
    # A separate Chromium whose fake microphone plays the upstream speech file (in a loop).
    flags = CHROMIUM_FLAGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={speech_wav}",
    ]
    fake_mic_browser = browser.browser_type.launch(executable_path=chromium_path(), args=flags, headless=True)
    try:
        page, watch = open_app(fake_mic_browser, site.url + "#speech")
        page.click('[data-testid="tab-speech"]')
        page.click('[data-testid="lyra-mic"]')
        page.wait_for_function("(window.codeclab.speech.session?.sender.packets.length || 0) >= 100", timeout=30_000)
        page.click('[data-testid="lyra-stop"]')
        result = wait_result(page, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
        export = page.evaluate("window.codeclab.speech.export()")
        assert watch.console_errors == []
    finally:
        fake_mic_browser.close()
    assert result["source"] == "mic"
    assert result["packets_sent"] >= 100 and result["packets_received"] == result["packets_sent"]
    assert result["underruns"] == 0
    assert export["captured_rms"] > 0.01, "the fake microphone delivered silence"
    decoded = np.asarray(export["decoded"], dtype=np.float64)
    assert np.sqrt(np.mean(decoded ** 2)) > 0.01
    assert snr_db(cpython_replay(cpython_models, export), decoded) >= 30.0


def test_call_to_another_tab_with_loss(browser, site, lyra_dist, speech_wav):
    """Tab A sends, tab B listens: signalling over BroadcastChannel, media over WebRTC."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        caller, listener = context.new_page(), context.new_page()
        for page in (listener, caller):
            page.goto(site.url + "#speech")
            page.wait_for_function("document.documentElement.dataset.state === 'ready'", timeout=120_000)
            page.click('[data-testid="tab-speech"]')
        listener.check('[data-testid="lyra-listen"]')
        caller.wait_for_function("document.querySelector('[data-testid=lyra-destination]').options.length === 2", timeout=10_000)
        caller.select_option('[data-testid="lyra-destination"]', index=1)
        set_loss(caller, 10, 2.0, seed=11)
        caller.set_input_files('[data-testid="lyra-input"]', str(speech_wav))
        sent = wait_result(caller, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
        heard = wait_result(listener, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
    finally:
        context.close()
    both = {"caller": sent, "listener": heard}
    assert sent["mode"] == "caller" and heard["mode"] == "listener"
    assert sent["dropped"] > 0, both
    assert heard["packets_received"] == sent["packets_sent"] == sent["packets_received"], both
    assert heard["concealed"] == sent["dropped"] == heard["dropped"], both
    assert heard["underruns"] == 0 and heard["late"] == 0, (heard["underrun_at_s"], heard["late"], both)
    assert heard["ice_candidate"] == "host/udp", both


def test_streams_on_a_plain_static_host(browser, plain_site, lyra_dist, short_wav):
    """Without cross-origin isolation (no threads, no SharedArrayBuffer) the stream still runs."""
    page, watch = open_app(browser, plain_site.url + "#speech")
    try:
        page.click('[data-testid="tab-speech"]')
        result, _ = stream_file(page, short_wav)
        assert result["packets_received"] == result["packets_sent"] == 60
        assert result["underruns"] == 0 and result["concealed"] == 0
        assert watch.foreign_requests() == [] and watch.console_errors == []
    finally:
        page.context.close()


def test_lyra_vs_opus_table(lyra_page, short_wav):
    page, _ = lyra_page
    stream_file(page, short_wav)
    page.click('[data-testid="lyra-compare"]')
    rows = wait_result(page, "lyra-compare-result", timeout_ms=120_000)
    assert [(r["codec"], r["bitrate"]) for r in rows] == [
        ("Lyra v2", 3200), ("Lyra v2", 6000), ("Lyra v2", 9200),
        ("Opus", 6000), ("Opus", 10000), ("Opus", 13000), ("Opus", 14000),
    ]
    for row in rows:
        assert 0.0 < row["stoi"] <= 1.0 and row["lsd_db"] > 0
        if row["codec"] == "Lyra v2":
            assert row["bytes"] == 60 * {3200: 8, 6000: 15, 9200: 23}[row["bitrate"]]
        else:  # Opus honours its bitrate to within a wide margin
            assert 0.5 < row["bytes"] * 8 / 1.2 / row["bitrate"] < 1.6
    lyra = {r["bitrate"]: r for r in rows if r["codec"] == "Lyra v2"}
    assert lyra[9200]["stoi"] >= lyra[3200]["stoi"] - 0.02
