"""WAV read/write.  Reading parses RIFF itself (the stdlib ``wave`` module refuses
WAVE_FORMAT_EXTENSIBLE and float, and raises bare RuntimeErrors on damaged chunk sizes).

Reads 8-bit unsigned, 16/24/32-bit integer and 32/64-bit float PCM, plain or
WAVE_FORMAT_EXTENSIBLE, any channel count (mixed down to mono by averaging),
and returns int16 samples.  A header whose sizes disagree with the file is read
up to what is there, with a warning; anything unreadable is a typed error naming
the chunk and byte offset.  Writes 16-bit PCM mono (with ``wave``).
"""

from __future__ import annotations

import io
import struct
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import WavError, WavUnsupportedError

FORMAT_PCM = 0x0001
FORMAT_IEEE_FLOAT = 0x0003
FORMAT_EXTENSIBLE = 0xFFFE
FORMAT_NAMES = {0x0002: "MS ADPCM", 0x0006: "A-law", 0x0007: "mu-law", 0x0011: "IMA ADPCM", 0x0055: "MP3"}
#: The tail of every KSDATAFORMAT_SUBTYPE GUID; the first two bytes are the format code.
SUBFORMAT_GUID_TAIL = bytes.fromhex("000000001000800000aa00389b71")
INT_WIDTHS = (8, 16, 24, 32)
FLOAT_WIDTHS = (32, 64)


@dataclass(frozen=True)
class WavHeader:
    """What the RIFF/WAVE chunks say, and where the sample data really is."""

    format_code: int        # PCM or IEEE float (the sub-format for WAVE_FORMAT_EXTENSIBLE)
    extensible: bool
    channels: int
    sample_rate: int
    bits_per_sample: int    # container bits per sample (8, 16, 24, 32, 64)
    valid_bits: int         # significant bits (== bits_per_sample unless extensible says less)
    data_offset: int        # file offset of the first sample byte
    data_size: int          # bytes of samples actually present (after clamping to the file)
    warnings: tuple[str, ...] = ()

    @property
    def bytes_per_frame(self) -> int:
        return self.channels * self.bits_per_sample // 8

    @property
    def is_float(self) -> bool:
        return self.format_code == FORMAT_IEEE_FLOAT


@dataclass(frozen=True)
class WavAudio:
    samples: np.ndarray  # int16, mono
    sample_rate: int
    channels_in_file: int
    bits_per_sample: int
    warnings: tuple[str, ...] = field(default=())

    @property
    def duration_seconds(self) -> float:
        return self.samples.size / self.sample_rate


@dataclass(frozen=True)
class _Format:
    code: int
    extensible: bool
    channels: int
    sample_rate: int
    block_align: int
    bits: int
    valid_bits: int


def _u16(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset:offset + 2], "little")


def _u32(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset:offset + 4], "little")


def _parse_fmt(data: bytes, offset: int, size: int) -> _Format:
    """The ``fmt `` chunk whose payload starts at ``offset``."""
    if size < 16:
        raise WavError(f"the fmt chunk is {size} bytes, at least 16 are needed", offset=offset, field="fmt")
    code, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", data, offset)
    extensible = code == FORMAT_EXTENSIBLE
    valid_bits = bits
    if extensible:
        if size < 40:
            raise WavError(f"a WAVE_FORMAT_EXTENSIBLE fmt chunk is {size} bytes, 40 are needed",
                           offset=offset, field="fmt")
        valid_bits = _u16(data, offset + 18) or bits
        guid = data[offset + 24:offset + 40]
        if guid[2:] != SUBFORMAT_GUID_TAIL:
            raise WavUnsupportedError(f"WAVE_FORMAT_EXTENSIBLE sub-format {guid.hex()} is not PCM or float")
        code = _u16(guid, 0)
    if code not in (FORMAT_PCM, FORMAT_IEEE_FLOAT):
        name = FORMAT_NAMES.get(code, "compressed")
        raise WavUnsupportedError(f"WAV format code {code} ({name}) is not supported: "
                                  "save the audio as integer or float PCM")
    if channels < 1:
        raise WavError(f"the WAV header says {channels} channels", offset=offset + 2, field="fmt.channels")
    if rate < 1:
        raise WavError(f"the WAV header says sample rate {rate}", offset=offset + 4, field="fmt.sample_rate")
    widths = FLOAT_WIDTHS if code == FORMAT_IEEE_FLOAT else INT_WIDTHS
    if bits not in widths:
        kind = "float" if code == FORMAT_IEEE_FLOAT else "integer"
        raise WavUnsupportedError(f"{bits}-bit {kind} WAV samples are not supported "
                                  f"(reads {', '.join(map(str, widths))}-bit {kind})")
    return _Format(code, extensible, channels, rate, block_align, bits, valid_bits)


def parse_wav_header(data: bytes) -> WavHeader:
    """Walks the RIFF chunks once (each step advances at least 8 bytes: linear in the file)."""
    warnings: list[str] = []
    if len(data) < 12:
        raise WavError(f"the file is {len(data)} bytes, too short for a RIFF header", offset=0, field="RIFF header")
    if data[:4] != b"RIFF":
        raise WavError("not a WAV file: it does not start with 'RIFF'", offset=0, field="RIFF id")
    if data[8:12] != b"WAVE":
        raise WavError("not a WAV file: RIFF form type is not 'WAVE'", offset=8, field="WAVE id")
    riff_end = 8 + _u32(data, 4)
    if riff_end != len(data):
        warnings.append(f"the RIFF header says the file is {riff_end} bytes, it is {len(data)}")
    fmt: _Format | None = None
    data_chunk: tuple[int, int] | None = None
    pos = 12
    while pos + 8 <= len(data) and data_chunk is None:
        chunk_id, size = data[pos:pos + 4], _u32(data, pos + 4)
        name = chunk_id.decode("latin-1")
        payload = pos + 8
        if chunk_id == b"data":
            available = len(data) - payload
            if size > available:
                warnings.append(f"the data chunk says {size} bytes, the file holds {available}: "
                                "reading what is there")
                size = available
            data_chunk = (payload, size)
        elif payload + size > len(data):
            raise WavError(f"chunk '{name}' of {size} bytes runs past the end of the file ({len(data)} bytes)",
                           offset=pos + 4, field=f"{name}.size")
        elif chunk_id == b"fmt ":
            fmt = _parse_fmt(data, payload, size)
        pos = payload + size + (size & 1)  # chunks are padded to an even size
    if fmt is None:
        raise WavError("the WAV file has no fmt chunk before its data", offset=12, field="fmt chunk")
    if data_chunk is None:
        raise WavError("the WAV file has no data chunk", offset=pos, field="data chunk")
    frame_bytes = fmt.channels * fmt.bits // 8
    if fmt.block_align != frame_bytes:
        warnings.append(f"the fmt chunk says {fmt.block_align} bytes a frame; "
                        f"{fmt.channels} channels of {fmt.bits} bits are {frame_bytes}")
    offset, size = data_chunk
    if size % frame_bytes:
        warnings.append(f"the data chunk ends {size % frame_bytes} bytes into a frame: the partial frame is dropped")
    if size < frame_bytes:
        raise WavError(f"the data chunk holds {size} bytes, less than one frame of {fmt.channels} channels "
                       f"x {fmt.bits} bits", offset=offset, field="data")
    return WavHeader(fmt.code, fmt.extensible, fmt.channels, fmt.sample_rate, fmt.bits, fmt.valid_bits,
                     offset, size - size % frame_bytes, tuple(warnings))


def _frames_to_float(raw: np.ndarray, header: WavHeader) -> np.ndarray:
    """Samples scaled to int16 units (float64), [frames, channels]."""
    width = header.bits_per_sample
    if header.is_float:
        values = raw.view("<f4" if width == 32 else "<f8").astype(np.float64)
        values = np.nan_to_num(values, nan=0.0, posinf=1.0, neginf=-1.0) * 32768.0
    elif width == 8:
        values = (raw.astype(np.int32) - 128) * 256.0
    elif width == 16:
        values = raw.view("<i2").astype(np.float64)
    elif width == 24:
        triples = raw.reshape(-1, 3).astype(np.int32)
        value = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        values = (np.where(value >= 1 << 23, value - (1 << 24), value) >> 8).astype(np.float64)
    else:
        values = (raw.view("<i4").astype(np.int64) >> 16).astype(np.float64)
    return values.reshape(-1, header.channels)


def decode_samples(data: bytes, header: WavHeader) -> np.ndarray:
    """int16 mono: one channel as is; several averaged (rounded) and clipped."""
    raw = np.frombuffer(data, dtype=np.uint8, count=header.data_size, offset=header.data_offset)
    frames = _frames_to_float(raw, header)
    mixed = frames[:, 0] if header.channels == 1 else frames.mean(axis=1)
    if header.is_float or header.channels > 1:
        mixed = np.round(mixed)
    return np.clip(mixed, -32768, 32767).astype(np.int16)


def read_wav(source) -> WavAudio:
    """Read a WAV file (path or bytes) into int16 mono samples."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise WavError(f"WAV file {path} does not exist")
        data = path.read_bytes()
    header = parse_wav_header(data)
    return WavAudio(samples=decode_samples(data, header), sample_rate=header.sample_rate,
                    channels_in_file=header.channels, bits_per_sample=header.bits_per_sample,
                    warnings=header.warnings)


def to_int16(samples) -> np.ndarray:
    """int16 from int16 or from floats in -1..1 (scaled by 32768 and clipped)."""
    array = np.asarray(samples)
    if array.dtype == np.int16:
        return array.reshape(-1)
    if np.issubdtype(array.dtype, np.floating):
        return np.clip(np.round(array.reshape(-1) * 32768.0), -32768, 32767).astype(np.int16)
    return np.clip(array.reshape(-1), -32768, 32767).astype(np.int16)


def wav_bytes(samples, sample_rate: int) -> bytes:
    """16-bit PCM mono WAV file contents."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(int(sample_rate))
        writer.writeframes(to_int16(samples).astype("<i2").tobytes())
    return buffer.getvalue()


def write_wav(path, samples, sample_rate: int) -> None:
    Path(path).write_bytes(wav_bytes(samples, sample_rate))
