"""Objective speech quality scores in numpy (CPython and Pyodide).

* ``stoi``: Short-Time Objective Intelligibility (Taal et al., ICASSP 2010 /
  IEEE TASLP 2011): 10 kHz, 256-sample Hann frames (50 % overlap), frames more
  than 40 dB below the loudest removed, 15 one-third-octave bands from 150 Hz,
  384 ms segments, clipping at -15 dB SDR, mean correlation.  0..1, higher is
  better.  Worked out a block of frames at a time, so any length fits in
  Pyodide's memory.  Resampling to 10 kHz uses our own Kaiser resampler, so values differ
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


# Frames (and STOI segments) per block: every intermediate array stays a few megabytes whatever the
# clip's length.  Pyodide is wasm32: numpy there refuses any array of 2 GiB, views included, and the
# worker's heap is shared by everything else; a minute of speech framed at once came close to both.
BLOCK_FRAMES = 4096
# Cross-correlations of up to this many samples (both signals) are one FFT, as they always were;
# longer ones are summed block by block over the lags that are searched.
DIRECT_CORRELATION_SAMPLES = 1 << 20
CORRELATION_FFT = 1 << 18


def _hann_matlab(length: int) -> np.ndarray:
    """MATLAB's hanning(N): the symmetric Hann window without its zero end points."""
    return np.hanning(length + 2)[1:-1]


def _frame_count(size: int, length: int, hop: int) -> int:
    """As pystoi: frames start every ``hop`` up to, not including, ``size - length``."""
    return len(range(0, size - length, hop))


def _frames(x: np.ndarray, length: int, hop: int, first: int, count: int) -> np.ndarray:
    """Frames first .. first+count-1 of ``x`` as a read-only strided view (no copy)."""
    step = x.strides[0]
    return np.lib.stride_tricks.as_strided(x[first * hop:], shape=(count, length), strides=(hop * step, step),
                                           writeable=False)


def _blocks(count: int, block: int):
    for first in range(0, count, block):
        yield first, min(block, count - first)


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


def _drop_silent_frames(x: np.ndarray, y: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Both signals re-assembled (overlap-add of windowed frames) from the frames where ``x`` is
    within 40 dB of its loudest frame."""
    window = _hann_matlab(STOI_FRAME)
    hop = STOI_FRAME // 2
    count = _frame_count(x.size, STOI_FRAME, hop)
    if count == 0:
        raise MetricError(f"STOI needs at least {STOI_SEGMENT} speech frames (~0.4 s); got 0")
    energy_db = np.empty(count)
    for first, n in _blocks(count, block):
        energy_db[first:first + n] = 20 * np.log10(
            np.linalg.norm(_frames(x, STOI_FRAME, hop, first, n) * window, axis=1) + EPS)
    kept = np.flatnonzero(energy_db > energy_db.max() - STOI_DYNAMIC_RANGE_DB)
    return _overlap_add_kept(x, kept, window, block), _overlap_add_kept(y, kept, window, block)


def _overlap_add_kept(x: np.ndarray, kept: np.ndarray, window: np.ndarray, block: int) -> np.ndarray:
    """Frames ``kept`` of ``x``, windowed and overlap-added at half-frame hops.  Each output sample is
    the sum of two half frames; added in either order it is the same float, so the blocks give the
    bits of one loop over all frames."""
    hop = STOI_FRAME // 2
    out = np.zeros((kept.size + 1) * hop)
    halves = out.reshape(kept.size + 1, hop)
    offsets = np.arange(STOI_FRAME)
    for first, n in _blocks(kept.size, block):
        frames = x[kept[first:first + n, None] * hop + offsets] * window
        halves[first:first + n] += frames[:, :hop]
        halves[first + 1:first + n + 1] += frames[:, hop:]
    return out


def _band_envelopes(x: np.ndarray, bands: np.ndarray, block: int) -> np.ndarray:
    """[bands, frames] one-third-octave band amplitudes of each 256-sample frame."""
    hop = STOI_FRAME // 2
    count = _frame_count(x.size, STOI_FRAME, hop)
    window = _hann_matlab(STOI_FRAME)
    envelopes = np.empty((bands.shape[0], count))
    for first, n in _blocks(count, block):
        power = np.abs(np.fft.rfft(_frames(x, STOI_FRAME, hop, first, n) * window, STOI_FFT)) ** 2
        envelopes[:, first:first + n] = np.sqrt(bands @ power.T)
    return envelopes


def _segment_correlation_sum(x_env: np.ndarray, y_env: np.ndarray, first: int, count: int) -> float:
    """Sum over segments first .. first+count-1 (and bands) of the correlation of the clipped,
    normalised envelopes (Taal et al., eq. 5)."""
    index = np.arange(first, first + count)[:, None] + np.arange(STOI_SEGMENT)[None, :]
    xs = x_env[:, index].transpose(1, 0, 2)  # [segments, bands, N]
    ys = y_env[:, index].transpose(1, 0, 2)
    gain = np.linalg.norm(xs, axis=2, keepdims=True) / (np.linalg.norm(ys, axis=2, keepdims=True) + EPS)
    clipped = np.minimum(ys * gain, xs * (1 + 10 ** (-STOI_BETA_DB / 20)))
    clipped = clipped - clipped.mean(axis=2, keepdims=True)
    xs = xs - xs.mean(axis=2, keepdims=True)
    clipped /= np.linalg.norm(clipped, axis=2, keepdims=True) + EPS
    xs /= np.linalg.norm(xs, axis=2, keepdims=True) + EPS
    return float(np.sum(clipped * xs))


def stoi(reference, degraded, rate: int, *, block: int = BLOCK_FRAMES) -> float:
    """STOI of ``degraded`` against ``reference``; ``block`` frames (and segments) are worked on at a
    time, so memory stays flat however long the signals are (one block: the textbook computation)."""
    x = np.asarray(reference, dtype=np.float64).reshape(-1)
    y = np.asarray(degraded, dtype=np.float64).reshape(-1)
    if x.size != y.size:
        raise MetricError(f"STOI needs equal lengths, got {x.size} and {y.size} samples")
    if rate != STOI_RATE:
        x = resample(x, rate, STOI_RATE)
        y = resample(y, rate, STOI_RATE)
    x, y = _drop_silent_frames(x, y, block)
    bands = third_octave_bands(STOI_RATE, STOI_FFT, STOI_BANDS, STOI_MIN_FREQ)
    x_env = _band_envelopes(x, bands, block)
    y_env = _band_envelopes(y, bands, block)
    frames = x_env.shape[1]
    if frames < STOI_SEGMENT:
        raise MetricError(f"STOI needs at least {STOI_SEGMENT} speech frames (~0.4 s); got {frames}")
    segments = frames - STOI_SEGMENT + 1
    total = 0.0
    for first, n in _blocks(segments, block):
        total += _segment_correlation_sum(x_env, y_env, first, n)
    return float(total / (segments * STOI_BANDS))


def log_spectral_distance(reference, degraded, rate: int, *, block: int = BLOCK_FRAMES) -> float:
    """Mean over speech frames of the RMS log-power difference, in dB (``block`` frames at a time:
    one pass for the reference's peak and frame energies, one for the differences)."""
    x = np.asarray(reference, dtype=np.float64).reshape(-1)
    y = np.asarray(degraded, dtype=np.float64).reshape(-1)
    n = min(x.size, y.size)
    length = int(round(0.032 * rate))
    if n <= length:
        raise MetricError("signals too short for a log-spectral distance")
    hop = length // 2
    window = np.hanning(length)
    count = _frame_count(n, length, hop)

    def power(signal, first, frames):
        return np.abs(np.fft.rfft(_frames(signal, length, hop, first, frames) * window)) ** 2

    energy = np.empty(count)
    peak = 0.0
    for first, k in _blocks(count, block):
        px = power(x, first, k)
        peak = max(peak, float(px.max()))
        energy[first:first + k] = 10 * np.log10(px.sum(axis=1) + EPS)
    floor = peak * 1e-8 + EPS
    per_frame = np.empty(count)
    for first, k in _blocks(count, block):
        diff = 10 * np.log10(np.maximum(power(x, first, k), floor)) - 10 * np.log10(np.maximum(power(y, first, k), floor))
        per_frame[first:first + k] = np.sqrt(np.mean(diff ** 2, axis=1))
    speech = energy > energy.max() - 40.0
    return float(per_frame[speech].mean())


def estimate_delay(reference, degraded, max_delay: int, *, block: int | None = None) -> int:
    """Lag (samples) by which ``degraded`` trails ``reference``, from the cross-correlation peak.

    Short signals: one FFT of both.  Long ones (or any ``block``): the correlation at each searched
    lag summed over blocks of ``reference``, each against the stretch of ``degraded`` it can meet."""
    x = np.asarray(reference, dtype=np.float64).reshape(-1)
    y = np.asarray(degraded, dtype=np.float64).reshape(-1)
    if block is None and x.size + y.size < DIRECT_CORRELATION_SAMPLES:
        size = 1 << int(x.size + y.size).bit_length()
        corr = np.fft.irfft(np.fft.rfft(y, size) * np.conj(np.fft.rfft(x, size)), size)
        lags = np.concatenate([corr[: max_delay + 1], corr[size - max_delay:]])
    else:
        by_lag = _correlation_by_blocks(x, y, max_delay, block)
        lags = np.concatenate([by_lag[max_delay:], by_lag[:max_delay]])  # 0..max, then -max..-1
    best = int(np.argmax(lags))
    return best if best <= max_delay else best - lags.size


def _correlation_by_blocks(x: np.ndarray, y: np.ndarray, max_delay: int, block: int | None) -> np.ndarray:
    """sum_n y[n + lag] * x[n] for lag = -max_delay .. max_delay.  Block b of ``x`` meets the
    stretch of ``y`` from max_delay before it to max_delay after it (zeros beyond ``y``), so one
    FFT just longer than that stretch holds every searched lag without wrapping round."""
    span = 2 * max_delay
    if block is None:
        block = max(CORRELATION_FFT, 1 << (2 * span).bit_length()) - span
    block = max(1, min(block, x.size))
    size = 1 << int(block + span - 1).bit_length()
    total = np.zeros(span + 1)
    for start in range(0, x.size, block):
        xb = x[start:start + block]
        yb = np.zeros(xb.size + span)
        low, high = max(0, start - max_delay), min(y.size, start + xb.size + max_delay)
        if high > low:
            yb[low - (start - max_delay):high - (start - max_delay)] = y[low:high]
        corr = np.fft.irfft(np.fft.rfft(yb, size) * np.conj(np.fft.rfft(xb, size)), size)
        total += corr[:span + 1]  # corr[k] = sum_m yb[m + k] * xb[m]: lag k - max_delay
    return total


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
