"""The page's functions (codeclab.lyra.service), driven as the browser adapter drives them (async
runner): the tests use the API the page uses, nothing else."""

from __future__ import annotations

import asyncio
import inspect
import io
import re
from pathlib import Path

import numpy as np
import pytest

from codeclab.browser import rpc
from codeclab.lyra import service
from codeclab.lyra.decoder import LyraDecoder
from codeclab.lyra.encoder import LyraEncoder
from codeclab.lyra.errors import LyraError
from codeclab.lyra.gilbert import GilbertModel
from codeclab.lyra.models import TfliteRunner

CODEC_JS = Path(__file__).resolve().parents[2] / "web" / "tools" / "lyra" / "service-client.js"


@pytest.fixture()
def assets(codebooks):
    buffer = io.BytesIO()
    np.save(buffer, codebooks)
    return service.set_assets(buffer.getvalue())


def test_the_service_is_what_the_page_calls():
    """One way to drive the codec: every function the RPC router would route to is one the page's
    service-client.js calls, and every one it calls exists."""
    called = set(re.findall(r'\bcall\("([a-z_]+)"', CODEC_JS.read_text()))
    routable = set()
    for name, _ in inspect.getmembers(service, callable):
        try:
            rpc.resolve(f"lyra.{name}")
        except rpc.UnknownMethodError:
            continue
        routable.add(name)
    assert called == routable
    assert {"encoder_encode", "decoder_receive", "encoder_encode_many", "decoder_receive_many"} <= called


def reference_stream(tflite_models, x, bitrate: int, out_rate: int, loss: float, seed: int):
    """What the synchronous codec makes of ``x``: packets, a Gilbert loss pattern, the decoded audio."""
    packets = LyraEncoder(16000, bitrate, tflite_models.fresh()).encode_all(x)
    pattern = GilbertModel(loss, 2.0, seed=seed).pattern(len(packets)).tolist()
    audio = LyraDecoder(out_rate, tflite_models.fresh(), seed=0).decode_packets(packets, pattern)
    return packets, pattern, audio


def test_sessions_match_sync_codec(assets, speech16k, lyra_dir, tflite_models):
    x = speech16k[: 50 * 320]
    expected_packets, pattern, expected_audio = reference_stream(tflite_models, x, 3200, 48000, 0.2, seed=9)

    async def page():
        enc = service.encoder_open(16000, 3200)["id"]
        dec = service.decoder_open(48000)["id"]
        enc_runner, dec_runner = TfliteRunner(lyra_dir), TfliteRunner(lyra_dir)
        packets, audio = [], []
        for i in range(50):
            packet = await service.encoder_encode(enc, x[i * 320:(i + 1) * 320], runner=enc_runner)
            packets.append(packet)
            reply = await service.decoder_receive(dec, 960, runner=dec_runner, packet=packet if pattern[i] else None,
                                                  as_float=False)
            assert reply["rejected"] is None
            audio.append(reply["samples"])
        state = service.streams.decoder(dec).codec.state
        service.close(enc)
        service.close(dec)
        return packets, np.concatenate(audio), state

    packets, audio, state = asyncio.run(page())
    assert packets == expected_packets
    np.testing.assert_array_equal(audio, expected_audio)
    assert state["concealed_samples"] == (len(pattern) - sum(pattern)) * 320
    with pytest.raises(LyraError, match="no Lyra decoder session"):
        asyncio.run(service.decoder_receive(999999, 320, runner=TfliteRunner(lyra_dir)))
    assert service.close(999999) == {"closed": False}


def test_bitrate_change_takes_effect_at_the_next_packet(assets, speech16k, lyra_dir, tflite_models):
    """encoder_set_bitrate: the packets before it at the old bitrate, after it at the new one, and
    the stream (model state, resampler) goes on as one: the same packets as the CPython codec."""
    x = speech16k[: 6 * 320]
    reference = LyraEncoder(16000, 9200, tflite_models.fresh())
    expected = []
    for i in range(6):
        if i == 3:
            reference.set_bitrate(3200)
        expected.append(reference.encode(x[i * 320:(i + 1) * 320]))

    async def page():
        sid = service.encoder_open(16000, 9200)["id"]
        runner, packets = TfliteRunner(lyra_dir), []
        for i in range(6):
            if i == 3:
                assert service.encoder_set_bitrate(sid, 3200) == {"bitrate": 3200}
            packets.append(await service.encoder_encode(sid, x[i * 320:(i + 1) * 320], runner=runner))
        service.close(sid)
        return packets

    packets = asyncio.run(page())
    assert [len(p) for p in packets] == [23, 23, 23, 8, 8, 8]
    assert packets == expected


def test_helpers(assets, speech16k):
    y = service.resample(speech16k / 32768.0, 16000, 48000)
    assert y.dtype == np.float32 and y.size == speech16k.size * 3
    result = service.score(speech16k / 32768.0, speech16k / 32768.0, 16000)
    assert result["stoi"] > 0.999
    data = service.lyra_file([bytes(8)] * 3)
    assert service.read_lyra_file(data)["bitrate"] == 3200
    assert service.lyra_file(bytes(range(16)), np.array([8, 8], np.int32)) == bytes(range(16))
    with pytest.raises(LyraError, match="do not match"):
        service.lyra_file(bytes(16), [8, 7])


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
        # every hop's request started before the previous one's model run has answered
        replies = await asyncio.gather(*[service.decoder_receive(dec, 320, runner=dec_runner, packet=packet,
                                                                 as_float=False) for packet in [None, *packets]])
        return list(packets), np.concatenate([reply["samples"] for reply in replies])

    packets, audio = asyncio.run(page())
    assert packets == expected
    np.testing.assert_array_equal(audio, np.concatenate(expected_audio))


def test_receive_decodes_as_the_sync_codec(assets, speech16k, lyra_dir, tflite_models):
    """decoder_receive (one round trip per hop) decodes exactly as the CPython codec's
    set_encoded_packet + decode_samples, lost hops included, and reports a packet it cannot use
    instead of decoding it."""
    packets, pattern, expected = reference_stream(tflite_models, speech16k[: 30 * 320], 9200, 16000, 0.25, seed=3)

    async def page():
        dec = service.decoder_open(16000)["id"]
        runner = TfliteRunner(lyra_dir)
        audio = []
        for packet, arrived in zip(packets, pattern):
            reply = await (service.decoder_receive(dec, 320, runner=runner, packet=packet, as_float=False) if arrived
                           else service.decoder_receive(dec, 320, runner=runner, as_float=False))
            assert reply["rejected"] is None
            audio.append(reply["samples"])
        bad = await service.decoder_receive(dec, 320, runner=runner, packet=b"\x01" * 9)
        state = service.streams.decoder(dec).codec.state
        service.close(dec)
        return np.concatenate(audio), bad, state

    audio, bad, state = asyncio.run(page())
    np.testing.assert_array_equal(audio, expected)
    assert "9" in bad["rejected"] and bad["samples"].shape == (320,) and bad["samples"].dtype == np.float32
    assert state["rejected_packets"] == 1


def test_driven_calls_match_awaited_ones(assets, lyra_dir):
    """The Lyra service driven step by step (as in the worker) gives the same packets and audio as
    awaited on an event loop (as the CPython tests do)."""
    from codeclab.browser import rpc

    tflite = TfliteRunner(lyra_dir)

    class BrowserLike:
        async def run(self, name, feeds):
            return await rpc.ModelRequest((name, feeds))

    def model(call):
        return tflite.run_sync(*call)

    def drive(method, args):
        """What the worker does: begin, run each requested model, resume, until the call is done."""
        step, runs = driver.begin(method, args, BrowserLike()), 0
        while not step.done:
            runs += 1
            step = driver.resume(step.task, model(step.request.call))
        return step, runs

    rng = np.random.default_rng(4)
    hops = [(rng.standard_normal(320) * 3000).astype(np.int16) for _ in range(6)]

    async def awaited():
        enc = service.encoder_open(16000, 6000)["id"]
        dec = service.decoder_open(16000)["id"]
        runner = TfliteRunner(lyra_dir)  # one interpreter per model: the encoder's and the decoder's
        out = []
        for hop in hops:
            packet = await service.encoder_encode(enc, hop, runner=runner)
            out.append((packet, await service.decoder_receive(dec, 320, runner=runner, packet=packet)))
        return out

    expected = asyncio.run(awaited())
    driver = rpc.Driver()
    enc = service.encoder_open(16000, 6000)["id"]
    dec = service.decoder_open(16000)["id"]
    for hop, (packet, decoded) in zip(hops, expected):
        step, runs = drive("lyra.encoder_encode", {"session_id": enc, "samples": hop})
        assert runs == 1 and step.result == packet
        step, runs = drive("lyra.decoder_receive", {"session_id": dec, "count": 320, "packet": packet})
        assert runs == 1 and step.error is None
        np.testing.assert_array_equal(step.result["samples"], decoded["samples"])


class BurstRunner:
    """The page's runner as the service sees it: streams stepped ``frames`` at a time per request."""

    runs_frames = True

    def __init__(self, lyra_dir):
        self.tflite = TfliteRunner(lyra_dir)
        self.requests = []

    async def run_stream(self, name, stream, feeds, init, frames=None):
        self.requests.append(frames)
        if frames is None:
            return self.tflite.run_sync(name, feeds)
        steps = [self.tflite.run_sync(name, {k: v[i] for k, v in feeds.items()}) for i in range(frames)]
        return {key: np.stack([step[key] for step in steps]) for key in steps[0]}


@pytest.fixture()
def stream_assets(codebooks):
    """Assets with a (dummy) initial state, so that the sessions' models go through ``run_stream``."""
    books, state = io.BytesIO(), io.BytesIO()
    np.save(books, codebooks)
    np.savez(state, state_in_0=np.zeros(1, np.float32))
    return service.set_assets(books.getvalue(), state.getvalue(), state.getvalue())


@pytest.mark.parametrize(("bitrate", "in_rate", "out_rate"), [(3200, 16000, 16000), (6000, 48000, 48000), (9200, 16000, 8000)])
def test_bursts_equal_hop_by_hop(stream_assets, speech16k, lyra_dir, tflite_models, bitrate, in_rate, out_rate):
    """encoder_encode_many and decoder_receive_many: the same packets and samples as one hop per
    request, with loss long enough to reach comfort noise and back, and a packet of a wrong size."""
    x16 = speech16k[: 90 * 320]
    x = service.resample(x16.astype(np.float64) / 32768.0, 16000, in_rate) if in_rate != 16000 else x16
    hop_in, hop_out = in_rate // 50, out_rate // 50
    pattern = GilbertModel(0.3, 8.0, seed=3).pattern(90).tolist()

    async def page(burst: int):
        enc = service.encoder_open(in_rate, bitrate)["id"]
        dec = service.decoder_open(out_rate)["id"]
        enc_runner, dec_runner = BurstRunner(lyra_dir), BurstRunner(lyra_dir)
        packets, audio, rejected = [], [], []
        for start in range(0, 90, burst):
            chunk = x[start * hop_in:(start + burst) * hop_in]
            if burst == 1:
                packets.append(await service.encoder_encode(enc, chunk, runner=enc_runner))
            else:
                data = await service.encoder_encode_many(enc, chunk, runner=enc_runner)
                size = len(data) // (chunk.size // hop_in)
                packets += [data[i:i + size] for i in range(0, len(data), size)]
        sent = [p if pattern[i] else b"" for i, p in enumerate(packets)]
        sent[40] = b"\0" * 9  # no Lyra packet has 9 bytes: concealed, and reported
        for start in range(0, 90, burst):
            chunk = sent[start:start + burst]
            if burst == 1:
                reply = await service.decoder_receive(dec, hop_out, runner=dec_runner, packet=chunk[0], as_float=False)
                audio.append(reply["samples"])
                rejected.append(reply["rejected"])
            else:
                reply = await service.decoder_receive_many(dec, hop_out, b"".join(chunk), [len(p) for p in chunk],
                                                           runner=dec_runner, as_float=False)
                audio.append(reply["samples"])
                rejected += reply["rejected"]
        state = service.streams.decoder(dec).codec.state
        service.close(enc)
        service.close(dec)
        return packets, np.concatenate(audio), rejected, state, enc_runner.requests, dec_runner.requests

    one = asyncio.run(page(1))
    many = asyncio.run(page(7))
    assert many[0] == one[0]
    np.testing.assert_array_equal(many[1], one[1])
    assert many[2] == one[2] and one[2][40] and sum(r is not None for r in one[2]) == 1
    assert many[3] == one[3] and one[3]["comfort_noise_hops"] > 0
    assert len(many[4]) == 13 and len(many[5]) <= 13 < len(one[5])  # a request per burst, not per hop
    if in_rate == out_rate == 16000:
        expected = reference_stream(tflite_models, x16, bitrate, 16000, 0.3, seed=3)
        assert one[0] == expected[0]
