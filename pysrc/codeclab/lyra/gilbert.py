"""Gilbert-Elliott two-state packet loss model (after upstream's gilbert_model.cc).

States: received / lost.  With loss rate p and mean burst length b,
P(received -> lost) = p / (b (1 - p)) and P(lost -> received) = 1 / b, whose
stationary loss rate is p and whose loss bursts last b packets on average.
``is_packet_received()`` reports the current state, then steps the chain.

The page simulates loss with a JavaScript port of this class (web/tools/lyra/gilbert.js),
so both draw from the same small generator, mulberry32: for one seed and the same
parameters they drop exactly the same packets (tests/lyra/test_gilbert.py runs both).
"""

from __future__ import annotations

import numpy as np

from .errors import LyraError

_MASK = 0xFFFFFFFF


class Mulberry32:
    """Tommy Ettinger's mulberry32: 32-bit state, floats in [0, 1); bit-identical to the JS port."""

    def __init__(self, seed: int):
        self.state = int(seed) & _MASK

    def random(self) -> float:
        self.state = (self.state + 0x6D2B79F5) & _MASK
        t = self.state
        t = ((t ^ (t >> 15)) * (t | 1)) & _MASK
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & _MASK)) & _MASK
        return ((t ^ (t >> 14)) & _MASK) / 4294967296.0


def max_loss_rate(average_burst_length: float) -> float:
    """The highest stationary loss rate a chain with this mean burst length can have."""
    return average_burst_length / (average_burst_length + 1.0)


class GilbertModel:
    def __init__(self, packet_loss_rate: float, average_burst_length: float = 1.0, seed: int = 5489):
        self.rng = Mulberry32(seed)
        self.received = True
        self.configure(packet_loss_rate, average_burst_length)

    def configure(self, packet_loss_rate: float, average_burst_length: float = 1.0) -> None:
        """Change the parameters mid-stream; the current state is kept."""
        if average_burst_length < 1.0:
            raise LyraError(f"average burst length must be at least 1, got {average_burst_length}")
        if packet_loss_rate < 0.0:
            raise LyraError(f"packet loss rate must not be negative, got {packet_loss_rate}")
        limit = max_loss_rate(average_burst_length)
        if packet_loss_rate > limit:
            raise LyraError(
                f"packet loss rate {packet_loss_rate} is too high for bursts of {average_burst_length}: "
                f"at most average_burst_length / (average_burst_length + 1) = {limit:.4f}"
            )
        self.packet_loss_rate = float(packet_loss_rate)
        self.average_burst_length = float(average_burst_length)
        self.received_to_lost = packet_loss_rate / (average_burst_length * (1.0 - packet_loss_rate))
        self.lost_to_received = 1.0 / average_burst_length

    def is_packet_received(self) -> bool:
        current = self.received
        draw = self.rng.random()
        if self.received:
            if draw < self.received_to_lost:
                self.received = False
        elif draw < self.lost_to_received:
            self.received = True
        return current

    def pattern(self, count: int) -> np.ndarray:
        """bool [count]: True where the packet arrives."""
        return np.array([self.is_packet_received() for _ in range(count)], dtype=bool)
