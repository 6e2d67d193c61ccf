"""Property tests: mutated and truncated files raise JxlFormatError (with offset and field) or parse
consistently; they never hang and never raise anything else."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeclab.jxl import service
from codeclab.jxl.bitreader import BitReader, BitWriter
from codeclab.jxl.entropy import EntropyDecoder
from codeclab.jxl.errors import JxlFormatError
from codeclab.jxl.toc import TOC_DIST, decode_lehmer, encode_lehmer, read_permutation, read_sizes, write_permutation

FUZZ = settings(max_examples=int(__import__("os").environ.get("JXL_FUZZ_EXAMPLES", 150)), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def small_files(corpus):
    # small files with permuted TOCs, ICC, container and alpha: the interesting parsers
    return {case: corpus.bytes(case) for case in ("rgba", "icc_container", "odd_257x1", "tiny_1x1_container")}


def _exercise(data: bytes) -> None:
    """Every service entry point either works or raises JxlFormatError naming offset and field."""
    try:
        info = service.inspect(data)
    except JxlFormatError as err:
        assert "byte offset" in str(err) or "field" in str(err), str(err)
        return
    for frame in info["frames"]:
        end = frame["data_offset"] + sum(t["size"] for t in frame["toc"])
        assert end <= len(data) or info["container"]
    try:
        result = service.reorder(data, center=[info["width"] / 3, info["height"] / 2])
    except JxlFormatError as err:
        assert "byte offset" in str(err) or "field" in str(err), str(err)
        return
    assert service.inspect(result["data"])["frames"][0]["num_groups"] == info["frames"][0]["num_groups"]
    plan = service.load_plan(data, [0, 0])
    assert 0 <= plan["bytes_to_center"] <= len(data)


@FUZZ
@given(data=st.data())
def test_mutated_files_raise_jxl_error_or_parse(small_files, data):
    name = data.draw(st.sampled_from(sorted(small_files)))
    blob = bytearray(small_files[name])
    # concentrate mutations in the headers and TOC, where the parsers live
    limit = min(len(blob), 700)
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, limit - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    _exercise(bytes(blob))


@FUZZ
@given(data=st.data())
def test_truncated_files_raise_jxl_error(small_files, data):
    name = data.draw(st.sampled_from(sorted(small_files)))
    blob = small_files[name]
    cut = data.draw(st.integers(0, len(blob) - 1))
    with pytest.raises(JxlFormatError) as err:
        service.inspect(blob[:cut])
    assert "byte offset" in str(err.value)


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=0, max_size=300))
def test_random_bytes_after_signature(tail):
    for prefix in (b"\xff\x0a", b"\x00\x00\x00\x0cJXL \x0d\x0a\x87\x0a"):
        try:
            service.inspect(prefix + tail)
        except JxlFormatError as err:
            assert err.offset is not None or err.field is not None


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=0, max_size=200))
def test_entropy_decoder_on_noise(noise):
    br = BitReader(noise)
    try:
        decoder = EntropyDecoder(br, 8, "fuzz")
        for i in range(64):
            decoder.read(br, i % 8)
    except JxlFormatError as err:
        assert err.field and err.field.startswith("fuzz")


@settings(max_examples=200, deadline=None)
@given(st.permutations(list(range(40))).flatmap(lambda p: st.integers(1, 40).map(lambda n: [v for v in p if v < n] or [0])))
def test_permutation_round_trip(order):
    assert decode_lehmer(encode_lehmer(order)) == order
    bw = BitWriter()
    write_permutation(bw, order)
    bw.zero_pad_to_byte()
    br = BitReader(bw.getvalue())
    assert read_permutation(br, len(order)) == order


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, (1 << 30) + 4211711), min_size=1, max_size=20))
def test_toc_size_coding_round_trip(sizes):
    bw = BitWriter()
    for size in sizes:
        bw.u32(TOC_DIST, size)
    bw.zero_pad_to_byte()
    br = BitReader(bw.getvalue())
    assert [br.u32(TOC_DIST) for _ in sizes] == sizes


def test_not_a_jxl_file():
    with pytest.raises(JxlFormatError, match="signature"):
        service.inspect(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(JxlFormatError):
        service.inspect(b"")


@FUZZ
@given(data=st.data())
def test_icc_unprediction_on_mutated_streams(corpus, data):
    from codeclab.jxl.icc import decode_icc
    from codeclab.jxl.sections import parse_file

    stream = bytearray(parse_file(corpus.bytes("icc_container")).codestream.icc_stream)
    for _ in range(data.draw(st.integers(1, 4))):
        stream[data.draw(st.integers(0, len(stream) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(stream)))
    try:
        profile = decode_icc(bytes(stream[:cut]))
    except JxlFormatError as err:
        assert err.field.startswith("icc.")
    else:
        assert isinstance(profile, bytes)


@pytest.mark.parametrize("center", [None, [1], ["a", 2], [float("nan"), 0], [float("inf"), 1]])
def test_bad_centres_are_refused_clearly(small_files, center):
    from codeclab.jxl.errors import JxlUnsupportedError

    with pytest.raises(JxlUnsupportedError, match="center"):
        service.reorder(small_files["rgba"], center=center)
    if center is not None:
        with pytest.raises(JxlUnsupportedError, match="center"):
            service.load_plan(small_files["rgba"], center)
    with pytest.raises(JxlUnsupportedError, match="order"):
        service.reorder(small_files["rgba"], center=[1, 1], order="spiral")


def test_out_of_image_centres_are_clamped(small_files):
    data = small_files["rgba"]
    info = service.inspect(data)
    far = service.reorder(data, center=[1e9, -1e9])["info"]["frames"][0]
    gx = info["frames"][0]["groups_x"]
    assert far["center_group"] == gx - 1  # top-right group


def _sizes_one_by_one(data: bytes, start_bit: int, count: int):
    """The definition: one U32 read per entry; (sizes, end bit) or (error offset and field, None)."""
    br = BitReader(data)
    br.pos = start_bit
    try:
        return [br.u32(TOC_DIST, "toc.size") for _ in range(count)], br.pos
    except JxlFormatError as err:
        return (err.offset, err.field), None


@FUZZ
@given(st.binary(max_size=1200), st.integers(0, 7), st.integers(0, 600))
def test_toc_sizes_read_at_once_are_the_u32_reads(data, shift, count):
    expected, end = _sizes_one_by_one(data, shift, count)
    br = BitReader(data)
    br.pos = shift
    try:
        sizes = read_sizes(br, count)
    except JxlFormatError as err:
        assert end is None and (err.offset, err.field) == expected
    else:
        assert (sizes, br.pos) == (expected, end)
