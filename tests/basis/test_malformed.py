"""Malformed files give a BasisFormatError naming the field and byte offset."""

from __future__ import annotations

import struct

import pytest

from codeclab.basis.basisfile import HEADER_OFFSETS, HEADER_SIZE, SLICE_DESC_SIZE, SLICE_OFFSETS, parse_basis
from codeclab.basis.common import crc16
from codeclab.basis.errors import BasisFormatError
from codeclab.basis.info import describe
from codeclab.basis.ktx2 import parse_ktx2
from codeclab.errors import FormatError
from tests.basis.cases import CASES

KTX2_NAMES = [c.name for c in CASES if c.container == "ktx2"]
BASIS_NAMES = [c.name for c in CASES if c.container == "basis"]


def expect_error(data: bytes, field: str, offset: int | None = None) -> BasisFormatError:
    with pytest.raises(BasisFormatError) as info:
        describe(data)
    err = info.value
    assert isinstance(err, FormatError)
    assert err.field == field, str(err)
    if offset is not None:
        assert err.offset == offset, str(err)
    assert f"field {field}" in str(err) and "byte offset" in str(err)
    return err


def patch(data: bytes, fmt: str, offset: int, *values) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, *values)
    return bytes(out)


def patch_uint(data: bytes, offset: int, width: int, value: int) -> bytes:
    out = bytearray(data)
    out[offset : offset + width] = value.to_bytes(width, "little")
    return bytes(out)


def fix_basis_crcs(data: bytes) -> bytes:
    """Recompute both .basis CRCs so a deliberate edit reaches the deeper checks."""
    data_size = int.from_bytes(data[8:12], "little")
    out = patch(data, "<H", 12, crc16(data[HEADER_SIZE : HEADER_SIZE + data_size]))
    return patch(out, "<H", 6, crc16(out[8:HEADER_SIZE]))


def ktx2_boundaries(data: bytes) -> set[int]:
    ktx = parse_ktx2(data)
    h = ktx.header
    cuts = {0, 1, 11, 12, 47, 48, 79, 80, 80 + 24 * len(ktx.levels) - 1}
    for start, length in ((h.dfd_byte_offset, h.dfd_byte_length), (h.kvd_byte_offset, h.kvd_byte_length),
                          (h.sgd_byte_offset, h.sgd_byte_length),
                          *((lv.byte_offset, lv.byte_length) for lv in ktx.levels)):
        if length:
            cuts |= {start, start + 1, start + length - 1}
    return {c for c in cuts if c < len(data)}


def basis_boundaries(data: bytes) -> set[int]:
    bf = parse_basis(data)
    h = bf.header
    cuts = {0, 1, 2, 8, 76, HEADER_SIZE, h.slice_desc_file_ofs + SLICE_DESC_SIZE * h.total_slices}
    for start, length in ((h.endpoint_cb_file_ofs, h.endpoint_cb_file_size),
                          (h.selector_cb_file_ofs, h.selector_cb_file_size),
                          (h.tables_file_ofs, h.tables_file_size),
                          *((s.file_ofs, s.file_size) for s in bf.slices)):
        if length:
            cuts |= {start, start + length - 1}
    return {c for c in cuts if c < len(data)} | {len(data) - 1}


# ---------------------------------------------------------------- truncation


@pytest.mark.parametrize("name", KTX2_NAMES)
def test_ktx2_truncated_at_every_region_boundary(name, textures):
    data = textures[name]
    for cut in sorted(ktx2_boundaries(data)):
        with pytest.raises(BasisFormatError) as info:
            describe(data[:cut])
        err = info.value
        assert err.field is not None and err.offset is not None, (cut, str(err))
        if cut == 0:
            assert err.field == "magic"


@pytest.mark.parametrize("name", BASIS_NAMES)
def test_basis_truncated_at_every_region_boundary(name, textures):
    data = textures[name]
    for cut in sorted(basis_boundaries(data)):
        with pytest.raises(BasisFormatError) as info:
            describe(data[:cut])
        err = info.value
        assert err.field is not None and err.offset is not None, (cut, str(err))
        if cut >= HEADER_SIZE:
            assert err.field == "header.data_size" and "truncated" in str(err)


def test_ktx2_truncated_inside_level_data_names_that_level(textures):
    data = textures["uastc_raw_64x64a_mip.ktx2"]
    ktx = parse_ktx2(data)
    level0 = ktx.levels[0]  # largest level, stored last
    expect_error(data[: level0.byte_offset + 5], "levels[0].byteOffset", 80)


# ---------------------------------------------------------------- magic


@pytest.mark.parametrize("name", KTX2_NAMES[:2] + BASIS_NAMES[:2])
def test_wrong_magic(name, textures):
    data = bytearray(textures[name])
    data[0] ^= 0xFF
    expect_error(bytes(data), "magic", 0)


def test_ktx2_identifier_damaged_after_the_first_bytes(textures):
    data = bytearray(textures["etc1s_3x5a.ktx2"])
    data[6] = ord("1")  # «KTX 21»: KTX-like but not version 2.0
    with pytest.raises(BasisFormatError) as info:
        describe(bytes(data))
    assert info.value.field in ("identifier", "magic") and info.value.offset == 0
    with pytest.raises(BasisFormatError) as info:
        parse_ktx2(bytes(data))
    assert info.value.field == "identifier"


def test_ktx1_is_refused_by_name(textures):
    ktx1 = b"\xabKTX 11\xbb\r\n\x1a\n" + bytes(64)
    err = expect_error(ktx1, "identifier", 0)
    assert "KTX 1" in str(err)


def test_empty_and_tiny_inputs():
    with pytest.raises(BasisFormatError, match="^the file is empty") as raised:  # the words every tool uses
        describe(b"")
    assert raised.value.offset == 0
    expect_error(b"s", "magic", 0)
    expect_error(b"sB", "header.version")


# ---------------------------------------------------------------- checksums


@pytest.mark.parametrize("name", BASIS_NAMES)
def test_basis_checksums(name, textures):
    data = textures[name]
    for byte in (6, 7):  # the header CRC itself
        bad = bytearray(data)
        bad[byte] ^= 0x01
        expect_error(bytes(bad), "header.header_crc16", HEADER_OFFSETS["header_crc16"][0])
    bad = bytearray(data)
    bad[20] ^= 0x01  # a header field under the header CRC (us_per_frame / flags area)
    expect_error(bytes(bad), "header.header_crc16")
    for byte in (12, 13):  # the data CRC (fix the header CRC so that check passes)
        bad = bytearray(data)
        bad[byte] ^= 0x01
        expect_error(patch(bytes(bad), "<H", 6, crc16(bytes(bad[8:HEADER_SIZE]))), "header.data_crc16", 12)
    bad = bytearray(data)
    bad[-1] ^= 0x40  # slice data: caught by the data CRC
    expect_error(bytes(bad), "header.data_crc16", 12)


def test_uastc_slice_crc_is_verified(textures):
    data = textures["uastc_64x64a_mip.basis"]
    bf = parse_basis(data)
    slice2 = bf.slices[2]
    bad = bytearray(data)
    bad[slice2.file_ofs + 3] ^= 0x10
    err = expect_error(fix_basis_crcs(bytes(bad)), "slices[2].slice_data_crc16",
                       bf.header.slice_desc_file_ofs + 2 * SLICE_DESC_SIZE + SLICE_OFFSETS["slice_data_crc16"][0])
    assert "CRC16" in str(err)


def test_unsupported_basis_version(textures):
    data = patch(textures["etc1s_1x1.basis"], "<H", 2, 0x10)
    expect_error(fix_basis_crcs(data), "header.version", 2)


# ---------------------------------------------------------------- dimensions


@pytest.mark.parametrize("value", [0, 16385, 100000, 0xFFFFFFFF])
def test_ktx2_absurd_width(value, textures):
    expect_error(patch(textures["etc1s_257x130_mip.ktx2"], "<I", 20, value), "pixelWidth", 20)


def test_ktx2_absurd_height_and_depth(textures):
    data = textures["uastc_zstd_512a.ktx2"]
    expect_error(patch(data, "<I", 24, 1 << 20), "pixelHeight", 24)
    expect_error(patch(data, "<I", 24, 0), "pixelHeight", 24)  # Basis textures are 2-D
    expect_error(patch(data, "<I", 28, 4), "pixelDepth", 28)


def test_ktx2_levels_inconsistent_with_size(textures):
    data = textures["etc1s_257x130_mip.ktx2"]  # 9 levels is the full chain for 257x130
    err = expect_error(patch(data, "<I", 40, 10), "levelCount", 40)
    assert "257x130" in str(err)
    err = expect_error(patch(data, "<I", 20, 64), "levelCount", 40)  # 64x130: 8 levels at most


def test_ktx2_bad_counts(textures):
    data = textures["etc1s_3x5a.ktx2"]
    expect_error(patch(data, "<I", 36, 2), "faceCount", 36)
    expect_error(patch(data, "<I", 36, 6), "faceCount", 36)  # 3x5 cannot be a cube
    expect_error(patch(data, "<I", 32, 1 << 30), "layerCount", 32)
    expect_error(patch(data, "<I", 44, 9), "supercompressionScheme", 44)
    expect_error(patch(data, "<I", 44, 2), "supercompressionScheme", 44)  # ETC1S must be BasisLZ
    expect_error(patch(data, "<I", 16, 4), "typeSize", 16)


@pytest.mark.parametrize("value", [0, 16385, 65535])
def test_basis_absurd_slice_dimensions(value, textures):
    data = textures["uastc_257x130.basis"]
    base = parse_basis(data).header.slice_desc_file_ofs
    off = base + SLICE_OFFSETS["orig_width"][0]
    expect_error(fix_basis_crcs(patch_uint(data, off, 2, value)), "slices[0].orig_width", off)


def test_basis_blocks_must_cover_the_image(textures):
    data = textures["etc1s_257x130_mip.basis"]
    base = parse_basis(data).header.slice_desc_file_ofs
    off = base + SLICE_OFFSETS["num_blocks_x"][0]
    expect_error(fix_basis_crcs(patch_uint(data, off, 2, 64)), "slices[0].num_blocks_x", off)


def test_basis_mip_level_size_inconsistent(textures):
    data = textures["etc1s_257x130_mip.basis"]
    base = parse_basis(data).header.slice_desc_file_ofs + SLICE_DESC_SIZE  # slice 1 = level 1 (128x65)
    bad = patch_uint(data, base + SLICE_OFFSETS["orig_height"][0], 2, 66)
    err = expect_error(fix_basis_crcs(bad), "slices[1].orig_width")
    assert "128x65" in str(err)
    bad = patch_uint(data, base + SLICE_OFFSETS["level_index"][0], 1, 3)
    expect_error(fix_basis_crcs(bad), "slices[1].level_index", base + SLICE_OFFSETS["level_index"][0])


# ---------------------------------------------------------------- offsets and sizes


def test_ktx2_offsets_out_of_range(textures):
    data = textures["etc1s_257x130_mip.ktx2"]
    n = len(data)
    expect_error(patch(data, "<Q", 80, n), "levels[0].byteOffset", 80)
    expect_error(patch(data, "<Q", 80 + 24 * 3, 8), "levels[3].byteOffset", 80 + 24 * 3)  # points into the header
    expect_error(patch(data, "<I", 48, n - 10), "dfdByteOffset", 48)
    expect_error(patch(data, "<I", 56, n), "kvdByteOffset", 56)
    expect_error(patch(data, "<Q", 64, n - 4), "sgdByteOffset", 64)
    expect_error(patch(data, "<Q", 64, 1 << 62), "sgdByteOffset", 64)


def test_ktx2_dfd_inconsistent(textures):
    data = textures["uastc_zstd_1x1.ktx2"]
    dfd = parse_ktx2(data).header.dfd_byte_offset
    expect_error(patch(data, "<I", dfd, 40), "dfdTotalSize", dfd)
    expect_error(patch(data, "<B", dfd + 12, 160), "dfd.colorModel", dfd + 12)
    expect_error(patch(data, "<H", dfd + 10, 41), "dfd.descriptorBlockSize", dfd + 10)


def test_ktx2_key_value_damage(textures):
    data = textures["etc1s_1x1.ktx2"]
    kvd = parse_ktx2(data).header.kvd_byte_offset
    expect_error(patch(data, "<I", kvd, 10_000), "keyAndValueByteLength", kvd)
    no_nul = bytearray(data)
    body = no_nul.index(b"KTXwriter")
    length = struct.unpack_from("<I", data, kvd)[0]
    no_nul[body : body + length] = b"x" * length
    expect_error(bytes(no_nul), "keyAndValue", body)


def test_ktx2_uastc_level_sizes_inconsistent(textures):
    data = textures["uastc_raw_64x64a_mip.ktx2"]
    expect_error(patch(data, "<Q", 80 + 8, 1024), "levels[0].byteLength", 88)  # 64x64 UASTC is 4096 bytes
    expect_error(patch(data, "<Q", 80 + 24 + 16, 999), "levels[1].uncompressedByteLength", 80 + 24 + 16)
    zstd = textures["uastc_zstd_257x130_mip.ktx2"]
    expect_error(patch(zstd, "<Q", 80 + 16, 12345), "levels[0].uncompressedByteLength", 96)
    expect_error(patch(zstd, "<Q", 80 + 8, 0), "levels[0].byteLength", 88)


def test_ktx2_basislz_global_data_inconsistent(textures):
    data = textures["etc1s_512a_mip.ktx2"]
    ktx = parse_ktx2(data)
    sgd = ktx.header.sgd_byte_offset
    expect_error(patch(data, "<I", sgd + 4, ktx.basislz.endpoints_byte_length + 1), "sgdByteLength", 72)
    desc0 = sgd + 20
    expect_error(patch(data, "<I", desc0 + 8, ktx.levels[0].byte_length + 1), "imageDescs[0].rgbSliceByteOffset",
                 desc0 + 4)
    expect_error(patch(data, "<I", desc0 + 16, 0), "imageDescs[0].alphaSliceByteLength", desc0 + 16)
    opaque = textures["etc1s_1x1.ktx2"]
    o_desc = parse_ktx2(opaque).header.sgd_byte_offset + 20
    expect_error(patch(opaque, "<I", o_desc + 16, 1), "imageDescs[0].alphaSliceByteLength", o_desc + 16)


def test_basis_offsets_out_of_range(textures):
    data = textures["etc1s_3x5a.basis"]
    h = parse_basis(data).header
    slice0 = h.slice_desc_file_ofs
    off = slice0 + SLICE_OFFSETS["file_ofs"][0]
    expect_error(fix_basis_crcs(patch_uint(data, off, 4, len(data))), "slices[0].file_ofs", off)
    expect_error(fix_basis_crcs(patch_uint(data, off, 4, 3)), "slices[0].file_ofs", off)  # inside the header
    expect_error(fix_basis_crcs(patch_uint(data, 65, 4, len(data) - 5)), "header.slice_desc_file_ofs", 65)
    expect_error(fix_basis_crcs(patch_uint(data, 41, 4, 1 << 30)), "header.endpoint_cb_file_ofs", 41)
    expect_error(fix_basis_crcs(patch_uint(data, 14, 3, 0)), "header.total_slices", 14)
    expect_error(fix_basis_crcs(patch_uint(data, 20, 1, 7)), "header.tex_format", 20)


def test_basis_uastc_slice_size_inconsistent(textures):
    data = textures["uastc_64x64a_mip.basis"]
    off = parse_basis(data).header.slice_desc_file_ofs + SLICE_OFFSETS["file_size"][0]
    expect_error(fix_basis_crcs(patch_uint(data, off, 4, 4000)), "slices[0].file_size", off)


def test_non_basis_ktx2_is_refused(textures):
    data = patch(textures["uastc_raw_3x5a.ktx2"], "<I", 12, 37)  # VK_FORMAT_R8G8B8A8_UNORM
    ktx = parse_ktx2(data)  # a structurally fine KTX2 ...
    assert not ktx.is_basis and ktx.source_format is None
    expect_error(data, "vkFormat", 12)  # ... but not something the Basis transcoder takes
