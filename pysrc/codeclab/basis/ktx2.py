"""KTX 2.0 container parser (Khronos KTX 2.0 spec), with the Basis Universal
specifics: the ETC1S (BasisLZ) and UASTC Data Format Descriptors and the
BasisLZ supercompression global data.

Layout (all little-endian):
  0   identifier[12]      «KTX 20»\\r\\n\\x1A\\n
  12  vkFormat, typeSize, pixelWidth, pixelHeight, pixelDepth, layerCount,
      faceCount, levelCount, supercompressionScheme        (9 x u32)
  48  dfdByteOffset, dfdByteLength, kvdByteOffset, kvdByteLength (u32),
      sgdByteOffset, sgdByteLength                          (u64)
  80  level index: levelCount x {byteOffset, byteLength, uncompressedByteLength} (u64)
  then DFD, key/value data, supercompression global data, mip level data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .common import Reader, blocks, check_dimension, level_size, max_levels
from .errors import BasisFormatError

IDENTIFIER = b"\xabKTX 20\xbb\r\n\x1a\n"
HEADER_SIZE = 80
LEVEL_INDEX_ENTRY_SIZE = 24

VK_FORMAT_UNDEFINED = 0  # what every Basis Universal KTX2 declares

SUPERCOMPRESSION_NAMES = {0: "none", 1: "basislz", 2: "zstd", 3: "zlib"}
SUPERCOMPRESSION_NONE, SUPERCOMPRESSION_BASISLZ, SUPERCOMPRESSION_ZSTD = 0, 1, 2

# khr_df_model_e values used by Basis Universal.
COLOR_MODEL_ETC1S = 163
COLOR_MODEL_UASTC = 166

# Channel ids inside the DFD samples (KTX2 spec, section 3.10 / basisu_transcoder.h).
ETC1S_CHANNEL_RGB, ETC1S_CHANNEL_RRR, ETC1S_CHANNEL_GGG, ETC1S_CHANNEL_AAA = 0, 3, 4, 15
UASTC_CHANNEL_RGB, UASTC_CHANNEL_RGBA, UASTC_CHANNEL_RRR, UASTC_CHANNEL_RRRG, UASTC_CHANNEL_RG = 0, 3, 4, 5, 6

ETC1S_CHANNEL_NAMES = {0: "RGB", 3: "RRR", 4: "GGG", 15: "AAA"}
UASTC_CHANNEL_NAMES = {0: "RGB", 3: "RGBA", 4: "RRR", 5: "RRRG", 6: "RG"}

PRIMARIES_NAMES = {0: "unspecified", 1: "bt709", 2: "bt601_ebu", 3: "bt601_smpte", 4: "bt2020",
                   5: "ciexyz", 6: "aces", 7: "acescc", 8: "ntsc1953", 9: "pal525",
                   10: "displayp3", 11: "adobergb"}
TRANSFER_LINEAR, TRANSFER_SRGB = 1, 2
DFD_FLAG_ALPHA_PREMULTIPLIED = 1

UASTC_BLOCK_BYTES = 16
MAX_LAYERS = 2048
DFD_BASIC_BLOCK_HEADER = 24
DFD_SAMPLE_SIZE = 16
BASISLZ_GLOBAL_HEADER = 20
BASISLZ_IMAGE_DESC = 20


@dataclass(frozen=True)
class Ktx2Header:
    vk_format: int
    type_size: int
    pixel_width: int
    pixel_height: int
    pixel_depth: int
    layer_count: int
    face_count: int
    level_count: int  # as stored: 0 means "generate mipmaps at load", one level present
    supercompression_scheme: int
    dfd_byte_offset: int
    dfd_byte_length: int
    kvd_byte_offset: int
    kvd_byte_length: int
    sgd_byte_offset: int
    sgd_byte_length: int

    @property
    def num_levels(self) -> int:
        return max(1, self.level_count)

    @property
    def num_layers(self) -> int:
        return max(1, self.layer_count)


@dataclass(frozen=True)
class Ktx2Level:
    index: int
    width: int
    height: int
    byte_offset: int
    byte_length: int
    uncompressed_byte_length: int


@dataclass(frozen=True)
class DfdSample:
    bit_offset: int
    bit_length: int  # stored value + 1
    channel_id: int
    qualifiers: int  # high nibble of channelType: 0x1 linear, 0x2 exponent, 0x4 signed, 0x8 float
    sample_position: tuple[int, int, int, int]
    sample_lower: int
    sample_upper: int


@dataclass(frozen=True)
class BasicDfd:
    """The Khronos basic data format descriptor block (vendor 0, type 0)."""

    version: int
    color_model: int
    color_primaries: int
    transfer_function: int
    flags: int
    texel_block_dimensions: tuple[int, int, int, int]  # stored value + 1
    bytes_planes: tuple[int, ...]
    samples: tuple[DfdSample, ...]

    @property
    def premultiplied_alpha(self) -> bool:
        return bool(self.flags & DFD_FLAG_ALPHA_PREMULTIPLIED)

    @property
    def srgb(self) -> bool:
        return self.transfer_function == TRANSFER_SRGB


@dataclass(frozen=True)
class Etc1sImageDesc:
    """One BasisLZ image: its RGB slice and optional alpha slice inside its level's data."""

    image_flags: int
    rgb_slice_byte_offset: int
    rgb_slice_byte_length: int
    alpha_slice_byte_offset: int
    alpha_slice_byte_length: int


@dataclass(frozen=True)
class BasisLzGlobalData:
    endpoint_count: int
    selector_count: int
    endpoints_byte_length: int
    selectors_byte_length: int
    tables_byte_length: int
    extended_byte_length: int
    image_descs: tuple[Etc1sImageDesc, ...]


@dataclass(frozen=True)
class Ktx2File:
    header: Ktx2Header
    levels: tuple[Ktx2Level, ...]
    dfd: BasicDfd
    key_values: dict[str, bytes] = field(default_factory=dict)
    basislz: BasisLzGlobalData | None = None
    file_size: int = 0

    @property
    def is_basis(self) -> bool:
        return self.header.vk_format == VK_FORMAT_UNDEFINED and self.dfd.color_model in (
            COLOR_MODEL_ETC1S,
            COLOR_MODEL_UASTC,
        )

    @property
    def source_format(self) -> str | None:
        """``"etc1s"`` or ``"uastc"`` for Basis payloads, else None."""
        if not self.is_basis:
            return None
        return "etc1s" if self.dfd.color_model == COLOR_MODEL_ETC1S else "uastc"

    @property
    def has_alpha(self) -> bool:
        """Alpha as the Basis transcoder (and so three.js's KTX2Loader) sees it:
        ETC1S has a second (alpha) slice exactly when the DFD has two samples;
        UASTC has alpha when the one sample's channel is RGBA or RRRG."""
        samples = self.dfd.samples
        if self.source_format == "etc1s":
            return len(samples) == 2
        if self.source_format == "uastc":
            return bool(samples) and samples[0].channel_id in (UASTC_CHANNEL_RGBA, UASTC_CHANNEL_RRRG)
        return any(s.channel_id == 15 for s in samples)  # generic KHR_DF_CHANNEL_*_ALPHA

    @property
    def channel_names(self) -> list[str]:
        names = ETC1S_CHANNEL_NAMES if self.source_format == "etc1s" else UASTC_CHANNEL_NAMES
        return [names.get(s.channel_id, str(s.channel_id)) for s in self.dfd.samples]

    @property
    def supercompression(self) -> str:
        return SUPERCOMPRESSION_NAMES[self.header.supercompression_scheme]

    @property
    def images_per_level(self) -> int:
        h = self.header
        return h.num_layers * h.face_count * max(1, h.pixel_depth)


# ---------------------------------------------------------------- parsing


def parse_ktx2(data: bytes) -> Ktx2File:
    """Parse and validate a KTX2 file; raises ``BasisFormatError`` on any inconsistency."""
    data = bytes(data)
    reader = Reader(data, "KTX2 file")
    header = _parse_header(reader)
    levels_end = HEADER_SIZE + LEVEL_INDEX_ENTRY_SIZE * header.num_levels
    reader.need(HEADER_SIZE, levels_end - HEADER_SIZE, "levelIndex")
    dfd = _parse_dfd(reader, header, levels_end)
    key_values = _parse_key_values(reader, header)
    _check_basis_header(header, dfd)
    levels = _parse_level_index(reader, header, levels_end)
    basislz = None
    if header.supercompression_scheme == SUPERCOMPRESSION_BASISLZ:
        basislz = _parse_basislz(reader, header, levels, dfd)
    elif header.sgd_byte_length != 0:
        raise BasisFormatError(
            "supercompression global data present without BasisLZ",
            offset=64,
            field="sgdByteLength",
        )
    ktx = Ktx2File(header, levels, dfd, key_values, basislz, len(data))
    if ktx.source_format == "uastc":
        _check_uastc_levels(ktx)
    return ktx


def _parse_header(reader: Reader) -> Ktx2Header:
    ident = reader.bytes(0, 12, "identifier")
    if ident != IDENTIFIER:
        raise BasisFormatError("not a KTX2 file: wrong identifier", offset=0, field="identifier")
    names = ("vkFormat", "typeSize", "pixelWidth", "pixelHeight", "pixelDepth", "layerCount",
             "faceCount", "levelCount", "supercompressionScheme")
    values = {name: reader.u32(12 + 4 * i, name) for i, name in enumerate(names)}
    header = Ktx2Header(
        *values.values(),
        dfd_byte_offset=reader.u32(48, "dfdByteOffset"),
        dfd_byte_length=reader.u32(52, "dfdByteLength"),
        kvd_byte_offset=reader.u32(56, "kvdByteOffset"),
        kvd_byte_length=reader.u32(60, "kvdByteLength"),
        sgd_byte_offset=reader.u64(64, "sgdByteOffset"),
        sgd_byte_length=reader.u64(72, "sgdByteLength"),
    )
    _check_header_sizes(header)
    return header


def _check_header_sizes(h: Ktx2Header) -> None:
    check_dimension(h.pixel_width, "pixelWidth", 20)
    # KTX2 allows height 0 (1-D textures) and depth 0 (not 3-D).
    check_dimension(h.pixel_height, "pixelHeight", 24, allow_zero=True)
    check_dimension(h.pixel_depth, "pixelDepth", 28, allow_zero=True)
    if h.layer_count > MAX_LAYERS:
        raise BasisFormatError(f"layerCount {h.layer_count} exceeds {MAX_LAYERS}", offset=32, field="layerCount")
    if h.face_count not in (1, 6):
        raise BasisFormatError(f"faceCount {h.face_count} must be 1 or 6", offset=36, field="faceCount")
    if h.face_count == 6 and (h.pixel_width != h.pixel_height or h.pixel_depth != 0):
        raise BasisFormatError("cube map faces must be square and 2-D", offset=36, field="faceCount")
    most = max_levels(h.pixel_width, h.pixel_height, h.pixel_depth)
    if h.level_count > most:
        raise BasisFormatError(
            f"levelCount {h.level_count} is more than the {most} levels of a "
            f"{h.pixel_width}x{h.pixel_height} texture",
            offset=40,
            field="levelCount",
        )
    if h.supercompression_scheme not in SUPERCOMPRESSION_NAMES:
        raise BasisFormatError(
            f"unknown supercompressionScheme {h.supercompression_scheme}",
            offset=44,
            field="supercompressionScheme",
        )


def _check_region(reader: Reader, offset: int, length: int, field_name: str, header_offset: int,
                  not_before: int = 0) -> None:
    """A (offset, length) pair from the index must lie inside the file, after the index."""
    if length == 0:
        return
    if offset < not_before:
        raise BasisFormatError(
            f"{field_name} region starts at {offset}, inside the header/index (ends at {not_before})",
            offset=header_offset,
            field=field_name,
        )
    if offset + length > len(reader.data):
        raise BasisFormatError(
            f"{field_name} region {offset}..{offset + length} runs past the end of the "
            f"{len(reader.data)}-byte file",
            offset=header_offset,
            field=field_name,
        )


def _parse_dfd(reader: Reader, header: Ktx2Header, levels_end: int) -> BasicDfd:
    start, length = header.dfd_byte_offset, header.dfd_byte_length
    if length < 4 + DFD_BASIC_BLOCK_HEADER:
        raise BasisFormatError(f"dfdByteLength {length} is too small for a basic descriptor",
                         offset=52, field="dfdByteLength")
    _check_region(reader, start, length, "dfdByteOffset", 48, levels_end)
    total = reader.u32(start, "dfdTotalSize")
    if total != length:
        raise BasisFormatError(f"dfdTotalSize {total} disagrees with dfdByteLength {length}",
                         offset=start, field="dfdTotalSize")
    pos, end = start + 4, start + length
    while pos + 8 <= end:
        word0 = reader.u32(pos, "dfd.vendorId")
        word1 = reader.u32(pos + 4, "dfd.versionNumber")
        block_size = word1 >> 16
        if block_size < 8 or pos + block_size > end:
            raise BasisFormatError(f"descriptorBlockSize {block_size} does not fit in the DFD",
                             offset=pos + 6, field="dfd.descriptorBlockSize")
        if word0 == 0:  # vendor 0 (Khronos), descriptor type 0 (basic)
            return _parse_basic_block(reader, pos, word1 & 0xFFFF, block_size)
        pos += block_size
    raise BasisFormatError("DFD has no basic descriptor block", offset=start, field="dfd")


def _parse_basic_block(reader: Reader, pos: int, version: int, block_size: int) -> BasicDfd:
    if block_size < DFD_BASIC_BLOCK_HEADER or (block_size - DFD_BASIC_BLOCK_HEADER) % DFD_SAMPLE_SIZE:
        raise BasisFormatError(f"basic descriptorBlockSize {block_size} is not 24 + 16 x samples",
                         offset=pos + 6, field="dfd.descriptorBlockSize")
    raw = reader.bytes(pos + 8, 16, "dfd.colorModel")
    samples = []
    for i in range((block_size - DFD_BASIC_BLOCK_HEADER) // DFD_SAMPLE_SIZE):
        at = pos + DFD_BASIC_BLOCK_HEADER + DFD_SAMPLE_SIZE * i
        channel_type = reader.u8(at + 3, f"dfd.samples[{i}].channelType")
        samples.append(
            DfdSample(
                bit_offset=reader.u16(at, f"dfd.samples[{i}].bitOffset"),
                bit_length=reader.u8(at + 2, f"dfd.samples[{i}].bitLength") + 1,
                channel_id=channel_type & 0x0F,
                qualifiers=channel_type >> 4,
                sample_position=tuple(reader.bytes(at + 4, 4, f"dfd.samples[{i}].samplePosition")),
                sample_lower=reader.u32(at + 8, f"dfd.samples[{i}].sampleLower"),
                sample_upper=reader.u32(at + 12, f"dfd.samples[{i}].sampleUpper"),
            )
        )
    return BasicDfd(
        version=version,
        color_model=raw[0],
        color_primaries=raw[1],
        transfer_function=raw[2],
        flags=raw[3],
        texel_block_dimensions=tuple(d + 1 for d in raw[4:8]),
        bytes_planes=tuple(raw[8:16]),
        samples=tuple(samples),
    )


def _parse_key_values(reader: Reader, header: Ktx2Header) -> dict[str, bytes]:
    start, length = header.kvd_byte_offset, header.kvd_byte_length
    _check_region(reader, start, length, "kvdByteOffset", 56, HEADER_SIZE)
    out: dict[str, bytes] = {}
    pos, end = start, start + length
    while pos < end:
        if end - pos < 4:
            raise BasisFormatError("key/value data ends inside a keyAndValueByteLength",
                             offset=pos, field="keyAndValueByteLength")
        size = reader.u32(pos, "keyAndValueByteLength")
        body_start = pos + 4
        if size == 0 or body_start + size > end:
            raise BasisFormatError(f"keyAndValueByteLength {size} does not fit in the key/value data",
                             offset=pos, field="keyAndValueByteLength")
        body = reader.data[body_start : body_start + size]
        nul = body.find(b"\0")
        if nul < 0:
            raise BasisFormatError("key is not NUL-terminated", offset=body_start, field="keyAndValue")
        out[body[:nul].decode("utf-8", "replace")] = body[nul + 1 :]
        # Each entry is padded so the next length field is 4-byte aligned.
        pos = start + ((body_start + size - start + 3) & ~3)
    return out


def _check_basis_header(h: Ktx2Header, dfd: BasicDfd) -> None:
    """Constraints the KTX2 spec (section 3.10.x) puts on Basis Universal payloads."""
    if h.vk_format != VK_FORMAT_UNDEFINED:
        return  # not a Basis payload; nothing more to insist on here
    model = dfd.color_model
    scheme = h.supercompression_scheme
    if model == COLOR_MODEL_ETC1S:
        if scheme != SUPERCOMPRESSION_BASISLZ:
            raise BasisFormatError(f"ETC1S data needs BasisLZ supercompression, not scheme {scheme}",
                             offset=44, field="supercompressionScheme")
        if len(dfd.samples) not in (1, 2):
            raise BasisFormatError(f"ETC1S DFD must have 1 or 2 samples, has {len(dfd.samples)}",
                             offset=h.dfd_byte_offset + 10, field="dfd.samples")
    elif model == COLOR_MODEL_UASTC:
        if scheme not in (SUPERCOMPRESSION_NONE, SUPERCOMPRESSION_ZSTD):
            raise BasisFormatError(f"UASTC data cannot use supercompression scheme {scheme}",
                             offset=44, field="supercompressionScheme")
        if len(dfd.samples) != 1:
            raise BasisFormatError(f"UASTC DFD must have 1 sample, has {len(dfd.samples)}",
                             offset=h.dfd_byte_offset + 10, field="dfd.samples")
    else:
        raise BasisFormatError(
            f"vkFormat is UNDEFINED but DFD colorModel {model} is neither ETC1S (163) nor UASTC (166)",
            offset=h.dfd_byte_offset + 12,
            field="dfd.colorModel",
        )
    if dfd.texel_block_dimensions[:2] != (4, 4):
        raise BasisFormatError(f"Basis texel block must be 4x4, DFD says {dfd.texel_block_dimensions[:2]}",
                         offset=h.dfd_byte_offset + 16, field="dfd.texelBlockDimension")
    if h.type_size != 1:
        raise BasisFormatError(f"typeSize must be 1 for Basis data, is {h.type_size}", offset=16, field="typeSize")
    if h.pixel_height == 0:
        raise BasisFormatError("Basis textures are 2-D: pixelHeight is 0", offset=24, field="pixelHeight")
    if h.pixel_depth != 0:
        raise BasisFormatError("Basis textures cannot be 3-D: pixelDepth is not 0", offset=28, field="pixelDepth")


def _parse_level_index(reader: Reader, h: Ktx2Header, levels_end: int) -> tuple[Ktx2Level, ...]:
    levels = []
    for i in range(h.num_levels):
        at = HEADER_SIZE + LEVEL_INDEX_ENTRY_SIZE * i
        offset = reader.u64(at, f"levels[{i}].byteOffset")
        length = reader.u64(at + 8, f"levels[{i}].byteLength")
        uncompressed = reader.u64(at + 16, f"levels[{i}].uncompressedByteLength")
        if length == 0:
            raise BasisFormatError(f"level {i} has no data", offset=at + 8, field=f"levels[{i}].byteLength")
        _check_region(reader, offset, length, f"levels[{i}].byteOffset", at, levels_end)
        width, height = level_size(h.pixel_width, max(1, h.pixel_height), i)
        levels.append(Ktx2Level(i, width, height, offset, length, uncompressed))
    return tuple(levels)


def _parse_basislz(reader: Reader, h: Ktx2Header, levels: tuple[Ktx2Level, ...],
                   dfd: BasicDfd) -> BasisLzGlobalData:
    start, length = h.sgd_byte_offset, h.sgd_byte_length
    if length < BASISLZ_GLOBAL_HEADER:
        raise BasisFormatError(f"sgdByteLength {length} is too small for BasisLZ global data",
                         offset=72, field="sgdByteLength")
    _check_region(reader, start, length, "sgdByteOffset", 64, HEADER_SIZE)
    counts = [reader.u16(start + 2 * i, name) for i, name in enumerate(("endpointCount", "selectorCount"))]
    names = ("endpointsByteLength", "selectorsByteLength", "tablesByteLength", "extendedByteLength")
    lengths = [reader.u32(start + 4 + 4 * i, name) for i, name in enumerate(names)]
    image_count = len(levels) * h.num_layers * h.face_count
    expected = BASISLZ_GLOBAL_HEADER + BASISLZ_IMAGE_DESC * image_count + sum(lengths)
    if expected != length:
        raise BasisFormatError(
            f"BasisLZ global data of {image_count} images and codebooks needs {expected} bytes, "
            f"sgdByteLength says {length}",
            offset=72,
            field="sgdByteLength",
        )
    has_alpha = len(dfd.samples) == 2
    descs = []
    for i in range(image_count):
        at = start + BASISLZ_GLOBAL_HEADER + BASISLZ_IMAGE_DESC * i
        desc = Etc1sImageDesc(*(reader.u32(at + 4 * k, f"imageDescs[{i}]") for k in range(5)))
        level = levels[i // (h.num_layers * h.face_count)]
        _check_slice(desc.rgb_slice_byte_offset, desc.rgb_slice_byte_length, level, at + 4,
                     f"imageDescs[{i}].rgbSlice", required=True)
        _check_slice(desc.alpha_slice_byte_offset, desc.alpha_slice_byte_length, level, at + 12,
                     f"imageDescs[{i}].alphaSlice", required=has_alpha)
        descs.append(desc)
    return BasisLzGlobalData(*counts, *lengths, image_descs=tuple(descs))


def _check_slice(offset: int, length: int, level: Ktx2Level, at: int, name: str, *, required: bool) -> None:
    if required and length == 0:
        raise BasisFormatError(f"{name} is empty", offset=at + 4, field=f"{name}ByteLength")
    if not required and length != 0:
        raise BasisFormatError(f"{name} present but the DFD declares no alpha", offset=at + 4,
                         field=f"{name}ByteLength")
    if offset + length > level.byte_length:
        raise BasisFormatError(
            f"{name} {offset}..{offset + length} runs past level {level.index}'s "
            f"{level.byte_length} bytes",
            offset=at,
            field=f"{name}ByteOffset",
        )


def _check_uastc_levels(ktx: Ktx2File) -> None:
    """UASTC is 16 bytes per 4x4 block, so every level's (uncompressed) size is known."""
    scheme = ktx.header.supercompression_scheme
    for level in ktx.levels:
        expected = blocks(level.width) * blocks(level.height) * UASTC_BLOCK_BYTES * ktx.images_per_level
        at = HEADER_SIZE + LEVEL_INDEX_ENTRY_SIZE * level.index
        if level.uncompressed_byte_length != expected:
            raise BasisFormatError(
                f"level {level.index} ({level.width}x{level.height}) holds {expected} bytes of UASTC "
                f"blocks, uncompressedByteLength says {level.uncompressed_byte_length}",
                offset=at + 16,
                field=f"levels[{level.index}].uncompressedByteLength",
            )
        if scheme == SUPERCOMPRESSION_NONE and level.byte_length != expected:
            raise BasisFormatError(
                f"uncompressed level {level.index} must be {expected} bytes, byteLength says "
                f"{level.byte_length}",
                offset=at + 8,
                field=f"levels[{level.index}].byteLength",
            )
