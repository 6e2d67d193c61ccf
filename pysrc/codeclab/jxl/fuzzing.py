"""Fuzz format of the JPEG XL tool: a codestream or container a user gives it (see codeclab.fuzzing)."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

from PIL import Image

from ..fuzzing import Format, LengthField, run_encoder, textured
from . import service
from .bitreader import BitWriter
from .headers import SIZE_DIST
from .toc import TOC_DIST


def run_target(data: bytes) -> None:
    info = service.inspect(data)
    center = [info["display_width"] / 3, info["display_height"] / 3]
    service.load_plan(data, center)
    service.reorder_bytes(data, center)


def seeds(work: Path) -> list[bytes]:
    """Files by libjxl's cjxl: lossy and lossless, progressive, centre-first group order, a container."""
    cjxl = shutil.which("cjxl")
    if cjxl is None:
        return []
    Image.fromarray(textured(300, 280, 3)).save(work / "seed.png")
    Image.fromarray(textured(40, 24, 4)).save(work / "small.png")
    out = []
    for i, (src, options) in enumerate([
        ("seed.png", ["-d", "1", "-e", "3", "--group_order=1", "--center_x=200", "--center_y=100"]),
        ("seed.png", ["-d", "0", "-e", "1"]),
        ("seed.png", ["-d", "2", "-e", "3", "-p"]),
        ("small.png", ["-d", "1", "-e", "3", "--container=1"]),
        ("small.png", ["-d", "0", "-e", "2"]),
    ]):
        target = work / f"seed{i}.jxl"
        run_encoder([cjxl, src, str(target), *options], work)
        out.append(target.read_bytes())
    return out


def length_fields(data: bytes) -> list[LengthField]:
    """In a container, every box's size (a bare codestream has none)."""
    fields: list[LengthField] = []
    if data[:4] != b"\0\0\0\x0c":
        return fields
    pos = 0
    while pos + 8 <= len(data) and len(fields) < 64:
        fields.append((pos, 4, "big"))
        size = int.from_bytes(data[pos:pos + 4], "big")
        if size < 8:
            break
        pos += size
    return fields


def grammar(rng: random.Random, _seeds: list[bytes]) -> bytes:
    """A codestream whose headers follow the grammar with random field values, then random data."""
    bw = BitWriter()
    bw.write(16, 0x0AFF)
    bw.write(1, 0)
    height = rng.choice((1, 8, 257, 2048, 64000, 1 << 20, rng.randint(1, 5000)))
    width = rng.choice((1, 8, 300, 2048, 64000, 1 << 20, rng.randint(1, 5000)))
    bw.u32(SIZE_DIST, min(height, (1 << 30)))
    bw.write(3, rng.choice((0, 0, 0, 1, 7)))
    bw.u32(SIZE_DIST, min(width, (1 << 30)))
    for _ in range(rng.randint(0, 80)):  # metadata / transform / frame header bits, random
        bw.write(1, rng.randrange(2))
    bw.zero_pad_to_byte()
    for _ in range(rng.randint(0, 300)):
        bw.u32(TOC_DIST, rng.choice((0, 1, 5, 1000, rng.randint(0, 1023))))
    bw.zero_pad_to_byte()
    return bw.getvalue() + os.urandom(rng.randint(0, 3000))


FORMATS = (Format("jxl", "jxl", run_target, seeds, grammar, length_fields),)
