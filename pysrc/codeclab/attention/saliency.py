"""codeclab's own fallback predictor: spectral-residual saliency (Hou & Zhang, CVPR 2007).

Used when the attention-center model is not installed.  It is a classical,
training-free method and is labelled as such wherever its point is shown; it
is not an approximation of Google's model.

Steps, on the image part of the model frame (so it shares the model's geometry):
gray -> downscale to 64 px on the long side -> FFT -> log amplitude minus its
3x3 local mean (the "spectral residual") -> inverse FFT with the original
phase -> squared magnitude -> Gaussian blur.  The point is the centroid of the
map's above-average part (squared, so the strongest blobs dominate), after a
mild Gaussian centre prior (people look at the middle first, and it damps the
method's artefacts at the image borders, where the FFT wraps around).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .preprocess import resize_bicubic_antialias

NAME = "fallback: spectral residual saliency (codeclab)"
MAP_SIZE = 64          # long side of the working resolution (the method's usual choice)
BLUR_SIGMA = 2.5       # in working-resolution pixels
CENTRE_PRIOR_SIGMA = 0.35  # of the image's width / height


@dataclass(frozen=True)
class SaliencyResult:
    saliency: np.ndarray   # float32 [h, w], 0..1, over the image region only
    x: float               # point in pixel indices of the region (region pixels, not map cells)
    y: float


def _box_mean_3x3(values: np.ndarray) -> np.ndarray:
    """3x3 mean with wrap-around edges (the spectrum is periodic)."""
    total = np.zeros_like(values)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            total += np.roll(np.roll(values, dy, axis=0), dx, axis=1)
    return total / 9.0


def _gaussian_blur(values: np.ndarray, sigma: float) -> np.ndarray:
    radius = max(1, int(round(3 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    padded = np.pad(values, radius, mode="reflect") if min(values.shape) > radius else np.pad(values, radius, mode="edge")
    rows = np.apply_along_axis(lambda r: np.convolve(r, taps, mode="valid"), 1, padded)
    return np.apply_along_axis(lambda c: np.convolve(c, taps, mode="valid"), 0, rows)


def spectral_residual(gray: np.ndarray) -> np.ndarray:
    """Saliency map of a small float grayscale image, normalised to 0..1 (all zero when flat)."""
    if float(np.ptp(gray)) < 1e-3:  # a flat picture: only rounding noise, which the method would amplify
        return np.zeros(gray.shape, dtype=np.float32)
    spectrum = np.fft.fft2(gray.astype(np.float64))
    log_amplitude = np.log(np.abs(spectrum) + 1e-9)
    residual = log_amplitude - _box_mean_3x3(log_amplitude)
    saliency = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    saliency = _gaussian_blur(saliency, BLUR_SIGMA)
    low, high = float(saliency.min()), float(saliency.max())
    if not np.isfinite(high - low) or high - low <= 1e-12:
        return np.zeros_like(saliency, dtype=np.float32)
    return ((saliency - low) / (high - low)).astype(np.float32)


def _centre_prior(height: int, width: int) -> np.ndarray:
    ys = (np.arange(height) + 0.5) / height - 0.5
    xs = (np.arange(width) + 0.5) / width - 0.5
    prior_y = np.exp(-0.5 * (ys / CENTRE_PRIOR_SIGMA) ** 2)
    prior_x = np.exp(-0.5 * (xs / CENTRE_PRIOR_SIGMA) ** 2)
    return (prior_y[:, None] * prior_x[None, :]).astype(np.float32)


def predict_region(region: np.ndarray) -> SaliencyResult:
    """Saliency and its point for an RGB float [h, w, 3] region (the resized image, no padding)."""
    height, width = region.shape[:2]
    scale = MAP_SIZE / max(height, width)
    map_h, map_w = max(1, round(height * scale)), max(1, round(width * scale))
    gray = region.mean(axis=2, dtype=np.float32)[:, :, None]
    small = resize_bicubic_antialias(gray, map_h, map_w)[:, :, 0]
    saliency = spectral_residual(small) * _centre_prior(map_h, map_w)
    peak = float(saliency.max())
    saliency = (saliency / peak).astype(np.float32) if peak > 0 else saliency
    weights = np.clip(saliency - saliency.mean(), 0, None) ** 2
    total = float(weights.sum())
    if total <= 0 or not np.isfinite(total):
        cell_x, cell_y = (map_w - 1) / 2, (map_h - 1) / 2
    else:
        cell_y = float((weights.sum(axis=1) * np.arange(map_h)).sum() / total)
        cell_x = float((weights.sum(axis=0) * np.arange(map_w)).sum() / total)
    # map cell index -> region pixel index (cells tile the region exactly)
    x = (cell_x + 0.5) * width / map_w - 0.5
    y = (cell_y + 0.5) * height / map_h - 0.5
    return SaliencyResult(saliency=saliency, x=x, y=y)
