"""``.lyra`` files, in two forms (docs/lyra-file-format.md):

* raw: packets of one bitrate back to back, no header (as upstream's encoder_main writes them).
  The file does not record its bitrate; the reader is told it (upstream's decoder_main takes
  --bitrate, default 3200) or infers it when exactly one packet size divides the file length.
  Like upstream, trailing bytes that do not make a whole packet are dropped (reported in
  ``trailing_bytes``), and a file with no whole packet is an error.
* runs: a stream whose bitrate changed part-way, which no raw file can hold.  An 8-byte
  signature, a version byte, then runs of (bitrate, packet count, packets).  Written only when
  the packets have more than one size, so a one-bitrate stream stays an upstream file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from .config import BITRATES, bitrate_for_packet_size, packet_size_for_bitrate
from .errors import LyraError, LyraFileError

RUNS_SIGNATURE = b"\x89LYRA\r\n\x1a"  # as PNG's: not text, and damaged by a text-mode copy
RUNS_VERSION = 1
_RUN_HEADER = struct.Struct("<IH")  # bitrate in bps, packets in the run (1..65535)
_MAX_RUN = 0xFFFF


@dataclass(frozen=True)
class LyraStream:
    packets: list[bytes]
    bitrate: int  # the bitrate of the first packet (of every packet when ``runs`` has one entry)
    trailing_bytes: int  # bytes at the end that did not make a whole packet (dropped)
    runs: tuple[tuple[int, int], ...] = field(default=())  # (bitrate, packets) in stream order

    @property
    def duration_seconds(self) -> float:
        return len(self.packets) * 0.02

    @property
    def bitrates(self) -> list[int]:
        """The distinct bitrates, lowest first."""
        return sorted({rate for rate, _ in self.runs} or {self.bitrate})

    @property
    def average_bitrate(self) -> float:
        """Packet bits per second of audio (the payload's average on the wire)."""
        return sum(map(len, self.packets)) * 8 / self.duration_seconds if self.packets else 0.0

    def describe_bitrate(self) -> str:
        return describe_bitrate(self.bitrates, self.average_bitrate)


def _kbps(bps: float) -> str:
    return f"{bps / 1000:.1f}".removesuffix(".0")


def describe_bitrate(bitrates, average: float) -> str:
    """"6 kbps", or "mixed 3.2–6 kbps, 3.7 kbps average" (web/tools/lyra/lyra-file.js says the same)."""
    rates = sorted(set(bitrates))
    if len(rates) == 1:
        return f"{_kbps(rates[0])} kbps"
    return f"mixed {_kbps(rates[0])}–{_kbps(rates[-1])} kbps, {_kbps(average)} kbps average"


def infer_bitrate(size: int) -> int:
    candidates = [b for b in BITRATES if size % packet_size_for_bitrate(b) == 0]
    if len(candidates) == 1:
        return candidates[0]
    sizes = ", ".join(f"{packet_size_for_bitrate(b)} bytes at {b} bps" for b in BITRATES)
    if not candidates:
        raise LyraFileError(
            f".lyra data of {size} bytes is not a whole number of packets at any bitrate ({sizes}); "
            "it is truncated or not a .lyra file", offset=size, field="packet")
    raise LyraFileError(
        f".lyra data of {size} bytes could be {' or '.join(map(str, candidates))} bps: pass the bitrate",
        field="bitrate")


_TEXT_BYTES = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}
_TEXT_CHECK_BYTES = 16


def looks_like_text(data: bytes) -> bool:
    """A .lyra file has no header to check, but its packets are quantizer indices, as good as random
    bits: 16 or more bytes that are all printable ASCII (chance ~ (98/256)^16 < 2e-7 for packets)
    are a text file with the wrong name."""
    return len(data) >= _TEXT_CHECK_BYTES and all(byte in _TEXT_BYTES for byte in data[:4096])


def parse_lyra(data: bytes, bitrate: int | None = None, *, strict: bool = False) -> LyraStream:
    data = bytes(data)
    if not data:
        raise LyraFileError(".lyra file is empty: it holds no encoded packet", offset=0, field="packet")
    if data.startswith(RUNS_SIGNATURE):
        return parse_runs(data)
    if looks_like_text(data):
        raise LyraFileError("this is a text file, not Lyra packets (its bytes are all printable characters)",
                            offset=0, field="packet")
    if bitrate is None:
        bitrate = infer_bitrate(len(data))
    size = packet_size_for_bitrate(bitrate)
    whole = len(data) // size
    trailing = len(data) - whole * size
    if whole == 0:
        raise LyraFileError(
            f".lyra file has {len(data)} bytes, less than one {size}-byte packet at {bitrate} bps: "
            "it is incomplete", offset=0, field="packet")
    if trailing and strict:
        raise LyraFileError(
            f".lyra file ends with {trailing} bytes that are not a whole {size}-byte packet",
            offset=whole * size, field="packet")
    packets = [data[i * size:(i + 1) * size] for i in range(whole)]
    return LyraStream(packets=packets, bitrate=bitrate, trailing_bytes=trailing, runs=((bitrate, whole),))


def parse_runs(data: bytes) -> LyraStream:
    """A .lyra file of runs (the signature already seen); every field is checked, nothing dropped."""
    data = bytes(data)
    offset = len(RUNS_SIGNATURE)
    if offset >= len(data):
        raise LyraFileError(".lyra file ends after its signature, before its version", offset=offset, field="version")
    if data[offset] != RUNS_VERSION:
        raise LyraFileError(f".lyra file of version {data[offset]}; this reader knows version {RUNS_VERSION}",
                            offset=offset, field="version")
    offset += 1
    packets: list[bytes] = []
    runs: list[tuple[int, int]] = []
    while offset < len(data):
        if len(data) - offset < _RUN_HEADER.size:
            raise LyraFileError(f".lyra file ends {len(data) - offset} bytes into a {_RUN_HEADER.size}-byte run header: "
                                "it is truncated", offset=offset, field="run")
        bitrate, count = _RUN_HEADER.unpack_from(data, offset)
        if bitrate not in BITRATES:
            raise LyraFileError(f".lyra run at {bitrate} bps: Lyra's bitrates are {', '.join(map(str, BITRATES))}",
                                offset=offset, field="bitrate")
        if count == 0:
            raise LyraFileError(".lyra run of 0 packets", offset=offset + 4, field="packet_count")
        offset += _RUN_HEADER.size
        size = packet_size_for_bitrate(bitrate)
        if len(data) - offset < count * size:
            raise LyraFileError(f".lyra run of {count} packets at {bitrate} bps needs {count * size} bytes, the file "
                                f"has {len(data) - offset} left: it is truncated", offset=offset, field="packets")
        packets.extend(data[offset + i * size:offset + (i + 1) * size] for i in range(count))
        runs.append((bitrate, count))
        offset += count * size
    if not runs:
        raise LyraFileError(".lyra file has no run: it holds no encoded packet", offset=offset, field="run")
    return LyraStream(packets=packets, bitrate=runs[0][0], trailing_bytes=0, runs=tuple(runs))


def read_lyra(path, bitrate: int | None = None, *, strict: bool = False) -> LyraStream:
    path = Path(path)
    if not path.is_file():
        raise LyraFileError(f".lyra file {path} does not exist")
    return parse_lyra(path.read_bytes(), bitrate, strict=strict)


def lyra_bytes(packets) -> bytes:
    """Packets of one bitrate: upstream's raw file.  Of several: a file of runs (module docstring)."""
    packets = [bytes(p) for p in packets]
    if len({len(p) for p in packets}) <= 1:
        return b"".join(packets)
    out = bytearray(RUNS_SIGNATURE)
    out.append(RUNS_VERSION)
    start = 0
    while start < len(packets):
        size = len(packets[start])
        end = start + 1
        while end < len(packets) and len(packets[end]) == size and end - start < _MAX_RUN:
            end += 1
        try:
            bitrate = bitrate_for_packet_size(size)
        except LyraError as err:
            raise LyraError(f"packet {start} of {size} bytes is not a Lyra packet: {err}") from err
        out += _RUN_HEADER.pack(bitrate, end - start)
        out += b"".join(packets[start:end])
        start = end
    return bytes(out)


def write_lyra(path, packets) -> None:
    Path(path).write_bytes(lyra_bytes(packets))
