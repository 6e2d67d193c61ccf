"""Gilbert-Elliott two-state packet loss model (after upstream's gilbert_model.cc).

States: received / lost.  With loss rate p and mean burst length b,
P(received -> lost) = p / (b (1 - p)) and P(lost -> received) = 1 / b, whose
stationary loss rate is p and whose loss bursts last b packets on average.
``is_packet_received()`` reports the current state, then steps the chain.
"""

from __future__ import annotations

import numpy as np

from .errors import LyraError


class GilbertModel:
    def __init__(self, packet_loss_rate: float, average_burst_length: float = 1.0, seed: int | None = 5489):
        if average_burst_length < 1.0:
            raise LyraError(f"average burst length must be at least 1, got {average_burst_length}")
        if packet_loss_rate < 0.0:
            raise LyraError(f"packet loss rate must not be negative, got {packet_loss_rate}")
        limit = average_burst_length / (average_burst_length + 1.0)
        if packet_loss_rate > limit:
            raise LyraError(
                f"packet loss rate {packet_loss_rate} is too high for bursts of {average_burst_length}: "
                f"at most average_burst_length / (average_burst_length + 1) = {limit:.4f}"
            )
        self.packet_loss_rate = float(packet_loss_rate)
        self.average_burst_length = float(average_burst_length)
        self.received_to_lost = packet_loss_rate / (average_burst_length * (1.0 - packet_loss_rate))
        self.lost_to_received = 1.0 / average_burst_length
        self.rng = np.random.default_rng(seed)
        self.received = True

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
