"""Lyra decoder: packets in, audio out, with upstream's packet loss concealment.

``DecoderSession`` is the model-free part: packet -> features (the size selects
the bitrate), the concealment state machine, and the output resampler with its
leftover buffer (upstream BufferedResampler).  Its ``decode_steps(n)`` is a
generator that yields LyraGAN inputs and is sent the outputs, so the same code
runs with a sync model (``LyraDecoder``) or an async one (the page).
"""

from __future__ import annotations

import copy

import numpy as np

from .concealment import ConcealmentStateMachine, drive_async, drive_sync
from .config import (
    INTERNAL_SAMPLE_RATE,
    SAMPLES_PER_HOP,
    bitrate_for_packet_size,
    check_sample_rate,
    samples_per_hop,
)
from .errors import LyraError
from .models import DECODER_MODEL, MODEL_IO, LyraModels, StatefulModel, load_models
from .packet import unpack
from .resample import StreamingResampler
from .rvq import decode as rvq_decode
from .rvq import load_codebooks


class DecoderSession:
    def __init__(self, sample_rate: int, codebooks, seed: int | None = 0):
        self.sample_rate = check_sample_rate(sample_rate)
        self.codebooks = load_codebooks(codebooks)
        self.hop = samples_per_hop(sample_rate)
        self.machine = ConcealmentStateMachine(seed=seed)
        self.resampler = StreamingResampler(INTERNAL_SAMPLE_RATE, sample_rate)
        self._leftover = np.zeros(0)
        self.last_error = ""
        self.last_bitrate = 0
        self.rejected_packets = 0

    def features_from_packet(self, packet: bytes) -> np.ndarray:
        """Dequantized features [64] (raises LyraError for a packet size no bitrate uses)."""
        return rvq_decode(unpack(packet), self.codebooks)

    def set_encoded_packet(self, packet) -> bool:
        """Queue a received packet; False (and ``last_error``) if its size is not a Lyra packet size."""
        data = bytes(packet)
        features = self.parse_packet(data)
        if features is None:
            return False
        self.add_features(features, len(data))
        return True

    def parse_packet(self, data: bytes) -> np.ndarray | None:
        """A packet's features, or None (counted as rejected, the reason in ``last_error``)."""
        try:
            return self.features_from_packet(data)
        except LyraError as err:
            self.last_error = str(err)
            self.rejected_packets += 1
            return None

    def add_features(self, features: np.ndarray, size: int) -> None:
        """Queue the features of an accepted packet of ``size`` bytes (``set_encoded_packet``'s second half)."""
        self.last_bitrate = bitrate_for_packet_size(size)
        self.machine.add_received_features(features)

    def plan(self, hops, count: int) -> list[np.ndarray]:
        """The LyraGAN inputs, in order, that decoding a burst will need: ``hops`` are the features of
        each hop's packet (None: lost), each hop decoding ``count`` samples.  Worked out on a copy of
        the control state (the session itself does not change), so the model can run the whole burst
        in one request before the burst is decoded for real (``decode_burst_steps``)."""
        twin = copy.copy(self)
        twin.machine = self.machine.control_copy()
        twin.resampler = copy.deepcopy(self.resampler)
        inputs = []
        silence = np.zeros(SAMPLES_PER_HOP, dtype=np.float32)

        def model(features):
            inputs.append(features)
            return silence

        for features in hops:
            if features is not None:
                twin.machine.add_received_features(features)
            drive_sync(twin.decode_steps(count), model)
        return inputs

    def _internal_count(self, external: int) -> int:
        needed = external - self._leftover.size
        if needed <= 0:
            return 0
        return -(-needed * INTERNAL_SAMPLE_RATE // self.sample_rate)

    def decode_steps(self, count: int):
        """Generator yielding LyraGAN feature inputs; returns ``count`` int16 samples at the output rate."""
        if count < 0:
            raise LyraError(f"cannot decode a negative number of samples ({count})")
        internal = self._internal_count(count)
        produced = np.zeros(0)
        if internal:
            samples = yield from self.machine.generate(internal)
            produced = self.resampler.process(samples)
        available = np.concatenate([self._leftover, produced])
        out, self._leftover = available[:count], available[count:]
        return np.clip(np.round(out), -32768, 32767).astype(np.int16)

    @property
    def state(self) -> dict:
        m = self.machine
        return {
            "mode": m.mode,
            "concealment_progress": m.concealment_progress,
            "fade_progress": m.fade_progress,
            "fade_direction": m.fade_direction,
            "is_comfort_noise": m.is_comfort_noise,
            **m.counts,
            "concealed_hops": m.counts["concealed_samples"] // SAMPLES_PER_HOP,
            "rejected_packets": self.rejected_packets,
            "bitrate": self.last_bitrate,
        }


class LyraDecoder:
    """``LyraDecoder(sample_rate, runner)``: ``set_encoded_packet(p) -> bool``, ``decode_samples(n) -> int16``."""

    def __init__(self, sample_rate: int = 16000, runner=None, *, model_dir=None, codebooks=None,
                 state_init=None, seed: int | None = 0):
        if runner is None or isinstance(runner, LyraModels):
            models = runner if runner is not None else load_models(model_dir)
            codebooks = models.codebooks if codebooks is None else codebooks
            self.model = models.decoder_model()
        else:
            if codebooks is None:
                raise LyraError("LyraDecoder over a bare runner needs codebooks=")
            self.model = StatefulModel(runner, DECODER_MODEL, state_init)
        self.session = DecoderSession(sample_rate, codebooks, seed=seed)

    @property
    def sample_rate(self) -> int:
        return self.session.sample_rate

    @property
    def state(self) -> dict:
        return self.session.state

    @property
    def machine(self) -> ConcealmentStateMachine:
        return self.session.machine

    def set_encoded_packet(self, packet) -> bool:
        return self.session.set_encoded_packet(packet)

    def _run_model(self, features: np.ndarray) -> np.ndarray:
        in_name, out_name = MODEL_IO[DECODER_MODEL]
        outputs = self.model.step({in_name: np.asarray(features, dtype=np.float32).reshape(1, 1, -1)})
        return np.asarray(outputs[out_name]).reshape(-1)

    def decode_samples(self, count: int) -> np.ndarray:
        return drive_sync(self.session.decode_steps(count), self._run_model)

    def decode_packets(self, packets, received=None) -> np.ndarray:
        """Decode a packet list one hop each; ``received[i]`` False simulates losing packet i."""
        hop = self.session.hop
        out = []
        for i, packet in enumerate(packets):
            if received is None or received[i]:
                if not self.set_encoded_packet(packet):
                    raise LyraError(f"packet {i}: {self.session.last_error}")
            out.append(self.decode_samples(hop))
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int16)


async def decode_samples_async(session: DecoderSession, model: StatefulModel, count: int) -> np.ndarray:
    """The page's path: ``model.step_async`` on the page's runner between the codec steps."""
    in_name, out_name = MODEL_IO[DECODER_MODEL]

    async def run(features):
        outputs = await model.step_async({in_name: np.asarray(features, dtype=np.float32).reshape(1, 1, -1)})
        return np.asarray(outputs[out_name]).reshape(-1)

    return await drive_async(session.decode_steps(count), run)
