"""Objective speech quality scores in numpy (CPython and Pyodide).

* ``stoi``: Short-Time Objective Intelligibility (Taal et al., ICASSP 2010 /
  IEEE TASLP 2011): 10 kHz, 256-sample Hann frames (50 % overlap), frames more
  than 40 dB below the loudest removed, 15 one-third-octave bands from 150 Hz,
  384 ms segments, clipping at -15 dB SDR, mean correlation.  0..1, higher is
  better.  Resampling to 10 kHz uses our own Kaiser resampler, so values differ
  from the MATLAB/pystoi reference by ~1e-3.
* ``log_spectral_distance``: RMS difference of the log power spectra in dB
  (32 ms Hann frames, 50 % overlap, spectra floored 80 dB below the reference's
  peak), averaged over frames where the reference is within 40 dB of its
  loudest frame.  0 = identical, lower is better.
* ``align``: delay estimate by cross-correlation, so a codec's latency does not
  count as distortion.
"""

from __future__ import annotations

import numpy as np

from .errors import MetricError
from .resample import resample

STOI_RATE = 10000
STOI_FRAME = 256
STOI_FFT = 512
STOI_BANDS = 15
STOI_MIN_FREQ = 150.0
STOI_SEGMENT = 30
STOI_BETA_DB = -15.0
STOI_DYNAMIC_RANGE_DB = 40.0
EPS = np.finfo(np.float64).eps


def _hann_matlab(length: int) -> np.ndarray:
    """MATLAB's hanning(N): the symmetric Hann window without its zero end points."""
    return np.hanning(length + 2)[1:-1]


def _frame(x: np.ndarray, length: int, hop: int) -> np.ndarray:
    starts = np.arange(0, x.size - length, hop)
    return x[starts[:, None] + np.arange(length)[None, :]]


def _overlap_add(frames: np.ndarray, hop: int) -> np.ndarray:
    count, length = frames.shape
    out = np.zeros((count - 1) * hop + length if count else 0)
    for i in range(count):
        out[i * hop:i * hop + length] += frames[i]
    return out


def third_octave_bands(rate: int, fft_size: int, bands: int, min_freq: float) -> np.ndarray:
    """[bands, fft_size/2+1] 0/1 matrix summing FFT bins into one-third-octave bands."""
    freqs = np.linspace(0, rate, fft_size + 1)[: fft_size // 2 + 1]
    k = np.arange(bands, dtype=np.float64)
    low = min_freq * 2.0 ** ((2 * k - 1) / 6)
    high = min_freq * 2.0 ** ((2 * k + 1) / 6)
    matrix = np.zeros((bands, freqs.size))
    for band in range(bands):
        lo = int(np.argmin((freqs - low[band]) ** 2))
        hi = int(np.argmin((freqs - high[band]) ** 2))
        matrix[band, lo:hi] = 1.0
    return matrix


def _drop_silent_frames(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    window = _hann_matlab(STOI_FRAME)
    hop = STOI_FRAME // 2
    x_frames = _frame(x, STOI_FRAME, hop) * window
    y_frames = _frame(y, STOI_FRAME, hop) * window
    energy_db = 20 * np.log10(np.linalg.norm(x_frames, axis=1) + EPS)
    keep = energy_db > energy_db.max() - STOI_DYNAMIC_RANGE_DB
    return _overlap_add(x_frames[keep], hop), _overlap_add(y_frames[keep], hop)


def _band_envelopes(x: np.ndarray, bands: np.ndarray) -> np.ndarray:
    frames = _frame(x, STOI_FRAME, STOI_FRAME // 2) * _hann_matlab(STOI_FRAME)
    power = np.abs(np.fft.rfft(frames, STOI_FFT)) ** 2
    return np.sqrt(bands @ power.T)  # [bands, frames]


def stoi(reference, degraded, rate: int) -> float:
    x = np.asarray(reference, dtype=np.float64).reshape(-1)
    y = np.asarray(degraded, dtype=np.float64).reshape(-1)
    if x.size != y.size:
        raise MetricError(f"STOI needs equal lengths, got {x.size} and {y.size} samples")
    if rate != STOI_RATE:
        x = resample(x, rate, STOI_RATE)
        y = resample(y, rate, STOI_RATE)
    x, y = _drop_silent_frames(x, y)
    bands = third_octave_bands(STOI_RATE, STOI_FFT, STOI_BANDS, STOI_MIN_FREQ)
    x_env = _band_envelopes(x, bands)
    y_env = _band_envelopes(y, bands)
    frames = x_env.shape[1]
    if frames < STOI_SEGMENT:
        raise MetricError(f"STOI needs at least {STOI_SEGMENT} speech frames (~0.4 s); got {frames}")
    index = np.arange(frames - STOI_SEGMENT + 1)[:, None] + np.arange(STOI_SEGMENT)[None, :]
    xs = x_env[:, index].transpose(1, 0, 2)  # [segments, bands, N]
    ys = y_env[:, index].transpose(1, 0, 2)
    gain = np.linalg.norm(xs, axis=2, keepdims=True) / (np.linalg.norm(ys, axis=2, keepdims=True) + EPS)
    clipped = np.minimum(ys * gain, xs * (1 + 10 ** (-STOI_BETA_DB / 20)))
    clipped = clipped - clipped.mean(axis=2, keepdims=True)
    xs = xs - xs.mean(axis=2, keepdims=True)
    clipped /= np.linalg.norm(clipped, axis=2, keepdims=True) + EPS
    xs /= np.linalg.norm(xs, axis=2, keepdims=True) + EPS
    return float(np.sum(clipped * xs) / (xs.shape[0] * xs.shape[1]))


def log_spectral_distance(reference, degraded, rate: int) -> float:
    """Mean over speech frames of the RMS log-power difference, in dB."""
    x = np.asarray(reference, dtype=np.float64).reshape(-1)
    y = np.asarray(degraded, dtype=np.float64).reshape(-1)
    n = min(x.size, y.size)
    length = int(round(0.032 * rate))
    if n <= length:
        raise MetricError("signals too short for a log-spectral distance")
    window = np.hanning(length)
    px = np.abs(np.fft.rfft(_frame(x[:n], length, length // 2) * window)) ** 2
    py = np.abs(np.fft.rfft(_frame(y[:n], length, length // 2) * window)) ** 2
    floor = px.max() * 1e-8 + EPS
    diff = 10 * np.log10(np.maximum(px, floor)) - 10 * np.log10(np.maximum(py, floor))
    per_frame = np.sqrt(np.mean(diff ** 2, axis=1))
    energy = 10 * np.log10(px.sum(axis=1) + EPS)
    speech = energy > energy.max() - 40.0
    return float(per_frame[speech].mean())


def estimate_delay(reference, degraded, max_delay: int) -> int:
    """Lag (samples) by which ``degraded`` trails ``reference``, from the cross-correlation peak."""
    x = np.asarray(reference, dtype=np.float64).reshape(-1)
    y = np.asarray(degraded, dtype=np.float64).reshape(-1)
    size = 1 << int(x.size + y.size).bit_length()
    corr = np.fft.irfft(np.fft.rfft(y, size) * np.conj(np.fft.rfft(x, size)), size)
    lags = np.concatenate([corr[: max_delay + 1], corr[size - max_delay:]])
    best = int(np.argmax(lags))
    return best if best <= max_delay else best - lags.size


def align(reference, degraded, rate: int, max_delay_s: float = 0.1) -> tuple[np.ndarray, np.ndarray, int]:
    """Both signals trimmed to their overlap after removing ``degraded``'s delay."""
    x = np.asarray(reference, dtype=np.float64).reshape(-1)
    y = np.asarray(degraded, dtype=np.float64).reshape(-1)
    delay = estimate_delay(x, y, int(max_delay_s * rate))
    if delay >= 0:
        y = y[delay:]
    else:
        x = x[-delay:]
    n = min(x.size, y.size)
    return x[:n], y[:n], delay


def score(reference, decoded, rate: int, *, align_signals: bool = True) -> dict:
    """{"stoi", "lsd_db", "delay_samples", "delay_ms"} of decoded speech against its source."""
    x = np.asarray(reference, dtype=np.float64).reshape(-1)
    y = np.asarray(decoded, dtype=np.float64).reshape(-1)
    delay = 0
    if align_signals:
        x, y, delay = align(x, y, rate)
    else:
        n = min(x.size, y.size)
        x, y = x[:n], y[:n]
    return {
        "stoi": stoi(x, y, rate),
        "lsd_db": log_spectral_distance(x, y, rate),
        "delay_samples": int(delay),
        "delay_ms": 1000.0 * delay / rate,
    }
