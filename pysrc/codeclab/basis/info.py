"""``describe``: one container-independent description of a Basis texture."""

from __future__ import annotations

from dataclasses import dataclass, field

from .basisfile import SIGNATURE, BasisFile, parse_basis
from .errors import BasisFormatError
from .formats import rgba8_bytes
from .ktx2 import IDENTIFIER, PRIMARIES_NAMES, Ktx2File, parse_ktx2


@dataclass(frozen=True)
class LevelInfo:
    index: int
    width: int
    height: int
    byte_length: int  # bytes stored in the file for this level (all images)
    uncompressed_byte_length: int | None = None  # KTX2 Zstd/none: the UASTC bytes after inflation


@dataclass(frozen=True)
class TextureInfo:
    container: str  # "ktx2" | "basis"
    source_format: str  # "etc1s" | "uastc"
    width: int
    height: int
    levels: tuple[LevelInfo, ...]
    has_alpha: bool
    supercompression: str  # "basislz" | "zstd" | "zlib" | "none"
    images: int  # layers x faces (KTX2) or images (.basis) sharing this size and mip chain
    layers: int
    faces: int
    srgb: bool | None  # None: .basis files do not record a colour space
    y_flipped: bool
    file_size: int
    key_values: dict[str, bytes] = field(default_factory=dict)
    detail: Ktx2File | BasisFile | None = None

    @property
    def rgba_bytes(self) -> int:
        return rgba8_bytes(self.width, self.height, len(self.levels), self.images)


def detect_container(data: bytes) -> str:
    """``"ktx2"`` or ``"basis"`` from the first bytes; ``BasisFormatError`` otherwise."""
    head = bytes(data[:12])
    if not head:  # worded as every tool words it (codeclab.imaging, codeclab.jxl)
        raise BasisFormatError("the file is empty", offset=0, field="magic")
    if head == IDENTIFIER:
        return "ktx2"
    if len(head) >= 2 and int.from_bytes(head[:2], "little") == SIGNATURE:
        return "basis"
    if head[:4] == IDENTIFIER[:4]:
        raise BasisFormatError("KTX identifier but not KTX 2.0 (KTX 1 files are not supported)",
                         offset=0, field="identifier")
    raise BasisFormatError("neither a KTX2 nor a .basis file (unknown magic bytes)", offset=0, field="magic")


def describe(data: bytes) -> TextureInfo:
    """Parse a KTX2 or .basis file (detected by magic) and describe the texture."""
    container = detect_container(data)
    if container == "ktx2":
        return _describe_ktx2(parse_ktx2(data))
    return _describe_basis(parse_basis(data))


def _describe_ktx2(ktx: Ktx2File) -> TextureInfo:
    h = ktx.header
    if not ktx.is_basis:
        raise BasisFormatError(
            f"KTX2 file holds vkFormat {h.vk_format} (colour model {ktx.dfd.color_model}), "
            "not Basis Universal ETC1S/UASTC data",
            offset=12,
            field="vkFormat",
        )
    levels = tuple(
        LevelInfo(lv.index, lv.width, lv.height, lv.byte_length,
                  lv.uncompressed_byte_length if ktx.source_format == "uastc" else None)
        for lv in ktx.levels
    )
    orientation = ktx.key_values.get("KTXorientation", b"").rstrip(b"\0")
    return TextureInfo(
        container="ktx2",
        source_format=ktx.source_format,
        width=h.pixel_width,
        height=h.pixel_height,
        levels=levels,
        has_alpha=ktx.has_alpha,
        supercompression=ktx.supercompression,
        images=ktx.images_per_level,
        layers=h.layer_count,
        faces=h.face_count,
        srgb=ktx.dfd.srgb,
        # KTXorientation "ru" / "ru..." means rows run bottom-to-top.
        y_flipped=orientation[1:2] == b"u",
        file_size=ktx.file_size,
        key_values=dict(ktx.key_values),
        detail=ktx,
    )


def _describe_basis(bf: BasisFile) -> TextureInfo:
    first = bf.images[0]
    # The page shows image 0; count the other images only when they share its
    # size and mip chain (arrays, cube maps, video) so byte totals stay honest.
    same = sum(
        1 for chain in bf.images
        if len(chain) == len(first) and (chain[0].width, chain[0].height) == (first[0].width, first[0].height)
    )
    levels = tuple(
        LevelInfo(lv.level_index, lv.width, lv.height, lv.byte_length,
                  lv.rgb.num_blocks_x * lv.rgb.num_blocks_y * 16 if bf.source_format == "uastc" else None)
        for lv in first
    )
    h = bf.header
    return TextureInfo(
        container="basis",
        source_format=bf.source_format,
        width=first[0].width,
        height=first[0].height,
        levels=levels,
        has_alpha=bf.has_alpha,
        supercompression="basislz" if bf.source_format == "etc1s" else "none",
        images=same,
        layers=h.total_images if h.tex_type_name in ("2darray", "video", "volume") else 0,
        faces=6 if h.tex_type_name == "cubemap" else 1,
        srgb=None,
        y_flipped=h.y_flipped,
        file_size=bf.file_size,
        detail=bf,
    )


def primaries_name(ktx: Ktx2File) -> str:
    return PRIMARIES_NAMES.get(ktx.dfd.color_primaries, str(ktx.dfd.color_primaries))
