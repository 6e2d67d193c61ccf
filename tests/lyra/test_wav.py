from __future__ import annotations

import struct
import wave

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codeclab.errors import CodeclabError, FormatError, UnsupportedError
from codeclab.lyra.errors import WavError
from codeclab.lyra.wav import read_wav, wav_bytes, write_wav


def test_reads_upstream_samples(testdata):
    for rate in (8, 16, 32, 48):
        audio = read_wav(testdata / f"sample1_{rate}kHz.wav")
        assert audio.sample_rate == rate * 1000
        assert audio.samples.dtype == np.int16
        assert abs(audio.duration_seconds - 3.45) < 0.01


def test_invalid_wav_is_a_format_error(testdata):
    with pytest.raises(WavError, match="RIFF") as info:
        read_wav(testdata / "invalid.wav")
    assert isinstance(info.value, FormatError) and info.value.offset == 0


def test_missing_file(tmp_path):
    with pytest.raises(WavError, match="does not exist"):
        read_wav(tmp_path / "nope.wav")


def test_round_trip(tmp_path):
    x = (np.random.default_rng(0).standard_normal(1000) * 3000).astype(np.int16)
    write_wav(tmp_path / "a.wav", x, 32000)
    audio = read_wav(tmp_path / "a.wav")
    assert audio.sample_rate == 32000 and audio.channels_in_file == 1
    np.testing.assert_array_equal(audio.samples, x)
    # floats in -1..1 are scaled by 32768
    np.testing.assert_array_equal(read_wav(wav_bytes(np.array([0.5, -1.0]), 8000)).samples, [16384, -32768])


def _wav(channels, width, frames: bytes, rate=16000) -> bytes:
    import io

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(frames)
    return buffer.getvalue()


def test_stereo_is_mixed_to_mono():
    left = np.array([1000, -2000, 300], np.int16)
    right = np.array([3000, 2000, 301], np.int16)
    data = _wav(2, 2, np.stack([left, right], 1).astype("<i2").tobytes())
    audio = read_wav(data)
    assert audio.channels_in_file == 2
    np.testing.assert_array_equal(audio.samples, [2000, 0, 300])


def test_24_and_8_bit_pcm():
    values = np.array([0x123456, -0x400000, 5], np.int64)
    raw = b"".join(int(v & 0xFFFFFF).to_bytes(3, "little") for v in values)
    np.testing.assert_array_equal(read_wav(_wav(1, 3, raw)).samples, values >> 8)
    np.testing.assert_array_equal(read_wav(_wav(1, 1, bytes([128, 255, 0]))).samples, [0, 127 << 8, -32768])


def test_16_bit_float_wav_is_unsupported():
    data = bytearray(_wav(1, 2, b"\0\0" * 4))
    fmt = data.index(b"fmt ") + 8
    data[fmt:fmt + 2] = struct.pack("<H", 3)  # WAVE_FORMAT_IEEE_FLOAT with 16-bit samples
    with pytest.raises(UnsupportedError, match="16-bit float WAV samples are not supported"):
        read_wav(bytes(data))


def test_compressed_wav_is_unsupported():
    data = bytearray(_wav(1, 2, b"\0\0" * 4))
    fmt = data.index(b"fmt ") + 8
    data[fmt:fmt + 2] = struct.pack("<H", 7)
    with pytest.raises(UnsupportedError, match=r"WAV format code 7 \(mu-law\) is not supported"):
        read_wav(bytes(data))


def test_truncated_header():
    with pytest.raises(WavError):
        read_wav(_wav(1, 2, b"\0\0" * 10)[:20])


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=80))
def test_fuzz_bytes_give_typed_errors(data):
    try:
        read_wav(b"RIFF" + data)
    except CodeclabError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 60))
def test_fuzz_truncated_real_header(cut):
    data = _wav(1, 2, b"\1\2" * 8)
    try:
        read_wav(data[:cut])
    except CodeclabError:
        pass
