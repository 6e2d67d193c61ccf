"""The decoder's sample-generation state machine (after upstream's lyra_decoder.cc).

Two hop-based sources feed the output: the generative model (LyraGAN on
received features, or on *estimated* features when packets are missing) and
the comfort noise generator (noise shaped like the decoded background).

* Packets arriving: generative output only.
* Packets missing: LyraGAN keeps running on estimated features (upstream's
  estimator returns zeros) for ``CONCEALMENT_SAMPLES`` = 80 ms, then crossfades
  to comfort noise over ``FADE_SAMPLES`` = 40 ms (raised-cosine weights), then
  plays pure comfort noise for as long as the loss lasts.
* A packet after comfort noise: finish the current noise hop, then crossfade
  back to the model over 40 ms.
* The noise estimate is updated only from audio decoded from received packets.

The machine is a generator so model calls stay outside it: ``generate(n)``
yields the 64 features LyraGAN must run on and is sent back the model's 320
unit-scale samples; it returns n int16-scale samples.  ``drive_sync`` /
``drive_async`` run it against a model.  All state is public for tests.
"""

from __future__ import annotations

import copy
import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from .comfort_noise import ComfortNoiseGenerator
from .config import INTERNAL_SAMPLE_RATE, NUM_FEATURES, SAMPLES_PER_HOP
from .noise_estimator import NoiseEstimator

CONCEALMENT_SAMPLES = int(0.08 * INTERNAL_SAMPLE_RATE)  # 1280: 80 ms of estimated features
FADE_SAMPLES = int(0.04 * INTERNAL_SAMPLE_RATE)  # 640: 40 ms crossfades
FADE_TO_CNG = 1
FADE_FROM_CNG = -1


@dataclass
class Segment:
    """What produced a run of output samples (for tests and the page's figures)."""

    samples: int
    source: str  # "packet", "estimate", "comfort_noise", or "mix"
    fade_start: int  # fade progress before this run (0 = all model, FADE_SAMPLES = all noise)
    fade_end: int


class HopQueue:
    """FIFO of per-hop conditioning (upstream GenerativeModel): each entry yields ``hop`` samples."""

    def __init__(self, hop: int = SAMPLES_PER_HOP):
        self.hop = hop
        self.queue: deque = deque()
        self.next_sample = 0
        self.rendered: np.ndarray | None = None
        self.rendered_kind = ""

    @property
    def available(self) -> int:
        return len(self.queue) * self.hop - self.next_sample

    def add(self, features, kind: str) -> None:
        self.queue.append((features, kind))

    def copy(self) -> HopQueue:
        twin = HopQueue(self.hop)
        twin.queue = deque(self.queue)
        twin.next_sample = self.next_sample
        twin.rendered = self.rendered
        twin.rendered_kind = self.rendered_kind
        return twin

    def take(self, count: int) -> np.ndarray:
        out = self.rendered[self.next_sample:self.next_sample + count]
        self.next_sample += count
        if self.next_sample == self.hop:
            self.next_sample = 0
            self.queue.popleft()
        return out


def unit_to_int16_scale(samples) -> np.ndarray:
    """Upstream UnitToInt16: x * 32768, clipped, truncated toward zero (kept as float64)."""
    return np.trunc(np.clip(np.asarray(samples, dtype=np.float64).reshape(-1) * 32768.0, -32768, 32767))


class ConcealmentStateMachine:
    def __init__(self, seed: int | None = 0, hop: int = SAMPLES_PER_HOP):
        self.hop = hop
        self.generative = HopQueue(hop)
        self.comfort = HopQueue(hop)
        self.comfort_noise = ComfortNoiseGenerator(seed=seed)
        self.noise_estimator = NoiseEstimator()
        self.estimated_features = np.zeros(NUM_FEATURES, dtype=np.float32)
        self.concealment_progress = 0
        self.fade_progress = 0
        self.fade_direction = FADE_FROM_CNG
        self.segments: list[Segment] = []
        self.record_segments = True
        self.counts = {"packets": 0, "model_hops": 0, "estimated_hops": 0, "comfort_noise_hops": 0,
                       "concealed_samples": 0}

    def control_copy(self) -> ConcealmentStateMachine:
        """A copy that takes the same decisions as this machine (which hops run LyraGAN on which
        features, when to fade) without its audio work: no noise estimate, silent comfort noise.
        Which features LyraGAN runs on never depends on audio, so a burst of hops can be planned on
        the copy and the model run for all of them in one request (``DecoderSession.plan``)."""
        twin = copy.copy(self)
        twin.generative = self.generative.copy()
        twin.comfort = self.comfort.copy()
        twin.comfort_noise = _SilentNoise(self.hop)
        twin.noise_estimator = _NoNoiseEstimate(self.noise_estimator.num_bands)
        twin.segments = []
        twin.record_segments = False
        twin.counts = dict(self.counts)
        return twin

    # -- state, as upstream names it ------------------------------------------------------
    @property
    def is_comfort_noise(self) -> bool:
        return self.fade_progress == FADE_SAMPLES

    @property
    def mode(self) -> str:
        if self.is_comfort_noise:
            return "comfort_noise"
        if self.concealment_progress > 0:
            return "concealment" if self.fade_direction == FADE_FROM_CNG else "fading_to_noise"
        if self.fade_progress > 0:
            return "fading_from_noise"
        return "decoding"

    # -- inputs --------------------------------------------------------------------------
    def add_received_features(self, features) -> None:
        """Features decoded from a received packet (upstream SetEncodedPacket's second half)."""
        # Finish the concealment or noise hop already started before switching to the packet.
        if self.concealment_progress == CONCEALMENT_SAMPLES:
            self.concealment_progress = -self.comfort.available
        elif self.concealment_progress > 0:
            self.concealment_progress = -self.generative.available
        self.generative.add(np.asarray(features, dtype=np.float32).reshape(-1), "packet")
        self.counts["packets"] += 1

    # -- output --------------------------------------------------------------------------
    def _run_length(self, wanted: int, produced: int) -> int:
        if self.concealment_progress < 0:
            remaining = -self.concealment_progress  # rest of the last concealment hop
        elif self.concealment_progress < CONCEALMENT_SAMPLES:
            remaining = self.generative.available % self.hop
        else:
            remaining = self.comfort.available
        if remaining == 0:
            remaining = self.hop
        return min(wanted - produced, remaining)

    def generate(self, count: int):
        """Generator: yields features for LyraGAN, receives its 320 samples; returns ``count`` samples."""
        pieces = []
        produced = 0
        while produced < count:
            run = self._run_length(count, produced)
            received = self.generative.available > 0 and self.concealment_progress == 0
            if received:
                self.fade_direction = FADE_FROM_CNG
            elif self.concealment_progress == CONCEALMENT_SAMPLES:
                self.fade_direction = FADE_TO_CNG
            else:
                self.concealment_progress += run
            model_run = noise_run = run
            next_fade = self.fade_progress + self.fade_direction * run
            if self.fade_direction == FADE_TO_CNG and self.fade_progress == FADE_SAMPLES:
                next_fade, model_run = FADE_SAMPLES, 0
            elif self.fade_direction == FADE_FROM_CNG and self.fade_progress == 0:
                next_fade, noise_run = 0, 0
            model_audio, kind = yield from self._run_model(model_run)
            noise_audio = self._run_comfort_noise(noise_run)
            pieces.append(self._mix(model_audio, noise_audio))
            if self.record_segments:
                source = kind if noise_run == 0 else ("comfort_noise" if model_run == 0 else "mix")
                self.segments.append(Segment(run, source, self.fade_progress, next_fade))
            self.fade_progress = next_fade
            if received:
                self.noise_estimator.receive_samples(model_audio)
            else:
                self.counts["concealed_samples"] += run
            produced += run
        return np.concatenate(pieces) if pieces else np.zeros(0)

    def _run_model(self, count: int):
        if count == 0:
            return np.zeros(0), ""
        if self.generative.available == 0:
            self.generative.add(self.estimated_features.copy(), "estimate")
        if self.generative.next_sample == 0:
            features, kind = self.generative.queue[0]
            audio = yield features
            self.generative.rendered = unit_to_int16_scale(audio)
            self.generative.rendered_kind = kind
            self.counts["model_hops"] += 1
            if kind == "estimate":
                self.counts["estimated_hops"] += 1
        kind = self.generative.rendered_kind
        return self.generative.take(count), kind

    def _run_comfort_noise(self, count: int) -> np.ndarray:
        if count == 0:
            return np.zeros(0)
        if self.comfort.available == 0:
            self.comfort.add(self.noise_estimator.estimate(), "comfort_noise")
        if self.comfort.next_sample == 0:
            features, _ = self.comfort.queue[0]
            self.comfort.rendered = self.comfort_noise.hop_from_features(features)
            self.counts["comfort_noise_hops"] += 1
        return self.comfort.take(count)

    def _mix(self, model_audio: np.ndarray, noise_audio: np.ndarray) -> np.ndarray:
        if noise_audio.size == 0:
            return model_audio
        if model_audio.size == 0:
            return noise_audio
        progress = self.fade_progress + self.fade_direction * np.arange(model_audio.size)
        weight = (1.0 + np.cos(progress * math.pi / FADE_SAMPLES)) / 2.0
        # int16 conversion truncates toward zero, as upstream's push_back into int16_t does.
        return np.trunc(model_audio * weight + noise_audio * (1.0 - weight))


class _SilentNoise:
    def __init__(self, hop: int):
        self.silence = np.zeros(hop)

    def hop_from_features(self, features) -> np.ndarray:
        return self.silence


class _NoNoiseEstimate:
    def __init__(self, num_bands: int):
        self.zeros = np.zeros(num_bands, dtype=np.float32)

    def receive_samples(self, samples) -> None:
        pass

    def estimate(self) -> np.ndarray:
        return self.zeros


def drive_sync(steps, model_fn):
    """Run a generator from ``generate`` (or one wrapping it) with a synchronous model call."""
    try:
        request = next(steps)
        while True:
            request = steps.send(model_fn(request))
    except StopIteration as done:
        return done.value


async def drive_async(steps, model_coro):
    """Same, with an async model call (the page's model runner)."""
    try:
        request = next(steps)
        while True:
            request = steps.send(await model_coro(request))
    except StopIteration as done:
        return done.value
