"""The concealment state machine's timing, exactly as upstream's lyra_decoder.cc sequences it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import lfilter, welch

from codeclab.lyra.comfort_noise import ComfortNoiseGenerator
from codeclab.lyra.concealment import (
    CONCEALMENT_SAMPLES,
    FADE_SAMPLES,
    ConcealmentStateMachine,
    drive_sync,
)
from codeclab.lyra.noise_estimator import NoiseEstimator

HOP = 320
PACKET_FEATURES = np.ones(64, np.float32)


def model(features):
    """Stands in for LyraGAN: a ramp for received features, a constant for estimated (zero) ones."""
    if np.any(features):
        return np.linspace(-0.3, 0.3, HOP)
    return np.full(HOP, 0.01)


def step(machine, received: bool, count: int = HOP):
    if received:
        machine.add_received_features(PACKET_FEATURES)
    before = len(machine.segments)
    out = drive_sync(machine.generate(count), model)
    assert out.size == count
    return out, machine.segments[before:]


def test_constants():
    assert CONCEALMENT_SAMPLES == 1280 and FADE_SAMPLES == 640  # 80 ms and 40 ms at 16 kHz


def test_estimate_then_comfort_noise_then_fade_back():
    m = ConcealmentStateMachine(seed=1)
    for _ in range(5):
        out, segs = step(m, True)
        assert [s.source for s in segs] == ["packet"] and m.mode == "decoding"
    np.testing.assert_array_equal(out, np.trunc(np.linspace(-0.3, 0.3, HOP) * 32768))

    expected_loss = (["estimate"] * 4 + ["mix", "mix"] + ["comfort_noise"] * 6)
    modes = []
    for hop, source in enumerate(expected_loss):
        out, segs = step(m, False)
        assert [(s.source, s.samples) for s in segs] == [(source, HOP)], hop
        modes.append(m.mode)
        if hop < 4:  # 80 ms of LyraGAN on estimated features
            assert m.concealment_progress == (hop + 1) * HOP
            np.testing.assert_array_equal(out, np.full(HOP, np.trunc(0.01 * 32768)))
        if hop == 4:  # crossfade starts with full weight on the model
            assert (segs[0].fade_start, segs[0].fade_end) == (0, 320)
            assert out[0] == np.trunc(0.01 * 32768)
        if hop == 5:
            assert (segs[0].fade_start, segs[0].fade_end) == (320, 640)
    assert modes == ["concealment"] * 4 + ["fading_to_noise", "comfort_noise"] + ["comfort_noise"] * 6
    assert m.concealment_progress == CONCEALMENT_SAMPLES and m.is_comfort_noise

    expected_back = [("mix", 640, 320), ("mix", 320, 0), ("packet", 0, 0), ("packet", 0, 0)]
    for hop, (source, start, end) in enumerate(expected_back):
        out, segs = step(m, True)
        assert [(s.source, s.fade_start, s.fade_end) for s in segs] == [(source, start, end)], hop
    assert m.mode == "decoding"
    assert m.counts["estimated_hops"] == 6  # 4 pure + 2 under the fade to noise
    assert m.counts["comfort_noise_hops"] == 2 + 6 + 2
    assert m.counts["concealed_samples"] == 12 * HOP


def test_short_loss_has_no_fade():
    m = ConcealmentStateMachine()
    step(m, True)
    for _ in range(3):
        step(m, False)
    assert m.mode == "concealment" and m.fade_progress == 0
    _, segs = step(m, True)
    assert [s.source for s in segs] == ["packet"]
    assert m.concealment_progress == 0 and m.counts["comfort_noise_hops"] == 0


def test_packet_mid_hop_finishes_the_concealment_hop_first():
    m = ConcealmentStateMachine()
    step(m, True)
    step(m, False)
    _, segs = step(m, False, 100)  # 100 samples into an estimated hop
    assert [(s.source, s.samples) for s in segs] == [("estimate", 100)]
    m.add_received_features(PACKET_FEATURES)
    assert m.concealment_progress == -(HOP - 100)
    out = drive_sync(m.generate(HOP), model)
    assert [(s.source, s.samples) for s in m.segments[-2:]] == [("estimate", 220), ("packet", 100)]
    np.testing.assert_array_equal(out[220:], np.trunc(np.linspace(-0.3, 0.3, HOP)[:100] * 32768))


def test_irregular_requests_keep_exact_counts():
    rng = np.random.default_rng(5)
    m = ConcealmentStateMachine()
    total = 0
    for hop in range(60):
        if hop % 20 < 12:
            m.add_received_features(PACKET_FEATURES)
        left = HOP
        while left:
            n = int(min(left, rng.integers(1, HOP + 1)))
            total += drive_sync(m.generate(n), model).size
            left -= n
    assert total == 60 * HOP == sum(s.samples for s in m.segments)
    assert m.counts["concealed_samples"] == 3 * 8 * HOP


def test_noise_estimate_and_comfort_noise_follow_the_background():
    """Comfort noise generated from the estimate of coloured noise has its level and spectral shape."""
    rng = np.random.default_rng(0)
    for level in (100.0, 2000.0):
        noise = lfilter([1.0], [1.0, -0.9], rng.standard_normal(16000 * 3)) * level
        estimator = NoiseEstimator()
        for i in range(0, noise.size, HOP):
            estimator.receive_samples(noise[i:i + HOP])
        generator = ComfortNoiseGenerator(seed=1)
        out = np.concatenate([generator.hop_from_features(estimator.estimate()) for _ in range(100)])[2 * HOP:]
        _, p_noise = welch(noise, 16000, nperseg=512)
        _, p_out = welch(out, 16000, nperseg=512)
        diff_db = 10 * np.log10(p_out[3:240] / p_noise[3:240])  # 90 Hz .. 7.5 kHz
        # Minimum statistics track the noise floor, which sits a few dB under the mean level.
        assert -8.0 < np.median(diff_db) < 0.0
        assert np.std(diff_db) < 2.0  # same spectral shape


def test_comfort_noise_is_seeded():
    features = np.full(160, 0.8, np.float32)
    a = ComfortNoiseGenerator(seed=3).hop_from_features(features)
    b = ComfortNoiseGenerator(seed=3).hop_from_features(features)
    np.testing.assert_array_equal(a, b)
    assert np.all(a == np.trunc(a)) and a.std() > 0


@pytest.mark.parametrize("bad", [HOP + 1])
def test_noise_estimator_rejects_oversized_input(bad):
    with pytest.raises(ValueError):
        NoiseEstimator().receive_samples(np.zeros(bad))



@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=40), st.integers(0, 2**31 - 1))
def test_machine_invariants(pattern, seed):
    """Any loss pattern, any request sizes: exact sample counts, bounded fades, recovery."""
    rng = np.random.default_rng(seed)
    m = ConcealmentStateMachine(seed=0)
    total = 0
    for received in pattern:
        if received:
            m.add_received_features(PACKET_FEATURES)
        left = HOP
        while left:
            n = int(min(left, rng.integers(1, 2 * HOP)))
            out = drive_sync(m.generate(n), model)
            assert out.size == n and np.all(np.abs(out) <= 32768)
            left -= n
            total += n
            assert 0 <= m.fade_progress <= FADE_SAMPLES
            assert -HOP < m.concealment_progress <= CONCEALMENT_SAMPLES
    assert sum(s.samples for s in m.segments) == total == len(pattern) * HOP
    # Packets arrive on hop boundaries here, so exactly the lost hops are concealed.
    assert m.counts["concealed_samples"] == pattern.count(False) * HOP
    if pattern[-3:] == [True, True, True]:
        assert m.fade_progress == 0
