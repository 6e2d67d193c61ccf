"""Choosing the transcode target from the WebGL2 context's extensions.

The automatic choice follows three.js's KTX2Loader (examples/jsm/loaders/
KTX2Loader.js, FORMAT_OPTIONS): each option is an extension with a colour and an
alpha transcode target and a priority per source kind; the lowest priority
number whose extension is present wins, skipping options without an alpha
target when the texture has alpha and PVRTC when a side is not a power of two.
RGBA32 is the fallback.  (KTX2Loader also drops ASTC/ETC on desktop Linux with
all four families present, guessing they are emulated; that is a browser-
sniffing heuristic, left to the page: it can pass fewer extensions.)

One rule KTX2Loader lacks: WebGL refuses S3TC, RGTC and BPTC at level 0 unless
both sides are multiples of 4, so for a *mipmapped* texture of another size
those targets are skipped and left out of the menu (a single-level one is
uploaded block-padded, as KTX2Loader does).  ``levels`` defaults to 1, which
keeps the choice exactly KTX2Loader's.

A ``force`` name picks any target the context can upload instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import formats as F
from .errors import BasisUnsupportedError
from .formats import GpuFormat, Upload


@dataclass(frozen=True)
class Option:
    """One row of KTX2Loader's FORMAT_OPTIONS table."""

    key: str
    extension: str | None
    opaque: str  # transcoder target without alpha
    alpha: str | None  # transcoder target with alpha (None: option unusable with alpha)
    priority: dict[str, float]  # "etc1s"/"uastc" -> priority; missing = not offered
    needs_power_of_two: bool = False


OPTIONS: tuple[Option, ...] = (
    Option("astc", F.EXT_ASTC, "ASTC_4x4_RGBA", "ASTC_4x4_RGBA", {"uastc": 1}),
    Option("bptc", F.EXT_BPTC, "BC7_RGBA", "BC7_RGBA", {"etc1s": 3, "uastc": 2}),
    Option("dxt", F.EXT_S3TC, "BC1_RGB", "BC3_RGBA", {"etc1s": 4, "uastc": 5}),
    Option("etc2", F.EXT_ETC, "ETC1_RGB", "ETC2_RGBA", {"etc1s": 1, "uastc": 3}),
    Option("etc1", F.EXT_ETC1, "ETC1_RGB", None, {"etc1s": 2, "uastc": 4}),
    Option("pvrtc", F.EXT_PVRTC, "PVRTC1_4_RGB", "PVRTC1_4_RGBA", {"etc1s": 5, "uastc": 6},
           needs_power_of_two=True),
    Option("rgba32", None, "RGBA32", "RGBA32", {"etc1s": 100, "uastc": 100}),
)

SOURCE_FORMATS = ("etc1s", "uastc")


@dataclass(frozen=True)
class Target:
    """A transcode target and the WebGL2 upload that goes with it."""

    format: GpuFormat
    upload: Upload
    srgb_available: bool
    keeps_alpha: bool  # False when the texture has alpha and this target drops it
    chosen_by: str  # "auto:<option key>" or "force"

    def to_dict(self) -> dict:
        fmt, up = self.format, self.upload
        return {
            "name": fmt.name,
            "transcoder_format": fmt.enum_name,
            "transcoder_format_number": fmt.number,
            "gl_internal_format": up.internal_format,
            "gl_internal_format_name": F.GL_NAMES.get(up.internal_format),
            "gl_internal_format_srgb": up.internal_format_srgb if self.srgb_available else None,
            "gl_format": up.format,
            "gl_type": up.type,
            "extension": up.extension,
            "compressed": fmt.compressed,
            "block_width": 4 if fmt.compressed else 1,
            "block_height": 4 if fmt.compressed else 1,
            "bytes_per_block": fmt.bytes_per_block,
            "has_alpha": fmt.has_alpha,
            "keeps_alpha": self.keeps_alpha,
            "chosen_by": self.chosen_by,
        }


def normalize_extensions(extensions: list[str] | tuple[str, ...] | set[str]) -> frozenset[str]:
    """Extension names without the old WEBKIT_/MOZ_ vendor prefixes."""
    out = set()
    for name in extensions:
        for prefix in ("WEBKIT_", "MOZ_"):
            if name.startswith(prefix):
                name = name[len(prefix):]
        out.add(name)
    return frozenset(out)


def is_power_of_two(value: int) -> bool:
    """KTX2Loader's test: sizes 1 and 2 count as powers of two."""
    return value <= 2 or (value & (value - 1)) == 0


def _check_source(source_format: str) -> None:
    if source_format not in SOURCE_FORMATS:
        raise BasisUnsupportedError(f"unknown Basis source format {source_format!r} (etc1s or uastc)")


def _upload_for(fmt: GpuFormat, exts: frozenset[str], extension: str | None = None) -> Upload | None:
    for upload in fmt.uploads:
        if extension is not None and upload.extension != extension:
            continue
        if upload.extension is None or upload.extension in exts:
            return upload
    return None


def _target(fmt: GpuFormat, upload: Upload, exts: frozenset[str], has_alpha: bool, chosen_by: str) -> Target:
    srgb = upload.internal_format_srgb is not None and (
        upload.srgb_extension is None or upload.srgb_extension in exts
    )
    return Target(fmt, upload, srgb, fmt.has_alpha or not has_alpha, chosen_by)


def _block_rule(fmt: GpuFormat, width: int, height: int, levels: int) -> str | None:
    """Why WebGL would refuse level 0 of this mip chain in ``fmt``, or None."""
    if fmt.base_multiple_of_four and levels > 1 and (width % 4 or height % 4):
        return (f"WebGL takes {fmt.name} with mipmaps only when both sides are multiples of 4, "
                f"texture is {width}x{height}")
    return None


def _fits(fmt: GpuFormat, source_format: str, width: int, height: int, levels: int = 1) -> str | None:
    """Why ``fmt`` cannot be produced for this texture, or None if it can."""
    if source_format not in fmt.sources:
        return f"the transcoder cannot make {fmt.name} from {source_format.upper()}"
    if fmt.needs_power_of_two and not (is_power_of_two(width) and is_power_of_two(height)):
        return f"{fmt.name} needs power-of-two sides, texture is {width}x{height}"
    why = _block_rule(fmt, width, height, levels)
    if why is not None:
        return why
    if not fmt.uploads:
        return f"WebGL cannot upload {fmt.name}"
    return None


def auto_target(extensions, source_format: str, has_alpha: bool, width: int, height: int,
                levels: int = 1) -> Target:
    """The target KTX2Loader would pick."""
    _check_source(source_format)
    exts = normalize_extensions(extensions)
    ranked = sorted((o for o in OPTIONS if source_format in o.priority), key=lambda o: o.priority[source_format])
    for option in ranked:
        if option.extension is not None and option.extension not in exts:
            continue
        if has_alpha and option.alpha is None:
            continue
        if option.needs_power_of_two and not (is_power_of_two(width) and is_power_of_two(height)):
            continue
        fmt = F.BY_NAME[option.alpha if has_alpha else option.opaque]
        if _block_rule(fmt, width, height, levels) is not None:
            continue
        upload = _upload_for(fmt, exts, option.extension)
        if upload is not None:
            return _target(fmt, upload, exts, has_alpha, f"auto:{option.key}")
    raise AssertionError("unreachable: RGBA32 needs no extension")


def available_targets(extensions, source_format: str, has_alpha: bool, width: int, height: int,
                      levels: int = 1) -> list[Target]:
    """Every target this context can upload for this texture (the page's menu),
    in enum order."""
    _check_source(source_format)
    exts = normalize_extensions(extensions)
    out = []
    for fmt in sorted(F.FORMATS, key=lambda f: f.number):
        if _fits(fmt, source_format, width, height, levels) is not None:
            continue
        upload = _upload_for(fmt, exts)
        if upload is not None:
            out.append(_target(fmt, upload, exts, has_alpha, "force"))
    return out


def unavailable_targets(extensions, source_format: str, width: int, height: int,
                        levels: int = 1) -> list[dict]:
    """The targets the menu leaves out, each with why: ``[{"name", "reason"}]`` in enum order."""
    _check_source(source_format)
    exts = normalize_extensions(extensions)
    out = []
    for fmt in sorted(F.FORMATS, key=lambda f: f.number):
        why = _fits(fmt, source_format, width, height, levels)
        if why is None and _upload_for(fmt, exts) is None:
            needed = " or ".join(u.extension for u in fmt.uploads if u.extension)
            why = f"this WebGL2 context lacks {needed}"
        if why is not None:
            out.append({"name": fmt.name, "reason": why})
    return out


def forced_target(name: str, extensions, source_format: str, has_alpha: bool, width: int, height: int,
                  levels: int = 1) -> Target:
    """The named target (``"BC7_RGBA"``, ``"cTFBC7_RGBA"``, ``"rgba32"`` ...) or
    an ``BasisUnsupportedError`` saying why it cannot be used here."""
    _check_source(source_format)
    try:
        fmt = F.lookup(name)
    except KeyError:
        known = ", ".join(f.name for f in F.FORMATS)
        raise BasisUnsupportedError(f"unknown transcode target {name!r}; known: {known}") from None
    why = _fits(fmt, source_format, width, height, levels)
    if why is not None:
        raise BasisUnsupportedError(f"cannot use {fmt.name}: {why}")
    exts = normalize_extensions(extensions)
    upload = _upload_for(fmt, exts)
    if upload is None:
        needed = " or ".join(u.extension for u in fmt.uploads if u.extension)
        raise BasisUnsupportedError(f"cannot use {fmt.name}: this WebGL2 context lacks {needed}")
    return _target(fmt, upload, exts, has_alpha, "force")


def choose_target(extensions, source_format: str, has_alpha: bool, width: int, height: int,
                  force: str | None = None, levels: int = 1) -> Target:
    """``forced_target`` when ``force`` names one (not None/""/"auto"), else ``auto_target``."""
    if force and force.lower() != "auto":
        return forced_target(force, extensions, source_format, has_alpha, width, height, levels)
    return auto_target(extensions, source_format, has_alpha, width, height, levels)
