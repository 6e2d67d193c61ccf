"""WAV variants real tools write (sox: WAVE_FORMAT_EXTENSIBLE, 24/32-bit, float, many channels)
and damaged headers (issue 15): read with a warning where the data is usable, typed errors
otherwise, never a bare exception from a third-party reader."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codeclab.errors import CodeclabError
from codeclab.lyra.wav import FORMAT_EXTENSIBLE, WavError, parse_wav_header, read_wav, wav_bytes

SIGNAL = (np.sin(np.arange(4000) / 7.0) * 20000).astype(np.int16)


@pytest.fixture(scope="session")
def sox() -> str:
    path = shutil.which("sox")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("sox is missing (CI installs it: apt-get install sox)")
        pytest.skip("sox not installed (apt-get install sox)")
    return path


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("wav") / "source.wav"
    path.write_bytes(wav_bytes(SIGNAL, 16000))
    return str(path)


def _sox(sox, source, tmp_path, *options) -> bytes:
    out = tmp_path / "out.wav"
    subprocess.run([sox, "-D", source, *options, str(out)], check=True, capture_output=True)
    return out.read_bytes()


def _format_tag(data: bytes) -> int:
    fmt = data.index(b"fmt ") + 8
    return struct.unpack_from("<H", data, fmt)[0]


@pytest.mark.parametrize("options, exact", [
    (["-b", "24"], True),
    (["-b", "32"], True),
    (["-e", "floating-point", "-b", "32"], True),
    (["-e", "floating-point", "-b", "64"], True),
    (["-c", "3"], True),                    # 3 equal channels average to the source
    (["-b", "24", "-c", "6"], True),
    (["-b", "8"], False),                   # 8-bit keeps the top 8 bits (sox rounds)
])
def test_sox_files_read_as_the_source(sox, source, tmp_path, options, exact):
    data = _sox(sox, source, tmp_path, *options)
    audio = read_wav(data)
    assert audio.sample_rate == 16000 and audio.warnings == ()
    if "-c" in options:
        assert audio.channels_in_file == int(options[options.index("-c") + 1])
    if exact:
        np.testing.assert_array_equal(audio.samples, SIGNAL)
    else:
        assert np.max(np.abs(audio.samples.astype(int) - SIGNAL)) <= 256


def test_sox_24_bit_is_wave_format_extensible(sox, source, tmp_path):
    data = _sox(sox, source, tmp_path, "-b", "24")
    assert _format_tag(data) == FORMAT_EXTENSIBLE  # the case the stdlib `wave` module refused
    header = parse_wav_header(data)
    assert header.extensible and header.bits_per_sample == 24 and header.valid_bits == 24


def _with_chunk(data: bytes, chunk: bytes) -> bytes:
    """``chunk`` inserted after the fmt chunk (RIFF size fixed up)."""
    data_at = data.index(b"data")
    out = data[:data_at] + chunk + data[data_at:]
    return out[:4] + struct.pack("<I", len(out) - 8) + out[8:]


def test_a_chunk_running_past_the_end_is_a_typed_error():
    # the stdlib wave module raised a bare RuntimeError here (8.7 % of damaged WAVs)
    data = wav_bytes(SIGNAL[:10], 8000)
    bad = _with_chunk(data, b"LIST" + struct.pack("<I", 10_000) + b"abcd")
    with pytest.raises(WavError, match=r"chunk 'LIST' of 10000 bytes runs past the end of the file") as caught:
        read_wav(bad)
    assert caught.value.offset == 40 and caught.value.field == "LIST.size"


def test_unknown_chunks_are_skipped():
    data = wav_bytes(SIGNAL[:10], 8000)
    odd = _with_chunk(data, b"junk" + struct.pack("<I", 3) + b"abc\0")  # padded to even
    audio = read_wav(odd)
    np.testing.assert_array_equal(audio.samples, SIGNAL[:10])
    assert audio.warnings == ()


def test_data_chunk_claiming_4_gb_reads_what_is_there_with_a_warning():
    data = bytearray(wav_bytes(SIGNAL[:100], 8000))
    size_at = data.index(b"data") + 4
    data[size_at:size_at + 4] = struct.pack("<I", 0xFFFFFFF0)
    audio = read_wav(bytes(data))
    np.testing.assert_array_equal(audio.samples, SIGNAL[:100])
    assert audio.warnings == ("the data chunk says 4294967280 bytes, the file holds 200: reading what is there",)


def test_riff_size_disagreeing_with_the_file_is_a_warning():
    data = bytearray(wav_bytes(SIGNAL[:100], 8000))
    data[4:8] = struct.pack("<I", 12345)
    audio = read_wav(bytes(data) + b"\0")
    assert audio.samples.size == 100
    assert audio.warnings == ("the RIFF header says the file is 12353 bytes, it is 245",)


def _header_only(channels: int, bits: int, data_bytes: bytes) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, channels, 8000, (8000 * channels * bits // 8) & 0xFFFFFFFF,
                      (channels * bits // 8) & 0xFFFF, bits)  # a 16-bit block align wraps for 65,535 channels
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data_bytes)) + data_bytes
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_65535_channels_and_no_samples_is_an_error():
    # was: 0 samples returned as success
    with pytest.raises(WavError, match=r"the data chunk holds 4 bytes, less than one frame of 65535 channels x 16 bits"):
        read_wav(_header_only(65535, 16, b"\0" * 4))


def test_many_channels_are_mixed_down():
    frames = np.tile(np.arange(-3, 4, dtype=np.int16)[:, None] * 1000, (1, 300))  # 7 frames, 300 channels
    audio = read_wav(_header_only(300, 16, frames.astype("<i2").tobytes()))
    np.testing.assert_array_equal(audio.samples, np.arange(-3, 4) * 1000)


def test_partial_last_frame_is_dropped_with_a_warning():
    audio = read_wav(_header_only(2, 16, b"\1\0\3\0\5\0"))
    np.testing.assert_array_equal(audio.samples, [2])
    assert audio.warnings == ("the data chunk ends 2 bytes into a frame: the partial frame is dropped",)


def test_zero_channels_is_an_error():
    with pytest.raises(WavError, match=r"the WAV header says 0 channels"):
        read_wav(_header_only(0, 16, b"\0" * 4))


def _mutations():
    base = wav_bytes(SIGNAL[:64], 8000)
    positions = st.integers(0, len(base) - 1)
    flip = st.tuples(positions, st.integers(0, 255)).map(lambda pv: base[:pv[0]] + bytes([pv[1]]) + base[pv[0] + 1:])
    huge = st.sampled_from([4, 16, 20, 22, 24, 28, 32, 34, 40]).map(
        lambda at: base[:at] + b"\xff\xff\xff\x7f" + base[at + 4:])
    cut = positions.map(lambda n: base[:n])
    return flip | huge | cut


@settings(max_examples=300, deadline=None)
@given(_mutations())
def test_damaged_wavs_read_or_give_a_typed_error(data):
    try:
        audio = read_wav(data)
    except CodeclabError as err:
        assert str(err)
    else:
        assert audio.samples.dtype == np.int16 and audio.samples.size >= 1


def _encode_frames(frames: np.ndarray, kind: str) -> tuple[bytes, int, int]:
    """[frames, channels] int16 values -> (raw bytes, format code, bits) in the given sample type."""
    wide = frames.astype(np.int64)
    if kind == "u8":
        return ((wide >> 8) + 128).astype(np.uint8).tobytes(), 1, 8
    if kind == "i16":
        return wide.astype("<i2").tobytes(), 1, 16
    if kind == "i24":
        scaled = (wide << 8).reshape(-1)
        return b"".join(int(v & 0xFFFFFF).to_bytes(3, "little") for v in scaled), 1, 24
    if kind == "i32":
        return (wide << 16).astype("<i4").tobytes(), 1, 32
    return (wide / 32768.0).astype("<f4").tobytes(), 3, 32


def _riff(raw: bytes, code: int, bits: int, channels: int, extensible: bool) -> bytes:
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 0xFFFE if extensible else code, channels, 8000, 8000 * block, block, bits)
    if extensible:
        fmt += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", code) + bytes.fromhex("000000001000800000aa00389b71")
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(raw)) + raw
    body += b"\0" * (len(raw) & 1)
    return b"RIFF" + struct.pack("<I", len(body)) + body


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 6).flatmap(lambda c: st.tuples(
           st.just(c), st.lists(st.lists(st.integers(-32768, 32767), min_size=c, max_size=c), min_size=1, max_size=40))),
       st.sampled_from(["u8", "i16", "i24", "i32", "f32"]), st.booleans())
def test_any_pcm_layout_reads_back_as_its_mono_mix(channels_frames, kind, extensible):
    channels, rows = channels_frames
    frames = np.array(rows, dtype=np.int64).reshape(-1, channels)
    raw, code, bits = _encode_frames(frames, kind)
    audio = read_wav(_riff(raw, code, bits, channels, extensible))
    assert audio.warnings == () and audio.channels_in_file == channels and audio.bits_per_sample == bits
    stored = ((frames >> 8) << 8) if kind == "u8" else frames  # 8-bit keeps the top byte
    expected = stored[:, 0] if channels == 1 else np.round(stored.mean(axis=1))
    np.testing.assert_array_equal(audio.samples, np.clip(expected, -32768, 32767).astype(np.int16))
