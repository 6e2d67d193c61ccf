from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codeclab.errors import FormatError
from codeclab.lyra.errors import LyraError, LyraFileError
from codeclab.lyra.lyrafile import lyra_bytes, parse_lyra, read_lyra, write_lyra


def test_upstream_empty_file(testdata):
    """decoder_main: 'File was empty or incomplete and truncated to empty size.'"""
    with pytest.raises(LyraFileError, match="empty") as info:
        read_lyra(testdata / "no_encoded_packet.lyra", 3200)
    assert isinstance(info.value, FormatError) and isinstance(info.value, LyraError)


def test_upstream_incomplete_file(testdata):
    """9 bytes at 6000 bps (15-byte packets): upstream truncates to nothing and fails."""
    with pytest.raises(LyraFileError, match="less than one 15-byte packet"):
        read_lyra(testdata / "incomplete_encoded_packet.lyra", 6000)
    # Without a bitrate no packet size divides 9 bytes.
    with pytest.raises(LyraFileError, match="truncated"):
        read_lyra(testdata / "incomplete_encoded_packet.lyra")


def test_upstream_incomplete_file_at_3200_drops_trailing_byte(testdata):
    """At 3200 bps the 9 bytes hold one packet plus one byte, which upstream drops with a warning."""
    stream = read_lyra(testdata / "incomplete_encoded_packet.lyra", 3200)
    assert len(stream.packets) == 1 and stream.trailing_bytes == 1
    with pytest.raises(LyraFileError) as info:
        read_lyra(testdata / "incomplete_encoded_packet.lyra", 3200, strict=True)
    assert info.value.offset == 8


def test_round_trip_and_inference(tmp_path):
    packets = [bytes([i] * 15) for i in range(7)]
    write_lyra(tmp_path / "x.lyra", packets)
    stream = read_lyra(tmp_path / "x.lyra")
    assert stream.bitrate == 6000 and stream.packets == packets and stream.trailing_bytes == 0
    with pytest.raises(LyraFileError, match="pass the bitrate"):
        parse_lyra(bytes(120))  # 15 x 8 bytes or 8 x 15 bytes
    assert len(parse_lyra(bytes(120), 3200).packets) == 15
    with pytest.raises(LyraError, match="mixed"):
        lyra_bytes([bytes(8), bytes(15)])
    with pytest.raises(LyraFileError, match="does not exist"):
        read_lyra(tmp_path / "missing.lyra")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=100), st.sampled_from([None, 3200, 6000, 9200]))
def test_fuzz(data, bitrate):
    try:
        stream = parse_lyra(data, bitrate)
    except LyraError:
        return
    size = len(stream.packets[0])
    assert all(len(p) == size for p in stream.packets)
    assert b"".join(stream.packets) + data[len(data) - stream.trailing_bytes:] == data


def test_a_text_file_named_lyra_is_refused_in_plain_words():
    text = ("this is not audio\n" * 20).encode()[:60]  # 60 bytes: four 15-byte "packets" at 6 kbps
    with pytest.raises(LyraFileError, match="text file"):
        parse_lyra(text)


def test_packet_bytes_are_never_taken_for_text():
    import numpy as np

    from codeclab.lyra.lyrafile import looks_like_text

    rng = np.random.default_rng(1)
    for packets in range(1, 400):
        assert not looks_like_text(rng.integers(0, 256, 15 * packets, dtype=np.uint8).tobytes())
