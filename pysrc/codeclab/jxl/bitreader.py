"""LSB-first bit reader and writer with the JPEG XL field codings (U32, U64, F16, Enum).

Every read is bounded by the data length, so malformed input ends in a JxlFormatError
naming the byte offset and the field being read, never in a hang.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .errors import JxlFormatError


@dataclass(frozen=True)
class Val:
    """A U32 distribution that is a constant."""
    value: int


@dataclass(frozen=True)
class Bits:
    """A U32 distribution reading ``n`` bits and adding ``offset``."""
    n: int
    offset: int = 0


U32Dist = tuple  # four of Val | Bits


class BitReader:
    """Reads bits least-significant first from ``data[start:end]``."""

    def __init__(self, data: bytes, start: int = 0, end: int | None = None):
        self.data = data
        self.start = start
        self.end = len(data) if end is None else min(end, len(data))
        self.pos = start * 8  # absolute bit position in data
        self._end_bits = self.end * 8

    # -- positions -------------------------------------------------------
    @property
    def byte_offset(self) -> int:
        return self.pos // 8

    def bits_left(self) -> int:
        return self._end_bits - self.pos

    def error(self, message: str, field: str) -> JxlFormatError:
        return JxlFormatError(message, offset=self.byte_offset, field=field)

    # -- raw bits ---------------------------------------------------------
    def read(self, n: int, field: str = "bits") -> int:
        if n == 0:
            return 0
        if n < 0 or n > 64:
            raise self.error(f"invalid bit count {n}", field)
        if self.pos + n > self._end_bits:
            raise self.error("unexpected end of data", field)
        first = self.pos >> 3
        last = (self.pos + n + 7) >> 3
        chunk = int.from_bytes(self.data[first:last], "little")
        value = (chunk >> (self.pos & 7)) & ((1 << n) - 1)
        self.pos += n
        return value

    def peek(self, n: int) -> int:
        """Up to ``n`` bits without consuming; bits past the end read as zero."""
        first = self.pos >> 3
        last = min((self.pos + n + 7) >> 3, self.end)
        chunk = int.from_bytes(self.data[first:last], "little") if last > first else 0
        return (chunk >> (self.pos & 7)) & ((1 << n) - 1)

    def skip(self, n: int, field: str = "bits") -> None:
        if n < 0 or self.pos + n > self._end_bits:
            raise self.error(f"cannot skip {n} bits: unexpected end of data", field)
        self.pos += n

    def bool(self, field: str = "flag") -> bool:
        return self.read(1, field) == 1

    def zero_pad_to_byte(self, field: str = "padding") -> None:
        pad = (-self.pos) & 7
        if pad and self.read(pad, field) != 0:
            # libjxl requires zero padding; report rather than silently accept
            raise self.error("non-zero padding bits", field)

    def jump_to_byte_boundary(self) -> None:
        self.pos = min(self._end_bits, (self.pos + 7) & ~7)

    # -- JPEG XL field codings -----------------------------------------------
    def u32(self, dists: U32Dist, field: str = "U32") -> int:
        dist = dists[self.read(2, field)]
        if isinstance(dist, Val):
            return dist.value
        return self.read(dist.n, field) + dist.offset

    def u64(self, field: str = "U64") -> int:
        selector = self.read(2, field)
        if selector == 0:
            return 0
        if selector == 1:
            return 1 + self.read(4, field)
        if selector == 2:
            return 17 + self.read(8, field)
        value = self.read(12, field)
        shift = 12
        while self.read(1, field):
            if shift == 60:
                value |= self.read(4, field) << 60
                break
            value |= self.read(8, field) << shift
            shift += 8
        return value

    def f16(self, field: str = "F16") -> float:
        bits16 = self.read(16, field)
        value = struct.unpack("<e", bits16.to_bytes(2, "little"))[0]
        if (bits16 >> 10) & 0x1F == 0x1F:
            raise self.error("F16 is infinite or NaN", field)
        return float(value)

    def enum(self, field: str = "Enum") -> int:
        value = self.u32((Val(0), Val(1), Bits(4, 2), Bits(6, 18)), field)
        if value > 63:
            raise self.error(f"enum value {value} out of range", field)
        return value


def unpack_signed(value: int) -> int:
    return -((value + 1) >> 1) if value & 1 else value >> 1


def pack_signed(value: int) -> int:
    return 2 * value if value >= 0 else -2 * value - 1


class BitWriter:
    """Writes bits least-significant first (mirror of BitReader)."""

    def __init__(self) -> None:
        self._acc = 0
        self._nbits = 0
        self._out = bytearray()

    @property
    def bit_length(self) -> int:
        return len(self._out) * 8 + self._nbits

    def write(self, n: int, value: int) -> None:
        if n == 0:
            return
        if value < 0 or value >> n:
            raise ValueError(f"value {value} does not fit in {n} bits")
        self._acc |= value << self._nbits
        self._nbits += n
        while self._nbits >= 8:
            self._out.append(self._acc & 0xFF)
            self._acc >>= 8
            self._nbits -= 8

    def write_bits_from(self, data: bytes, start_bit: int, end_bit: int) -> None:
        """Copies bits [start_bit, end_bit) of ``data`` (LSB-first numbering)."""
        pos = start_bit
        while pos < end_bit:
            n = min(32, end_bit - pos)
            first = pos >> 3
            chunk = int.from_bytes(data[first:first + 6], "little")
            self.write(n, (chunk >> (pos & 7)) & ((1 << n) - 1))
            pos += n

    def zero_pad_to_byte(self) -> None:
        if self._nbits:
            self.write(8 - self._nbits, 0)

    def u32(self, dists: U32Dist, value: int) -> None:
        for selector, dist in enumerate(dists):
            if isinstance(dist, Val):
                if dist.value == value:
                    self.write(2, selector)
                    return
            elif dist.offset <= value < dist.offset + (1 << dist.n):
                self.write(2, selector)
                self.write(dist.n, value - dist.offset)
                return
        raise ValueError(f"{value} is not representable in this U32 distribution")

    def getvalue(self) -> bytes:
        if self._nbits:
            raise ValueError("bit writer is not byte aligned")
        return bytes(self._out)
