"""GPU texture formats the Basis transcoder can produce, and their byte sizes.

Enum numbers are basist::transcoder_texture_format as exported by the
basis_transcoder.js shipped in npm three (tests check them against that wasm).
Block sizes are basisu's ``basis_get_bytes_per_block_or_pixel``; GL constants
are the WebGL extension tokens (tests check them against the glInternalFormat
basisu writes into its -unpack KTX files).
"""

from __future__ import annotations

from dataclasses import dataclass

from .common import blocks, level_size

# WebGL / GL constants used when uploading.
GL_RGBA = 0x1908
GL_RGB = 0x1907
GL_UNSIGNED_BYTE = 0x1401
GL_UNSIGNED_SHORT_5_6_5 = 0x8363
GL_UNSIGNED_SHORT_4_4_4_4 = 0x8033
GL_RGBA8 = 0x8058
GL_SRGB8_ALPHA8 = 0x8C43
GL_RGB565 = 0x8D62
GL_RGBA4 = 0x8056

GL_NAMES = {
    0x93B0: "COMPRESSED_RGBA_ASTC_4x4_KHR",
    0x93D0: "COMPRESSED_SRGB8_ALPHA8_ASTC_4x4_KHR",
    0x8E8C: "COMPRESSED_RGBA_BPTC_UNORM_EXT",
    0x8E8D: "COMPRESSED_SRGB_ALPHA_BPTC_UNORM_EXT",
    0x83F0: "COMPRESSED_RGB_S3TC_DXT1_EXT",
    0x83F3: "COMPRESSED_RGBA_S3TC_DXT5_EXT",
    0x8C4C: "COMPRESSED_SRGB_S3TC_DXT1_EXT",
    0x8C4F: "COMPRESSED_SRGB_ALPHA_S3TC_DXT5_EXT",
    0x8DBB: "COMPRESSED_RED_RGTC1_EXT",
    0x8DBD: "COMPRESSED_RED_GREEN_RGTC2_EXT",
    0x9274: "COMPRESSED_RGB8_ETC2",
    0x9275: "COMPRESSED_SRGB8_ETC2",
    0x9278: "COMPRESSED_RGBA8_ETC2_EAC",
    0x9279: "COMPRESSED_SRGB8_ALPHA8_ETC2_EAC",
    0x9270: "COMPRESSED_R11_EAC",
    0x9272: "COMPRESSED_RG11_EAC",
    0x8D64: "COMPRESSED_RGB_ETC1_WEBGL",
    0x8C00: "COMPRESSED_RGB_PVRTC_4BPPV1_IMG",
    0x8C02: "COMPRESSED_RGBA_PVRTC_4BPPV1_IMG",
    GL_RGBA8: "RGBA8",
    GL_SRGB8_ALPHA8: "SRGB8_ALPHA8",
    GL_RGB565: "RGB565",
    GL_RGBA4: "RGBA4",
}

EXT_ASTC = "WEBGL_compressed_texture_astc"
EXT_BPTC = "EXT_texture_compression_bptc"
EXT_S3TC = "WEBGL_compressed_texture_s3tc"
EXT_S3TC_SRGB = "WEBGL_compressed_texture_s3tc_srgb"
EXT_RGTC = "EXT_texture_compression_rgtc"
EXT_ETC = "WEBGL_compressed_texture_etc"
EXT_ETC1 = "WEBGL_compressed_texture_etc1"
EXT_PVRTC = "WEBGL_compressed_texture_pvrtc"


@dataclass(frozen=True)
class Upload:
    """One way to hand transcoded data to WebGL2."""

    extension: str | None  # None: core WebGL2, always available
    internal_format: int
    internal_format_srgb: int | None = None
    srgb_extension: str | None = None  # when sRGB needs its own extension (S3TC)
    format: int | None = None  # texImage2D format/type, uncompressed only
    type: int | None = None


@dataclass(frozen=True)
class GpuFormat:
    """A basist::transcoder_texture_format and how WebGL2 can take it."""

    name: str  # enum name without the cTF prefix, e.g. "BC7_RGBA"
    number: int
    bytes_per_block: int  # for uncompressed formats: bytes per pixel
    compressed: bool
    has_alpha: bool
    sources: frozenset[str]  # which Basis payloads the wasm transcoder can turn into it
    uploads: tuple[Upload, ...]  # in order of preference
    needs_power_of_two: bool = False
    min_blocks: int = 1  # PVRTC1 stores at least 2x2 blocks
    # WebGL's S3TC, RGTC and BPTC extensions refuse a level-0 upload whose sides are not
    # multiples of 4 (INVALID_OPERATION); deeper levels may have any size. A single-level
    # texture can still be uploaded at its block-padded size (three.js's KTX2Loader does so).
    base_multiple_of_four: bool = False

    @property
    def enum_name(self) -> str:
        return "cTF" + self.name


BOTH = frozenset({"etc1s", "uastc"})
UASTC_ONLY = frozenset({"uastc"})

FORMATS: tuple[GpuFormat, ...] = (
    GpuFormat("ETC1_RGB", 0, 8, True, False, BOTH, (
        # ETC1 blocks are valid ETC2 RGB blocks, so WebGL2's ETC2 extension can take them (as three.js does).
        Upload(EXT_ETC, 0x9274, 0x9275),
        Upload(EXT_ETC1, 0x8D64),
    )),
    GpuFormat("ETC2_RGBA", 1, 16, True, True, BOTH, (Upload(EXT_ETC, 0x9278, 0x9279),)),
    GpuFormat("BC1_RGB", 2, 8, True, False, BOTH, (Upload(EXT_S3TC, 0x83F0, 0x8C4C, EXT_S3TC_SRGB),),
              base_multiple_of_four=True),
    GpuFormat("BC3_RGBA", 3, 16, True, True, BOTH, (Upload(EXT_S3TC, 0x83F3, 0x8C4F, EXT_S3TC_SRGB),),
              base_multiple_of_four=True),
    GpuFormat("BC4_R", 4, 8, True, False, BOTH, (Upload(EXT_RGTC, 0x8DBB),),
              base_multiple_of_four=True),
    GpuFormat("BC5_RG", 5, 16, True, False, BOTH, (Upload(EXT_RGTC, 0x8DBD),),
              base_multiple_of_four=True),
    GpuFormat("BC7_RGBA", 6, 16, True, True, BOTH, (Upload(EXT_BPTC, 0x8E8C, 0x8E8D),),
              base_multiple_of_four=True),
    GpuFormat("PVRTC1_4_RGB", 8, 8, True, False, BOTH, (Upload(EXT_PVRTC, 0x8C00),),
              needs_power_of_two=True, min_blocks=2),
    GpuFormat("PVRTC1_4_RGBA", 9, 8, True, True, BOTH, (Upload(EXT_PVRTC, 0x8C02),),
              needs_power_of_two=True, min_blocks=2),
    GpuFormat("ASTC_4x4_RGBA", 10, 16, True, True, BOTH, (Upload(EXT_ASTC, 0x93B0, 0x93D0),)),
    GpuFormat("ETC2_EAC_R11", 20, 8, True, False, UASTC_ONLY, (Upload(EXT_ETC, 0x9270),)),
    GpuFormat("ETC2_EAC_RG11", 21, 16, True, False, UASTC_ONLY, (Upload(EXT_ETC, 0x9272),)),
    GpuFormat("RGBA32", 13, 4, False, True, BOTH,
              (Upload(None, GL_RGBA8, GL_SRGB8_ALPHA8, None, GL_RGBA, GL_UNSIGNED_BYTE),)),
    GpuFormat("RGB565", 14, 2, False, False, BOTH,
              (Upload(None, GL_RGB565, None, None, GL_RGB, GL_UNSIGNED_SHORT_5_6_5),)),
    GpuFormat("RGBA4444", 16, 2, False, True, BOTH,
              (Upload(None, GL_RGBA4, None, None, GL_RGBA, GL_UNSIGNED_SHORT_4_4_4_4),)),
    # BGR565 has no WebGL upload (WebGL has no BGR order); listed for completeness of sizes.
    GpuFormat("BGR565", 15, 2, False, False, BOTH, ()),
)

BY_NAME = {f.name: f for f in FORMATS}
BY_NUMBER = {f.number: f for f in FORMATS}


def lookup(name: str) -> GpuFormat:
    """A format by enum name, with or without the ``cTF`` prefix, any case."""
    key = name.strip()
    if key[:3].lower() == "ctf":
        key = key[3:]
    for fmt in FORMATS:
        if fmt.name.lower() == key.lower():
            return fmt
    raise KeyError(name)


def upload_size(fmt: GpuFormat, width: int, height: int, levels: int) -> tuple[int, int]:
    """The level-0 size to declare to WebGL: block-padded for a single-level texture in a
    format that needs multiple-of-4 sides (the transcoder writes whole blocks anyway)."""
    if fmt.base_multiple_of_four and levels == 1:
        return blocks(width) * 4, blocks(height) * 4
    return width, height


def level_bytes(fmt: GpuFormat, width: int, height: int) -> int:
    """Bytes of one ``width`` x ``height`` image in ``fmt`` (partial blocks round up)."""
    if not fmt.compressed:
        return width * height * fmt.bytes_per_block
    bx = max(blocks(width), fmt.min_blocks)
    by = max(blocks(height), fmt.min_blocks)
    return bx * by * fmt.bytes_per_block


def chain_bytes(fmt: GpuFormat, width: int, height: int, levels: int, images: int = 1) -> int:
    """Bytes of a mip chain of ``levels`` levels, for ``images`` layers/faces."""
    return images * sum(level_bytes(fmt, *level_size(width, height, i)) for i in range(levels))


def rgba8_bytes(width: int, height: int, levels: int = 1, images: int = 1) -> int:
    """What the same texture costs as plain RGBA8 (4 bytes per pixel)."""
    return chain_bytes(BY_NAME["RGBA32"], width, height, levels, images)
