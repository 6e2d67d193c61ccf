"""Log mel spectrogram pieces shared by the noise estimator and comfort noise.

Mirrors the audio_dsp conventions upstream Lyra uses: a periodic Hann window of
two hops (640 samples at 16 kHz) advanced one hop at a time, zero-padded to a
1024-point FFT, squared magnitudes; an HTK-style mel filterbank (160 bands,
0 .. 0.495 x rate) applied to FFT *magnitudes*; log(max(mel, 500)) / 10.
Inputs are in int16 scale (upstream works on int16 samples).
"""

from __future__ import annotations

import math

import numpy as np

LOG_FLOOR = 500.0
LOG_NORM = 10.0
UPPER_FREQ_FACTOR = 0.495


def next_power_of_two(n: int) -> int:
    return 1 << (int(n) - 1).bit_length()


def periodic_hann(length: int) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / length)


def _freq_to_mel(freq):
    return 1127.0 * np.log(1.0 + np.asarray(freq, dtype=np.float64) / 700.0)


class MelFilterbank:
    """Triangular mel bands over ``num_fft_bins`` FFT bins, each bin feeding two bands."""

    def __init__(self, num_fft_bins: int, sample_rate: float, num_bands: int,
                 lower_hz: float, upper_hz: float):
        self.num_fft_bins = num_fft_bins
        self.num_bands = num_bands
        mel_low = float(_freq_to_mel(lower_hz))
        mel_high = float(_freq_to_mel(upper_hz))
        spacing = (mel_high - mel_low) / (num_bands + 1)
        hz_per_bin = sample_rate / (2.0 * (num_fft_bins - 1))
        self.start = int(1.5 + lower_hz / hz_per_bin)  # DC always excluded
        self.end = int(upper_hz / hz_per_bin)
        bins = np.arange(self.start, self.end + 1)
        position = (_freq_to_mel(bins * hz_per_bin) - mel_low) / spacing - 1
        self.channel = np.ceil(position).astype(np.int64) - 1  # band whose right slope this bin is on
        self.weight = 1.0 - (position - self.channel)
        # Dense [bands, bins] matrices make Compute/EstimateInverse one matmul each.
        right = np.zeros((num_bands, num_fft_bins))
        left = np.zeros((num_bands, num_fft_bins))
        for k, (c, w) in enumerate(zip(self.channel, self.weight)):
            b = self.start + k
            if c >= 0:
                right[c, b] = w
            if c + 1 < num_bands:
                left[c + 1, b] = 1.0 - w
        self.matrix = right + left
        self.band_weight_sum = self.matrix.sum(axis=1)

    def compute(self, squared_magnitude: np.ndarray) -> np.ndarray:
        """Mel energies from a squared-magnitude spectrum (sums of magnitudes under triangles)."""
        return self.matrix @ np.sqrt(squared_magnitude)

    def estimate_inverse(self, mel: np.ndarray) -> np.ndarray:
        """A squared-magnitude spectrum whose bins interpolate the per-band average magnitude."""
        per_band = np.asarray(mel, dtype=np.float64) / self.band_weight_sum
        magnitude = self.matrix.T @ per_band
        return magnitude * magnitude


class LogMelExtractor:
    """Streaming log mel: one 160-band frame per hop, from the last two hops of audio."""

    def __init__(self, sample_rate: int, hop: int, window: int, num_bands: int):
        self.hop = hop
        self.window_length = window
        self.fft_size = next_power_of_two(window)
        self.window = periodic_hann(window)
        self.filterbank = MelFilterbank(self.fft_size // 2 + 1, sample_rate, num_bands,
                                        0.0, UPPER_FREQ_FACTOR * sample_rate)
        self.reset()

    def reset(self) -> None:
        self._buffer = np.zeros(self.window_length)  # upstream primes with one empty window

    def extract(self, hop_samples) -> np.ndarray:
        samples = np.asarray(hop_samples, dtype=np.float64).reshape(-1)
        if samples.size != self.hop:
            raise ValueError(f"log mel extractor needs {self.hop} samples, got {samples.size}")
        self._buffer = np.concatenate([self._buffer[self.hop:], samples])
        spectrum = np.fft.rfft(self._buffer * self.window, self.fft_size)
        power = spectrum.real ** 2 + spectrum.imag ** 2
        mel = self.filterbank.compute(power)
        return (np.log(np.maximum(mel, LOG_FLOOR)) / LOG_NORM).astype(np.float32)


def silence_value() -> float:
    return math.log(LOG_FLOOR) / LOG_NORM
