"""Image orientation (ImageMetadata.orientation, the EXIF convention) between the codestream's pixel
grid and the image as displayed.

A decoder shows the image turned by ``orientation`` (1 = as stored; 6 = turned 90° clockwise, as a
phone photo transcoded from JPEG often is).  Groups, the TOC and libjxl's centre live in codestream
coordinates; what a person (and the attention model) sees is the displayed image.  Points here are
continuous coordinates (pixel ``i`` spans ``[i, i + 1)``), so the maps are exact inverses.
"""

from __future__ import annotations

TURNED = (5, 6, 7, 8)  # orientations that swap width and height


def display_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    return (height, width) if orientation in TURNED else (width, height)


def to_display(x: float, y: float, width: int, height: int, orientation: int) -> tuple[float, float]:
    """Codestream point -> displayed point (``width``/``height``: codestream size)."""
    w, h = width, height
    return {
        1: (x, y), 2: (w - x, y), 3: (w - x, h - y), 4: (x, h - y),
        5: (y, x), 6: (h - y, x), 7: (h - y, w - x), 8: (y, w - x),
    }[orientation]


def to_codestream(x: float, y: float, width: int, height: int, orientation: int) -> tuple[float, float]:
    """Displayed point -> codestream point (``width``/``height``: codestream size)."""
    w, h = width, height
    return {
        1: (x, y), 2: (w - x, y), 3: (w - x, h - y), 4: (x, h - y),
        5: (y, x), 6: (y, h - x), 7: (w - y, h - x), 8: (w - y, x),
    }[orientation]


def pixel_to_codestream(x: float, y: float, width: int, height: int, orientation: int) -> tuple[float, float]:
    """A displayed pixel index (as the attention model reports) -> codestream pixel index."""
    cx, cy = to_codestream(x + 0.5, y + 0.5, width, height, orientation)
    return cx - 0.5, cy - 0.5


def rect_to_display(rect, width: int, height: int, orientation: int) -> list[int]:
    """[x, y, w, h] in the codestream -> the same pixels' [x, y, w, h] on the displayed image."""
    x, y, w, h = rect
    (ax, ay), (bx, by) = (to_display(x, y, width, height, orientation),
                          to_display(x + w, y + h, width, height, orientation))
    return [int(min(ax, bx)), int(min(ay, by)), int(abs(bx - ax)), int(abs(by - ay))]
