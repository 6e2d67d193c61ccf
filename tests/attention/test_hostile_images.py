"""Issue 15: every Pillow failure on bad data is an ImageError with the real reason, and
odd-but-valid images (600x1 with the fallback predictor) do not crash."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from codeclab.attention.predict import predict_pixels
from codeclab.errors import UnsupportedError
from codeclab.imaging import ImageError, decode_rgb


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def iccp_after_idat() -> bytes:
    """An iCCP chunk after IDAT whose profile name ends the chunk (no compression byte): Pillow
    reads it during load() and raises IndexError."""
    png = _png(Image.new("RGB", (4, 4), (1, 2, 3)))
    iend = png.rindex(b"IEND") - 4
    return png[:iend] + _chunk(b"iCCP", b"name\0") + png[iend:]


def tiff_float_strip_offsets() -> bytes:
    """A TIFF whose StripOffsets tag is typed FLOAT: Pillow raises TypeError in load()."""
    out = io.BytesIO()
    Image.new("L", (4, 4), 5).save(out, "TIFF")
    data = bytearray(out.getvalue())
    ifd = struct.unpack_from("<I", data, 4)[0]
    for k in range(struct.unpack_from("<H", data, ifd)[0]):
        entry = ifd + 2 + 12 * k
        if struct.unpack_from("<H", data, entry)[0] == 273:  # StripOffsets
            struct.pack_into("<H", data, entry + 2, 11)   # type FLOAT
    return bytes(data)


def damaged_ihdr() -> bytes:
    png = bytearray(_png(Image.new("RGB", (4, 4))))
    png[20] ^= 0xFF  # inside IHDR: its CRC no longer matches
    return bytes(png)


@pytest.mark.parametrize("make, message", [
    (iccp_after_idat, r"^the PNG data is corrupt: IndexError: "),
    (tiff_float_strip_offsets, r"^the TIFF data is corrupt: TypeError: 'float' object cannot be interpreted as an integer"),
    # was "not an image file": the PNG plugin's own reason is reported
    (damaged_ihdr, r"^the image header is corrupt: PNG: broken PNG file \(bad header checksum in b'IHDR'\)"),
])
def test_pillow_failures_become_image_errors_with_the_real_reason(make, message):
    with pytest.raises(ImageError, match=message):
        decode_rgb(make())


def test_unknown_bytes_are_still_not_an_image():
    # plain words, no Python repr of the first bytes (issue 18)
    with pytest.raises(ImageError, match=r"^not an image file codeclab can read: it does not start like a PNG, JPEG"):
        decode_rgb(b"hello world, not a picture")


@pytest.mark.parametrize("shape", [(1, 600), (1, 640), (480, 1), (2, 1280)])  # (height, width)
def test_thin_valid_images_with_the_fallback_predictor(shape):
    # a 600x1 image made upstream_center divide by zero (ZeroDivisionError)
    pixels = np.random.default_rng(3).integers(0, 255, (*shape, 3), dtype=np.uint8)
    prediction = predict_pixels(pixels, None, "fallback")
    assert 0 <= prediction.x <= shape[1] - 1 and 0 <= prediction.y <= shape[0] - 1
    if shape[0] == 1:  # one resized row: upstream's box has no height, its fallback (the middle) is reported
        assert (prediction.upstream_x, prediction.upstream_y) == (shape[1] // 2, 0)


def test_too_thin_to_place_is_a_typed_error():
    with pytest.raises(UnsupportedError, match=r"a 1x600 image is too thin to resize into 640x480"):
        predict_pixels(np.zeros((600, 1, 3), np.uint8), None, "fallback")
