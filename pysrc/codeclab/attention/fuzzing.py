"""Fuzz formats of the attention tool: the PNG and JPEG files a user gives it (see codeclab.fuzzing)."""

from __future__ import annotations

import os
import random
import struct
import zlib
from pathlib import Path

from PIL import Image

from ..fuzzing import Format, LengthField, pillow_bytes, textured
from ..imaging import decode_rgb
from .predict import predict_pixels


def run_target(data: bytes) -> None:
    image = decode_rgb(data)
    predict_pixels(image.source, None, "fallback")


def _seed_image() -> tuple[Image.Image, Image.Exif]:
    exif = Image.Exif()
    exif[0x0112] = 6
    return Image.fromarray(textured(96, 64, 1)), exif


def png_seeds(_work: Path) -> list[bytes]:
    rgb, exif = _seed_image()
    return [pillow_bytes(rgb, "PNG"), pillow_bytes(rgb.convert("P"), "PNG"), pillow_bytes(rgb.convert("L"), "PNG"),
            pillow_bytes(rgb.convert("RGBA"), "PNG"), pillow_bytes(rgb.convert("1"), "PNG"),
            pillow_bytes(Image.fromarray(textured(40, 30, 2)[:, :, 0].astype("uint16") * 257), "PNG"),
            pillow_bytes(rgb, "PNG", icc_profile=b"\0" * 200, exif=exif.tobytes())]


def jpeg_seeds(_work: Path) -> list[bytes]:
    rgb, exif = _seed_image()
    return [pillow_bytes(rgb, "JPEG", quality=80), pillow_bytes(rgb, "JPEG", quality=50, progressive=True),
            pillow_bytes(rgb.convert("L"), "JPEG"), pillow_bytes(rgb.convert("CMYK"), "JPEG"),
            pillow_bytes(rgb, "JPEG", exif=exif.tobytes(), subsampling=2)]


def png_length_fields(data: bytes) -> list[LengthField]:
    """Every chunk's length."""
    fields: list[LengthField] = []
    pos = 8
    while pos + 8 <= len(data) and len(fields) < 64:
        fields.append((pos, 4, "big"))
        pos += 12 + int.from_bytes(data[pos:pos + 4], "big")
    return fields


def jpeg_length_fields(data: bytes) -> list[LengthField]:
    """Every marker segment's length up to the scan, and the frame header's height and width."""
    fields: list[LengthField] = []
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF and len(fields) < 64:
        fields.append((pos + 2, 2, "big"))
        if data[pos + 1] in (0xC0, 0xC1, 0xC2):
            fields += [(pos + 5, 2, "big"), (pos + 7, 2, "big")]
        if data[pos + 1] == 0xDA:
            break
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return fields


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_grammar(rng: random.Random, _seeds: list[bytes]) -> bytes:
    color, depths = rng.choice(((0, (1, 2, 4, 8, 16)), (2, (8, 16)), (3, (1, 2, 4, 8)), (4, (8, 16)), (6, (8, 16))))
    width = rng.choice((1, 2, 7, 600, 8000, 65535, 1 << 20, rng.randint(1, 3000)))
    height = rng.choice((1, 3, 480, 8000, rng.randint(1, 3000)))
    ihdr = struct.pack(">IIBBBBB", width, height, rng.choice(depths), color, 0, 0, rng.choice((0, 0, 1)))
    chunks = [_png_chunk(b"IHDR", ihdr)]
    if color == 3 or rng.random() < 0.2:
        chunks.append(_png_chunk(b"PLTE", bytes(rng.randrange(256) for _ in range(3 * rng.randint(0, 256)))))
    if rng.random() < 0.3:
        chunks.append(_png_chunk(b"iCCP", b"icc\0" + rng.choice((b"", b"\0" + zlib.compress(os.urandom(64))))))
    raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 2000)))
    idat = zlib.compress(raw) if rng.random() < 0.7 else zlib.compress(b"\0" * rng.randint(0, 1 << 20))
    chunks.append(_png_chunk(b"IDAT", idat))
    if rng.random() < 0.3:
        chunks.append(_png_chunk(b"iCCP", b"late\0"))
    if rng.random() < 0.9:
        chunks.append(_png_chunk(b"IEND", b""))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def jpeg_grammar(rng: random.Random, seeds: list[bytes]) -> bytes:
    """A real JPEG with its frame header's size and components rewritten."""
    if not seeds:
        return b"\xff\xd8\xff\xc0\x00\x11\x08" + struct.pack(">HH", rng.randint(0, 65535), rng.randint(0, 65535))
    data = bytearray(rng.choice(seeds))
    for offset, _width, _ in jpeg_length_fields(bytes(data)):
        if data[offset - 1] in (0xC0, 0xC1, 0xC2) and offset + 7 <= len(data):  # SOF: P, Y, X, Nf
            data[offset + 3:offset + 5] = struct.pack(">H", rng.choice((0, 1, 8000, 65535, rng.randint(1, 9000))))
            data[offset + 5:offset + 7] = struct.pack(">H", rng.choice((0, 1, 8000, 65535, rng.randint(1, 9000))))
            break
    return bytes(data)


FORMATS = (
    Format("png", "png", run_target, png_seeds, png_grammar, png_length_fields),
    Format("jpeg", "jpg", run_target, jpeg_seeds, jpeg_grammar, jpeg_length_fields),
)
