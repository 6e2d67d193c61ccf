from __future__ import annotations

import numpy as np
import pytest
from pystoi import stoi as pystoi_stoi

from codeclab.lyra.errors import MetricError
from codeclab.lyra.metrics import align, log_spectral_distance, score, stoi
from codeclab.lyra.wav import read_wav


@pytest.mark.parametrize("rate", [8000, 16000, 48000])
def test_stoi_matches_pystoi(testdata, rate):
    x = read_wav(testdata / f"sample1_{rate // 1000}kHz.wav").samples / 32768.0
    rng = np.random.default_rng(rate)
    for sigma in (0.003, 0.03, 0.1):
        y = x + sigma * rng.standard_normal(x.size)
        assert abs(stoi(x, y, rate) - pystoi_stoi(x, y, rate)) < 0.01
    y = np.convolve(x, np.ones(9) / 9, mode="same")  # low-passed
    assert abs(stoi(x, y, rate) - pystoi_stoi(x, y, rate)) < 0.01


def test_lsd_and_alignment(speech16k):
    x = speech16k / 32768.0
    assert log_spectral_distance(x, x, 16000) == 0.0
    rng = np.random.default_rng(0)
    small = log_spectral_distance(x, x + 0.001 * rng.standard_normal(x.size), 16000)
    large = log_spectral_distance(x, x + 0.05 * rng.standard_normal(x.size), 16000)
    assert 0 < small < large
    delayed = np.concatenate([np.zeros(123), x])
    a, b, delay = align(x, delayed, 16000)
    assert delay == 123 and np.array_equal(a, b)
    result = score(x, delayed, 16000)
    assert result["stoi"] > 0.999 and result["delay_samples"] == 123


def test_metric_errors():
    with pytest.raises(MetricError):
        stoi(np.zeros(100), np.zeros(101), 16000)
    with pytest.raises(MetricError):
        stoi(np.random.default_rng(0).standard_normal(2000), np.zeros(2000), 16000)


def _speech_and_codec_like(speech16k):
    x = speech16k / 32768.0
    rng = np.random.default_rng(7)
    smeared = np.convolve(x, np.ones(5) / 5, mode="same") + 0.01 * rng.standard_normal(x.size)
    return x, np.concatenate([np.zeros(71), smeared[:-71]])


def test_blocks_give_the_whole_signal_figures_on_a_short_clip(speech16k):
    """The block-by-block computation is the same arithmetic as the whole-signal one: STOI and the
    log-spectral distance agree to rounding however small the blocks, and the delay search sees the
    same correlation at every lag."""
    from codeclab.lyra.metrics import _correlation_by_blocks, estimate_delay

    x, y = _speech_and_codec_like(speech16k)
    whole_stoi = stoi(x, y, 16000, block=10 ** 9)
    whole_lsd = log_spectral_distance(x, y, 16000, block=10 ** 9)
    for block in (1, 37, 500):
        assert abs(stoi(x, y, 16000, block=block) - whole_stoi) < 1e-12
        assert abs(log_spectral_distance(x, y, 16000, block=block) - whole_lsd) < 1e-12
    assert stoi(x, y, 16000) == whole_stoi  # a short clip is one block: the figure of before, bit for bit
    size = 1 << int(x.size + y.size).bit_length()
    direct = np.fft.irfft(np.fft.rfft(y, size) * np.conj(np.fft.rfft(x, size)), size)
    direct = np.concatenate([direct[size - 1600:], direct[:1601]])  # lags -1600 .. 1600
    for block in (999, 4096, x.size, None):
        assert np.allclose(_correlation_by_blocks(x, y, 1600, block), direct, rtol=0, atol=1e-9)
        assert estimate_delay(x, y, 1600, block=block or x.size) == estimate_delay(x, y, 1600) == 71


@pytest.fixture()
def views_fit_wasm32(monkeypatch):
    """Pyodide is wasm32: numpy there refuses any array, views included, of 2 GiB or more. CPython
    (64-bit) would not notice, so every strided view the metrics and the resampler make is checked."""
    limit = 2 ** 31
    tricks = np.lib.stride_tricks
    real_window, real_strided = tricks.sliding_window_view, tricks.as_strided

    def checked(make):
        def wrapper(*args, **kwargs):
            view = make(*args, **kwargs)
            assert view.size * view.itemsize < limit, f"a {view.shape} view would not fit wasm32"
            return view
        return wrapper

    monkeypatch.setattr(tricks, "sliding_window_view", checked(real_window))
    monkeypatch.setattr(tricks, "as_strided", checked(real_strided))


def test_a_ten_minute_clip_is_scored_in_bounded_memory(views_fit_wasm32):
    """Lyra vs Opus on 10 minutes: the 48 kHz clip resampled to 16 kHz, then scored against a
    delayed, noisier copy, with no view over 2 GiB and a bounded working set."""
    import tracemalloc

    from codeclab.lyra.resample import resample

    rate = 48000
    t = np.arange(600 * rate) / rate
    rng = np.random.default_rng(11)
    syllables = (np.sin(2 * np.pi * 3.1 * t) > 0.2) * (1 + 0.5 * np.sin(2 * np.pi * 0.05 * t))
    clip = (0.3 * syllables * np.sin(2 * np.pi * (180 + 40 * np.sin(2 * np.pi * 0.5 * t)) * t)).astype(np.float32)
    del t, syllables
    tracemalloc.start()
    try:
        reference = resample(clip, rate, 16000).astype(np.float32)
        del clip
        assert reference.size == 600 * 16000
        degraded = np.concatenate([np.zeros(160, np.float32), reference[:-160]])
        degraded += 0.02 * rng.standard_normal(degraded.size).astype(np.float32)
        tracemalloc.reset_peak()
        result = score(reference, degraded, 16000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result["delay_samples"] == 160
    assert 0.5 < result["stoi"] < 1 and result["lsd_db"] > 0
    # Both signals as float64 are 154 MB; whole-signal framing needed several GB.
    assert peak < 700e6, f"scoring 10 minutes took {peak / 1e6:.0f} MB at its peak"
