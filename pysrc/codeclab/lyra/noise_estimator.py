"""Background-noise estimate of the decoded speech (after upstream's noise_estimator.cc).

Per 20 ms hop of int16-scale audio: a 160-band log mel frame.  A hop within
``noise_bound`` of the current estimate in every band counts as noise and only
decays the bounds; otherwise the frame updates a speech-presence-weighted
smoothed power, whose running minimum (restarted every second) is the noise
estimate.  The comfort noise generator turns the estimate back into audio.
"""

from __future__ import annotations

import math

import numpy as np

from .config import INTERNAL_SAMPLE_RATE, NUM_MEL_BINS, OVERLAP_FACTOR, SAMPLES_PER_HOP
from .melspec import LogMelExtractor

POW_DIFF = 0.3
BOUND_FACTOR = 0.9
MAX_SMOOTHING_HALFLIFE_S = 0.7
UPDATE_TIME_S = 1.0
BOUND_HALFLIFE_S = 1.0


class NoiseEstimator:
    def __init__(self, sample_rate: int = INTERNAL_SAMPLE_RATE, hop: int = SAMPLES_PER_HOP,
                 window: int = OVERLAP_FACTOR * SAMPLES_PER_HOP, num_bands: int = NUM_MEL_BINS):
        hop_seconds = hop / sample_rate
        self.hop = hop
        self.hops_per_update = round(UPDATE_TIME_S / hop_seconds)
        self.max_smoothing = 0.5 ** (hop_seconds / MAX_SMOOTHING_HALFLIFE_S)
        self.bound_decay = 0.5 ** (hop_seconds / BOUND_HALFLIFE_S)
        self.extractor = LogMelExtractor(sample_rate, hop, window, num_bands)
        self.num_bands = num_bands
        self.noise_estimate = np.zeros(num_bands)
        self.noise_bound = np.zeros(num_bands)
        self.smoothed_power: np.ndarray | None = None
        self.squared_smoothed_power = np.zeros(num_bands)
        self.tmp_min_power = np.zeros(num_bands)
        self.is_noise = True
        self.hops_received = 0
        self._pending = np.zeros(hop)
        self._filled = 0

    def receive_samples(self, samples) -> None:
        """Feed decoded int16-scale audio; every completed hop updates the estimate."""
        data = np.asarray(samples, dtype=np.float64).reshape(-1)
        if data.size + self._filled > self.hop:
            raise ValueError(f"noise estimator takes at most one hop ({self.hop}) at a time")
        self._pending[self._filled:self._filled + data.size] = data
        self._filled += data.size
        if self._filled == self.hop:
            self._filled = 0
            frame = self.extractor.extract(self._pending).astype(np.float64)
            self.is_noise = self._is_noise(frame)
            if self.is_noise:
                self.noise_bound *= self.bound_decay
            else:
                self._update(frame)

    def _is_noise(self, frame: np.ndarray) -> bool:
        return bool(np.all(np.abs(frame - self.noise_estimate) <= self.noise_bound))

    def _smoothing_factor(self, frame: np.ndarray) -> np.ndarray:
        # Little smoothing when the level moves (speech), heavy smoothing near the noise floor.
        correction = math.exp(-(((self.smoothed_power.mean() - frame.mean()) / POW_DIFF) ** 2))
        near_noise = np.exp(-(((self.smoothed_power - self.noise_estimate) / POW_DIFF) ** 2))
        return self.max_smoothing * correction * near_noise

    def _update(self, frame: np.ndarray) -> None:
        if self.smoothed_power is None:
            self.smoothed_power = frame.copy()
            self.squared_smoothed_power = frame ** 2
            self.tmp_min_power = frame.copy()
        alpha = self._smoothing_factor(frame)
        self.smoothed_power = alpha * self.smoothed_power + (1 - alpha) * frame
        self.squared_smoothed_power = alpha * self.squared_smoothed_power + (1 - alpha) * frame ** 2
        if self.hops_received == 0:
            # A new update period: the estimate restarts from the last period's minimum.
            self.noise_estimate = np.minimum(self.tmp_min_power, self.smoothed_power)
            self.tmp_min_power = self.smoothed_power.copy()
        else:
            self.noise_estimate = np.minimum(self.noise_estimate, self.smoothed_power)
            self.tmp_min_power = np.minimum(self.tmp_min_power, self.smoothed_power)
        variance = np.maximum(0.0, self.squared_smoothed_power - self.smoothed_power ** 2)
        self.noise_bound = BOUND_FACTOR * np.sqrt(variance * math.log(self.num_bands))
        self.hops_received = (self.hops_received + 1) % self.hops_per_update

    def estimate(self) -> np.ndarray:
        return self.noise_estimate.astype(np.float32)
