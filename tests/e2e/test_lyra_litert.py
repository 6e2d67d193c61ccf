"""Lyra in the page on LiteRT.js is CPython's TFLite codec, bit for bit.

The page runs the upstream .tflite files through LiteRT.js (the default runtime); CPython runs the
same files through ai-edge-litert. Packets and decoded samples must be *equal*, not close: at every
bitrate, with and without loss, for the encoder at every input rate, and across stream restarts
(LiteRT.js keeps a model's state inside the compiled model, so a new stream must get a fresh one).
"""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from devkit.chromium import wait_for_js
from tests.needs import missing

from .conftest import open_app, wait_result

pytestmark = pytest.mark.e2e

BITRATES = (3200, 6000, 9200)
CLIP_FRAMES = 150  # 3 s: long enough for the models' state to matter, short for a loaded machine


@pytest.fixture(scope="module")
def litert_dist(dist: Path) -> Path:
    index = dist / "models" / "litert.json"
    names = json.loads(index.read_text()) if index.exists() else {}
    if not {"soundstream_encoder", "lyragan"} <= set(names):
        reason = json.loads((dist / "build-info.json").read_text()).get("models", {}).get("reason")
        missing(f"the Lyra .tflite files are not in {dist}/models (build with --upstream; {reason})")
    return dist


@pytest.fixture(scope="module")
def tflite_models(upstream: Path):
    """CPython's reference: the upstream .tflite files on ai-edge-litert (codebooks read back from quantizer.tflite)."""
    from codeclab.lyra.models import load_models

    return load_models(upstream / "lyra", backend="tflite")


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16), w.getframerate()


@pytest.fixture(scope="module")
def page(browser, site, litert_dist):
    page, watch = open_app(browser, site.url + "#lyra")
    yield page
    assert watch.foreign_requests() == [] and watch.console_errors == []
    page.context.close()


def page_encode(page, pcm: np.ndarray, rate: int, bitrate: int) -> list[bytes]:
    packets = page.evaluate(
        """async ([samples, rate, bitrate]) => {
            const { makeCodec } = await import('./tools/lyra/service-client.js');
            const codec = window.__lyraCodec ??= makeCodec(window.codeclab);
            const pcm = Float32Array.from(samples, (x) => x / 32768);
            return (await codec.encodeClip(pcm, rate, bitrate)).map((p) => Array.from(p));
        }""",
        [pcm.tolist(), rate, bitrate],
    )
    return [bytes(p) for p in packets]


def page_decode(page, packets: list[bytes | None], rate: int = 16000) -> np.ndarray:
    """The page's decode, as int16 (the page hands out int16 / 32768 as float32, which is exact)."""
    decoded = page.evaluate(
        """async ([packets, rate]) => {
            const { makeCodec } = await import('./tools/lyra/service-client.js');
            const codec = window.__lyraCodec ??= makeCodec(window.codeclab);
            const samples = await codec.decodePackets(packets.map((p) => (p ? new Uint8Array(p) : null)), rate);
            return Array.from(samples);
        }""",
        [[list(p) if p is not None else None for p in packets], rate],
    )
    return np.round(np.asarray(decoded, dtype=np.float64) * 32768).astype(np.int16)


def cpython_encode(models, pcm: np.ndarray, rate: int, bitrate: int) -> list[bytes]:
    from codeclab.lyra.encoder import LyraEncoder

    return LyraEncoder(rate, bitrate, models.fresh()).encode_all(pcm, pad_last=True)


def cpython_decode(models, packets: list[bytes | None], rate: int = 16000) -> np.ndarray:
    from codeclab.lyra.decoder import LyraDecoder

    return LyraDecoder(rate, models.fresh()).decode_packets(
        [p or b"" for p in packets], [p is not None for p in packets])


def lossy(packets: list[bytes], seed: int) -> list[bytes | None]:
    """Drop ~15 % of the packets in bursts (the page's own Gilbert-Elliott model, in CPython)."""
    from codeclab.lyra.gilbert import GilbertModel

    arrives = GilbertModel(0.15, 2.0, seed=seed).pattern(len(packets))
    assert 0 < (~arrives).sum() < len(packets)
    return [p if ok else None for p, ok in zip(packets, arrives)]


def test_runtime_is_litert_and_shown(page):
    info = page.evaluate("window.codeclab.python.call('worker.lyra_runtime', {})")
    assert info["requested"] == "litert" and info["active"] == "litert", info
    assert info["threaded_build"] is True, "a cross-origin isolated page loads the threaded build"
    page.click('[data-testid="tab-lyra"]')
    page.click('[data-testid="lyra-runtime-details"] summary')
    wait_for_js(page, "document.querySelector('[data-testid=lyra-runtime-details]').dataset.active === 'litert'")
    assert page.inner_text('[data-testid="lyra-runtime"]').startswith("LiteRT.js 2.")
    assert page.input_value('[data-testid="lyra-runtime-select"]') == "litert"


@pytest.mark.parametrize("bitrate", BITRATES)
def test_page_encoder_and_decoder_equal_cpython_tflite(page, upstream, tflite_models, bitrate):
    pcm, rate = read_wav(upstream / "lyra" / "testdata" / "sample1_16kHz.wav")
    pcm = pcm[: CLIP_FRAMES * 320]
    packets = page_encode(page, pcm, rate, bitrate)
    expected = cpython_encode(tflite_models, pcm, rate, bitrate)
    assert len(packets) == len(expected) == CLIP_FRAMES
    assert all(len(p) == bitrate // 400 for p in packets)
    differ = [i for i, (a, b) in enumerate(zip(packets, expected)) if a != b]
    assert differ == [], f"packets {differ[:5]} differ from CPython TFLite"
    # Decoding, without loss and with bursts of loss (concealment, then comfort noise).
    for received in (expected, lossy(expected, seed=bitrate)):
        got, want = page_decode(page, received), cpython_decode(tflite_models, received)
        assert got.size == want.size == CLIP_FRAMES * 320
        mismatch = np.flatnonzero(got != want)
        assert mismatch.size == 0, f"first differing sample {mismatch[:1]} (frame {mismatch[:1] // 320})"
        assert np.sqrt(np.mean(want.astype(np.float64) ** 2)) > 100, "the reference decode is silent"


@pytest.mark.parametrize("wav", ["sample1_8kHz.wav", "sample1_48kHz.wav"])
def test_encoder_at_other_rates_and_decoder_output_rate(page, upstream, tflite_models, wav):
    pcm, rate = read_wav(upstream / "lyra" / "testdata" / wav)
    pcm = pcm[: 60 * rate // 50]
    packets = page_encode(page, pcm, rate, 6000)
    assert packets == cpython_encode(tflite_models, pcm, rate, 6000)
    received = lossy(packets, seed=3)
    assert np.array_equal(page_decode(page, received, rate), cpython_decode(tflite_models, received, rate))


def test_a_new_stream_starts_from_the_initial_state(page, upstream, tflite_models):
    """Back-to-back streams (no idle time for a spare copy) and one after an idle pause each decode
    like a fresh CPython decoder: no stream inherits another's state."""
    from codeclab.lyra.decoder import DecoderSession, LyraDecoder

    pcm, rate = read_wav(upstream / "lyra" / "testdata" / "sample1_16kHz.wav")
    packets = cpython_encode(tflite_models, pcm[: 40 * 320], rate, 3200)
    want = cpython_decode(tflite_models, packets)
    # What an inherited model state would give: a fresh codec over a model that already ran the packets.
    decoder = LyraDecoder(16000, tflite_models.fresh())
    decoder.decode_packets(packets)
    decoder.session = DecoderSession(16000, tflite_models.codebooks)
    inherited = decoder.decode_packets(packets)
    assert not np.array_equal(inherited, want)
    first, second = page_decode(page, packets), page_decode(page, packets)
    page.wait_for_timeout(1500)  # idle: the worker compiles spare copies now
    third = page_decode(page, packets)
    assert np.array_equal(first, want) and np.array_equal(second, want) and np.array_equal(third, want)


def test_lyra_file_dropped_in_decodes_like_cpython(page, upstream, tflite_models, tmp_path):
    pcm, rate = read_wav(upstream / "lyra" / "testdata" / "sample1_16kHz.wav")
    packets = cpython_encode(tflite_models, pcm[: 100 * 320], rate, 9200)
    path = tmp_path / "clip.lyra"
    path.write_bytes(b"".join(packets))
    page.click('[data-testid="tab-lyra"]')
    page.set_input_files('[data-testid="lyra-input"]', str(path))
    info = wait_result(page, "lyra-file-result")
    assert info["packets"] == 100 and info["bitrate"] == 9200
    decoded = np.asarray(page.evaluate("Array.from(window.codeclab.lyra.last.decoded)"), dtype=np.float64)
    assert np.array_equal(np.round(decoded * 32768).astype(np.int16), cpython_decode(tflite_models, packets))


def test_onnx_runtime_stays_available(browser, site, litert_dist, upstream, tflite_models):
    """`?lyra-runtime=onnx`: the page says so, and the codec runs on onnxruntime-web (close to TFLite, not equal)."""
    page, watch = open_app(browser, site.url + "?lyra-runtime=onnx#lyra")
    try:
        info = page.evaluate("window.codeclab.python.call('worker.lyra_runtime', {})")
        assert info["requested"] == "onnx" and info["active"] == "onnx", info
        page.click('[data-testid="tab-lyra"]')
        page.click('[data-testid="lyra-runtime-details"] summary')
        wait_for_js(page, "document.querySelector('[data-testid=lyra-runtime-details]').dataset.active === 'onnx'")
        assert page.inner_text('[data-testid="lyra-runtime"]').startswith("onnxruntime-web")
        assert page.input_value('[data-testid="lyra-runtime-select"]') == "onnx"
        pcm, rate = read_wav(upstream / "lyra" / "testdata" / "sample1_16kHz.wav")
        packets = cpython_encode(tflite_models, pcm[: 50 * 320], rate, 6000)
        got = page_decode(page, packets).astype(np.float64)
        want = cpython_decode(tflite_models, packets).astype(np.float64)
        snr = 10 * np.log10(np.sum(want ** 2) / max(np.sum((got - want) ** 2), 1e-9))
        assert snr >= 30.0
        assert watch.foreign_requests() == [] and watch.console_errors == []
        # The control switches back (the page reloads without the parameter).
        page.select_option('[data-testid="lyra-runtime-select"]', "litert")
        wait_for_js(page, "document.documentElement.dataset.state === 'ready' && !location.search.includes('lyra-runtime')",
                               timeout=120_000)
        assert page.evaluate("window.codeclab.python.call('worker.lyra_runtime', {})")["active"] == "litert"
    finally:
        page.context.close()


def test_plain_static_host_runs_litert_on_one_thread(browser, plain_site, litert_dist, upstream, tflite_models):
    page, watch = open_app(browser, plain_site.url + "#lyra")
    try:
        info = page.evaluate("window.codeclab.python.call('worker.lyra_runtime', {})")
        assert info["active"] == "litert" and info["threaded_build"] is False and info["threads"] == 1, info
        pcm, rate = read_wav(upstream / "lyra" / "testdata" / "sample1_16kHz.wav")
        packets = cpython_encode(tflite_models, pcm[: 30 * 320], rate, 6000)
        assert np.array_equal(page_decode(page, packets), cpython_decode(tflite_models, packets))
        assert watch.foreign_requests() == [] and watch.console_errors == []
    finally:
        page.context.close()
