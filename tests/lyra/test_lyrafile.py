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


# ---------------------------------------------------------------- files of runs (a bitrate changed)

def _mixed_packets():
    """6 kbps for 40 packets, 3.2 kbps for 60, 9.2 kbps for 5: a stream whose bitrate was changed twice."""
    return ([bytes([i % 251]) * 15 for i in range(40)] + [bytes([i % 7 + 1]) * 8 for i in range(60)]
            + [bytes(range(i, i + 23)) for i in range(5)])


def test_a_stream_whose_bitrate_changed_is_written_as_runs_and_read_back():
    from codeclab.lyra.lyrafile import RUNS_SIGNATURE

    packets = _mixed_packets()
    data = lyra_bytes(packets)
    assert data.startswith(RUNS_SIGNATURE) and len(data) == 9 + 3 * 6 + sum(map(len, packets))
    stream = parse_lyra(data)
    assert stream.packets == packets and stream.trailing_bytes == 0
    assert stream.runs == ((6000, 40), (3200, 60), (9200, 5)) and stream.bitrates == [3200, 6000, 9200]
    assert stream.average_bitrate == pytest.approx(sum(map(len, packets)) * 8 / (105 * 0.02))
    assert stream.describe_bitrate() == "mixed 3.2–9.2 kbps, 4.6 kbps average"  # 1195 bytes in 2.1 s
    # One bitrate stays upstream's raw file, which says only its rate.
    assert lyra_bytes(packets[:40]) == b"".join(packets[:40])
    assert parse_lyra(lyra_bytes(packets[:40]), 6000).describe_bitrate() == "6 kbps"


def test_a_run_longer_than_its_count_field_is_split():
    packets = [bytes(8)] * 70000 + [bytes(15)]
    stream = parse_lyra(lyra_bytes(packets))
    assert stream.runs == ((3200, 65535), (3200, 4465), (6000, 1)) and stream.packets == packets


@pytest.mark.parametrize("edit,field,offset,words", [
    (lambda d: d[:8], "version", 8, "ends after its signature"),
    (lambda d: d[:8] + b"\x02" + d[9:], "version", 8, "version 2"),
    (lambda d: d[:9], "run", 9, "no run"),
    (lambda d: d[:12], "run", 9, "3 bytes into a 6-byte run header"),
    (lambda d: d[:9] + (6100).to_bytes(4, "little") + d[13:], "bitrate", 9, "6100 bps"),
    (lambda d: d[:13] + bytes(2) + d[15:], "packet_count", 13, "0 packets"),
    (lambda d: d[:15 + 40 * 15 - 1], "packets", 15, "truncated"),
    (lambda d: d[:15 + 40 * 15 + 6 + 10], "packets", 15 + 40 * 15 + 6, "needs 480 bytes"),
])
def test_a_damaged_file_of_runs_names_the_field_and_offset(edit, field, offset, words):
    data = edit(lyra_bytes(_mixed_packets()))
    with pytest.raises(LyraFileError, match=words) as info:
        parse_lyra(data)
    assert (info.value.field, info.value.offset) == (field, offset)
    assert isinstance(info.value, FormatError)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([8, 15, 23]), min_size=1, max_size=60), st.randoms(use_true_random=False))
def test_runs_round_trip(sizes, rnd):
    packets = [bytes(rnd.getrandbits(8) for _ in range(size)) for size in sizes]
    stream = parse_lyra(lyra_bytes(packets))
    assert stream.packets == packets
    assert sum(count for _, count in stream.runs) == len(packets)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120), st.integers(0, 200))
def test_fuzz_runs(tail, cut):
    """Any bytes after the signature (or a good file cut anywhere) are read whole or refused with a
    LyraFileError that says where; never another exception, never a packet of the wrong size."""
    from codeclab.lyra.lyrafile import RUNS_SIGNATURE

    for data in (RUNS_SIGNATURE + b"\x01" + tail, lyra_bytes(_mixed_packets())[:cut]):
        try:
            stream = parse_lyra(data)
        except LyraFileError as err:
            assert err.offset is not None and err.field
            continue
        except LyraError:
            continue
        assert sum(map(len, stream.packets)) <= len(data)
        from codeclab.lyra.config import packet_size_for_bitrate
        sizes = [packet_size_for_bitrate(rate) for rate, count in stream.runs for _ in range(count)]
        assert [len(p) for p in stream.packets] == sizes
