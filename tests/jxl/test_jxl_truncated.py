"""A truncated JPEG XL file is shown for what its bytes hold (issue 18), not refused; an empty one says "empty"."""

from __future__ import annotations

import pytest

from codeclab.errors import FormatError
from codeclab.jxl import service
from codeclab.jxl.errors import JxlFormatError


@pytest.mark.parametrize("case", ["vardct_center", "progressive", "icc_container", "lossless_g128", "tiny_1x1"])
def test_a_whole_file_is_not_truncated(corpus, case):
    data = corpus.bytes(case)
    assert service.truncation(data) == {"truncated": False, "size": len(data)}


@pytest.mark.parametrize("case", ["vardct_center", "icc_container"])
def test_groups_complete_grow_with_the_bytes_and_match_the_load_plan(corpus, case):
    """Cut at every group's completion byte: exactly the groups the whole file's load plan says are complete."""
    data = corpus.bytes(case)
    plan = service.load_plan(data, [10.0, 10.0])
    cuts = sorted({g["complete_at"] for g in plan["groups"]} - {len(data)})[:6] + [plan["lf_complete_at"] - 1]
    for cut in cuts:
        summary = service.truncation(data[:cut])
        assert summary["truncated"] is True and summary["size"] == cut
        assert summary["expected_size"] == len(data)
        expected = {g["group"] for g in plan["groups"] if g["complete_at"] <= cut}
        assert {g["group"] for g in summary["groups"] if g["complete"]} == expected, cut
        assert summary["lf_complete"] is (cut >= plan["lf_complete_at"])
        assert [g["rect"] for g in summary["groups"]] == [g["rect"] for g in plan["groups"]]


def test_a_file_cut_inside_its_toc_keeps_the_parsers_error(corpus):
    data = corpus.bytes("vardct_center")[:40]
    with pytest.raises(JxlFormatError) as whole:
        service.inspect(data)
    with pytest.raises(JxlFormatError) as raised:
        service.truncation(data)
    assert str(raised.value) == str(whole.value)


def test_other_damage_is_still_an_error(corpus):
    data = bytearray(corpus.bytes("vardct_center"))
    data[0] = 0x00
    with pytest.raises(JxlFormatError, match="not a JPEG XL file"):
        service.truncation(bytes(data))


def test_an_empty_file_says_empty():
    for call in (service.inspect, service.truncation):
        with pytest.raises(JxlFormatError) as raised:
            call(b"")
        assert isinstance(raised.value, FormatError) and raised.value.plain_message == "the file is empty (0 bytes)"
