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

from devkit.chromium import CHROMIUM_FLAGS, wait_for_js
from tests.e2e.lyra_page import set_loss
from tests.needs import missing

from .conftest import chromium_path, open_app, wait_result, write_wav

pytestmark = pytest.mark.e2e

STREAM_TIMEOUT_MS = 60_000
LYRA_MODELS = ("soundstream_encoder", "lyragan")  # runner names in dist/models/index.json


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def lyra_dist(dist: Path) -> Path:
    index = dist / "models" / "index.json"
    names = json.loads(index.read_text()) if index.exists() else {}
    absent = [name for name in LYRA_MODELS if not any(k == name or k.endswith("/" + name) for k in names)]
    if absent:
        reason = json.loads((dist / "build-info.json").read_text()).get("models", {}).get("reason")
        missing(f"Lyra models {absent} are not in {dist}/models (build with --upstream; {reason or 'not converted'})")
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
    from codeclab.lyra.models import load_models

    return load_models(upstream / "lyra", backend="tflite")


@pytest.fixture
def lyra_page(browser, site, lyra_dist):
    page, watch = open_app(browser, site.url + "#lyra")
    page.click('[data-testid="tab-lyra"]')
    yield page, watch
    page.context.close()


# ---------------------------------------------------------------- helpers

def stream_file(page, path: Path) -> tuple[dict, dict]:
    # A summary left by an earlier stream of this page must not be taken for this stream's.
    page.evaluate("delete document.querySelector('[data-testid=lyra-result]').dataset.result")
    page.set_input_files('[data-testid="lyra-input"]', str(path))
    result = wait_result(page, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
    return result, page.evaluate("window.codeclab.lyra.export()")


def cpython_replay(models, export: dict) -> np.ndarray:
    """Decode the packets the receiver got, in the receiver's playout order, with CPython."""
    from codeclab.lyra.decoder import LyraDecoder

    received = {seq: bytes(payload) for seq, payload in export["received"]}
    decoder = LyraDecoder(export["sample_rate"], models.fresh())
    hop = export["sample_rate"] // 50
    parts = []
    for entry in export["log"]:
        if entry["kind"] == "packet":
            assert decoder.set_encoded_packet(received[entry["seq"]])
        parts.append(decoder.decode_samples(hop))
    return np.concatenate(parts).astype(np.float64) / 32768.0


def assert_same_audio(reference: np.ndarray, decoded: np.ndarray) -> None:
    """The page (LiteRT.js on the upstream .tflite files) decodes the receiver's slots exactly as CPython's
    TFLite interpreter does: the same samples, not merely close ones."""
    assert reference.size == decoded.size, (reference.size, decoded.size)
    assert np.array_equal(reference, decoded), f"differs: SNR {snr_db(reference, decoded):.1f} dB"


def snr_db(reference: np.ndarray, test: np.ndarray) -> float:
    n = min(reference.size, test.size)
    reference, test = reference[:n], test[:n]
    noise = np.sum((reference - test) ** 2)
    return float(10 * np.log10(np.sum(reference ** 2) / max(noise, 1e-20)))


# ---------------------------------------------------------------- transport pieces (no models needed)

def test_loopback_data_channel_is_a_media_like_transport(app_page):
    page, watch = app_page
    outcome = page.evaluate("""async () => {
        const { openLoopback } = await import('./tools/lyra/rtc-link.js');
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
        const { GilbertElliott } = await import('./tools/lyra/gilbert.js');
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


def test_framing_and_playout_engine_load_in_the_page(app_page):
    """The playout engine's decisions are tested with simulated clocks (tests/js/playout.test.mjs);
    here: the page loads it, and the media framing round-trips."""
    page, _ = app_page
    out = page.evaluate("""async () => {
        const { frameMessage, parseMessage } = await import('./tools/lyra/jitter-buffer.js');
        const { PlayoutEngine } = await import('./tools/lyra/playout.js');
        const parsed = parseMessage(frameMessage(70000, 123456.7, new Uint8Array([1, 2, 3])));
        const engine = new PlayoutEngine({ now: () => performance.now() });
        return { parsed: { seq: parsed.seq, sendMs: parsed.sendMs, payload: Array.from(parsed.payload) }, state: engine.state };
    }""")
    assert out["parsed"] == {"seq": 70000, "sendMs": 123457 & 0xFFFF, "payload": [1, 2, 3]}
    assert out["state"] == "waiting"


def assert_packet_accounting(result: dict, export: dict | None = None) -> None:
    """What holds however busy the machine is: every packet sent either played or arrived late;
    every slot played once; concealed slots are exactly the dropped and the late ones."""
    assert result["packets_sent"] + result["dropped"] == result["packets_encoded"], result
    assert result["packets_received"] + result["late"] == result["packets_sent"], result
    assert result["concealed"] == result["dropped"] + result["late"], result
    assert result["frames_played"] == result["packets_encoded"], result
    if export is not None:
        assert [e["seq"] for e in export["log"]] == list(range(len(export["log"])))
        concealed = {e["seq"] for e in export["log"] if e["kind"] == "conceal"}
        assert concealed == set(export["dropped"]) | set(export["late"])
        assert len(export["decoded"]) == len(export["log"]) * 320


def test_without_models_the_panel_says_why(browser, site_without_models, short_wav):
    page, _ = open_app(browser, site_without_models.url)
    try:
        page.click('[data-testid="tab-lyra"]')
        assert "not in this build" in page.inner_text('[data-testid="lyra-notice"]')
        page.set_input_files('[data-testid="lyra-input"]', str(short_wav))
        wait_for_js(page, "document.querySelector('[data-testid=lyra-error]').hidden === false", timeout=30_000)
        assert "not in this build" in page.inner_text('[data-testid="lyra-error"]')
    finally:
        page.context.close()


# ---------------------------------------------------------------- tests

def test_stream_without_loss_matches_cpython_decode(lyra_page, speech_wav, cpython_models):
    page, watch = lyra_page
    result, export = stream_file(page, speech_wav)
    with wave.open(str(speech_wav)) as w:
        expected_frames = -(-w.getnframes() * 50 // w.getframerate())
    assert result["packets_sent"] == expected_frames
    assert result["dropped"] == 0
    assert_packet_accounting(result, export)
    assert result["bitrate"] == 6000
    assert result["ice_candidate"] == "host/udp", "the peers must connect directly, with no STUN/TURN server"
    assert result["receiver_worker"] == "own"
    assert 0 < result["decode_ms_per_frame"] < 20
    assert all(len(p) == 15 for _, p in export["received"])
    decoded = np.asarray(export["decoded"], dtype=np.float64)
    assert np.sqrt(np.mean(decoded ** 2)) > 0.01, "the decoded speech is silent"
    assert_same_audio(cpython_replay(cpython_models, export), decoded)
    # The data channel really is a media-like transport.
    config = page.evaluate("window.codeclab.lyra.last.receiver.link.mediaConfig")
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
    offline = np.asarray(page.evaluate("Array.from(window.codeclab.lyra.last.decoded)"), dtype=np.float64)
    # The whole file, decoded in the page, against CPython decoding the same file.
    from codeclab.lyra.decoder import LyraDecoder

    data = lyra_file.read_bytes()
    whole = LyraDecoder(16000, cpython_models.fresh()).decode_packets(
        [data[i:i + 15] for i in range(0, len(data), 15)]).astype(np.float64) / 32768.0
    assert offline.size == whole.size and np.array_equal(whole, offline), "LiteRT.js in the page is TFLite in CPython"
    # And the stream's own decode is the offline one, sample for sample: the playout engine only
    # stretches what the decoder produced, so the decoder sees every slot in order. A packet that
    # arrived after its slot (a busy machine) is concealed there: up to the first one, the two agree.
    assert offline.size == decoded.size
    first_concealed = next((e["seq"] for e in export["log"] if e["kind"] == "conceal"), len(export["log"]))
    same = first_concealed * 320
    assert np.array_equal(decoded[:same], offline[:same]), snr_db(decoded[:same], offline[:same])


def test_loss_is_concealed_exactly_where_packets_were_dropped(lyra_page, speech_wav, cpython_models):
    page, _ = lyra_page
    set_loss(page, 10, 1.0, seed=42)
    result, export = stream_file(page, speech_wav)
    # The page's loss model is Python's GilbertModel (tests/lyra/test_gilbert.py proves the port).
    from codeclab.lyra.gilbert import GilbertModel

    pattern = GilbertModel(0.10, 1.0, seed=42).pattern(result["packets_encoded"])
    assert export["dropped"] == np.flatnonzero(~pattern).tolist()
    assert result["dropped"] > 0
    assert_packet_accounting(result, export)
    decoded = np.asarray(export["decoded"], dtype=np.float64)
    assert_same_audio(cpython_replay(cpython_models, export), decoded)


def test_a_stream_longer_than_the_kept_window_keeps_its_end(browser, site, lyra_dist, speech_wav, cpython_models):
    """Memory stays flat however long a stream runs: it keeps its last N seconds for A/B (two
    minutes; `?lyra-keep-seconds=2` here), and what it keeps is exactly the end of the offline decode."""
    page, _ = open_app(browser, site.url + "?lyra-keep-seconds=2#lyra")
    try:
        page.click('[data-testid="tab-lyra"]')
        set_loss(page, 10, 2.0, seed=7)
        result, export = stream_file(page, speech_wav)
        assert_packet_accounting(result)
        slots = export["slots"]
        assert slots == result["packets_encoded"] and slots * 320 > 32_000
        decoded = np.asarray(export["decoded"], dtype=np.float64)
        assert decoded.size == 32_000 and export["decoded_skipped"] == slots * 320 - 32_000
        # The log keeps the latest slots (trimmed in batches), ending at the last one.
        assert 100 <= len(export["log"]) < slots and export["log"][-1]["seq"] == slots - 1
        # Rebuild every slot from the sender's record (all packets, which were dropped or late) and
        # decode it with CPython: the page kept exactly the end of it.
        from codeclab.lyra.decoder import LyraDecoder

        lost = set(export["dropped"]) | set(export["late"])
        decoder = LyraDecoder(16000, cpython_models.fresh())
        parts = []
        for seq, packet in enumerate(export["sent_packets"]):
            if seq not in lost:
                assert decoder.set_encoded_packet(bytes(packet))
            parts.append(decoder.decode_samples(320))
        whole = np.concatenate(parts).astype(np.float64) / 32768.0
        assert_same_audio(whole[-32_000:], decoded)
        # The original shown beside it is the same stretch of the clip, and the captions say so.
        kept = page.evaluate("(({ original, keptFromS }) => ({ original: original.length, from: keptFromS }))(window.codeclab.lyra.last)")
        assert kept["from"] == export["decoded_skipped"] / 16000
        assert 3 * (32_000 - 320) < kept["original"] <= 3 * 32_000  # at 48 kHz, to the clip's end (its last frame is padded)
        for which in ("original", "decoded"):
            caption = page.inner_text(f'[data-testid="lyra-caption-{which}"]')
            assert f"last 0:02 of 0:03, from 0:0{int(kept['from'] + 0.5)}" in caption, caption
    finally:
        page.context.close()


def test_bitrate_switch_and_pause_mid_stream(lyra_page, speech_wav, cpython_models):
    page, _ = lyra_page
    sent = "window.codeclab.lyra.session?.sender.packets.length || 0"
    page.set_input_files('[data-testid="lyra-input"]', str(speech_wav))
    wait_for_js(page, f"({sent}) >= 40", timeout=30_000)
    page.select_option('[data-testid="lyra-bitrate"]', "3200")
    wait_for_js(page, f"({sent}) >= 80", timeout=30_000)
    page.click('[data-testid="lyra-pause"]')
    wait_for_js(page, "window.codeclab.lyra.session?.receiver.state === 'paused'", timeout=10_000)
    held = page.evaluate(sent)
    page.wait_for_timeout(500)
    assert page.evaluate(sent) == held, "the sender kept sending while paused"
    page.click('[data-testid="lyra-pause"]')  # resume
    result = wait_result(page, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
    export = page.evaluate("window.codeclab.lyra.export()")
    sizes = [len(payload) for _, payload in sorted(export["received"])]
    assert sizes[0] == 15 and sizes[-1] == 8 and sorted(set(sizes)) == [8, 15]
    assert sizes == sorted(sizes, reverse=True), "the bitrate changed back and forth"
    assert result["bitrate"] == 3200
    assert result["dropped"] == 0
    assert_packet_accounting(result, export)
    decoded = np.asarray(export["decoded"], dtype=np.float64)
    assert_same_audio(cpython_replay(cpython_models, export), decoded)


def test_bad_inputs_show_a_readable_error_and_the_panel_keeps_working(lyra_page, upstream, short_wav, tmp_path):
    page, _ = lyra_page
    error = page.locator('[data-testid="lyra-error"]')
    not_audio = tmp_path / "notes.txt"
    not_audio.write_text("this is not audio\n" * 20)
    renamed_text = tmp_path / "notes.lyra"  # 60 bytes: would be four packets at 6 kbps
    renamed_text.write_text(("this is not audio\n" * 4)[:60])
    cases = [
        (not_audio, "could not decode"),
        (upstream / "lyra" / "testdata" / "invalid.wav", "could not decode"),
        (upstream / "lyra" / "testdata" / "no_encoded_packet.lyra", "empty"),
        (upstream / "lyra" / "testdata" / "incomplete_encoded_packet.lyra", "9 bytes"),
        (renamed_text, "text file"),
    ]
    for path, phrase in cases:
        page.set_input_files('[data-testid="lyra-input"]', str(path))
        wait_for_js(page, "document.querySelector('[data-testid=lyra-error]').hidden === false", timeout=30_000)
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
        page, watch = open_app(fake_mic_browser, site.url + "#lyra")
        page.click('[data-testid="tab-lyra"]')
        page.click('[data-testid="lyra-mic"]')
        wait_for_js(page, "(window.codeclab.lyra.session?.sender.packets.length || 0) >= 100", timeout=30_000)
        page.click('[data-testid="lyra-stop"]')
        result = wait_result(page, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
        export = page.evaluate("window.codeclab.lyra.export()")
        assert watch.console_errors == []
    finally:
        fake_mic_browser.close()
    assert result["source"] == "mic"
    assert result["packets_sent"] >= 100
    assert_packet_accounting(result, export)
    assert export["captured_rms"] > 0.01, "the fake microphone delivered silence"
    decoded = np.asarray(export["decoded"], dtype=np.float64)
    assert np.sqrt(np.mean(decoded ** 2)) > 0.01
    assert_same_audio(cpython_replay(cpython_models, export), decoded)


def confirm_pairing(page) -> str:
    """Wait for the pairing code a call shows, confirm it as the user would, return it."""
    page.locator('[data-testid="lyra-pair-code"]').wait_for(state="visible", timeout=60_000)
    code = page.inner_text('[data-testid="lyra-pair-code"]')
    page.click('[data-testid="lyra-pair-accept"]')
    return code


def open_call_tabs(context, site, count: int) -> list:
    pages = [context.new_page() for _ in range(count)]
    for page in pages:
        page.goto(site.url + "#lyra")
        wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=120_000)
        page.click('[data-testid="tab-lyra"]')
    return pages


# A third page of the same origin (as a page of another project on a shared host could be) that does
# what it can to be the one a call reaches: it answers every call with a key of its own, in its own name
# or in the listener's, and sends what earlier protocols accepted (a description in the clear, trickled
# candidates) and a "sealed" answer it could not seal. It records whether anything it saw carried a
# description (ICE credentials or a DTLS fingerprint), and whether its peer connection ever got a channel.
FORGER = """([spoofListener, candidates]) => {
  window.forged = { answers: 0, connected: false, packets: 0, sawDescription: false };
  const bc = new BroadcastChannel("codeclab-lyra-calls");
  const pc = new RTCPeerConnection();
  pc.createDataChannel("media");
  pc.ondatachannel = (e) => {
    e.channel.onopen = () => { window.forged.connected = true; };
    e.channel.onmessage = () => { window.forged.packets += 1; };
  };
  pc.onconnectionstatechange = () => { if (pc.connectionState === "connected") window.forged.connected = true; };
  const ready = pc.setLocalDescription();
  const asText = (data) => JSON.stringify(data, (key, value) =>
    value instanceof ArrayBuffer || ArrayBuffer.isView(value) ? new TextDecoder("latin1").decode(value) : value);
  bc.onmessage = async ({ data }) => {
    if (/ice-pwd|ice-ufrag|fingerprint/.test(asText(data))) window.forged.sawDescription = true;
    if (data.type !== "hello") return;
    const keys = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
    const key = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
    const from = spoofListener ? data.to : "forger01";
    bc.postMessage({ type: "accept", from, to: data.from, key });
    window.forged.answers += 1;
    await ready;
    const description = { type: "answer", sdp: pc.localDescription.sdp };
    bc.postMessage({ type: "answer", from: data.to, to: data.from, description });
    for (const candidate of candidates) bc.postMessage({ type: "candidate", from: data.to, to: data.from, candidate });
    bc.postMessage({ type: "sealed", kind: "answer 1", from: data.to, to: data.from, iv: new Uint8Array(12),
                     data: new TextEncoder().encode(JSON.stringify(description)) });
  };
}"""
PUBLIC_CANDIDATES = [
    {"candidate": "candidate:9 1 udp 2122260223 203.0.113.9 40000 typ host generation 0", "sdpMid": "0", "sdpMLineIndex": 0},
    {"candidate": "candidate:8 1 udp 1686052607 198.51.100.7 40001 typ srflx raddr 0.0.0.0 rport 0 generation 0",
     "sdpMid": "0", "sdpMLineIndex": 0},
]

# The listening tab's answer gains candidates that leave the machine (as a peer elsewhere would offer):
# a host candidate on a public address and a server-reflexive one. They travel sealed, from the paired tab.
PUBLIC_ANSWER = """(lines) => {
  const toJSON = RTCSessionDescription.prototype.toJSON;
  RTCSessionDescription.prototype.toJSON = function () {
    const description = toJSON.call(this);
    if (description.type === "answer") {
      const extra = lines.map((line) => `a=${line}\\r\\n`).join("");
      description.sdp = description.sdp.replace(/(a=candidate:[^\\r]*\\r\\n)/, `$1${extra}`);
    }
    return description;
  };
}"""


def start_call(listener, caller, wav):
    listener.check('[data-testid="lyra-listen"]')
    wait_for_js(caller, "document.querySelector('[data-testid=lyra-destination]').options.length === 2", timeout=10_000)
    caller.select_option('[data-testid="lyra-destination"]', index=1)
    caller.set_input_files('[data-testid="lyra-input"]', str(wav))


def test_a_forged_answer_from_a_third_page_is_ignored(browser, site, lyra_dist, short_wav):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        listener, caller, forger = open_call_tabs(context, site, 3)
        forger.evaluate(FORGER, [False, PUBLIC_CANDIDATES])
        start_call(listener, caller, short_wav)
        assert confirm_pairing(listener) == confirm_pairing(caller)
        sent = wait_result(caller, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
        heard = wait_result(listener, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
        forged = forger.evaluate("window.forged")
    finally:
        context.close()
    # The third page answered, but never saw a description: it had nothing to take part in ICE or DTLS with.
    assert forged == {"answers": 1, "connected": False, "packets": 0, "sawDescription": False}
    assert heard["packets_received"] + heard["late"] == sent["packets_sent"] > 0, (sent, heard)  # late: timing, not loss
    assert sent["refused_candidates"] == 0, sent  # its candidates in the clear are not even looked at
    assert sent["ice_candidate"] == heard["ice_candidate"] == "host/udp"


def test_public_candidates_from_the_paired_tab_are_refused(browser, site, lyra_dist, short_wav):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        listener, caller = open_call_tabs(context, site, 2)
        listener.evaluate(PUBLIC_ANSWER, [c["candidate"] for c in PUBLIC_CANDIDATES])
        start_call(listener, caller, short_wav)
        assert confirm_pairing(listener) == confirm_pairing(caller)
        sent = wait_result(caller, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
        heard = wait_result(listener, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
    finally:
        context.close()
    assert sent["refused_candidates"] == len(PUBLIC_CANDIDATES), sent
    assert heard["packets_received"] + heard["late"] == sent["packets_sent"] > 0, (sent, heard)  # late: timing, not loss
    assert sent["ice_candidate"] == heard["ice_candidate"] == "host/udp"


def test_an_answer_forged_in_the_listeners_name_drops_the_call(browser, site, lyra_dist, short_wav):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        listener, caller, forger = open_call_tabs(context, site, 3)
        forger.evaluate(FORGER, [True, []])
        start_call(listener, caller, short_wav)
        error = caller.locator('[data-testid="lyra-error"]')
        error.wait_for(state="visible", timeout=60_000)
        assert "two tabs answered as the listening tab" in error.inner_text()
        assert caller.locator('[data-testid="lyra-pair"]').is_hidden()  # no code left to confirm
        # The listener hears that the call ended, and stops asking.
        listener.locator('[data-testid="lyra-error"]').wait_for(state="visible", timeout=30_000)
        assert "ended the call" in listener.inner_text('[data-testid="lyra-error"]')
        assert listener.locator('[data-testid="lyra-pair"]').is_hidden()
        assert caller.locator('[data-testid="lyra-result"]').get_attribute("data-result") is None
        forged = forger.evaluate("window.forged")
        assert forged["packets"] == 0 and not forged["connected"] and not forged["sawDescription"], forged
    finally:
        context.close()


def test_a_stream_holds_off_a_required_update_until_it_ended(lyra_page, speech_wav):
    """While a stream runs, the page counts as busy for a required update (web/lib/update.js; the switch itself:
    tests/e2e/test_updates.py)."""
    page, _ = lyra_page
    page.evaluate("delete document.querySelector('[data-testid=lyra-result]').dataset.result")
    page.set_input_files('[data-testid="lyra-input"]', str(speech_wav))
    wait_for_js(page, "(window.codeclab.lyra.session?.sender.packets.length || 0) >= 10", timeout=60_000)
    assert page.evaluate("window.codeclab.updates.busy()") is True
    wait_result(page, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
    wait_for_js(page, "!window.codeclab.updates.busy()", timeout=30_000)


def test_call_to_another_tab_with_loss(browser, site, lyra_dist, speech_wav):
    """Tab A sends, tab B listens: signalling over BroadcastChannel, media over WebRTC."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        caller, listener = context.new_page(), context.new_page()
        for page in (listener, caller):
            page.goto(site.url + "#lyra")
            wait_for_js(page, "document.documentElement.dataset.state === 'ready'", timeout=120_000)
            page.click('[data-testid="tab-lyra"]')
        listener.check('[data-testid="lyra-listen"]')
        wait_for_js(caller, "document.querySelector('[data-testid=lyra-destination]').options.length === 2", timeout=10_000)
        caller.select_option('[data-testid="lyra-destination"]', index=1)
        set_loss(caller, 10, 2.0, seed=11)
        caller.set_input_files('[data-testid="lyra-input"]', str(speech_wav))
        assert confirm_pairing(listener) == confirm_pairing(caller)
        sent = wait_result(caller, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
        heard = wait_result(listener, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
    finally:
        context.close()
    both = {"caller": sent, "listener": heard}
    assert sent["mode"] == "caller" and heard["mode"] == "listener"
    assert sent["dropped"] > 0, both
    assert heard["packets_received"] + heard["late"] == sent["packets_sent"], both
    assert heard["concealed"] == sent["dropped"] + heard["late"] and heard["dropped"] == sent["dropped"], both
    assert heard["frames_played"] == sent["packets_encoded"], both
    assert heard["ice_candidate"] == "host/udp", both


def test_streams_on_a_plain_static_host(browser, plain_site, lyra_dist, short_wav):
    """Without cross-origin isolation (no threads, no SharedArrayBuffer) the stream still runs."""
    page, watch = open_app(browser, plain_site.url + "#lyra")
    try:
        page.click('[data-testid="tab-lyra"]')
        result, export = stream_file(page, short_wav)
        assert result["packets_encoded"] == 60 and result["dropped"] == 0
        assert_packet_accounting(result, export)
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


@pytest.fixture
def cpu_hog():
    """A busy loop on one core for the length of the test (the other core is left to the page)."""
    import subprocess
    import sys

    hog = subprocess.Popen([sys.executable, "-c", "import os\nos.sched_setaffinity(0, {0})\nwhile True: pass"])
    try:
        yield hog
    finally:
        hog.kill()
        hog.wait()


@pytest.fixture(scope="module")
def long_wav(speech_wav: Path, tmp_path_factory) -> Path:
    """The upstream sample three times over (~10 s): long enough to see the engine settle."""
    with wave.open(str(speech_wav)) as source:
        params = source.getparams()
        frames = source.readframes(params.nframes)
    path = tmp_path_factory.mktemp("lyra") / "long.wav"
    with wave.open(str(path), "wb") as out:
        out.setparams(params)
        out.writeframes(frames * 3)
    return path


def test_real_time_holds_with_a_cpu_hog(lyra_page, long_wav, cpu_hog, cpython_models):
    """With one of the two cores busy, the engine adapts and plays on. Deterministic: the packet
    accounting and the audio. Bounded: underruns may come while it adapts, in the first seconds only."""
    page, _ = lyra_page
    set_loss(page, 5, 2.0, seed=3)
    result, export = stream_file(page, long_wav)
    assert cpu_hog.poll() is None, "the hog stopped before the stream ended"
    assert_packet_accounting(result, export)
    decoded = np.asarray(export["decoded"], dtype=np.float64)
    assert_same_audio(cpython_replay(cpython_models, export), decoded)
    duration = result["frames_played"] * 0.02
    # Each underrun event deepens the ring (by one or two frames, up to 12): it must settle well before the
    # end of the stream. Not settling shows as events that keep coming; one stall in the last 40 % of the
    # stream is the shared host's scheduler (CI measured one at 7.5 s of 10.4 s, the ring at 4 frames), so
    # at most one may come that late.
    events_at = result["underrun_event_at_s"]
    timeline = (result["underrun_events"], events_at, result["underrun_quanta"], duration, result["ring_target_frames"])
    assert len(events_at) == result["underrun_events"], timeline  # one position per event, not per quantum
    assert result["underrun_quanta"] >= result["underrun_events"], timeline
    assert result["underrun_events"] <= 8, timeline
    assert sum(at >= 0.6 * duration for at in events_at) <= 1, timeline


def test_streams_one_after_another_in_one_page_each_arrive_whole(lyra_page, speech_wav):
    """The 2nd and 3rd streams of a page get their packets too (they once came in marked late)."""
    page, _ = lyra_page
    for run in range(3):
        result, export = stream_file(page, speech_wav)
        assert result["dropped"] == 0, run
        assert_packet_accounting(result, export)
        # Lateness is timing, so bounded, not zero: a packet is late only if it missed its slot (a few,
        # while the engine adapts on a loaded machine); the bug this guards against made most of them late.
        assert result["late"] <= 0.1 * result["packets_sent"], (run, result)
        assert page.get_attribute('[data-testid="lyra-result"]', "data-result") is not None


def test_loss_set_while_the_peers_start_applies_to_the_stream(browser, site, lyra_dist, speech_wav):
    from codeclab.lyra.gilbert import GilbertModel

    page, _ = open_app(browser, site.url + "#lyra")
    try:
        page.evaluate("window.codeclab.lyra.seed = 77")
        page.set_input_files('[data-testid="lyra-input"]', str(speech_wav))
        set_loss(page, 20, 1.0, seed=77)  # while the file is decoded and the peers connect
        result = wait_result(page, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
        export = page.evaluate("window.codeclab.lyra.export()")
    finally:
        page.context.close()
    expected = np.flatnonzero(~GilbertModel(0.20, 1.0, seed=77).pattern(result["packets_encoded"])).tolist()
    assert export["dropped"] == expected
    assert_packet_accounting(result, export)


def test_a_new_stream_clears_the_last_summary_and_a_newer_file_wins(lyra_page, short_wav, tmp_path):
    page, _ = lyra_page
    first, _ = stream_file(page, short_wav)
    summary = page.locator('[data-testid="lyra-result"]')
    assert "Streamed" in summary.inner_text()
    page.set_input_files('[data-testid="lyra-input"]', str(short_wav))
    wait_for_js(page, "window.codeclab.lyra.session !== null", timeout=30_000)
    assert summary.inner_text() == "", "the previous stream's summary stayed under the new one"
    wait_for_js(page, "window.codeclab.lyra.session === null", timeout=STREAM_TIMEOUT_MS)
    wait_result(page, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
    # A long .lyra (slow to decode), then at once a bad one: the bad one's message stays.
    long_lyra = tmp_path / "long.lyra"
    long_lyra.write_bytes(bytes(range(7, 7 + 15)) * 1500)  # 30 s of packets
    bad = tmp_path / "bad.lyra"
    bad.write_text(("this is not audio\n" * 4)[:60])
    page.set_input_files('[data-testid="lyra-input"]', str(long_lyra))
    page.set_input_files('[data-testid="lyra-input"]', str(bad))
    wait_for_js(page, "document.querySelector('[data-testid=lyra-error]').hidden === false", timeout=30_000)
    page.wait_for_timeout(8000)  # the long decode has finished by now (about 1 s of work)
    error = page.locator('[data-testid="lyra-error"]')
    assert error.is_visible() and "text file" in error.inner_text().lower()
    assert not (page.get_attribute('[data-testid="lyra-file-result"]', "data-result") or "").count("long.lyra")


def test_the_receiving_peer_starts_when_the_tab_opens(browser, site, lyra_dist):
    """Its Python worker boots on opening the Speech tab, not on the first stream (which waited 10-25 s)."""
    page, _ = open_app(browser, site.url + "#attention")
    try:
        before = len(page.workers)
        page.click('[data-testid="tab-lyra"]')  # the tab button, not a click inside the panel
        wait_for_js(page, "document.getElementById('panel-lyra').hidden === false")
        deadline = 60.0
        while len(page.workers) <= before and deadline > 0:
            page.wait_for_timeout(250)
            deadline -= 0.25
        urls = [worker.url for worker in page.workers]
        assert len(page.workers) > before, urls
        assert any("worker.js?threads=1" in url for url in urls), urls  # the receiver's own Python worker
    finally:
        page.context.close()


# ---------------------------------------------------------------- issue 31: what the page says is so

def figure_value(page, name: str) -> int:
    return int(page.inner_text(f'[data-testid="lyra-fig-{name}"]'))


def test_the_packet_counts_shown_add_up_at_20_percent_loss(lyra_page, speech_wav):
    """The figures and the sentence in the visitor's words: every packet sent arrived or was lost on
    the way; every concealed slot is a lost packet or one that arrived too late."""
    import re

    page, _ = lyra_page
    set_loss(page, 20, 1.0, seed=9)
    result, export = stream_file(page, speech_wav)
    assert_packet_accounting(result, export)
    sent, arrived, lost, concealed = (figure_value(page, n) for n in ("sent", "received", "lost", "concealed"))
    assert sent == result["packets_encoded"] and sent == len(export["sent_packets"])
    assert lost >= result["dropped"] > 0.1 * sent, "20 % loss lost packets on the way"
    assert sent == arrived + lost, (sent, arrived, lost)
    assert (arrived, lost) == (result["packets_arrived"], result["lost_on_the_way"])
    assert arrived == len(export["received"]) + len(export["late"])
    note = page.locator('[data-testid="lyra-fig-concealed"]').locator("xpath=following-sibling::span").inner_text()
    concealed_lost, too_late = map(int, re.fullmatch(r"concealed \((\d+) lost \+ (\d+) too late\)", note).groups())
    assert concealed == result["concealed"] == concealed_lost + too_late and concealed_lost == lost
    assert too_late == result["late"]
    sentence = page.inner_text('[data-testid="lyra-result"]')
    assert (f"{sent} packets sent, {arrived} arrived, {lost} lost on the way ({result['dropped']} by the simulated loss), "
            f"{concealed} concealed ({lost} lost + {too_late} arrived too late)") in sentence, sentence


def test_a_stream_whose_bitrate_changed_saves_reopens_and_decodes_the_same(lyra_page, speech_wav, cpython_models, tmp_path):
    """6 kbps, then 3.2 kbps mid-stream: the saved .lyra keeps both (a file of runs), is named and
    captioned by them, opens again in the page and in the CLI, and decodes to the same audio."""
    from codeclab.lyra.__main__ import main as cli
    from codeclab.lyra.decoder import LyraDecoder
    from codeclab.lyra.lyrafile import describe_bitrate, read_lyra
    from codeclab.lyra.wav import read_wav

    page, _ = lyra_page
    sent = "window.codeclab.lyra.session?.sender.packets.length || 0"
    page.set_input_files('[data-testid="lyra-input"]', str(speech_wav))
    wait_for_js(page, f"({sent}) >= 40", timeout=30_000)
    page.select_option('[data-testid="lyra-bitrate"]', "3200")
    result = wait_result(page, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
    export = page.evaluate("window.codeclab.lyra.export()")
    packets = [bytes(p) for p in export["sent_packets"]]
    sizes = [len(p) for p in packets]
    assert sizes[0] == 15 and sizes[-1] == 8 and sorted(set(sizes)) == [8, 15]
    label = describe_bitrate([3200, 6000], sum(sizes) * 8 / (len(sizes) * 0.02))  # the page says it as Python does
    assert label.startswith("mixed 3.2–6 kbps, ") and label.endswith(" kbps average")
    assert result["bitrate_label"] == label and result["packet_bitrates"] == [3200, 6000]
    assert label in page.inner_text('[data-testid="lyra-caption-decoded"]')
    assert label in page.inner_text('[data-testid="lyra-result"]')
    with page.expect_download() as download:
        page.click('[data-testid="lyra-download-lyra"]')
    assert download.value.suggested_filename == "stream-mixed-3200-6000.lyra"
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    stream = read_lyra(saved)
    assert stream.packets == packets and stream.describe_bitrate() == label
    assert [rate for rate, _ in stream.runs] == [6000, 3200]
    # Opened again in the page: the same packets, decoded as CPython decodes them.
    page.set_input_files('[data-testid="lyra-input"]', str(saved))
    info = wait_result(page, "lyra-file-result")
    assert info["packets"] == len(packets) and info["bitrates"] == [3200, 6000] and info["bitrate_label"] == label
    assert info["runs"] == [list(run) for run in stream.runs]
    assert "1 bitrate change" in page.inner_text('[data-testid="lyra-caption-decoded"]')
    offline = np.asarray(page.evaluate("Array.from(window.codeclab.lyra.last.decoded)"), dtype=np.float64)
    whole = LyraDecoder(16000, cpython_models.fresh()).decode_packets(packets)
    assert np.array_equal(whole.astype(np.float64) / 32768.0, offline)
    # And the stream's own decode up to its first concealed slot (none, without loss and on time).
    decoded = np.asarray(export["decoded"], dtype=np.float64)
    first_concealed = next((e["seq"] for e in export["log"] if e["kind"] == "conceal"), len(export["log"]))
    assert np.array_equal(decoded[:first_concealed * 320], offline[:first_concealed * 320])
    # The CLI reads the page's file too.
    wav = tmp_path / "cli.wav"
    assert cli(["decode", str(saved), str(wav), "--backend", "tflite", "--model-dir", str(speech_wav.parents[1])]) == 0
    assert np.array_equal(read_wav(wav).samples, whole)


# The 10-minute figure in the report was measured with CODECLAB_LYRA_LONG_CLIP_S=600 (about 15 minutes here).
LONG_CLIP_S = int(__import__("os").environ.get("CODECLAB_LYRA_LONG_CLIP_S", "75"))


@pytest.fixture(scope="module")
def long_synthetic_wav(tmp_path_factory) -> Path:
    """A voiced, syllable-paced synthetic signal (16 kHz), by default 75 s: four times the length that
    used to fail Lyra vs Opus (a whole-clip array over wasm32's 2 GiB)."""
    rate = 16000
    t = np.arange(LONG_CLIP_S * rate) / rate
    pitch = 130 + 30 * np.sin(2 * np.pi * 0.3 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    syllables = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) * (np.sin(2 * np.pi * 0.25 * t) > -0.7)
    samples = (0.25 * voiced * syllables / np.abs(voiced).max() * 32767).astype("<i2")
    return write_wav(tmp_path_factory.mktemp("lyra") / "long-synthetic.wav", samples, rate)


def test_lyra_vs_opus_on_a_long_clip(lyra_page, long_synthetic_wav):
    """The comparison takes the whole dropped file (no need to stream it first) and scores every row."""
    page, watch = lyra_page
    page.set_input_files('[data-testid="lyra-input"]', str(long_synthetic_wav))
    wait_for_js(page, "document.querySelector('[data-testid=lyra-compare]').disabled === false", timeout=60_000)
    page.click('[data-testid="lyra-stop"]')
    wait_result(page, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
    page.click('[data-testid="lyra-compare"]')
    rows = wait_result(page, "lyra-compare-result", timeout_ms=max(900_000, LONG_CLIP_S * 4000))
    frames = LONG_CLIP_S * 50
    assert [(r["codec"], r["bitrate"]) for r in rows][:3] == [("Lyra v2", 3200), ("Lyra v2", 6000), ("Lyra v2", 9200)]
    assert len(rows) == 7, "this Chromium has WebCodecs Opus"
    for row in rows:
        assert 0.0 < row["stoi"] <= 1.0 and row["lsd_db"] > 0, row
        if row["codec"] == "Lyra v2":
            assert row["bytes"] == frames * {3200: 8, 6000: 15, 9200: 23}[row["bitrate"]]
    assert f"{LONG_CLIP_S}.00 s" in page.inner_text('[data-testid="lyra-compare"] ~ span')
    assert page.locator('[data-testid="lyra-compare-error"]').is_hidden()
    assert watch.console_errors == []


def test_switching_the_runtime_asks_before_losing_results_and_a_multi_file_drop_says_which_is_used(lyra_page, short_wav, tmp_path):
    page, _ = lyra_page
    second = tmp_path / "second.wav"
    second.write_bytes(short_wav.read_bytes())
    page.set_input_files('[data-testid="lyra-input"]', [str(short_wav), str(second)])
    note = page.locator('[data-testid="lyra-drop-note"]')
    note.wait_for(state="visible")
    assert note.inner_text() == "2 files dropped: only the first, short.wav, is used (this tab streams one recording at a time)."
    result = wait_result(page, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
    assert result["packets_encoded"] == 60
    # A result is on screen: changing the runtime asks first, and "keep" keeps everything.
    url = page.url
    page.click('[data-testid="lyra-runtime-details"] summary')
    page.select_option('[data-testid="lyra-runtime-select"]', "onnx")
    confirm = page.locator('[data-testid="lyra-runtime-confirm"]')
    confirm.wait_for(state="visible")
    assert "reloads the page" in confirm.inner_text() and "lost" in confirm.inner_text()
    page.wait_for_timeout(500)
    assert page.url == url, "the page reloaded without asking"
    page.click('[data-testid="lyra-runtime-cancel"]')
    assert confirm.is_hidden() and page.input_value('[data-testid="lyra-runtime-select"]') == "litert"
    assert wait_result(page, "lyra-result") == result and page.locator('[data-testid="lyra-download-lyra"]').is_visible()
    # Asked again and accepted: the page reloads on the other runtime.
    page.select_option('[data-testid="lyra-runtime-select"]', "onnx")
    page.click('[data-testid="lyra-runtime-reload"]')
    wait_for_js(page, "document.documentElement.dataset.state === 'ready' && location.search.includes('lyra-runtime=onnx')",
                           timeout=120_000)
    # A single file says nothing about other files.
    page.click('[data-testid="tab-lyra"]')
    page.set_input_files('[data-testid="lyra-input"]', str(short_wav))
    wait_result(page, "lyra-result", timeout_ms=STREAM_TIMEOUT_MS)
    assert page.locator('[data-testid="lyra-drop-note"]').is_hidden()
