"""The parsers agree with what basisu itself reports about files it wrote."""

from __future__ import annotations

import pytest

from codeclab.basis.basisfile import parse_basis
from codeclab.basis.common import crc16, level_size, max_levels
from codeclab.basis.info import describe
from codeclab.basis.ktx2 import COLOR_MODEL_ETC1S, COLOR_MODEL_UASTC, parse_ktx2
from tests.basis.cases import CASES, IMAGES

KTX2_CASES = [c for c in CASES if c.container == "ktx2"]
BASIS_CASES = [c for c in CASES if c.container == "basis"]


def test_crc16_is_basisu_crc16():
    # basisu's crc16 has the CRC-16/GENIBUS parameters; this is that catalogue's check value.
    assert crc16(b"123456789") == 0xD64E
    assert crc16(b"") == 0


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_describe_matches_the_encoding(case, textures):
    info = describe(textures[case.name])
    width, height, _ = IMAGES[case.image]
    assert info.container == case.container
    assert (info.width, info.height) == (width, height)
    assert info.source_format == case.source_format
    assert info.has_alpha == case.has_alpha
    assert info.supercompression == case.supercompression
    assert len(info.levels) == (max_levels(width, height) if case.mipmaps else 1)
    for lv in info.levels:
        assert (lv.width, lv.height) == level_size(width, height, lv.index)
        assert lv.byte_length > 0
    assert info.file_size == len(textures[case.name])
    assert info.rgba_bytes == sum(4 * lv.width * lv.height for lv in info.levels)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_describe_agrees_with_basisu_info(case, textures, basisu_info):
    ref = basisu_info[case.name]
    info = describe(textures[case.name])
    assert (info.width, info.height) == (ref["width"], ref["height"])
    assert len(info.levels) == ref["levels"]
    assert info.source_format == ref["format"]
    assert info.has_alpha == ref["has_alpha"]


@pytest.mark.parametrize("case", KTX2_CASES, ids=lambda c: c.name)
def test_ktx2_fields_agree_with_basisu_info(case, textures, basisu_info):
    ref = basisu_info[case.name]
    ktx = parse_ktx2(textures[case.name])
    h = ktx.header
    assert h.vk_format == 0 and h.type_size == 1
    assert (h.layer_count, h.face_count) == (ref["layers"], ref["faces"])
    assert ktx.supercompression == {"zstandard": "zstd"}.get(ref["scheme"], ref["scheme"])
    assert [(lv.byte_offset, lv.byte_length, lv.uncompressed_byte_length) for lv in ktx.levels] == ref["level_index"]
    # DFD
    assert h.dfd_byte_length == ref["dfd_length"]
    assert ktx.dfd.color_model == ref["color_model"]
    assert ktx.dfd.color_model == (COLOR_MODEL_ETC1S if case.source_format == "etc1s" else COLOR_MODEL_UASTC)
    assert (ktx.dfd.color_primaries, ktx.dfd.transfer_function) == (ref["primaries"], ref["transfer"])
    assert len(ktx.dfd.samples) == ref["samples"]
    assert ktx.channel_names[0] == ref["chan0"]
    if ref["samples"] == 2:
        assert ktx.channel_names[1] == ref["chan1"]
    assert ktx.dfd.texel_block_dimensions[:2] == (4, 4)
    # key/value data
    assert len(ktx.key_values) == ref["key_count"]
    assert ktx.key_values["KTXwriter"].rstrip(b"\0").decode() == ref["writer"]
    # BasisLZ global data
    if case.source_format == "etc1s":
        g = ktx.basislz
        assert (g.endpoint_count, g.selector_count, g.endpoints_byte_length, g.selectors_byte_length,
                g.tables_byte_length, g.extended_byte_length) == ref["etc1s_header"]
        assert [(d.image_flags, d.rgb_slice_byte_offset, d.rgb_slice_byte_length, d.alpha_slice_byte_offset,
                 d.alpha_slice_byte_length) for d in g.image_descs] == ref["image_descs"]
    else:
        assert ktx.basislz is None and ref["etc1s_header"] is None


@pytest.mark.parametrize("case", BASIS_CASES, ids=lambda c: c.name)
def test_basis_fields_agree_with_basisu_info(case, textures, basisu_info):
    ref = basisu_info[case.name]
    bf = parse_basis(textures[case.name])
    h = bf.header
    assert f"{h.version:x}" == ref["version"]
    assert (h.total_slices, h.total_images) == (ref["total_slices"], ref["total_images"])
    assert (h.total_endpoints, h.total_selectors) == (ref["total_endpoints"], ref["total_selectors"])
    assert h.tex_type_name == ref["tex_type"]
    assert (h.y_flipped, h.has_alpha_slices) == (ref["y_flipped"], ref["has_alpha"])
    assert h.y_flipped == ("-y_flip" in case.flags)
    assert describe(textures[case.name]).y_flipped == h.y_flipped
    got = [{"width": s.orig_width, "height": s.orig_height, "bx": s.num_blocks_x, "by": s.num_blocks_y,
            "size": s.file_size, "image": s.image_index, "level": s.level_index, "crc": s.slice_data_crc16,
            "alpha": s.has_alpha} for s in bf.slices]
    assert got == ref["slices"]


def test_etc1s_alpha_slices_are_paired(textures):
    bf = parse_basis(textures["etc1s_64x64a_yflip_mip.basis"])
    assert len(bf.slices) == 2 * len(bf.images[0])
    for level in bf.images[0]:
        assert level.alpha is not None and level.alpha.has_alpha and not level.rgb.has_alpha
        assert level.byte_length == level.rgb.file_size + level.alpha.file_size


def test_ktx2_etc1s_image_descs_fit_their_levels(textures):
    ktx = parse_ktx2(textures["etc1s_512a_mip.ktx2"])
    assert len(ktx.basislz.image_descs) == len(ktx.levels) == 10
    for desc, level in zip(ktx.basislz.image_descs, ktx.levels):
        assert desc.alpha_slice_byte_length > 0
        assert max(desc.rgb_slice_byte_offset + desc.rgb_slice_byte_length,
                   desc.alpha_slice_byte_offset + desc.alpha_slice_byte_length) == level.byte_length


def test_uastc_level_sizes_are_16_bytes_per_block(textures):
    ktx = parse_ktx2(textures["uastc_raw_64x64a_mip.ktx2"])
    for lv in ktx.levels:
        assert lv.byte_length == lv.uncompressed_byte_length == -(-lv.width // 4) * -(-lv.height // 4) * 16
    zstd = parse_ktx2(textures["uastc_zstd_512a.ktx2"])
    assert zstd.levels[0].uncompressed_byte_length == 128 * 128 * 16
    assert zstd.levels[0].byte_length < zstd.levels[0].uncompressed_byte_length
