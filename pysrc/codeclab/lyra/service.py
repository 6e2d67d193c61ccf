"""Functions the page calls (through codeclab.browser.adapter) for the Lyra panel.

Plain Python in/out.  The page loads the model files itself and hands us the
small ones (``set_assets``: codebooks .npy and the state_init .npz bytes); the
neural models run on the page's runner (``runner=``, awaitable ``run``).
Encoder/decoder sessions are held here by integer id.

The worker may run several calls at once (each awaits the model), so every
session has a lock: model steps of one stream never interleave, and a packet
that arrives while a decode is in flight is queued and applied when the next
decode starts (it belongs to the next hop anyway).
"""

from __future__ import annotations

import asyncio
import itertools
import time

import numpy as np

from .concealment import drive_async, drive_sync
from .config import BITRATES, SAMPLES_PER_HOP, bitrate_for_packet_size, num_quantizers_for_bitrate
from .decoder import DecoderSession
from .encoder import EncoderSession
from .errors import LyraError
from .gilbert import GilbertModel
from .lyrafile import lyra_bytes, parse_lyra
from .metrics import score as _score
from .models import DECODER_MODEL, ENCODER_MODEL, MODEL_IO, StatefulModel, load_state_init
from .packet import pack, unpack
from .resample import resample as _resample
from .rvq import decode as rvq_decode
from .rvq import encode as rvq_encode
from .rvq import load_codebooks
from .wav import wav_bytes

_assets: dict = {"codebooks": None, "state_init": {}}
_sessions: dict[int, dict] = {}
_ids = itertools.count(1)


def set_assets(codebooks: bytes, encoder_state_init: bytes | None = None,
               decoder_state_init: bytes | None = None) -> dict:
    """Install quantizer_codebooks.npy and the models' state_init.npz (bytes as fetched)."""
    _assets["codebooks"] = load_codebooks(codebooks)
    if encoder_state_init is not None:
        _assets["state_init"][ENCODER_MODEL] = load_state_init(encoder_state_init)
    if decoder_state_init is not None:
        _assets["state_init"][DECODER_MODEL] = load_state_init(decoder_state_init)
    return {"ok": True, "bitrates": list(BITRATES)}


def _codebooks() -> np.ndarray:
    if _assets["codebooks"] is None:
        raise LyraError("Lyra codebooks are not loaded yet (call lyra.set_assets first)")
    return _assets["codebooks"]


def quantize(features, bitrate: int) -> bytes:
    """64 features -> packet at ``bitrate``."""
    return pack(rvq_encode(np.asarray(features).reshape(-1), num_quantizers_for_bitrate(bitrate), _codebooks()))


def dequantize(packet: bytes) -> np.ndarray:
    """Packet -> float32 [64] features (size selects the bitrate)."""
    return rvq_decode(unpack(packet), _codebooks())


def packet_info(packet: bytes) -> dict:
    return {"bytes": len(packet), "bitrate": bitrate_for_packet_size(len(packet)),
            "indices": unpack(packet).tolist()}


def _session(session_id: int, kind: str) -> dict:
    entry = _sessions.get(int(session_id))
    if entry is None or entry["kind"] != kind:
        raise LyraError(f"no Lyra {kind} session {session_id}")
    return entry


def encoder_open(sample_rate: int, bitrate: int) -> dict:
    sid = next(_ids)
    _sessions[sid] = {"kind": "encoder", "codec": EncoderSession(sample_rate, bitrate, _codebooks()),
                      "model": None, "lock": asyncio.Lock()}
    return {"id": sid}


def encoder_set_bitrate(session_id: int, bitrate: int) -> dict:
    _session(session_id, "encoder")["codec"].set_bitrate(bitrate)
    return {"bitrate": bitrate}


def encoder_prepare(session_id: int, samples) -> np.ndarray:
    """20 ms at the session rate -> float32 [1, 320] input of soundstream_encoder (no model call)."""
    return _session(session_id, "encoder")["codec"].prepare(samples)


def encoder_finish(session_id: int, features) -> bytes:
    """soundstream_encoder output -> packet at the session's current bitrate."""
    return _session(session_id, "encoder")["codec"].finish(features)


async def encoder_encode(session_id: int, samples, runner) -> bytes:
    """One 20 ms hop -> packet, running the encoder model on ``runner`` with carried state."""
    entry = _session(session_id, "encoder")
    if entry["model"] is None:
        entry["model"] = StatefulModel(runner, ENCODER_MODEL, _assets["state_init"].get(ENCODER_MODEL))
    in_name, out_name = MODEL_IO[ENCODER_MODEL]
    async with entry["lock"]:
        outputs = await entry["model"].step_async({in_name: entry["codec"].prepare(samples)})
        return entry["codec"].finish(outputs[out_name])


async def encoder_encode_many(session_id: int, samples, runner) -> bytes:
    """Whole 20 ms hops (a multiple of the session's hop) -> their packets back to back, all at the
    session's current bitrate, in one request: one resampler pass, one model request for every
    frame (the runner steps the stream frame by frame), one quantizer pass, one packing."""
    entry = _session(session_id, "encoder")
    if entry["model"] is None:
        entry["model"] = StatefulModel(runner, ENCODER_MODEL, _assets["state_init"].get(ENCODER_MODEL))
    in_name, out_name = MODEL_IO[ENCODER_MODEL]
    codec = entry["codec"]
    async with entry["lock"]:
        inputs = codec.prepare_many(samples)
        frames = inputs.shape[0]
        outputs = await entry["model"].step_many_async({in_name: inputs.reshape(frames, 1, -1)}, frames)
        return codec.finish_many(np.asarray(outputs[out_name]).reshape(frames, -1))


def decoder_open(sample_rate: int, seed: int = 0) -> dict:
    sid = next(_ids)
    _sessions[sid] = {"kind": "decoder", "codec": DecoderSession(sample_rate, _codebooks(), seed=seed),
                      "model": None, "lock": asyncio.Lock(), "pending": []}
    return {"id": sid}


def decoder_set_packet(session_id: int, packet: bytes) -> dict:
    entry = _session(session_id, "decoder")
    codec = entry["codec"]
    data = bytes(packet)
    if not entry["lock"].locked():
        accepted = codec.set_encoded_packet(data)
        return {"ok": accepted, "error": "" if accepted else codec.last_error}
    # A decode is in flight: validate now (the caller hears about a bad packet), apply when it starts.
    try:
        codec.features_from_packet(data)
    except LyraError as err:
        codec.rejected_packets += 1
        return {"ok": False, "error": str(err)}
    entry["pending"].append(data)
    return {"ok": True, "error": "", "queued": True}


def _decoder_model(entry: dict, runner):
    if entry["model"] is None:
        entry["model"] = StatefulModel(runner, DECODER_MODEL, _assets["state_init"].get(DECODER_MODEL))
    model = entry["model"]
    in_name, out_name = MODEL_IO[DECODER_MODEL]

    async def run(features):
        outputs = await model.step_async({in_name: np.asarray(features, dtype=np.float32).reshape(1, 1, -1)})
        return np.asarray(outputs[out_name]).reshape(-1)

    return run


async def _decode_locked(entry: dict, count: int, runner, packet: bytes | None, as_float: bool):
    """(samples, why ``packet`` was rejected or "")."""
    run = _decoder_model(entry, runner)
    codec = entry["codec"]
    rejected = ""
    async with entry["lock"]:
        while entry["pending"]:
            codec.set_encoded_packet(entry["pending"].pop(0))
        if packet is not None and not codec.set_encoded_packet(packet):
            rejected = codec.last_error
        samples = await drive_async(codec.decode_steps(int(count)), run)
    return ((samples.astype(np.float32) / 32768.0) if as_float else samples), rejected


async def decoder_decode(session_id: int, count: int, runner, as_float: bool = True):
    """``count`` output samples (float32 -1..1, or int16), concealing if no packet is queued."""
    samples, _ = await _decode_locked(_session(session_id, "decoder"), count, runner, None, as_float)
    return samples


async def decoder_receive(session_id: int, count: int, runner, packet=None, as_float: bool = True) -> dict:
    """One hop in one request: take ``packet`` (absent or empty = lost) and decode ``count`` samples.

    The same as ``decoder_set_packet`` then ``decoder_decode``, in one worker round trip
    instead of two.  A packet the decoder cannot use is reported in ``rejected`` and the hop
    is concealed, as a lost one would be."""
    data = bytes(packet) if packet is not None and len(packet) else None
    samples, rejected = await _decode_locked(_session(session_id, "decoder"), count, runner, data, as_float)
    return {"samples": samples, "rejected": rejected or None}


async def decoder_receive_many(session_id: int, count: int, packets, sizes, runner, as_float: bool = True) -> dict:
    """A burst of hops in one request: hop i takes the next ``sizes[i]`` bytes of ``packets`` as its
    packet (0: lost) and decodes ``count`` samples; the same samples as ``decoder_receive`` hop by
    hop.  Which features LyraGAN will run on is worked out first (``DecoderSession.plan``), so the
    model runs for the whole burst in one request; ``rejected[i]`` says why hop i's packet was not
    used (or None)."""
    entry = _session(session_id, "decoder")
    codec = entry["codec"]
    data = bytes(packets)
    lengths = [int(n) for n in np.asarray(sizes).reshape(-1)]
    if sum(lengths) != len(data) or min(lengths, default=0) < 0:
        raise LyraError(f"{len(data)} packet bytes do not match the packet sizes given ({sum(lengths)} bytes)")
    count = int(count)
    in_name, out_name = MODEL_IO[DECODER_MODEL]
    async with entry["lock"]:
        while entry["pending"]:
            codec.set_encoded_packet(entry["pending"].pop(0))
        hops, rejected, offset = [], [], 0
        for size in lengths:
            features = codec.parse_packet(data[offset:offset + size]) if size else None
            hops.append(features)
            rejected.append(codec.last_error if size and features is None else None)
            offset += size
        planned = codec.plan(hops, count)
        audio = np.zeros((0, SAMPLES_PER_HOP), dtype=np.float32)
        if planned:
            if entry["model"] is None:
                entry["model"] = StatefulModel(runner, DECODER_MODEL, _assets["state_init"].get(DECODER_MODEL))
            stacked = np.stack(planned).astype(np.float32).reshape(len(planned), 1, 1, -1)
            outputs = await entry["model"].step_many_async({in_name: stacked}, len(planned))
            audio = np.asarray(outputs[out_name]).reshape(len(planned), -1)
        used = iter(range(len(planned)))

        def model(features):
            index = next(used, None)
            if index is None or not np.array_equal(features, planned[index]):  # a bug, never the input's fault
                raise LyraError("the decoder left the burst's plan of model inputs")
            return audio[index]

        pieces = []
        for features, size in zip(hops, lengths):
            if features is not None:
                codec.add_features(features, size)
            pieces.append(drive_sync(codec.decode_steps(count), model))
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
    return {"samples": (samples.astype(np.float32) / 32768.0) if as_float else samples, "rejected": rejected}


def profile_steps(frames: int = 150, sample_rate: int = 48000, bitrate: int = 6000, burst: int = 50) -> dict:
    """ms per frame of each model-free step of encode and decode, here (in the page: in Pyodide);
    see codeclab.lyra.bench.step_profile (the benchmark's breakdown)."""
    from .bench import step_profile  # noqa: PLC0415 (benchmark only: not imported with the service)

    frames, sample_rate, burst = int(frames), int(sample_rate), int(burst)
    steps = step_profile(_codebooks(), frames, sample_rate, int(bitrate), burst)
    # The service calls themselves, whole (sessions, locks, the burst's plan), on a runner that
    # answers at once: what a request costs in Python beside the conversions and the model.
    runner = _InstantRunner()
    rng = np.random.default_rng(0)
    hop = sample_rate // 50
    clip = rng.normal(0, 0.1, frames * hop).astype(np.float32)
    times: dict[str, list[float]] = {}

    def timed(name, coroutine, per=1):
        start = time.perf_counter()
        try:
            coroutine.send(None)
        except StopIteration as done:
            times.setdefault(name, []).append((time.perf_counter() - start) * 1000 / per)
            return done.value
        raise LyraError("a profiled call waited for something")

    enc = encoder_open(sample_rate, bitrate)["id"]
    dec = decoder_open(16000)["id"]
    packets = [timed("encode: the whole service call, one hop (encoder_encode)",
                     encoder_encode(enc, clip[k * hop:(k + 1) * hop], runner)) for k in range(frames)]
    for packet in packets:
        timed("decode: the whole service call, one hop (decoder_receive)", decoder_receive(dec, 320, runner, packet))
    close(enc)
    close(dec)
    for _ in range(5):  # rounds: a burst is one sample, and the worker shares the cores
        enc = encoder_open(sample_rate, bitrate)["id"]
        dec = decoder_open(16000)["id"]
        for first in range(0, frames - burst + 1, burst):
            data = timed(f"encode: the whole service call, bursts of {burst} (encoder_encode_many)",
                         encoder_encode_many(enc, clip[first * hop:(first + burst) * hop], runner), burst)
            timed(f"decode: the whole service call, bursts of {burst} (decoder_receive_many)",
                  decoder_receive_many(dec, 320, data, [len(data) // burst] * burst, runner), burst)
        close(enc)
        close(dec)
    return {**steps, **{name: float(np.median(values)) for name, values in times.items()}}


class _InstantRunner:
    """A model runner that answers at once (zeros of the right size): for ``profile_steps``."""

    runs_frames = True
    SIZES = {ENCODER_MODEL: 64, DECODER_MODEL: SAMPLES_PER_HOP}

    async def run_stream(self, name, stream, feeds, init, frames=None):
        return {MODEL_IO[name][1]: np.zeros((frames or 1, self.SIZES[name]), dtype=np.float32)}

    async def run(self, name, feeds):
        return {MODEL_IO[name][1]: np.zeros((1, self.SIZES[name]), dtype=np.float32)}


def decoder_state(session_id: int) -> dict:
    return _session(session_id, "decoder")["codec"].state


def close(session_id: int) -> dict:
    return {"closed": _sessions.pop(int(session_id), None) is not None}


def resample(samples, in_rate: int, out_rate: int) -> np.ndarray:
    return _resample(samples, int(in_rate), int(out_rate)).astype(np.float32)


def score(reference, decoded, rate: int) -> dict:
    return _score(reference, decoded, int(rate))


def loss_pattern(count: int, loss: float, burst: float = 1.0, seed: int = 5489) -> list[bool]:
    """True where a packet arrives, from the Gilbert-Elliott model."""
    return GilbertModel(loss, burst, seed=seed).pattern(int(count)).tolist()


def lyra_file(packets, sizes=None) -> bytes:
    """A list of packets, or their bytes back to back with ``sizes`` (one per packet) -> a .lyra file:
    upstream's raw form for one bitrate, runs when the bitrate changed (codeclab.lyra.lyrafile)."""
    if sizes is not None:
        data, offsets = bytes(packets), np.cumsum([0, *(int(n) for n in np.asarray(sizes).reshape(-1))])
        if offsets[-1] != len(data) or (np.diff(offsets) < 0).any():
            raise LyraError(f"{len(data)} packet bytes do not match the packet sizes given ({offsets[-1]} bytes)")
        packets = [data[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
    return lyra_bytes(packets)


def read_lyra_file(data: bytes, bitrate: int | None = None) -> dict:
    stream = parse_lyra(data, bitrate)
    return {"packets": stream.packets, "bitrate": stream.bitrate, "trailing_bytes": stream.trailing_bytes,
            "runs": [list(run) for run in stream.runs], "bitrates": stream.bitrates,
            "average_bitrate": stream.average_bitrate, "bitrate_label": stream.describe_bitrate()}


def wav_file(samples, sample_rate: int) -> bytes:
    return wav_bytes(samples, int(sample_rate))
