""".basis file parser (BinomialLLC basisu_file_headers.h, file version 0x13).

A 77-byte packed header (little-endian, some fields 3 bytes wide) protected by
a CRC16, followed by data protected by a second CRC16: the slice descriptor
array (23 bytes each), the ETC1S codebooks and Huffman tables, and the slices.
"""

from __future__ import annotations

from dataclasses import dataclass

from .common import MAX_DIMENSION, Reader, blocks, crc16, level_size, max_levels
from .errors import BasisFormatError

SIGNATURE = 0x4273  # bytes b"sB"
SUPPORTED_VERSION = 0x13  # the only version the transcoder accepts (BASISD_SUPPORTED_BASIS_VERSION)
HEADER_SIZE = 77
SLICE_DESC_SIZE = 23

TEX_FORMAT_ETC1S, TEX_FORMAT_UASTC = 0, 1
TEX_FORMAT_NAMES = {TEX_FORMAT_ETC1S: "etc1s", TEX_FORMAT_UASTC: "uastc"}

FLAG_ETC1S = 1
FLAG_Y_FLIPPED = 2
FLAG_HAS_ALPHA_SLICES = 4
FLAG_USES_GLOBAL_CODEBOOK = 8

SLICE_FLAG_HAS_ALPHA = 1
SLICE_FLAG_IFRAME = 2

TEX_TYPE_NAMES = {0: "2d", 1: "2darray", 2: "cubemap", 3: "video", 4: "volume"}
UASTC_BLOCK_BYTES = 16
MAX_LEVELS = 16

# (name, byte width) in file order; offsets are derived so they cannot drift.
_HEADER_FIELDS = (
    ("sig", 2), ("version", 2), ("header_size", 2), ("header_crc16", 2),
    ("data_size", 4), ("data_crc16", 2),
    ("total_slices", 3), ("total_images", 3),
    ("tex_format", 1), ("flags", 2), ("tex_type", 1), ("us_per_frame", 3),
    ("reserved", 4), ("userdata0", 4), ("userdata1", 4),
    ("total_endpoints", 2), ("endpoint_cb_file_ofs", 4), ("endpoint_cb_file_size", 3),
    ("total_selectors", 2), ("selector_cb_file_ofs", 4), ("selector_cb_file_size", 3),
    ("tables_file_ofs", 4), ("tables_file_size", 4),
    ("slice_desc_file_ofs", 4),
    ("extended_file_ofs", 4), ("extended_file_size", 4),
)
_SLICE_FIELDS = (
    ("image_index", 3), ("level_index", 1), ("flags", 1),
    ("orig_width", 2), ("orig_height", 2), ("num_blocks_x", 2), ("num_blocks_y", 2),
    ("file_ofs", 4), ("file_size", 4), ("slice_data_crc16", 2),
)


def _offsets(fields: tuple[tuple[str, int], ...]) -> dict[str, tuple[int, int]]:
    out, pos = {}, 0
    for name, width in fields:
        out[name] = (pos, width)
        pos += width
    return out


HEADER_OFFSETS = _offsets(_HEADER_FIELDS)
SLICE_OFFSETS = _offsets(_SLICE_FIELDS)
assert sum(w for _, w in _HEADER_FIELDS) == HEADER_SIZE
assert sum(w for _, w in _SLICE_FIELDS) == SLICE_DESC_SIZE


@dataclass(frozen=True)
class BasisHeader:
    sig: int
    version: int
    header_size: int
    header_crc16: int
    data_size: int
    data_crc16: int
    total_slices: int
    total_images: int
    tex_format: int
    flags: int
    tex_type: int
    us_per_frame: int
    reserved: int
    userdata0: int
    userdata1: int
    total_endpoints: int
    endpoint_cb_file_ofs: int
    endpoint_cb_file_size: int
    total_selectors: int
    selector_cb_file_ofs: int
    selector_cb_file_size: int
    tables_file_ofs: int
    tables_file_size: int
    slice_desc_file_ofs: int
    extended_file_ofs: int
    extended_file_size: int

    @property
    def source_format(self) -> str:
        return TEX_FORMAT_NAMES[self.tex_format]

    @property
    def y_flipped(self) -> bool:
        return bool(self.flags & FLAG_Y_FLIPPED)

    @property
    def has_alpha_slices(self) -> bool:
        return bool(self.flags & FLAG_HAS_ALPHA_SLICES)

    @property
    def tex_type_name(self) -> str:
        return TEX_TYPE_NAMES[self.tex_type]


@dataclass(frozen=True)
class SliceDesc:
    index: int
    image_index: int
    level_index: int
    flags: int
    orig_width: int
    orig_height: int
    num_blocks_x: int
    num_blocks_y: int
    file_ofs: int
    file_size: int
    # CRC16 of the slice's *unpacked* blocks: for UASTC these are the stored
    # bytes (verified here); for ETC1S it needs a full decode (not verified).
    slice_data_crc16: int

    @property
    def has_alpha(self) -> bool:
        return bool(self.flags & SLICE_FLAG_HAS_ALPHA)


@dataclass(frozen=True)
class BasisImageLevel:
    """One mip level of one image: its colour slice and (ETC1S) alpha slice."""

    image_index: int
    level_index: int
    width: int
    height: int
    rgb: SliceDesc
    alpha: SliceDesc | None

    @property
    def byte_length(self) -> int:
        return self.rgb.file_size + (self.alpha.file_size if self.alpha else 0)


@dataclass(frozen=True)
class BasisFile:
    header: BasisHeader
    slices: tuple[SliceDesc, ...]
    images: tuple[tuple[BasisImageLevel, ...], ...]  # images[i][level]
    file_size: int

    @property
    def source_format(self) -> str:
        return self.header.source_format

    @property
    def has_alpha(self) -> bool:
        return self.header.has_alpha_slices


def _field_at(offsets: dict[str, tuple[int, int]], base: int, name: str) -> int:
    return base + offsets[name][0]


def _header_error(message: str, name: str) -> BasisFormatError:
    return BasisFormatError(message, offset=HEADER_OFFSETS[name][0], field=f"header.{name}")


def parse_basis(data: bytes) -> BasisFile:
    """Parse and validate a .basis file (both CRCs, every slice descriptor)."""
    data = bytes(data)
    reader = Reader(data, ".basis file")
    header = _parse_header(reader)
    _check_header(reader, header)
    slices = tuple(_parse_slice(reader, header, i) for i in range(header.total_slices))
    images = _group_slices(header, slices)
    return BasisFile(header, slices, images, len(data))


def _parse_header(reader: Reader) -> BasisHeader:
    sig = reader.u16(0, "header.sig")
    if sig != SIGNATURE:
        raise _header_error("not a .basis file: signature is not 'sB'", "sig")
    values = {name: reader.uint(off, width, f"header.{name}") for name, (off, width) in HEADER_OFFSETS.items()}
    header = BasisHeader(**values)
    if header.version != SUPPORTED_VERSION:
        raise _header_error(f"unsupported .basis version 0x{header.version:X} (need 0x13)", "version")
    if header.header_size != HEADER_SIZE:
        raise _header_error(f"header_size {header.header_size} is not {HEADER_SIZE}", "header_size")
    actual = crc16(reader.data[8:HEADER_SIZE])
    if actual != header.header_crc16:
        raise _header_error(f"header CRC16 mismatch: stored 0x{header.header_crc16:04X}, "
                            f"computed 0x{actual:04X}", "header_crc16")
    return header


def _check_header(reader: Reader, h: BasisHeader) -> None:
    size = len(reader.data)
    if HEADER_SIZE + h.data_size > size:
        raise _header_error(f"file is truncated: header says {HEADER_SIZE + h.data_size} bytes, "
                            f"file has {size}", "data_size")
    actual = crc16(reader.data[HEADER_SIZE : HEADER_SIZE + h.data_size])
    if actual != h.data_crc16:
        raise _header_error(f"data CRC16 mismatch: stored 0x{h.data_crc16:04X}, computed 0x{actual:04X}",
                            "data_crc16")
    if h.tex_format not in TEX_FORMAT_NAMES:
        raise _header_error(f"unknown tex_format {h.tex_format}", "tex_format")
    if bool(h.flags & FLAG_ETC1S) != (h.tex_format == TEX_FORMAT_ETC1S):
        raise _header_error("ETC1S flag disagrees with tex_format", "flags")
    if h.tex_type not in TEX_TYPE_NAMES:
        raise _header_error(f"unknown tex_type {h.tex_type}", "tex_type")
    if h.total_slices == 0 or h.total_images == 0 or h.total_images > h.total_slices:
        raise _header_error(f"total_images {h.total_images} / total_slices {h.total_slices} are "
                            f"inconsistent", "total_slices")
    if h.tex_format == TEX_FORMAT_ETC1S and h.has_alpha_slices and h.total_slices % 2:
        raise _header_error("ETC1S with alpha needs an even number of slices", "total_slices")
    end = HEADER_SIZE + h.data_size
    _check_range(h, "slice_desc_file_ofs", h.slice_desc_file_ofs, SLICE_DESC_SIZE * h.total_slices, end)
    if h.tex_format == TEX_FORMAT_ETC1S and not h.flags & FLAG_USES_GLOBAL_CODEBOOK:
        _check_range(h, "endpoint_cb_file_ofs", h.endpoint_cb_file_ofs, h.endpoint_cb_file_size, end, True)
        _check_range(h, "selector_cb_file_ofs", h.selector_cb_file_ofs, h.selector_cb_file_size, end, True)
        _check_range(h, "tables_file_ofs", h.tables_file_ofs, h.tables_file_size, end, True)
    if h.extended_file_size:
        _check_range(h, "extended_file_ofs", h.extended_file_ofs, h.extended_file_size, end)


def _check_range(h: BasisHeader, name: str, offset: int, length: int, end: int, required: bool = False) -> None:
    if required and length == 0:
        raise _header_error(f"{name}: region is empty", name)
    if offset < HEADER_SIZE or offset + length > end:
        raise _header_error(f"{name}: region {offset}..{offset + length} lies outside the data "
                            f"{HEADER_SIZE}..{end}", name)


def _parse_slice(reader: Reader, h: BasisHeader, index: int) -> SliceDesc:
    base = h.slice_desc_file_ofs + SLICE_DESC_SIZE * index
    values = {
        name: reader.uint(base + off, width, f"slices[{index}].{name}")
        for name, (off, width) in SLICE_OFFSETS.items()
    }
    desc = SliceDesc(index=index, **values)

    def fail(message: str, name: str) -> BasisFormatError:
        return BasisFormatError(f"slice {index}: {message}", offset=_field_at(SLICE_OFFSETS, base, name),
                          field=f"slices[{index}].{name}")

    if desc.image_index >= h.total_images:
        raise fail(f"image_index {desc.image_index} >= total_images {h.total_images}", "image_index")
    if desc.level_index >= MAX_LEVELS:
        raise fail(f"level_index {desc.level_index} >= {MAX_LEVELS}", "level_index")
    for name in ("orig_width", "orig_height"):
        value = getattr(desc, name)
        if not 1 <= value <= MAX_DIMENSION:
            raise fail(f"{name} {value} is outside 1..{MAX_DIMENSION}", name)
    if desc.num_blocks_x != blocks(desc.orig_width) or desc.num_blocks_y != blocks(desc.orig_height):
        raise fail(f"{desc.num_blocks_x}x{desc.num_blocks_y} blocks do not cover "
                   f"{desc.orig_width}x{desc.orig_height} pixels", "num_blocks_x")
    if desc.file_size == 0:
        raise fail("slice has no data", "file_size")
    if desc.file_ofs < HEADER_SIZE or desc.file_ofs + desc.file_size > HEADER_SIZE + h.data_size:
        raise fail(f"data {desc.file_ofs}..{desc.file_ofs + desc.file_size} lies outside the file", "file_ofs")
    expected_alpha = h.tex_format == TEX_FORMAT_ETC1S and h.has_alpha_slices and index % 2 == 1
    if h.tex_format == TEX_FORMAT_ETC1S and desc.has_alpha != expected_alpha:
        raise fail("alpha flag does not match the slice's place (odd slices are alpha)", "flags")
    if h.tex_format == TEX_FORMAT_UASTC:
        expected = desc.num_blocks_x * desc.num_blocks_y * UASTC_BLOCK_BYTES
        if desc.file_size != expected:
            raise fail(f"UASTC slice must be {expected} bytes, file_size says {desc.file_size}", "file_size")
        actual = crc16(reader.data[desc.file_ofs : desc.file_ofs + desc.file_size])
        if actual != desc.slice_data_crc16:
            raise fail(f"slice CRC16 mismatch: stored 0x{desc.slice_data_crc16:04X}, computed 0x{actual:04X}",
                       "slice_data_crc16")
    return desc


def _group_slices(h: BasisHeader, slices: tuple[SliceDesc, ...]) -> tuple[tuple[BasisImageLevel, ...], ...]:
    """Pair ETC1S colour/alpha slices and check each image's mip chain is whole."""
    step = 2 if h.tex_format == TEX_FORMAT_ETC1S and h.has_alpha_slices else 1
    per_image: list[list[BasisImageLevel]] = [[] for _ in range(h.total_images)]
    for i in range(0, len(slices), step):
        rgb = slices[i]
        alpha = slices[i + 1] if step == 2 else None
        if alpha is not None and (alpha.image_index, alpha.level_index, alpha.orig_width, alpha.orig_height) != (
            rgb.image_index, rgb.level_index, rgb.orig_width, rgb.orig_height
        ):
            raise _slice_error(alpha, "alpha slice does not match its colour slice", "image_index", h)
        chain = per_image[rgb.image_index]
        if rgb.level_index != len(chain):
            raise _slice_error(rgb, f"level {rgb.level_index} out of order (expected {len(chain)})", "level_index", h)
        if chain:
            want = level_size(chain[0].width, chain[0].height, rgb.level_index)
            if (rgb.orig_width, rgb.orig_height) != want:
                raise _slice_error(rgb, f"level {rgb.level_index} is {rgb.orig_width}x{rgb.orig_height}, "
                                   f"a mip of {chain[0].width}x{chain[0].height} is {want[0]}x{want[1]}",
                                   "orig_width", h)
            if rgb.level_index >= max_levels(chain[0].width, chain[0].height):
                raise _slice_error(rgb, "more levels than the image size allows", "level_index", h)
        chain.append(BasisImageLevel(rgb.image_index, rgb.level_index, rgb.orig_width, rgb.orig_height, rgb, alpha))
    for image_index, chain in enumerate(per_image):
        if not chain:
            raise _header_error(f"image {image_index} has no slices", "total_images")
    return tuple(tuple(chain) for chain in per_image)


def _slice_error(desc: SliceDesc, message: str, name: str, h: BasisHeader) -> BasisFormatError:
    base = h.slice_desc_file_ofs + SLICE_DESC_SIZE * desc.index
    return BasisFormatError(f"slice {desc.index}: {message}", offset=_field_at(SLICE_OFFSETS, base, name),
                      field=f"slices[{desc.index}].{name}")
