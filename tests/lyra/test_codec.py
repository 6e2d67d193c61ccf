"""Encoder + decoder round trips on the upstream speech at every rate and bitrate (TFLite models)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from codeclab.lyra.decoder import DecoderSession, LyraDecoder, decode_samples_async
from codeclab.lyra.encoder import LyraEncoder
from codeclab.lyra.errors import LyraError, LyraUnsupportedError
from codeclab.lyra.gilbert import GilbertModel
from codeclab.lyra.metrics import score
from codeclab.lyra.models import StatefulModel, TfliteRunner
from codeclab.lyra.packet import unpack
from codeclab.lyra.wav import read_wav

# Measured on sample1 (3.45 s): STOI 0.90-0.95, LSD 3.4-7.9 dB.  Bars leave margin for
# model-runtime differences but fail for any real defect (wrong alignment, broken packets:
# a decode of the wrong frames scores STOI < 0.3, see test_bars_reject_garbage).
MIN_STOI = {3200: 0.86, 6000: 0.89, 9200: 0.90}
MAX_LSD_DB = 9.0


def encode_decode(models_factory, rate, bitrate, samples):
    packets = LyraEncoder(rate, bitrate, models_factory()).encode_all(samples)
    decoded = LyraDecoder(rate, models_factory()).decode_packets(packets)
    return packets, decoded


@pytest.mark.parametrize("rate", [8000, 16000, 32000, 48000])
def test_round_trip_all_bitrates(rate, testdata, tflite_models):
    x = read_wav(testdata / f"sample1_{rate // 1000}kHz.wav").samples
    scores = {}
    for bitrate in (3200, 6000, 9200):
        packets, y = encode_decode(tflite_models.fresh, rate, bitrate, x)
        assert len(packets) == x.size // (rate // 50)  # partial last hop dropped, as upstream
        assert {len(p) for p in packets} == {bitrate // 400}
        assert y.dtype == np.int16 and y.size == len(packets) * rate // 50
        result = score(x / 32768.0, y / 32768.0, rate)
        assert result["stoi"] >= MIN_STOI[bitrate], (rate, bitrate, result)
        assert result["lsd_db"] <= MAX_LSD_DB, (rate, bitrate, result)
        assert 0 <= result["delay_ms"] < 20
        scores[bitrate] = result["stoi"]
    assert scores[9200] > scores[3200]


def test_bars_reject_garbage(testdata, tflite_models):
    x = read_wav(testdata / "sample1_16kHz.wav").samples
    packets, _ = encode_decode(tflite_models.fresh, 16000, 6000, x)
    shuffled = [packets[i] for i in np.random.default_rng(0).permutation(len(packets))]
    y = LyraDecoder(16000, tflite_models.fresh()).decode_packets(shuffled)
    assert score(x / 32768.0, y / 32768.0, 16000)["stoi"] < 0.3


def test_16k_int16_path_matches_upstream_scaling(speech16k, lyra_dir, tflite_models):
    """At 16 kHz the encoder feeds the model int16 / 32768 exactly, as upstream's SoundStreamEncoder."""
    enc = LyraEncoder(16000, 9200, tflite_models)
    runner = TfliteRunner(lyra_dir)
    for i in range(20):
        hop = speech16k[i * 320:(i + 1) * 320]
        ours = enc.features(hop)
        ref = runner.run_sync("soundstream_encoder", {"audio": (hop.astype(np.float32) / 32768.0)[None]})
        np.testing.assert_array_equal(ours, ref["features"].reshape(-1))


def test_set_bitrate_takes_effect_next_packet(speech16k, tflite_models):
    enc = LyraEncoder(16000, 3200, tflite_models)
    sizes = []
    for i in range(6):
        if i == 3:
            assert enc.set_bitrate(9200)
        sizes.append(len(enc.encode(speech16k[i * 320:(i + 1) * 320])))
    assert sizes == [8, 8, 8, 23, 23, 23]
    with pytest.raises(LyraUnsupportedError):
        enc.set_bitrate(4000)


def test_decoder_switches_bitrate_by_packet_size(speech16k, tflite_models):
    enc = LyraEncoder(16000, 3200, tflite_models.fresh())
    dec = LyraDecoder(16000, tflite_models.fresh())
    for i, bitrate in enumerate([3200, 6000, 9200, 3200]):
        enc.set_bitrate(bitrate)
        assert dec.set_encoded_packet(enc.encode(speech16k[i * 320:(i + 1) * 320]))
        assert dec.state["bitrate"] == bitrate
        assert dec.decode_samples(320).size == 320
    assert not dec.set_encoded_packet(bytes(9))
    assert "9 bytes is not supported" in dec.session.last_error
    assert dec.state["rejected_packets"] == 1


def test_random_request_sizes_give_same_audio(testdata, tflite_models):
    """Like upstream's --randomize_num_samples_requested: output independent of request sizes."""
    x = read_wav(testdata / "sample1_48kHz.wav").samples[: 48000]
    packets = LyraEncoder(48000, 6000, tflite_models.fresh()).encode_all(x)
    reference = LyraDecoder(48000, tflite_models.fresh()).decode_packets(packets)
    dec = LyraDecoder(48000, tflite_models.fresh())
    for p in packets:
        dec.set_encoded_packet(p)
    rng = np.random.default_rng(3)
    pieces, total = [], reference.size
    while total:
        n = int(min(total, rng.integers(1, 960)))
        pieces.append(dec.decode_samples(n))
        total -= n
    np.testing.assert_array_equal(np.concatenate(pieces), reference)


def test_loss_is_concealed_packet_for_packet(speech16k, tflite_models):
    packets = LyraEncoder(16000, 6000, tflite_models.fresh()).encode_all(speech16k)
    received = GilbertModel(0.1, 2.0, seed=11).pattern(len(packets))
    dec = LyraDecoder(16000, tflite_models.fresh())
    y = dec.decode_packets(packets, received)
    lost = int((~received).sum())
    assert lost > 5
    assert y.size == len(packets) * 320
    assert dec.state["concealed_samples"] == lost * 320 and dec.state["concealed_hops"] == lost
    assert dec.state["packets"] == len(packets) - lost
    assert score(speech16k / 32768.0, y / 32768.0, 16000)["stoi"] > 0.75


def test_async_path_matches_sync(speech16k, lyra_dir, codebooks, tflite_models):
    """The page's path (generator driven by an awaited model call) gives the same samples."""
    packets = LyraEncoder(16000, 3200, tflite_models.fresh()).encode_all(speech16k[:16000])
    received = GilbertModel(0.2, 3.0, seed=2).pattern(len(packets))
    sync = LyraDecoder(32000, tflite_models.fresh(), seed=4).decode_packets(packets, received)

    async def run():
        session = DecoderSession(32000, codebooks, seed=4)
        model = StatefulModel(TfliteRunner(lyra_dir), "lyragan", {})
        out = []
        for p, ok in zip(packets, received):
            if ok:
                session.set_encoded_packet(p)
            out.append(await decode_samples_async(session, model, 640))
        return np.concatenate(out)

    np.testing.assert_array_equal(asyncio.run(run()), sync)


def test_encoder_errors(tflite_models, codebooks):
    with pytest.raises(LyraUnsupportedError, match="44100"):
        LyraEncoder(44100, 3200, tflite_models)
    enc = LyraEncoder(48000, 3200, tflite_models)
    with pytest.raises(LyraError, match="960 samples"):
        enc.encode(np.zeros(320, np.int16))
    with pytest.raises(LyraError, match="codebooks"):
        LyraEncoder(16000, 3200, object())


def test_onnx_path_agrees_with_tflite(speech16k, onnx_models, tflite_models):
    """Our converter's ONNX models through the same codec code (skips until build.py has run)."""
    x = speech16k[: 100 * 320]
    tfl = LyraEncoder(16000, 6000, tflite_models.fresh()).encode_all(x)
    onx = LyraEncoder(16000, 6000, onnx_models).encode_all(x)
    same = np.mean([np.mean(unpack(a) == unpack(b)) for a, b in zip(tfl, onx)])
    assert same >= 0.99
    y_tfl = LyraDecoder(16000, tflite_models.fresh()).decode_packets(tfl)
    y_onx = LyraDecoder(16000, onnx_models).decode_packets(tfl)
    noise = np.sum((y_tfl.astype(float) - y_onx) ** 2)
    assert 10 * np.log10(np.sum(y_tfl.astype(float) ** 2) / max(noise, 1e-9)) >= 30


def test_bench_measure(speech16k, tflite_models):
    from codeclab.lyra.bench import measure, model_only

    row = measure(tflite_models.fresh, speech16k[: 25 * 320], 16000, repeats=1)
    assert row["frames"] == 25 and 0 < row["encode_ms_per_frame"] < 20 and 0 < row["decode_ms_per_frame"] < 20
    times = model_only(tflite_models.fresh(), calls=10)
    assert set(times) == {"soundstream_encoder_ms", "lyragan_ms"}
