"""The student's layer list, shared by training (student.py, torch) and the build (export.py, no torch).

Input: a 160x120 frame; output: logits over 15x20 cells of 8x8 frame pixels.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

FRAME_HEIGHT, FRAME_WIDTH = 120, 160
GRID_HEIGHT, GRID_WIDTH = 15, 20
CELL = 8                                # frame pixels per grid cell


@dataclass(frozen=True)
class ConvSpec:
    name: str
    c_in: int
    c_out: int
    kernel: int
    stride: int = 1
    dilation: int = 1
    groups: int = 1
    relu: bool = True                   # conv -> batch norm -> ReLU (folded to conv + bias at export)


def _block(name: str, c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> list[ConvSpec]:
    """Depthwise-separable block: 3x3 depthwise, then 1x1 pointwise."""
    return [ConvSpec(f"{name}.dw", c_in, c_in, 3, stride, dilation, groups=c_in),
            ConvSpec(f"{name}.pw", c_in, c_out, 1)]


# base: 120x160 -> 60x80 -> 30x40 -> 15x20; then dilated blocks at 15x20 for a wide receptive field (82 k parameters).
_BASE = ([
    ConvSpec("stem", 3, 24, 3, stride=2),
    *_block("b1", 24, 48, stride=2),
    *_block("b2", 48, 96, stride=2),
    *_block("b3", 96, 128),
    *_block("b4", 128, 128, dilation=2),
    *_block("b5", 128, 128, dilation=4),
], ConvSpec("context", 128, 128, 1), [ConvSpec("head.mix", 128, 64, 1), ConvSpec("head.out", 64, 1, 1, relu=False)])
# Global context: the mean over the grid through a 1x1 conv, added to every cell.

# wide: wider and one block deeper (147 k parameters), RigL's "bigger sparse net".
_WIDE = ([
    ConvSpec("stem", 3, 32, 3, stride=2),
    *_block("b1", 32, 64, stride=2),
    *_block("b2", 64, 96),
    *_block("b3", 96, 160, stride=2),
    *_block("b4", 160, 160),
    *_block("b5", 160, 160, dilation=2),
    *_block("b6", 160, 160, dilation=4),
], ConvSpec("context", 160, 160, 1), [ConvSpec("head.mix", 160, 64, 1), ConvSpec("head.out", 64, 1, 1, relu=False)])

ARCHITECTURES = {"base": _BASE, "wide": _WIDE}


def layers(name: str) -> tuple[list[ConvSpec], ConvSpec, list[ConvSpec]]:
    """(backbone, context, head) of a named student; the packed checkpoint records its name."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown student architecture {name!r} (known: {', '.join(ARCHITECTURES)})")
    return ARCHITECTURES[name]


# What training and evaluation build (RIGL_ARCH=wide for the wide student); the build reads the checkpoint's.
ARCH_NAME = os.environ.get("RIGL_ARCH", "base")
BACKBONE, CONTEXT, HEAD = layers(ARCH_NAME)
ARCHITECTURE: list[ConvSpec] = [*BACKBONE, CONTEXT, *HEAD]
