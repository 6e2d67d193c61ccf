"""Band-limited streaming resampler: polyphase windowed-sinc FIR with a Kaiser window.

Rational ratio out/in = L/M (reduced).  The prototype low-pass lives at the
upsampled rate in*L; its passband ends at ``passband`` x the lower Nyquist
frequency and its stopband (``attenuation_db`` down) starts exactly at the lower
Nyquist frequency, so nothing above it aliases (downsampling) or images
(upsampling).  The filter is linear phase with a whole number of output samples
of delay (``delay``).

``StreamingResampler.process`` keeps its history across calls, so feeding a
signal in 20 ms chunks gives the same samples as feeding it at once; every output
sample is computed by the same dot product whatever the chunking.
"""

from __future__ import annotations

import math
from math import gcd

import numpy as np

from .errors import ResampleError

DEFAULT_PASSBAND = 0.9
DEFAULT_ATTENUATION_DB = 80.0
# Inputs per pass of ``process``: numpy sizes even a strided view by its nominal (outputs x taps)
# size, which must fit a signed 32-bit byte count in Pyodide (wasm32); a minute at 48 kHz does not.
PROCESS_BLOCK = 1 << 16


def kaiser_beta(attenuation_db: float) -> float:
    """Kaiser's empirical beta for a stopband attenuation in dB."""
    a = attenuation_db
    if a > 50:
        return 0.1102 * (a - 8.7)
    if a >= 21:
        return 0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21)
    return 0.0


def design_prototype(up: int, down: int, *, passband: float = DEFAULT_PASSBAND,
                     attenuation_db: float = DEFAULT_ATTENUATION_DB) -> tuple[np.ndarray, int]:
    """The low-pass at rate in*up, gain ``up``; returns (taps, delay in output samples)."""
    nyquist_low = 0.5 / max(up, down)  # lower Nyquist in cycles per upsampled sample
    transition = (1.0 - passband) * nyquist_low
    cutoff = nyquist_low - transition / 2
    # Kaiser's length estimate, rounded up so the group delay is a whole number of outputs.
    order = (attenuation_db - 7.95) / (2.285 * 2 * math.pi * transition)
    delay_out = max(1, math.ceil(order / (2 * down)))
    length = 2 * down * delay_out + 1
    centre = (length - 1) / 2
    n = np.arange(length) - centre
    taps = 2 * cutoff * np.sinc(2 * cutoff * n) * np.kaiser(length, kaiser_beta(attenuation_db))
    taps *= up / taps.sum()  # unity DC gain after zero-stuffing by ``up``
    return taps, delay_out


class StreamingResampler:
    """Resample a stream chunk by chunk; ``in_rate``/``out_rate`` any positive integers."""

    def __init__(self, in_rate: int, out_rate: int, *, passband: float = DEFAULT_PASSBAND,
                 attenuation_db: float = DEFAULT_ATTENUATION_DB):
        if in_rate <= 0 or out_rate <= 0:
            raise ResampleError(f"sample rates must be positive, got {in_rate} -> {out_rate}")
        self.in_rate = int(in_rate)
        self.out_rate = int(out_rate)
        common = gcd(self.in_rate, self.out_rate)
        self.up = self.out_rate // common
        self.down = self.in_rate // common
        self.identity = self.up == self.down == 1
        if self.identity:
            self.delay = 0
            self._taps_per_phase = 1
            self._phases = np.ones((1, 1))
        else:
            taps, self.delay = design_prototype(self.up, self.down, passband=passband,
                                                attenuation_db=attenuation_db)
            per_phase = -(-taps.size // self.up)
            padded = np.zeros(per_phase * self.up)
            padded[: taps.size] = taps
            # phases[p, j] = h[p + j*up], stored reversed so a window x[i0-K+1..i0] dots it directly.
            self._phases = padded.reshape(per_phase, self.up).T[:, ::-1].copy()
            self._taps_per_phase = per_phase
        self.reset()

    def reset(self) -> None:
        self._history = np.zeros(self._taps_per_phase - 1)
        self._inputs_seen = 0
        self._outputs_made = 0

    def process(self, chunk) -> np.ndarray:
        """float64 output samples that the inputs so far determine (causal, delayed by ``delay``)."""
        x = np.asarray(chunk, dtype=np.float64).reshape(-1)
        if self.identity:
            return x.copy()
        if x.size <= PROCESS_BLOCK:
            return self._process_block(x)
        return np.concatenate([self._process_block(x[i:i + PROCESS_BLOCK]) for i in range(0, x.size, PROCESS_BLOCK)])

    def _process_block(self, x: np.ndarray) -> np.ndarray:
        K = self._taps_per_phase
        base = self._inputs_seen - (K - 1)  # absolute input index of buffer[0]
        buffer = np.concatenate([self._history, x])
        self._inputs_seen += x.size
        # Output n needs input floor(n*down/up); make every output whose newest input has arrived.
        last = (self._inputs_seen * self.up - 1) // self.down  # largest n with n*down//up <= seen-1
        n = np.arange(self._outputs_made, last + 1)
        self._outputs_made = last + 1
        self._history = buffer[buffer.size - (K - 1):] if K > 1 else np.zeros(0)
        if n.size == 0:
            return np.zeros(0)
        t = n * self.down
        newest = t // self.up
        rows = newest - (K - 1) - base
        phase = t % self.up
        windows = np.lib.stride_tricks.sliding_window_view(buffer, K)
        out = np.empty(n.size)
        # One matrix-vector product per filter phase.  einsum's own loop (not BLAS, whose blocking
        # depends on the row count) sums each row in a fixed order, so chunking cannot change a bit.
        # The outputs of one phase are every ``up``-th output and their windows start every
        # ``down`` inputs, so both are strided views: no copy of the (outputs x taps) windows, which
        # would cost more than the products themselves on a 20 ms hop.
        for p in range(min(self.up, n.size)):
            first = int(np.flatnonzero(phase == p)[0]) if self.up > 1 else 0
            count = len(range(first, n.size, self.up))
            start = int(rows[first])
            view = windows[start: start + (count - 1) * self.down + 1: self.down]
            out[first::self.up] = np.einsum("ij,j->i", view, self._phases[phase[first]])
        return out

    def flush(self) -> np.ndarray:
        """The delayed tail: outputs for ``delay`` more output samples of silence."""
        if self.identity or self.delay == 0:
            return np.zeros(0)
        inputs_needed = -(-(self.delay * self.down) // self.up) + 1
        return self.process(np.zeros(inputs_needed))


def resample(samples, in_rate: int, out_rate: int, **design) -> np.ndarray:
    """Whole-signal resampling with the delay removed: ceil(len * out / in) float64 samples."""
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    stream = StreamingResampler(in_rate, out_rate, **design)
    if stream.identity:
        return x.copy()
    wanted = -(-x.size * stream.up // stream.down)
    out = [stream.process(x)]
    made = out[0].size
    while made < wanted + stream.delay:
        extra = stream.process(np.zeros(max(stream.down, stream._taps_per_phase)))
        out.append(extra)
        made += extra.size
    return np.concatenate(out)[stream.delay: stream.delay + wanted]
