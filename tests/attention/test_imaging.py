"""Decoding: the modes upstream handles, the ones it does not, and bad files (typed errors, never crashes)."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from codeclab.errors import CodeclabError, FormatError
from codeclab.imaging import ImageError, ImageTooLargeError, decode_rgb, rgba_to_rgb
from tests.attention.helpers import encode, textured


def test_rgb_png_round_trips_exactly():
    pixels = textured(37, 23)
    decoded = decode_rgb(encode(Image.fromarray(pixels), "PNG"))
    assert decoded.pixels.dtype == np.uint8 and decoded.format == "PNG"
    np.testing.assert_array_equal(decoded.pixels, pixels)


@pytest.mark.parametrize("mode", ["L", "P", "1", "LA", "RGBA"])
def test_modes_become_rgb_like_pillow_convert(mode):
    source = Image.fromarray(textured(20, 10)).convert(mode)
    decoded = decode_rgb(encode(source, "PNG"))
    assert decoded.pixels.shape == (10, 20, 3)
    expected = np.asarray(Image.open(__import__("io").BytesIO(encode(source, "PNG"))).convert("RGB"))
    np.testing.assert_array_equal(decoded.pixels, expected)


def test_rgba_alpha_is_dropped_not_composited():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = 0  # fully transparent red stays red, as in upstream's convert('RGB')
    decoded = decode_rgb(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert np.all(decoded.pixels[..., 0] == 200)


def test_sixteen_bit_grayscale_keeps_sixteen_bits():
    gray = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000)
    decoded = decode_rgb(encode(Image.fromarray(gray), "PNG"))
    assert decoded.pixels.dtype == np.uint16 and decoded.pixels.shape == (8, 8, 3)
    np.testing.assert_array_equal(decoded.pixels[..., 1], gray)


def sixteen_bit_rgb_png(width=5, height=3) -> bytes:
    """A 16-bit-per-channel RGB PNG written by hand (Pillow cannot write one)."""
    raw = b"".join(b"\0" + b"".join(struct.pack(">HHH", 65535 * x // width, 0, 40000) for x in range(width))
                   for _ in range(height))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_sixteen_bit_rgb_png_decodes():
    decoded = decode_rgb(sixteen_bit_rgb_png())
    assert decoded.pixels.shape == (3, 5, 3)
    assert abs(int(decoded.pixels[0, 0, 2]) - 40000 // 257) <= 1


def test_cmyk_jpeg_converts_like_pillow():
    cmyk = Image.fromarray(textured(32, 16)).convert("CMYK")
    data = encode(cmyk, "JPEG", quality=95)
    decoded = decode_rgb(data)
    assert decoded.mode == "CMYK" and decoded.pixels.shape == (16, 32, 3)
    expected = np.asarray(Image.open(__import__("io").BytesIO(data)).convert("RGB"))
    np.testing.assert_array_equal(decoded.pixels, expected)


@pytest.mark.parametrize("orientation,shape", [(1, (10, 30)), (3, (10, 30)), (6, (30, 10)), (8, (30, 10))])
def test_exif_orientation_is_applied(orientation, shape):
    image = Image.fromarray(textured(30, 10))
    exif = Image.Exif()
    exif[0x0112] = orientation
    decoded = decode_rgb(encode(image, "JPEG", exif=exif.tobytes(), quality=95))
    assert decoded.pixels.shape[:2] == shape and decoded.orientation == orientation


def test_one_pixel_image():
    decoded = decode_rgb(encode(Image.new("RGB", (1, 1), (10, 20, 30)), "PNG"))
    assert decoded.pixels.tolist() == [[[10, 20, 30]]]


@pytest.mark.parametrize("data,match", [
    (b"", "empty"),
    (b"hello, this is not an image at all", "not an image"),
    (b"%PDF-1.4\n" + b"0" * 100, "not an image"),
])
def test_non_images_are_refused(data, match):
    with pytest.raises(ImageError, match=match):
        decode_rgb(data)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_truncated_files_are_refused_clearly(fmt):
    data = encode(Image.fromarray(textured(200, 150)), fmt)
    with pytest.raises(FormatError) as info:
        decode_rgb(data[: len(data) // 2])
    assert "truncated" in str(info.value) or "corrupt" in str(info.value)


def huge_png_header(width=20000, height=20000) -> bytes:
    """A PNG that claims 20000x20000 (only the header: nothing is ever allocated for it)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(b"\0" * 100))


def test_huge_image_is_refused_before_decoding():
    with pytest.raises(ImageTooLargeError, match="20000x20000"):
        decode_rgb(huge_png_header())


def test_rgba_from_the_page():
    rgba = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    decoded = rgba_to_rgb(rgba.tobytes(), 3, 2)
    np.testing.assert_array_equal(decoded.pixels, rgba[..., :3])
    with pytest.raises(ImageError, match="expected 24 bytes"):
        rgba_to_rgb(rgba.tobytes()[:-1], 3, 2)
    with pytest.raises(ImageError, match="no pixels"):
        rgba_to_rgb(b"", 0, 2)
    with pytest.raises(ImageTooLargeError):
        rgba_to_rgb(b"", 20000, 20000)


SEEDS = {fmt: encode(Image.fromarray(textured(24, 16)), fmt) for fmt in ("PNG", "JPEG", "GIF", "WEBP", "BMP")}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(SEEDS)), st.data())
def test_fuzzed_files_give_an_image_or_a_codeclab_error(fmt, data):
    blob = bytearray(SEEDS[fmt])
    for _ in range(data.draw(st.integers(1, 6))):
        position = data.draw(st.integers(0, len(blob) - 1))
        blob[position] = data.draw(st.integers(0, 255))
    blob = bytes(blob[: data.draw(st.integers(0, len(blob)))])
    try:
        decoded = decode_rgb(blob)
    except CodeclabError:
        return
    assert decoded.pixels.ndim == 3 and decoded.pixels.shape[2] == 3


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash(blob):
    try:
        decode_rgb(blob)
    except CodeclabError:
        pass
