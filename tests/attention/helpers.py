"""Shared helpers for the attention tests (test pictures, encoding)."""

from __future__ import annotations

import io

import numpy as np


def encode(image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def textured(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A deterministic RGB uint8 test picture: smooth gradients plus one bright blob."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    base = np.stack([xs * 255 / max(width - 1, 1), ys * 255 / max(height - 1, 1),
                     np.full_like(xs, 96, dtype=float)], axis=-1)
    cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
    blob = np.exp(-(((xs - cx) / (0.05 * width + 1)) ** 2 + ((ys - cy) / (0.05 * height + 1)) ** 2))
    return np.clip(base * 0.5 + blob[..., None] * 200, 0, 255).astype(np.uint8)


def blob_picture(width: int, height: int, seed: int, spread: float = 0.06):
    """A PIL picture with one bright blob (spread: its size as a fraction of the image) on gradients,
    the e2e tests' stand-in for a photo with an obvious centre of attention."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
    blob = np.exp(-(((xs - cx) / (spread * width)) ** 2 + ((ys - cy) / (spread * height)) ** 2))
    base = np.stack([xs * 200 / width, ys * 200 / height, np.full(xs.shape, 80.0)], -1) * 0.5
    return Image.fromarray(np.clip(base + blob[..., None] * 220, 0, 255).astype(np.uint8))
