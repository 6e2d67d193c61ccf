"""What the texture page calls (through codeclab.browser.adapter): plain bytes
and lists in, JSON-able dicts out.  No ``js`` import here."""

from __future__ import annotations

from . import formats as F
from .info import TextureInfo, describe, primaries_name
from .ktx2 import Ktx2File
from .targets import available_targets, choose_target, unavailable_targets

# Key/value entries that hold text (KTX2 spec section 5.2 and common writers).
TEXT_KEYS = ("KTXorientation", "KTXwriter", "KTXwriterScParams", "KTXswizzle", "KTXdxgiFormat__",
             "KTXmetalPixelFormat")


def value_text(value: bytes) -> str:
    """A key/value value for display: UTF-8 text without its NUL, or hex bytes."""
    text = value[:-1] if value.endswith(b"\0") else value
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        decoded = None
    if decoded is not None and decoded.isprintable():
        return decoded
    return "0x" + value.hex()


def info_dict(info: TextureInfo, name: str = "") -> dict:
    """The JSON description shared by ``inspect`` and the CLI."""
    out = {
        "name": name,
        "container": info.container,
        "file_size": info.file_size,
        "source_format": info.source_format,
        "width": info.width,
        "height": info.height,
        "levels": [
            {
                "level": lv.index,
                "width": lv.width,
                "height": lv.height,
                "byte_length": lv.byte_length,
                "uncompressed_byte_length": lv.uncompressed_byte_length,
            }
            for lv in info.levels
        ],
        "level_count": len(info.levels),
        "has_alpha": info.has_alpha,
        "supercompression": info.supercompression,
        "images": info.images,
        "layers": info.layers,
        "faces": info.faces,
        "srgb": info.srgb,
        "y_flipped": info.y_flipped,
        "key_values": {k: value_text(v) for k, v in info.key_values.items()},
        "rgba_bytes": info.rgba_bytes,
    }
    detail = info.detail
    if isinstance(detail, Ktx2File):
        dfd = detail.dfd
        out["dfd"] = {
            "color_model": dfd.color_model,
            "color_primaries": primaries_name(detail),
            "transfer_function": "srgb" if dfd.srgb else ("linear" if dfd.transfer_function == 1 else dfd.transfer_function),
            "flags": dfd.flags,
            "premultiplied_alpha": dfd.premultiplied_alpha,
            "channels": detail.channel_names,
        }
        if detail.basislz is not None:
            g = detail.basislz
            out["basislz"] = {
                "endpoint_count": g.endpoint_count,
                "selector_count": g.selector_count,
                "endpoints_byte_length": g.endpoints_byte_length,
                "selectors_byte_length": g.selectors_byte_length,
                "tables_byte_length": g.tables_byte_length,
                "image_count": len(g.image_descs),
            }
    elif detail is not None:
        h = detail.header
        out["basis"] = {
            "version": h.version,
            "tex_type": h.tex_type_name,
            "total_images": h.total_images,
            "total_slices": h.total_slices,
            "total_endpoints": h.total_endpoints,
            "total_selectors": h.total_selectors,
            "userdata0": h.userdata0,
            "userdata1": h.userdata1,
        }
    return out


def inspect(data: bytes, name: str = "") -> dict:
    """Describe a dropped .ktx2/.basis file (raises BasisFormatError when malformed)."""
    return info_dict(describe(bytes(data)), name)


def plan(data: bytes, extensions: list[str], force: str | None = None) -> dict:
    """Pick the transcode target for this texture on a context with ``extensions``
    (``force`` names one explicitly) and say what it costs on the GPU."""
    info = describe(bytes(data))
    exts = list(extensions or [])
    count = len(info.levels)
    target = choose_target(exts, info.source_format, info.has_alpha, info.width, info.height, force, count)
    fmt = target.format
    levels = []
    for lv in info.levels:
        # What WebGL is told: the level's own size, except a single block-padded level (see formats).
        upload_width, upload_height = (F.upload_size(fmt, lv.width, lv.height, count) if lv.index == 0
                                       else (lv.width, lv.height))
        levels.append({
            "level": lv.index,
            "width": lv.width,
            "height": lv.height,
            "upload_width": upload_width,
            "upload_height": upload_height,
            "gpu_bytes": F.level_bytes(fmt, lv.width, lv.height) * info.images,
            "rgba_bytes": F.rgba8_bytes(lv.width, lv.height) * info.images,
        })
    gpu_bytes = sum(lv["gpu_bytes"] for lv in levels)
    menu = available_targets(exts, info.source_format, info.has_alpha, info.width, info.height, count)
    return {
        "container": info.container,
        "source_format": info.source_format,
        "width": info.width,
        "height": info.height,
        "level_count": len(levels),
        "images": info.images,
        "has_alpha": info.has_alpha,
        "file_size": info.file_size,
        "target": target.to_dict(),
        "target_format": fmt.name,
        "transcoder_format": fmt.enum_name,
        "transcoder_format_number": fmt.number,
        "gl_internal_format": target.upload.internal_format,
        "levels": levels,
        "gpu_bytes": gpu_bytes,
        "rgba_bytes": info.rgba_bytes,
        "available": [t.to_dict() for t in menu],
        "unavailable": unavailable_targets(exts, info.source_format, info.width, info.height, count),
    }
