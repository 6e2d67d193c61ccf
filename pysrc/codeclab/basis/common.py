"""Pieces shared by the KTX2 and .basis parsers: a bounds-checked
little-endian reader, Basis's CRC16 and the mip-chain arithmetic."""

from __future__ import annotations

import struct

from .errors import BasisFormatError

# Largest texture side we accept.  WebGL2 guarantees only 2048 and common GPUs
# stop at 16384; anything larger in a header is corruption, and refusing it
# early keeps size arithmetic (and allocations downstream) sane.
MAX_DIMENSION = 16384


class Reader:
    """Reads little-endian integers from ``data``; running past the end raises
    a ``BasisFormatError`` naming the field that was cut off."""

    def __init__(self, data: bytes, what: str):
        self.data = data
        self.what = what

    def need(self, offset: int, size: int, field: str) -> None:
        if offset < 0 or offset + size > len(self.data):
            raise BasisFormatError(
                f"{self.what} is truncated: {field} needs {size} bytes at {offset}, "
                f"file has {len(self.data)}",
                offset=offset,
                field=field,
            )

    def uint(self, offset: int, size: int, field: str) -> int:
        """An unsigned integer of ``size`` bytes (1..8; .basis uses 3-byte ones)."""
        self.need(offset, size, field)
        return int.from_bytes(self.data[offset : offset + size], "little")

    def u8(self, offset: int, field: str) -> int:
        return self.uint(offset, 1, field)

    def u16(self, offset: int, field: str) -> int:
        return self.uint(offset, 2, field)

    def u32(self, offset: int, field: str) -> int:
        self.need(offset, 4, field)
        return struct.unpack_from("<I", self.data, offset)[0]

    def u64(self, offset: int, field: str) -> int:
        self.need(offset, 8, field)
        return struct.unpack_from("<Q", self.data, offset)[0]

    def bytes(self, offset: int, size: int, field: str) -> bytes:
        self.need(offset, size, field)
        return self.data[offset : offset + size]


def crc16(data: bytes, crc: int = 0) -> int:
    """Basis Universal's CRC16 (basisu_transcoder.cpp ``crc16``).

    Polynomial 0x1021, MSB first, register and result inverted (the
    CRC-16/GENIBUS parameters: crc16(b"123456789") == 0xD64E).  The nibble
    formulation below is the one basisu uses: no table, one step per byte.
    """
    crc = ~crc & 0xFFFF
    for byte in data:
        q = (byte ^ (crc >> 8)) & 0xFF
        k = (q >> 4) ^ q
        crc = ((crc << 8) ^ k ^ (k << 5) ^ (k << 12)) & 0xFFFF
    return ~crc & 0xFFFF


def max_levels(width: int, height: int, depth: int = 1) -> int:
    """Length of the full mip chain down to 1x1: floor(log2(max side)) + 1."""
    return max(width, height, depth, 1).bit_length()


def level_size(width: int, height: int, level: int) -> tuple[int, int]:
    """Pixel size of mip ``level`` of a ``width`` x ``height`` texture."""
    return max(1, width >> level), max(1, height >> level)


def blocks(pixels: int, block: int = 4) -> int:
    """Number of ``block``-pixel blocks covering ``pixels`` (partial blocks count)."""
    return (pixels + block - 1) // block


def check_dimension(value: int, field: str, offset: int, *, allow_zero: bool = False) -> None:
    if value == 0 and allow_zero:
        return
    if not 1 <= value <= MAX_DIMENSION:
        raise BasisFormatError(f"{field} {value} is outside 1..{MAX_DIMENSION}", offset=offset, field=field)
