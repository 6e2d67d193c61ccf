"""Mapping points between the 640x480 model frame and the original image.

Conventions (documented because they decide pixels):

* The model's point is a weighted mean of *pixel indices* of the frame: its
  gravity centre multiplies the weighting map by a grid of 0..639 / 0..479
  (read from the TFLite constant ``einsum/Einsum``).  So frame pixel ``i`` has
  its centre at index ``i`` and covers the continuous interval ``[i, i+1)``.
* The resize samples original continuous position ``(X + 0.5) * inv_scale`` for
  resized pixel ``X`` (``scale_and_translate``), and the resized image starts at
  frame column ``pad_x``.  The exact inverse for a frame index ``u`` is therefore
  ``x = (u + 0.5 - pad_x) * inv_scale_x - 0.5`` in original pixel indices, using
  TensorFlow's own float32 ``inv_scale``.
* Upstream's ``encode_with_centers.py`` maps differently: it recomputes the
  image box with ``round`` and ``//`` (the bee lands at column 148 there, while
  TensorFlow put it at 147), ignores the half-pixel, uses one scale for both
  axes and truncates to ``int``.  :func:`upstream_center` reproduces that
  formula for comparison; :func:`frame_to_original` is the exact one.
"""

from __future__ import annotations

import math

from .preprocess import PadGeometry


def frame_to_original(u: float, v: float, geometry: PadGeometry) -> tuple[float, float]:
    """Frame pixel index (u, v) -> original pixel index (x, y), clamped into the image."""
    x = (u + 0.5 - geometry.pad_x) * geometry.inv_scale_x - 0.5
    y = (v + 0.5 - geometry.pad_y) * geometry.inv_scale_y - 0.5
    return _clamp(x, geometry.width), _clamp(y, geometry.height)


def original_to_frame(x: float, y: float, geometry: PadGeometry) -> tuple[float, float]:
    """Original pixel index -> frame pixel index (the forward map; inverse of the above)."""
    u = (x + 0.5) / geometry.inv_scale_x + geometry.pad_x - 0.5
    v = (y + 0.5) / geometry.inv_scale_y + geometry.pad_y - 0.5
    return u, v


def rescale_point(x: float, y: float, from_size: tuple[int, int], to_size: tuple[int, int]) -> tuple[float, float]:
    """A pixel index in an image of from_size (w, h) -> the same spot in a scaled copy of to_size."""
    (fw, fh), (tw, th) = from_size, to_size
    return _clamp((x + 0.5) * tw / fw - 0.5, tw), _clamp((y + 0.5) * th / fh - 0.5, th)


def _clamp(value: float, size: int) -> float:
    if not math.isfinite(value):
        return (size - 1) / 2
    return min(max(value, 0.0), float(size - 1))


def image_box_in_frame(geometry: PadGeometry) -> tuple[int, int, int, int]:
    """[x0, y0, x1, y1) of the frame pixels the resized image occupies (the rest is padding)."""
    return (geometry.pad_x, geometry.pad_y,
            geometry.pad_x + geometry.resized_width, geometry.pad_y + geometry.resized_height)


def frame_box_to_original(box: tuple[float, float, float, float], geometry: PadGeometry) -> list[float]:
    """A continuous frame rectangle [x0, y0, x1, y1] -> continuous original coordinates (not clamped)."""
    x0, y0, x1, y1 = box
    return [(x0 - geometry.pad_x) * geometry.inv_scale_x, (y0 - geometry.pad_y) * geometry.inv_scale_y,
            (x1 - geometry.pad_x) * geometry.inv_scale_x, (y1 - geometry.pad_y) * geometry.inv_scale_y]


def upstream_center(u: float, v: float, width: int, height: int,
                    frame_width: int = 640, frame_height: int = 480) -> tuple[int, int]:
    """What google/attention-center's encode_with_centers.py reports for the frame point (u, v).

    Its ``get_crop_region`` + ``convert_center_to_original_resolution``, kept
    to show how far the exact mapping is from the published tool.
    """
    aspect_frame = frame_height / frame_width
    aspect_image = height / width
    if aspect_frame > aspect_image:  # padding above and below
        valid = round(frame_width * aspect_image)
        start = (frame_height - valid) // 2
        left, top, right, bottom = 0, start, frame_width, valid + start - 1
    elif aspect_frame < aspect_image:  # padding left and right
        valid = round(frame_height / aspect_image)
        start = (frame_width - valid) // 2
        left, top, right, bottom = start, 0, valid + start - 1, frame_height
    else:
        left, top, right, bottom = 0, 0, frame_width, frame_height
    if not (left <= u <= right and top <= v <= bottom) or bottom == top:
        # upstream's fallback: the middle of the image.  (A box of zero height -- a 600x1 image,
        # whose one resized row gives bottom == top -- makes upstream divide by zero; we report
        # its fallback instead.)
        return width // 2, height // 2
    scale = height / (bottom - top)
    return int((u - left) * scale), int((v - top) * scale)
