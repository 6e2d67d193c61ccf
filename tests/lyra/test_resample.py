from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import resample_poly

from codeclab.lyra.errors import ResampleError
from codeclab.lyra.resample import StreamingResampler, resample

PAIRS = [(8000, 16000), (16000, 8000), (32000, 16000), (16000, 32000), (48000, 16000), (16000, 48000)]


def tone(freq, rate, seconds=0.5):
    t = np.arange(int(rate * seconds)) / rate
    return np.sin(2 * np.pi * freq * t)


def rms_db(x):
    return 20 * np.log10(np.sqrt(np.mean(x ** 2)) + 1e-300)


@pytest.mark.parametrize("in_rate,out_rate", PAIRS)
def test_chunked_equals_whole(in_rate, out_rate):
    x = np.random.default_rng(1).standard_normal(in_rate // 2)
    whole = StreamingResampler(in_rate, out_rate).process(x)
    stream = StreamingResampler(in_rate, out_rate)
    hop = in_rate // 50  # 20 ms
    chunks = np.concatenate([stream.process(x[i:i + hop]) for i in range(0, x.size, hop)])
    np.testing.assert_array_equal(chunks, whole)
    assert whole.size == x.size * out_rate // in_rate


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(PAIRS), st.lists(st.integers(0, 700), min_size=1, max_size=12))
def test_any_chunking_equals_whole(pair, sizes):
    x = np.random.default_rng(2).standard_normal(sum(sizes))
    whole = StreamingResampler(*pair).process(x)
    stream = StreamingResampler(*pair)
    pieces, start = [], 0
    for size in sizes:
        pieces.append(stream.process(x[start:start + size]))
        start += size
    np.testing.assert_array_equal(np.concatenate(pieces), whole)


def _band_limit(x, cutoff, rate):
    spectrum = np.fft.rfft(x)
    spectrum[np.fft.rfftfreq(x.size, 1 / rate) > cutoff] = 0
    return np.fft.irfft(spectrum, x.size)


@pytest.mark.parametrize("in_rate,out_rate", PAIRS)
def test_similar_to_scipy_resample_poly_on_speech(in_rate, out_rate, testdata):
    from codeclab.lyra.wav import read_wav

    x = read_wav(testdata / f"sample1_{in_rate // 1000}kHz.wav").samples / 32768.0
    ours = resample(x, in_rate, out_rate)
    theirs = resample_poly(x, out_rate, in_rate)
    assert ours.size == theirs.size
    # Compare in the band both filters pass (ours is flat to 0.9 x Nyquist, scipy's rolls off earlier
    # than that and is only 6 dB down at Nyquist).
    ours, theirs = (_band_limit(v, 0.85 * min(in_rate, out_rate) / 2, out_rate) for v in (ours, theirs))
    snr = 10 * np.log10(np.sum(theirs ** 2) / np.sum((ours - theirs) ** 2))
    assert snr > 40, snr


@pytest.mark.parametrize("in_rate,out_rate", PAIRS)
def test_passband_flat_and_delay_whole(in_rate, out_rate):
    low_nyquist = min(in_rate, out_rate) / 2
    for freq in np.linspace(100, 0.85 * low_nyquist, 7):
        y = resample(tone(freq, in_rate), in_rate, out_rate)
        expected = tone(freq, out_rate)[: y.size]
        middle = slice(y.size // 4, 3 * y.size // 4)  # away from the start/end transients
        assert abs(rms_db(y[middle]) - rms_db(expected[middle])) < 0.05
        assert np.max(np.abs(y[middle] - expected[middle])) < 0.01  # delay removed exactly


@pytest.mark.parametrize("in_rate,out_rate", [(16000, 8000), (32000, 16000), (48000, 16000)])
def test_downsampling_does_not_alias(in_rate, out_rate):
    """A sweep of tones above the output Nyquist frequency must not fold back into the band."""
    nyquist = out_rate / 2
    for freq in np.linspace(nyquist * 1.0, in_rate / 2 * 0.98, 25):
        y = StreamingResampler(in_rate, out_rate).process(tone(freq, in_rate))
        leaked = rms_db(y[y.size // 4:]) - rms_db(tone(freq, in_rate))
        assert leaked < -70, (freq, leaked)


@pytest.mark.parametrize("in_rate,out_rate", [(8000, 16000), (16000, 32000), (16000, 48000)])
def test_upsampling_suppresses_images(in_rate, out_rate):
    for freq in np.linspace(200, 0.9 * in_rate / 2, 9):
        y = resample(tone(freq, in_rate, 1.0), in_rate, out_rate)
        spectrum = np.abs(np.fft.rfft(y[out_rate // 4: out_rate // 4 + out_rate // 2] * np.hanning(out_rate // 2)))
        freqs = np.fft.rfftfreq(out_rate // 2, 1 / out_rate)
        image = spectrum[freqs > in_rate / 2 + 10].max()
        assert 20 * np.log10(image / spectrum.max()) < -70


def test_identity_and_errors():
    x = np.arange(10.0)
    np.testing.assert_array_equal(resample(x, 16000, 16000), x)
    with pytest.raises(ResampleError):
        StreamingResampler(0, 16000)


def test_flush_returns_delayed_tail():
    stream = StreamingResampler(48000, 16000)
    x = tone(1000, 48000, 0.1)
    body = stream.process(x)
    tail = stream.flush()
    assert tail.size >= stream.delay
    y = np.concatenate([body, tail])[stream.delay: stream.delay + x.size // 3]
    np.testing.assert_allclose(y, resample(x, 48000, 16000), atol=1e-12)
