"""Shared image helpers: decode files with Pillow into RGB arrays, and take RGBA from the page.

Runs in CPython and in Pyodide (Pillow 10.2 is loaded by the worker).  The
conversions follow google/attention-center's ``read_one_image``: EXIF
orientation applied, alpha dropped (not composited), grayscale / palette / CMYK
converted by Pillow to RGB.  Where upstream would fail or lose data we do the
correct thing instead: 16-bit grayscale keeps its 16 bits (uint16 result),
two-channel LA images are accepted.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np

from .errors import FormatError, UnsupportedError

#: Larger images are refused (the page downscales anything above 24 MP before sending it).
MAX_PIXELS = 64_000_000

_SIXTEEN_BIT_GRAY = {"I;16", "I;16L", "I;16B", "I;16N", "I"}


class ImageError(FormatError):
    """An image file that cannot be decoded."""


class ImageTooLargeError(UnsupportedError):
    """An image with more pixels than codeclab will decode (a decompression-bomb guard)."""


@dataclass(frozen=True)
class DecodedImage:
    """An image as an [height, width, 3] RGB array (uint8, or uint16 for 16-bit sources)."""

    pixels: np.ndarray
    format: str | None   # Pillow's format name ("JPEG", "PNG", …) or "RGBA" for raw page pixels
    mode: str            # the source's Pillow mode before conversion ("RGB", "P", "CMYK", "I;16", …)
    orientation: int     # EXIF orientation that was applied (1 = none)

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def _check_size(width: int, height: int, max_pixels: int) -> None:
    if width < 1 or height < 1:
        raise ImageError(f"the image has no pixels ({width}x{height})", field="size")
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"the image is {width}x{height} = {width * height / 1e6:.0f} megapixels; "
            f"codeclab decodes at most {max_pixels / 1e6:.0f} megapixels here: downscale it first")


def decode_rgb(data: bytes, *, max_pixels: int = MAX_PIXELS) -> DecodedImage:
    """Decode an image file (any format Pillow reads) to RGB, EXIF orientation applied."""
    from PIL import Image, ImageOps, UnidentifiedImageError  # noqa: PLC0415 (Pillow is optional for other tools)

    if not data:
        raise ImageError("the file is empty", offset=0)
    pillow_limit = Image.MAX_IMAGE_PIXELS
    try:
        # Opening reads only the header; our own limit below (checked before any pixel is
        # decoded) gives a clearer message than Pillow's decompression-bomb error.
        Image.MAX_IMAGE_PIXELS = None
        image = Image.open(io.BytesIO(bytes(data)))
    except UnidentifiedImageError as err:
        raise ImageError("not an image file codeclab can read: it does not start like a PNG, JPEG, WebP, GIF, "
                         "BMP or TIFF file", offset=0) from err
    except Image.DecompressionBombError as err:
        raise ImageTooLargeError(f"the image is too large to decode safely: {err}") from err
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageError(f"the image header is corrupt: {err}", field="header") from err
    finally:
        Image.MAX_IMAGE_PIXELS = pillow_limit
    _check_size(image.width, image.height, max_pixels)
    source_mode = image.mode
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.load()
    except Image.DecompressionBombError as err:
        raise ImageTooLargeError(f"the image is too large to decode safely: {err}") from err
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        kind = "truncated" if "truncated" in str(err).lower() else "corrupt"
        raise ImageError(f"the {image.format or 'image'} data is {kind}: {err}", field="image data") from err
    orientation = _orientation(image)
    if orientation not in (None, 1):
        image = ImageOps.exif_transpose(image)
    return DecodedImage(pixels=_rgb_array(image), format=image.format or getattr(image, "_codeclab_format", None),
                        mode=source_mode, orientation=orientation or 1)


def _orientation(image) -> int | None:
    try:
        value = image.getexif().get(0x0112)
    except Exception:  # noqa: BLE001 (a broken EXIF block must not make the image unusable)
        return None
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else None


def _rgb_array(image) -> np.ndarray:
    """Pillow image -> [h, w, 3] uint8 (or uint16 for 16-bit grayscale), like upstream's convert('RGB')."""
    if image.mode in _SIXTEEN_BIT_GRAY:
        gray = np.asarray(image)
        if gray.dtype != np.uint16:
            gray = np.clip(gray, 0, 65535).astype(np.uint16)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if image.mode == "F":
        gray = np.clip(np.nan_to_num(np.asarray(image, dtype=np.float32)), 0, 255).round().astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if image.mode != "RGB":
        image = image.convert("RGB")  # drops alpha, expands L / P / 1, converts CMYK and YCbCr
    return np.asarray(image, dtype=np.uint8).reshape(image.height, image.width, 3)


def rgba_to_rgb(rgba, width: int, height: int, *, max_pixels: int = MAX_PIXELS) -> DecodedImage:
    """Raw RGBA bytes from a canvas (row-major, 4 bytes a pixel) -> RGB, alpha dropped."""
    width, height = int(width), int(height)
    _check_size(width, height, max_pixels)
    buffer = np.frombuffer(bytes(rgba), dtype=np.uint8) if not isinstance(rgba, np.ndarray) else rgba.reshape(-1).view(np.uint8)
    if buffer.size != width * height * 4:
        raise ImageError(f"expected {width * height * 4} bytes of RGBA for {width}x{height}, got {buffer.size}",
                         field="rgba")
    return DecodedImage(pixels=buffer.reshape(height, width, 4)[:, :, :3], format="RGBA", mode="RGBA", orientation=1)
