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
