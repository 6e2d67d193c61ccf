from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codeclab.errors import CodeclabError
from codeclab.lyra import config
from codeclab.lyra.errors import LyraError
from codeclab.lyra.packet import pack, pack_for_bitrate, unpack


def upstream_style_pack(indices) -> bytes:
    """Upstream's route, step by step: indices -> bit string (first quantizer leftmost) -> bytes,
    the leftmost bits going into the first byte (packet.h Pack with 0 header bits)."""
    bits = "".join(format(int(i), "04b") for i in indices)
    return bytes(int(bits[k:k + 8].ljust(8, "0"), 2) for k in range(0, len(bits), 8))


def test_bitrate_tables_match_upstream():
    assert [config.num_quantizers_for_bitrate(b) for b in (3200, 6000, 9200)] == [16, 30, 46]
    assert [config.packet_size_for_bitrate(b) for b in (3200, 6000, 9200)] == [8, 15, 23]
    assert [config.bitrate_for_packet_size(s) for s in (8, 15, 23)] == [3200, 6000, 9200]
    assert [config.bitrate_for_num_quantizers(n) for n in (16, 30, 46)] == [3200, 6000, 9200]


@pytest.mark.parametrize("bad", [0, 1200, 3000, 6400, 9201])
def test_unsupported_bitrate(bad):
    with pytest.raises(LyraError, match="not supported"):
        config.num_quantizers_for_bitrate(bad)


def test_first_quantizer_in_most_significant_bits():
    indices = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0]
    assert pack(indices) == bytes.fromhex("123456789abcdef0")
    assert unpack(bytes.fromhex("f000000000000000"))[0] == 15
    assert unpack(bytes.fromhex("f000000000000000"))[1:].tolist() == [0] * 15


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([16, 30, 46]).flatmap(lambda n: st.lists(st.integers(0, 15), min_size=n, max_size=n)))
def test_pack_matches_upstream_layout_and_round_trips(indices):
    packet = pack(indices)
    assert packet == upstream_style_pack(indices)
    assert len(packet) == {16: 8, 30: 15, 46: 23}[len(indices)]
    assert unpack(packet).tolist() == indices


@pytest.mark.parametrize("size", [0, 1, 7, 9, 14, 16, 22, 24, 100])
def test_wrong_packet_sizes_are_rejected(size):
    with pytest.raises(LyraError, match=f"{size} bytes is not supported"):
        unpack(bytes(size))
    assert issubclass(LyraError, CodeclabError)


def test_pack_rejects_bad_indices():
    with pytest.raises(LyraError, match="outside 0..15"):
        pack([16] + [0] * 15)
    with pytest.raises(LyraError):
        pack([0] * 17)
    with pytest.raises(LyraError, match="needs 30 indices"):
        pack_for_bitrate(np.zeros(16, int), 6000)


def test_pack_for_bitrate_takes_leading_indices():
    indices = np.arange(46) % 16
    assert unpack(pack_for_bitrate(indices, 3200)).tolist() == indices[:16].tolist()


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=40))
def test_unpack_fuzz(data):
    try:
        indices = unpack(data)
    except LyraError:
        assert len(data) not in (8, 15, 23)
    else:
        assert pack(indices) == data
