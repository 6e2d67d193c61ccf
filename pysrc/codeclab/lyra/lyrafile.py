"""``.lyra`` files: packets back to back, no header (as upstream's encoder_main writes them).

The file does not record its bitrate; the reader is told it (upstream's
decoder_main takes --bitrate, default 3200) or infers it when exactly one packet
size divides the file length.  Like upstream, trailing bytes that do not make a
whole packet are dropped (reported in ``trailing_bytes``), and a file with no
whole packet is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import BITRATES, packet_size_for_bitrate
from .errors import LyraError, LyraFileError


@dataclass(frozen=True)
class LyraStream:
    packets: list[bytes]
    bitrate: int
    trailing_bytes: int  # bytes at the end that did not make a whole packet (dropped)

    @property
    def duration_seconds(self) -> float:
        return len(self.packets) * 0.02


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
    return LyraStream(packets=packets, bitrate=bitrate, trailing_bytes=trailing)


def read_lyra(path, bitrate: int | None = None, *, strict: bool = False) -> LyraStream:
    path = Path(path)
    if not path.is_file():
        raise LyraFileError(f".lyra file {path} does not exist")
    return parse_lyra(path.read_bytes(), bitrate, strict=strict)


def lyra_bytes(packets) -> bytes:
    packets = [bytes(p) for p in packets]
    if packets and len({len(p) for p in packets}) != 1:
        raise LyraError("a .lyra file holds packets of one bitrate; got mixed packet sizes")
    return b"".join(packets)


def write_lyra(path, packets) -> None:
    Path(path).write_bytes(lyra_bytes(packets))
