from __future__ import annotations

import numpy as np
import pytest

from codeclab.lyra.errors import LyraError
from codeclab.lyra.gilbert import GilbertModel


def bursts(received: np.ndarray) -> list[int]:
    lengths, run = [], 0
    for ok in received:
        if not ok:
            run += 1
        elif run:
            lengths.append(run)
            run = 0
    return lengths


@pytest.mark.parametrize("rate,burst", [(0.1, 1.0), (0.1, 3.0), (0.3, 2.0), (0.5, 5.0)])
def test_loss_rate_and_burst_length(rate, burst):
    received = GilbertModel(rate, burst, seed=7).pattern(100_000)
    assert abs((~received).mean() - rate) < 0.01
    assert abs(np.mean(bursts(received)) - burst) < 0.05 * burst + 0.02


def test_transition_probabilities_like_upstream():
    model = GilbertModel(0.2, 4.0)
    assert model.received_to_lost == pytest.approx(0.2 / (4.0 * 0.8))
    assert model.lost_to_received == pytest.approx(0.25)


def test_seeded_and_first_packet_received():
    a = GilbertModel(0.3, 2.0, seed=3).pattern(500)
    b = GilbertModel(0.3, 2.0, seed=3).pattern(500)
    np.testing.assert_array_equal(a, b)
    assert a[0]
    assert not np.array_equal(a, GilbertModel(0.3, 2.0, seed=4).pattern(500))
    assert GilbertModel(0.0, 1.0, seed=1).pattern(1000).all()


@pytest.mark.parametrize("rate,burst", [(0.1, 0.5), (-0.1, 1.0), (0.6, 1.0)])
def test_invalid_parameters(rate, burst):
    with pytest.raises(LyraError):
        GilbertModel(rate, burst)
