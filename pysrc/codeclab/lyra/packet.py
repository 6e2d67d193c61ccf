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

__all__ = ["LyraError", "pack", "pack_many", "unpack", "unpack_many", "pack_for_bitrate"]

_INDEX_LIMIT = 1 << BITS_PER_QUANTIZER


def pack(indices) -> bytes:
    """Pack 16, 30 or 46 indices (each 0..15) into an 8, 15 or 23 byte packet."""
    return pack_many(np.asarray(indices).reshape(1, -1))


def pack_many(indices) -> bytes:
    """Pack [frames, 16 | 30 | 46] indices into one run of ``frames`` packets, back to back.

    Whole numpy operations, no per-index Python: two indices make a byte, the first in the high
    nibble (an even number of 4-bit indices, so a packet never ends in half a byte)."""
    values = np.asarray(indices)
    if values.ndim != 2:
        raise LyraError(f"pack_many takes [frames, indices], got shape {values.shape}")
    count = values.shape[1]
    num_bits = count * BITS_PER_QUANTIZER
    size = packet_size_for_bits(num_bits)
    num_quantizers_for_packet_size(size)  # rejects counts that are not a Lyra bitrate
    if num_bits != size * 8:
        raise LyraError(f"{count} quantizer indices do not make a Lyra packet")
    outside = np.flatnonzero(((values < 0) | (values >= _INDEX_LIMIT)).reshape(-1))
    if outside.size:
        position = int(outside[0]) % count
        value = int(values.reshape(-1)[outside[0]])
        raise LyraError(f"quantizer index {value} at position {position} is outside 0..{_INDEX_LIMIT - 1}")
    nibbles = values.astype(np.uint8)
    return ((nibbles[:, 0::2] << BITS_PER_QUANTIZER) | nibbles[:, 1::2]).tobytes()


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
    return unpack_many(data, len(data)).reshape(-1)


def unpack_many(data: bytes, size: int) -> np.ndarray:
    """int32 indices [frames, num_quantizers] of ``len(data) // size`` packets of ``size`` bytes."""
    count = num_quantizers_for_packet_size(size)
    if len(data) % size:
        raise LyraError(f"{len(data)} bytes are not a whole number of {size}-byte packets")
    octets = np.frombuffer(data, dtype=np.uint8).reshape(-1, size)
    out = np.empty((octets.shape[0], count), dtype=np.int32)
    out[:, 0::2] = octets >> BITS_PER_QUANTIZER
    out[:, 1::2] = octets & (_INDEX_LIMIT - 1)
    return out
