"""What a tool's fuzz formats are made of: each tool's ``codeclab.<tool>.fuzzing`` module (named by the
"fuzz" field of its manifest) lists its ``FORMATS``, and the harness (``python3 build.py fuzz``,
devkit/fuzz.py) mutates, generates, runs and minimizes cases over them without knowing any tool.

Development only: the build leaves every ``fuzzing.py`` out of the page's codeclab.zip (they drive the
real encoders as subprocesses, which the page has not).
"""

from __future__ import annotations

import io
import random
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Values a size field is set to when a mutation makes one huge.
HUGE_VALUES = (0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x10000000, 0x00FFFFFF, 0xFFFF, 0x8000)

LengthField = tuple[int, int, str]  # (offset, width in bytes, byte order) of a size field


def no_length_fields(_data: bytes) -> list[LengthField]:
    return []


@dataclass(frozen=True)
class Format:
    """One file format a user's file may arrive in, and the parser it reaches."""

    name: str  # also the regression corpus folder: tests/fuzz/corpus/<name>/
    extension: str  # of a minimized finding's file
    # What the page (and the CLIs) do with a file of this format; raises what they would.
    run_target: Callable[[bytes], None]
    # Real files from the real encoders, made in the given empty folder ([] when an encoder is missing).
    seeds: Callable[[Path], list[bytes]]
    # A case generated from the format's grammar (with the seeds, which some grammars rewrite).
    grammar: Callable[[random.Random, list[bytes]], bytes]
    # The size fields the format's structure points at, for mutations that set one huge.
    length_fields: Callable[[bytes], list[LengthField]] = no_length_fields
    # Applied to a mutated case (e.g. checksums recomputed, or most mutations would stop at the check).
    after_mutation: Callable[[bytearray, random.Random], None] | None = None


def textured(width: int, height: int, seed: int) -> np.ndarray:
    """An RGB image with gradients, a pattern and noise: something an encoder has to work on."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([(x * 255 // max(1, width - 1)), (y * 255 // max(1, height - 1)), (x ^ y) & 255], axis=2)
    return np.clip(base + rng.integers(-20, 20, (height, width, 3)), 0, 255).astype(np.uint8)


def pillow_bytes(image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def run_encoder(args: list[str], cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, timeout=120)
