"""The Lyra codec as the page drives it (``web/tools/lyra/codec.js``, through codeclab.browser.adapter).

These functions are the one API: the page calls each of them and the tests drive the same ones.
Plain Python in/out.  The page loads the model files itself and hands us the small ones
(``set_assets``: codebooks .npy and the state_init .npz bytes); the neural models run on the
page's runner (``runner=``, awaitable ``run_stream``).  Open streams are held by integer id
(``codeclab.lyra.streams``); a frame goes in one request (``encoder_encode``, ``decoder_receive``)
or a burst of them (``encoder_encode_many``, ``decoder_receive_many``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .concealment import drive_async, drive_sync
from .config import BITRATES, SAMPLES_PER_HOP
from .decoder import DecoderSession
from .encoder import EncoderSession
from .errors import LyraError
from .lyrafile import lyra_bytes, parse_lyra
from .metrics import score as _score
from .models import DECODER_MODEL, ENCODER_MODEL, MODEL_IO, load_state_init
from .resample import resample as _resample
from .rvq import load_codebooks
from .streams import DecoderStream, Streams


@dataclass
class _Assets:
    """What ``set_assets`` installed: the quantizer's codebooks and each model's initial state."""

    codebooks: np.ndarray | None = None
    state_init: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def books(self) -> np.ndarray:
        if self.codebooks is None:
            raise LyraError("Lyra codebooks are not loaded yet (call lyra.set_assets first)")
        return self.codebooks


_assets = _Assets()
#: The open streams (tests read a decoder's counters through ``streams.decoder(id).codec.state``).
streams = Streams()


def set_assets(codebooks: bytes, encoder_state_init: bytes | None = None,
               decoder_state_init: bytes | None = None) -> dict:
    """Install quantizer_codebooks.npy and the models' state_init.npz (bytes as fetched)."""
    _assets.codebooks = load_codebooks(codebooks)
    if encoder_state_init is not None:
        _assets.state_init[ENCODER_MODEL] = load_state_init(encoder_state_init)
    if decoder_state_init is not None:
        _assets.state_init[DECODER_MODEL] = load_state_init(decoder_state_init)
    return {"ok": True, "bitrates": list(BITRATES)}


def encoder_open(sample_rate: int, bitrate: int) -> dict:
    codec = EncoderSession(sample_rate, bitrate, _assets.books())
    return {"id": streams.open_encoder(codec, _assets.state_init.get(ENCODER_MODEL))}


def encoder_set_bitrate(session_id: int, bitrate: int) -> dict:
    streams.encoder(session_id).codec.set_bitrate(bitrate)
    return {"bitrate": bitrate}


async def encoder_encode(session_id: int, samples, runner) -> bytes:
    """One 20 ms hop -> packet, running the encoder model on ``runner`` with carried state."""
    stream = streams.encoder(session_id)
    in_name, out_name = MODEL_IO[ENCODER_MODEL]
    async with stream.lock:
        outputs = await stream.model_on(runner).step_async({in_name: stream.codec.prepare(samples)})
        return stream.codec.finish(outputs[out_name])


async def encoder_encode_many(session_id: int, samples, runner) -> bytes:
    """Whole 20 ms hops (a multiple of the session's hop) -> their packets back to back, all at the
    session's current bitrate, in one request: one resampler pass, one model request for every
    frame (the runner steps the stream frame by frame), one quantizer pass, one packing."""
    stream = streams.encoder(session_id)
    in_name, out_name = MODEL_IO[ENCODER_MODEL]
    codec = stream.codec
    async with stream.lock:
        inputs = codec.prepare_many(samples)
        frames = inputs.shape[0]
        outputs = await stream.model_on(runner).step_many_async({in_name: inputs.reshape(frames, 1, -1)}, frames)
        return codec.finish_many(np.asarray(outputs[out_name]).reshape(frames, -1))


def decoder_open(sample_rate: int, seed: int = 0) -> dict:
    codec = DecoderSession(sample_rate, _assets.books(), seed=seed)
    return {"id": streams.open_decoder(codec, _assets.state_init.get(DECODER_MODEL))}


def _hop_runner(stream: DecoderStream, runner):
    """LyraGAN one hop at a time, as the concealment machine asks for it."""
    model = stream.model_on(runner)
    in_name, out_name = MODEL_IO[DECODER_MODEL]

    async def run(features):
        outputs = await model.step_async({in_name: np.asarray(features, dtype=np.float32).reshape(1, 1, -1)})
        return np.asarray(outputs[out_name]).reshape(-1)

    return run


def _as_output(samples: np.ndarray, as_float: bool) -> np.ndarray:
    return (samples.astype(np.float32) / 32768.0) if as_float else samples


async def decoder_receive(session_id: int, count: int, runner, packet=None, as_float: bool = True) -> dict:
    """One hop in one request: take ``packet`` (absent or empty = lost) and decode ``count`` samples
    (float32 -1..1, or int16).  A packet the decoder cannot use is reported in ``rejected`` and the
    hop is concealed, as a lost one would be."""
    stream = streams.decoder(session_id)
    codec = stream.codec
    rejected = None
    async with stream.lock:
        if packet is not None and len(packet) and not codec.set_encoded_packet(bytes(packet)):
            rejected = codec.last_error
        samples = await drive_async(codec.decode_steps(int(count)), _hop_runner(stream, runner))
    return {"samples": _as_output(samples, as_float), "rejected": rejected}


async def decoder_receive_many(session_id: int, count: int, packets, sizes, runner, as_float: bool = True) -> dict:
    """A burst of hops in one request: hop i takes the next ``sizes[i]`` bytes of ``packets`` as its
    packet (0: lost) and decodes ``count`` samples; the same samples as ``decoder_receive`` hop by
    hop.  Which features LyraGAN will run on is worked out first (``DecoderSession.plan``), so the
    model runs for the whole burst in one request; ``rejected[i]`` says why hop i's packet was not
    used (or None)."""
    stream = streams.decoder(session_id)
    codec = stream.codec
    data = bytes(packets)
    lengths = [int(n) for n in np.asarray(sizes).reshape(-1)]
    if sum(lengths) != len(data) or min(lengths, default=0) < 0:
        raise LyraError(f"{len(data)} packet bytes do not match the packet sizes given ({sum(lengths)} bytes)")
    count = int(count)
    in_name, out_name = MODEL_IO[DECODER_MODEL]
    async with stream.lock:
        hops, rejected, offset = [], [], 0
        for size in lengths:
            features = codec.parse_packet(data[offset:offset + size]) if size else None
            hops.append(features)
            rejected.append(codec.last_error if size and features is None else None)
            offset += size
        planned = codec.plan(hops, count)
        audio = np.zeros((0, SAMPLES_PER_HOP), dtype=np.float32)
        if planned:
            stacked = np.stack(planned).astype(np.float32).reshape(len(planned), 1, 1, -1)
            outputs = await stream.model_on(runner).step_many_async({in_name: stacked}, len(planned))
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
    return {"samples": _as_output(samples, as_float), "rejected": rejected}


def close(session_id: int) -> dict:
    return {"closed": streams.close(session_id)}


def resample(samples, in_rate: int, out_rate: int) -> np.ndarray:
    return _resample(samples, int(in_rate), int(out_rate)).astype(np.float32)


def score(reference, decoded, rate: int) -> dict:
    return _score(reference, decoded, int(rate))


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
