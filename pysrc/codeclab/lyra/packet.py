"""Lyra packets, bit-exact with upstream's packet.h / residual_vector_quantizer.cc.

A packet is the concatenation of the 4-bit RVQ indices, first quantizer in the
most significant bits, no header (kNumHeaderBits = 0), packed big-endian into
ceil(bits / 8) bytes.  Our three bitrates have whole-byte bit counts
(64 / 120 / 184 bits = 8 / 15 / 23 bytes), so there is never padding.
"""

from __future__ import annotations

import numpy as np

from .config import (
    BITS_PER_QUANTIZER,
    num_quantizers_for_bitrate,
    num_quantizers_for_packet_size,
    packet_size_for_bits,
)
from .errors import LyraError

__all__ = ["LyraError", "pack", "unpack", "pack_for_bitrate"]

_INDEX_LIMIT = 1 << BITS_PER_QUANTIZER


def pack(indices) -> bytes:
    """Pack 16, 30 or 46 indices (each 0..15) into an 8, 15 or 23 byte packet."""
    values = [int(v) for v in np.asarray(indices).reshape(-1)]
    num_bits = len(values) * BITS_PER_QUANTIZER
    size = packet_size_for_bits(num_bits)
    num_quantizers_for_packet_size(size)  # rejects counts that are not a Lyra bitrate
    if len(values) * BITS_PER_QUANTIZER != size * 8:
        raise LyraError(f"{len(values)} quantizer indices do not make a Lyra packet")
    word = 0
    for position, value in enumerate(values):
        if not 0 <= value < _INDEX_LIMIT:
            raise LyraError(f"quantizer index {value} at position {position} is outside 0..{_INDEX_LIMIT - 1}")
        word = (word << BITS_PER_QUANTIZER) | value
    return word.to_bytes(size, "big")


def pack_for_bitrate(indices, bitrate: int) -> bytes:
    """Pack the first num_quantizers(bitrate) indices of ``indices``."""
    count = num_quantizers_for_bitrate(bitrate)
    values = np.asarray(indices).reshape(-1)
    if values.size < count:
        raise LyraError(f"{bitrate} bps needs {count} indices, got {values.size}")
    return pack(values[:count])


def unpack(packet: bytes) -> np.ndarray:
    """int32 indices [num_quantizers] of a packet; the packet size selects the bitrate."""
    data = bytes(packet)
    count = num_quantizers_for_packet_size(len(data))
    word = int.from_bytes(data, "big")
    mask = _INDEX_LIMIT - 1
    shifts = [(count - 1 - i) * BITS_PER_QUANTIZER for i in range(count)]
    return np.array([(word >> s) & mask for s in shifts], dtype=np.int32)
