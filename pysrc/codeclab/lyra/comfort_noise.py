"""Comfort noise from a log mel noise estimate (after upstream's comfort_noise_generator.cc).

Each hop: undo the log mel (exp(10 x)), spread the band energies back over FFT
bins (mel filterbank's inverse estimate), give every bin a random phase, inverse
FFT (1024 points) and overlap-add with hop 320, so consecutive noise hops join
without clicks.  Output is int16 scale, clipped and truncated like upstream.
A seeded numpy generator replaces absl::BitGen so runs are reproducible.
"""

from __future__ import annotations

import numpy as np

from .config import INTERNAL_SAMPLE_RATE, NUM_MEL_BINS, OVERLAP_FACTOR, SAMPLES_PER_HOP
from .melspec import LOG_NORM, UPPER_FREQ_FACTOR, MelFilterbank, next_power_of_two


class ComfortNoiseGenerator:
    def __init__(self, sample_rate: int = INTERNAL_SAMPLE_RATE, hop: int = SAMPLES_PER_HOP,
                 window: int = OVERLAP_FACTOR * SAMPLES_PER_HOP, num_bands: int = NUM_MEL_BINS,
                 seed: int | None = 0):
        self.hop = hop
        self.fft_size = next_power_of_two(window)
        self.filterbank = MelFilterbank(self.fft_size // 2 + 1, sample_rate, num_bands,
                                        0.0, UPPER_FREQ_FACTOR * sample_rate)
        self.rng = np.random.default_rng(seed)
        self._overlap = np.zeros(self.fft_size - hop)

    def hop_from_features(self, log_mel_features) -> np.ndarray:
        """One hop (float64, int16 scale, clipped and truncated) of noise shaped like the features."""
        mel = np.exp(np.asarray(log_mel_features, dtype=np.float64) * LOG_NORM)
        magnitude = np.sqrt(self.filterbank.estimate_inverse(mel))
        phase = self.rng.uniform(0.0, 2 * np.pi, magnitude.size)
        frame = np.fft.irfft(magnitude * np.exp(1j * phase), self.fft_size)
        # audio_dsp's InverseSpectrogram divides Ooura's unscaled inverse rdft by N/2, which
        # equals numpy's irfft exactly (no extra gain).
        total = np.concatenate([self._overlap, np.zeros(self.hop)]) + frame
        out, self._overlap = total[: self.hop], total[self.hop:]
        return np.trunc(np.clip(out, -32768, 32767))
