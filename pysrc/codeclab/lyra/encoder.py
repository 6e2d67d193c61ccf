"""Lyra encoder: 20 ms of audio -> one packet.

``EncoderSession`` is the model-free part (resample to 16 kHz, unit scaling,
quantize + pack); ``LyraEncoder`` runs the SoundStream encoder model between
those two steps synchronously.  The page does the same with an async model call.
"""

from __future__ import annotations

import numpy as np

from .config import (
    INTERNAL_SAMPLE_RATE,
    SAMPLES_PER_HOP,
    check_sample_rate,
    num_quantizers_for_bitrate,
    samples_per_hop,
)
from .errors import LyraError
from .models import ENCODER_MODEL, MODEL_IO, LyraModels, StatefulModel, load_models
from .packet import pack, pack_many
from .resample import StreamingResampler
from .rvq import encode as rvq_encode
from .rvq import encode_many as rvq_encode_many
from .rvq import load_codebooks


def to_unit_float(samples) -> np.ndarray:
    """float64 in -1..1 from int16 (upstream Int16ToUnit: x / 32768) or from floats as given."""
    array = np.asarray(samples)
    if np.issubdtype(array.dtype, np.integer):
        return array.reshape(-1).astype(np.float64) / 32768.0
    return array.reshape(-1).astype(np.float64)


class EncoderSession:
    """The encoder without its model: ``prepare(samples) -> model input``, ``finish(features) -> packet``."""

    def __init__(self, sample_rate: int, bitrate: int, codebooks):
        self.sample_rate = check_sample_rate(sample_rate)
        self.num_quantizers = num_quantizers_for_bitrate(bitrate)
        self.bitrate = bitrate
        self.codebooks = load_codebooks(codebooks)
        self.hop = samples_per_hop(sample_rate)
        self.resampler = StreamingResampler(sample_rate, INTERNAL_SAMPLE_RATE)
        self.packets = 0

    def set_bitrate(self, bitrate: int) -> None:
        """Takes effect from the next packet."""
        self.num_quantizers = num_quantizers_for_bitrate(bitrate)
        self.bitrate = bitrate

    def prepare(self, samples) -> np.ndarray:
        """float32 [1, 320] at 16 kHz from one 20 ms hop at the session's rate."""
        hop = to_unit_float(samples)
        if hop.size != self.hop:
            raise LyraError(
                f"Lyra encodes 20 ms at a time: {self.hop} samples at {self.sample_rate} Hz, got {hop.size}")
        internal = self.resampler.process(hop)
        if internal.size != SAMPLES_PER_HOP:  # cannot happen for the supported rates
            raise LyraError(f"resampler produced {internal.size} samples instead of {SAMPLES_PER_HOP}")
        return internal.astype(np.float32).reshape(1, SAMPLES_PER_HOP)

    def finish(self, features) -> bytes:
        indices = rvq_encode(np.asarray(features).reshape(-1), self.num_quantizers, self.codebooks)
        self.packets += 1
        return pack(indices)

    def prepare_many(self, samples) -> np.ndarray:
        """float32 [frames, 320] at 16 kHz from a whole number of 20 ms hops: ``prepare`` of each hop
        in turn, in one pass of the resampler (whose outputs do not depend on the chunking)."""
        hops = to_unit_float(samples)
        if hops.size == 0 or hops.size % self.hop:
            raise LyraError(
                f"Lyra encodes 20 ms at a time: a multiple of {self.hop} samples at {self.sample_rate} Hz, "
                f"got {hops.size}")
        frames = hops.size // self.hop
        internal = self.resampler.process(hops)
        if internal.size != frames * SAMPLES_PER_HOP:  # cannot happen for the supported rates
            raise LyraError(f"resampler produced {internal.size} samples instead of {frames * SAMPLES_PER_HOP}")
        return internal.astype(np.float32).reshape(frames, SAMPLES_PER_HOP)

    def finish_many(self, features) -> bytes:
        """soundstream_encoder outputs [frames, 64] -> the frames' packets back to back."""
        rows = np.asarray(features).reshape(-1, np.asarray(features).shape[-1])
        indices = rvq_encode_many(rows, self.num_quantizers, self.codebooks)
        self.packets += rows.shape[0]
        return pack_many(indices)


class LyraEncoder:
    """``LyraEncoder(sample_rate, bitrate, runner)``: ``encode(20 ms of samples) -> packet``.

    ``runner`` may be a ``LyraModels`` bundle (see ``models.load_models``); with
    ``None`` the models are loaded from ``model_dir`` (default build/models/lyra).
    """

    def __init__(self, sample_rate: int, bitrate: int, runner=None, *, model_dir=None,
                 codebooks=None, state_init=None):
        if runner is None or isinstance(runner, LyraModels):
            models = runner if runner is not None else load_models(model_dir)
            codebooks = models.codebooks if codebooks is None else codebooks
            self.model = models.encoder_model()
        else:
            if codebooks is None:
                raise LyraError("LyraEncoder over a bare runner needs codebooks=")
            self.model = StatefulModel(runner, ENCODER_MODEL, state_init)
        self.session = EncoderSession(sample_rate, bitrate, codebooks)

    @property
    def sample_rate(self) -> int:
        return self.session.sample_rate

    @property
    def bitrate(self) -> int:
        return self.session.bitrate

    def set_bitrate(self, bitrate: int) -> bool:
        self.session.set_bitrate(bitrate)
        return True

    def features(self, samples) -> np.ndarray:
        in_name, out_name = MODEL_IO[ENCODER_MODEL]
        outputs = self.model.step({in_name: self.session.prepare(samples)})
        return np.asarray(outputs[out_name], dtype=np.float32).reshape(-1)

    def encode(self, samples) -> bytes:
        return self.session.finish(self.features(samples))

    def encode_all(self, samples, *, pad_last: bool = False) -> list[bytes]:
        """Packets for a whole signal.  Like upstream's encoder_main, a final partial hop is
        dropped; ``pad_last=True`` pads it with silence instead."""
        data = np.asarray(samples).reshape(-1)
        hop = self.session.hop
        count = -(-data.size // hop) if pad_last else data.size // hop
        padded = np.zeros(count * hop, dtype=data.dtype)
        padded[: min(data.size, padded.size)] = data[: padded.size]
        return [self.encode(padded[i * hop:(i + 1) * hop]) for i in range(count)]
