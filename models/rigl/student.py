"""The lite attention student: a MobileNet-like CNN on a 160x120 frame, centre by soft-argmax.

Input: float32 NCHW ``[n, 3, 120, 160]``, RGB 0..1, made by the same
TensorFlow-exact ``resize_with_pad`` as the teacher's 640x480 frame
(``codeclab.attention.preprocess.resize_with_pad(image, 120, 160)``).
Output: logits over a 15x20 grid of 8x8-pixel cells; ``softmax`` of them is the
student's weighting map, and its gravity centre (soft-argmax over the cell
centres) is the attention centre in the 160x120 frame's pixel indices.

The layer list (``ARCHITECTURE``) is shared with the ONNX export, which builds
the same graph by hand from the packed weights (models/rigl/export.py).
"""

from __future__ import annotations

import torch
from torch import nn

from .architecture import (  # noqa: F401 (re-exported: the student's shape lives in one place)
    ARCHITECTURE,
    BACKBONE,
    CELL,
    CONTEXT,
    FRAME_HEIGHT,
    FRAME_WIDTH,
    GRID_HEIGHT,
    GRID_WIDTH,
    HEAD,
    ConvSpec,
)


def cell_centres() -> tuple[torch.Tensor, torch.Tensor]:
    """Frame pixel index of each grid cell's centre: xs [GRID_WIDTH], ys [GRID_HEIGHT]."""
    xs = torch.arange(GRID_WIDTH, dtype=torch.float32) * CELL + (CELL - 1) / 2.0
    ys = torch.arange(GRID_HEIGHT, dtype=torch.float32) * CELL + (CELL - 1) / 2.0
    return xs, ys


class ConvUnit(nn.Module):
    def __init__(self, spec: ConvSpec):
        super().__init__()
        padding = spec.dilation * (spec.kernel - 1) // 2
        self.conv = nn.Conv2d(spec.c_in, spec.c_out, spec.kernel, spec.stride, padding, spec.dilation,
                              groups=spec.groups, bias=not spec.relu)
        self.norm = nn.BatchNorm2d(spec.c_out) if spec.relu else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return torch.relu(self.norm(x)) if self.norm is not None else x


class Student(nn.Module):
    def __init__(self):
        super().__init__()
        self.units = nn.ModuleDict({spec.name.replace(".", "_"): ConvUnit(spec) for spec in ARCHITECTURE})
        xs, ys = cell_centres()
        self.register_buffer("xs", xs, persistent=False)
        self.register_buffer("ys", ys, persistent=False)

    def unit(self, spec: ConvSpec) -> ConvUnit:
        return self.units[spec.name.replace(".", "_")]

    def logits(self, frame: torch.Tensor) -> torch.Tensor:
        """[n, 3, 120, 160] -> [n, 15, 20]."""
        x = frame
        for spec in BACKBONE:
            x = self.unit(spec)(x)
        x = x + self.unit(CONTEXT)(x.mean(dim=(2, 3), keepdim=True))
        for spec in HEAD:
            x = self.unit(spec)(x)
        return x[:, 0]

    def forward(self, frame: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (log weighting map [n, 15, 20], centre [n, 2] as (x, y) frame pixel indices)."""
        logits = self.logits(frame)
        log_map = torch.log_softmax(logits.flatten(1), dim=1).view_as(logits)
        weights = log_map.exp()
        x = (weights.sum(dim=1) * self.xs).sum(dim=1)
        y = (weights.sum(dim=2) * self.ys).sum(dim=1)
        return log_map, torch.stack([x, y], dim=1)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
