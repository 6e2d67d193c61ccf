"""WAV read/write with the stdlib ``wave`` module (PCM only).

Reads 8/16/24/32-bit integer PCM, any channel count (mixed down to mono by
averaging), returns int16 samples.  Writes 16-bit PCM mono.  Anything else is a
clear error naming what is wrong.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import WavError, WavUnsupportedError


@dataclass(frozen=True)
class WavAudio:
    samples: np.ndarray  # int16, mono
    sample_rate: int
    channels_in_file: int
    bits_per_sample: int

    @property
    def duration_seconds(self) -> float:
        return self.samples.size / self.sample_rate


def _wave_error(message: str) -> Exception:
    text = str(message)
    if "RIFF" in text:
        return WavError("not a WAV file: it does not start with 'RIFF'", offset=0, field="RIFF id")
    if "WAVE" in text:
        return WavError("not a WAV file: RIFF form type is not 'WAVE'", offset=8, field="WAVE id")
    if "unknown format" in text:
        code = text.rsplit(":", 1)[-1].strip()
        names = {"3": "IEEE float", "6": "A-law", "7": "mu-law", "65534": "WAVE_FORMAT_EXTENSIBLE"}
        return WavUnsupportedError(
            f"WAV format code {code} ({names.get(code, 'compressed')}) is not supported: "
            "save the audio as integer PCM"
        )
    if "fmt chunk" in text or "data chunk" in text:
        return WavError(f"malformed WAV file: {text}", field="fmt/data chunk")
    return WavError(f"malformed WAV file: {text}")



def _pcm_to_int16(raw: bytes, width: int, channels: int) -> np.ndarray:
    raw = raw[: len(raw) // (width * channels) * width * channels]  # a truncated data chunk ends mid-frame
    if width == 1:  # unsigned 8-bit
        data = (np.frombuffer(raw, dtype=np.uint8).astype(np.int32) - 128) << 8
    elif width == 2:
        data = np.frombuffer(raw, dtype="<i2").astype(np.int32)
    elif width == 3:
        triples = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        value = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        data = np.where(value >= 1 << 23, value - (1 << 24), value) >> 8
    elif width == 4:
        data = np.frombuffer(raw, dtype="<i4").astype(np.int64) >> 16
    else:
        raise WavUnsupportedError(f"WAV sample width {width * 8} bits is not supported")
    frames = data.size // channels
    data = np.asarray(data[: frames * channels]).reshape(frames, channels)
    if channels == 1:
        return data[:, 0].astype(np.int16)
    mixed = np.round(data.mean(axis=1))  # mono mix: average of the channels
    return np.clip(mixed, -32768, 32767).astype(np.int16)


def read_wav(source) -> WavAudio:
    """Read a WAV file (path or bytes) into int16 mono samples."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        handle = io.BytesIO(bytes(source))
        name = "WAV data"
    else:
        path = Path(source)
        if not path.is_file():
            raise WavError(f"WAV file {path} does not exist")
        handle = io.BytesIO(path.read_bytes())
        name = str(path)
    try:
        with wave.open(handle, "rb") as reader:
            channels = reader.getnchannels()
            width = reader.getsampwidth()
            rate = reader.getframerate()
            raw = reader.readframes(reader.getnframes())
    except wave.Error as err:
        raise _wave_error(str(err)) from err
    except EOFError as err:
        raise WavError(f"{name} is truncated: the WAV header ends early", field="header") from err
    if channels < 1:
        raise WavError(f"{name}: WAV header says {channels} channels", field="channels")
    if rate <= 0:
        raise WavError(f"{name}: WAV header says sample rate {rate}", field="sample rate")
    samples = _pcm_to_int16(raw, width, channels)
    return WavAudio(samples=samples, sample_rate=rate, channels_in_file=channels, bits_per_sample=width * 8)


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
