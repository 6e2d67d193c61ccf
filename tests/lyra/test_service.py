"""The page's functions, driven as the browser adapter will (async runner)."""

from __future__ import annotations

import asyncio
import io

import numpy as np
import pytest

from codeclab.lyra import service
from codeclab.lyra.config import LyraError
from codeclab.lyra.decoder import LyraDecoder
from codeclab.lyra.encoder import LyraEncoder
from codeclab.lyra.models import TfliteRunner


@pytest.fixture()
def assets(codebooks):
    buffer = io.BytesIO()
    np.save(buffer, codebooks)
    return service.set_assets(buffer.getvalue())


def test_quantize_dequantize(assets, real_features, codebooks):
    packet = service.quantize(real_features[10], 6000)
    assert len(packet) == 15
    assert service.packet_info(packet)["bitrate"] == 6000
    features = service.dequantize(packet)
    assert features.shape == (64,)
    assert np.sum((features - real_features[10]) ** 2) < np.sum(real_features[10] ** 2)
    with pytest.raises(LyraError):
        service.dequantize(b"\0" * 9)


def test_sessions_match_sync_codec(assets, speech16k, lyra_dir, tflite_models):
    x = speech16k[: 50 * 320]
    expected_packets = LyraEncoder(16000, 3200, tflite_models.fresh()).encode_all(x)
    pattern = service.loss_pattern(len(expected_packets), 0.2, 2.0, seed=9)
    dec_ref = LyraDecoder(48000, tflite_models.fresh(), seed=0)
    expected_audio = dec_ref.decode_packets(expected_packets, pattern)

    async def page():
        enc = service.encoder_open(16000, 3200)["id"]
        dec = service.decoder_open(48000)["id"]
        enc_runner, dec_runner = TfliteRunner(lyra_dir), TfliteRunner(lyra_dir)
        packets, audio = [], []
        for i in range(50):
            packet = await service.encoder_encode(enc, x[i * 320:(i + 1) * 320], runner=enc_runner)
            packets.append(packet)
            if pattern[i]:
                assert service.decoder_set_packet(dec, packet)["ok"]
            audio.append(await service.decoder_decode(dec, 960, runner=dec_runner, as_float=False))
        state = service.decoder_state(dec)
        service.close(enc)
        service.close(dec)
        return packets, np.concatenate(audio), state

    packets, audio, state = asyncio.run(page())
    assert packets == expected_packets
    np.testing.assert_array_equal(audio, expected_audio)
    assert state["concealed_samples"] == (len(pattern) - sum(pattern)) * 320
    with pytest.raises(LyraError, match="no Lyra decoder session"):
        service.decoder_state(999999)


def test_split_encoder_steps(assets, speech16k, lyra_dir):
    sid = service.encoder_open(16000, 9200)["id"]
    model_input = service.encoder_prepare(sid, speech16k[:320])
    assert model_input.shape == (1, 320) and model_input.dtype == np.float32
    features = TfliteRunner(lyra_dir).run_sync("soundstream_encoder", {"audio": model_input})["features"]
    assert len(service.encoder_finish(sid, features)) == 23
    service.encoder_set_bitrate(sid, 3200)
    assert len(service.encoder_finish(sid, features)) == 8


def test_helpers(assets, speech16k):
    y = service.resample(speech16k / 32768.0, 16000, 48000)
    assert y.dtype == np.float32 and y.size == speech16k.size * 3
    result = service.score(speech16k / 32768.0, speech16k / 32768.0, 16000)
    assert result["stoi"] > 0.999
    data = service.lyra_file([bytes(8)] * 3)
    assert service.read_lyra_file(data)["bitrate"] == 3200
    assert service.wav_file(np.zeros(10, np.int16), 16000)[:4] == b"RIFF"


class YieldingRunner(TfliteRunner):
    """Suspends inside ``run`` like onnxruntime-web does, so other calls can start meanwhile."""

    async def run(self, name, feeds):
        await asyncio.sleep(0)
        return self.run_sync(name, feeds)


def test_overlapping_calls_do_not_interleave(assets, speech16k, lyra_dir, tflite_models):
    """The worker may start a call before the previous one finished; results stay those of sequential calls."""
    x = speech16k[: 20 * 320]
    expected = LyraEncoder(16000, 6000, tflite_models.fresh()).encode_all(x)
    reference = LyraDecoder(16000, tflite_models.fresh())
    expected_audio = [reference.decode_samples(320)]  # nothing received yet: one concealed hop
    for packet in expected:
        reference.set_encoded_packet(packet)
        expected_audio.append(reference.decode_samples(320))

    async def page():
        enc = service.encoder_open(16000, 6000)["id"]
        dec = service.decoder_open(16000)["id"]
        enc_runner, dec_runner = YieldingRunner(lyra_dir), YieldingRunner(lyra_dir)
        packets = await asyncio.gather(*[service.encoder_encode(enc, x[i * 320:(i + 1) * 320], runner=enc_runner)
                                         for i in range(20)])
        audio, queued = [], 0
        for packet in packets:
            # the page sends the next packet while the previous hop's decode is still running
            decoding = asyncio.ensure_future(service.decoder_decode(dec, 320, runner=dec_runner, as_float=False))
            await asyncio.sleep(0)
            reply = service.decoder_set_packet(dec, packet)
            assert reply["ok"]
            queued += bool(reply.get("queued"))
            audio.append(await decoding)
        audio.append(await service.decoder_decode(dec, 320, runner=dec_runner, as_float=False))
        return list(packets), np.concatenate(audio), queued

    packets, audio, queued = asyncio.run(page())
    assert packets == expected
    assert queued == 20
    np.testing.assert_array_equal(audio, np.concatenate(expected_audio))
