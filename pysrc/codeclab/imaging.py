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


#: Columns converted at a time when a decoded image is read in strips.
STRIP_COLUMNS = 512


class ImageColumns:
    """A decoded Pillow image seen as an [height, width, 3] RGB array (EXIF orientation applied)
    that is converted a strip of columns at a time.

    Memory bound: the attention preprocessing reads the image in column strips, so a 64 MP
    image costs Pillow's own buffer plus one strip -- never a second full-size RGB copy (and
    no full-size copy for the orientation either).  Each strip is exactly the same pixels as
    converting the whole image (every conversion here is per pixel).
    """

    ndim = 3

    def __init__(self, image, orientation: int = 1):
        self.image = image
        self.orientation = orientation
        width, height = image.size
        if orientation in (5, 6, 7, 8):  # a quarter turn swaps the sides
            width, height = height, width
        self.shape = (height, width, 3)
        self.dtype = np.dtype(np.uint16 if image.mode in _SIXTEEN_BIT_GRAY else np.uint8)

    def columns(self, x0: int, x1: int) -> np.ndarray:
        """Columns [x0, x1) of the oriented RGB image."""
        from PIL import Image  # noqa: PLC0415

        src_w, src_h = self.image.size
        x0, x1 = max(0, x0), min(self.shape[1], x1)
        # the source rectangle these output columns come from, and the turn that maps it onto them
        mirrored_cols = (src_w - x1, 0, src_w - x0, src_h)   # output columns from the right
        cols = (x0, 0, x1, src_h)
        rows = (0, x0, src_w, x1)                           # a quarter turn: output columns are rows
        mirrored_rows = (0, src_h - x1, src_w, src_h - x0)
        transpose = Image.Transpose
        box, method = {
            1: (cols, None),
            2: (mirrored_cols, transpose.FLIP_LEFT_RIGHT),
            3: (mirrored_cols, transpose.ROTATE_180),
            4: (cols, transpose.FLIP_TOP_BOTTOM),
            5: (rows, transpose.TRANSPOSE),
            6: (mirrored_rows, transpose.ROTATE_270),
            7: (mirrored_rows, transpose.TRANSVERSE),
            8: (rows, transpose.ROTATE_90),
        }[self.orientation]
        strip = self.image.crop(box)
        if method is not None:
            strip = strip.transpose(method)
        return _rgb_array(strip)

    def __getitem__(self, key):
        if (isinstance(key, tuple) and len(key) == 2 and key[0] == slice(None)
                and isinstance(key[1], slice) and key[1].step in (None, 1)):
            start, stop, _ = key[1].indices(self.shape[1])
            return self.columns(start, stop)
        return self.to_array()[key]

    def to_array(self) -> np.ndarray:
        out = np.empty(self.shape, self.dtype)
        for x0 in range(0, self.shape[1], STRIP_COLUMNS):
            out[:, x0:x0 + STRIP_COLUMNS] = self.columns(x0, x0 + STRIP_COLUMNS)
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        array = self.to_array()
        return array if dtype is None else array.astype(dtype)


@dataclass(frozen=True)
class DecodedImage:
    """An image: ``source`` is an [height, width, 3] RGB array (uint8, or uint16 for 16-bit
    sources) or an :class:`ImageColumns` that the preprocessing reads strip by strip."""

    source: np.ndarray | ImageColumns
    format: str | None   # Pillow's format name ("JPEG", "PNG", …) or "RGBA" for raw page pixels
    mode: str            # the source's Pillow mode before conversion ("RGB", "P", "CMYK", "I;16", …)
    orientation: int     # EXIF orientation that was applied (1 = none)

    @property
    def pixels(self) -> np.ndarray:
        """The whole RGB array (built on first use: a full-size copy)."""
        cached = self.__dict__.get("_pixels")
        if cached is None:
            cached = np.asarray(self.source)
            self.__dict__["_pixels"] = cached
        return cached

    @property
    def width(self) -> int:
        return int(self.source.shape[1])

    @property
    def height(self) -> int:
        return int(self.source.shape[0])


def _check_size(width: int, height: int, max_pixels: int) -> None:
    if width < 1 or height < 1:
        raise ImageError(f"the image has no pixels ({width}x{height})", field="size")
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"the image is {width}x{height} = {width * height / 1e6:.0f} megapixels; "
            f"codeclab decodes at most {max_pixels / 1e6:.0f} megapixels here: downscale it first")


def _real_open_error(data: bytes) -> str | None:
    """Why the format plugins that recognise this file's signature refused it.  Pillow's
    ``open`` swallows their errors (SyntaxError, IndexError, struct.error ...) and reports only
    "cannot identify image file", which hides a damaged PNG chunk behind "not an image"."""
    from PIL import Image  # noqa: PLC0415

    Image.init()
    prefix = bytes(data[:16])
    for name, (factory, accept) in Image.OPEN.items():
        try:
            recognised = accept(prefix) if accept is not None else False
            if not recognised or isinstance(recognised, str):  # a str is Pillow's "looks like it, but" note
                continue
            factory(io.BytesIO(bytes(data)), None)
        except Exception as err:  # noqa: BLE001 (any plugin failure is the reason we report)
            return f"{name}: {_reason(err)}"
    return None


def _reason(err: BaseException) -> str:
    text = str(err) or "no detail"
    return text if isinstance(err, (OSError, SyntaxError, ValueError, EOFError)) else f"{type(err).__name__}: {text}"


def _open_image(data: bytes):
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415

    pillow_limit = Image.MAX_IMAGE_PIXELS
    try:
        # Opening reads only the header; our own limit (checked before any pixel is
        # decoded) gives a clearer message than Pillow's decompression-bomb error.
        Image.MAX_IMAGE_PIXELS = None
        return Image.open(io.BytesIO(bytes(data)))
    except UnidentifiedImageError as err:
        reason = _real_open_error(data)
        if reason is not None:
            raise ImageError(f"the image header is corrupt: {reason}", offset=0, field="header") from err
        raise ImageError("not an image file codeclab can read: it does not start like a PNG, JPEG, WebP, GIF, "
                         "BMP or TIFF file", offset=0) from err
    except Image.DecompressionBombError as err:
        raise ImageTooLargeError(f"the image is too large to decode safely: {err}") from err
    except Exception as err:  # the typed boundary: any Pillow failure on bad data
        raise ImageError(f"the image header is corrupt: {_reason(err)}", field="header") from err
    finally:
        Image.MAX_IMAGE_PIXELS = pillow_limit


def decode_rgb(data: bytes, *, max_pixels: int = MAX_PIXELS) -> DecodedImage:
    """Decode an image file (any format Pillow reads) to RGB, EXIF orientation applied.

    The one error boundary for Pillow: whatever it raises on bad data (OSError, SyntaxError,
    IndexError, TypeError, struct.error, ...) becomes an ImageError carrying the real reason."""
    from PIL import Image  # noqa: PLC0415 (Pillow is optional for other tools)

    if not data:
        raise ImageError("the file is empty", offset=0)
    image = _open_image(data)
    _check_size(image.width, image.height, max_pixels)
    source_mode = image.mode
    stage = "data"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.load()
            stage = "orientation"
            orientation = _orientation(image) or 1
            stage = "pixels"
            source = ImageColumns(image, orientation)
            source.columns(0, 1)  # the conversion to RGB works for this mode (strips come later)
    except Image.DecompressionBombError as err:
        raise ImageTooLargeError(f"the image is too large to decode safely: {err}") from err
    except MemoryError as err:
        raise ImageTooLargeError(f"not enough memory to decode this {image.width}x{image.height} image") from err
    except Exception as err:  # the typed boundary: any Pillow failure on bad data
        kind = "truncated" if "truncated" in str(err).lower() else "corrupt"
        raise ImageError(f"the {image.format or 'image'} {stage} is {kind}: {_reason(err)}",
                         field=f"image {stage}") from err
    return DecodedImage(source=source, format=image.format or getattr(image, "_codeclab_format", None),
                        mode=source_mode, orientation=orientation)


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
    return DecodedImage(source=buffer.reshape(height, width, 4)[:, :, :3], format="RGBA", mode="RGBA", orientation=1)
