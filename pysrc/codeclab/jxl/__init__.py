"""codeclab.jxl: a pure-Python JPEG XL codestream toolkit.

Layers: bitreader -> container -> headers -> entropy -> toc -> sections -> writer,
plus ``order`` (libjxl's centre-first group order) and ``service`` (the page API).
"""

from __future__ import annotations

from .errors import JxlError, UnsupportedError
from .order import center_first_group_order, center_first_permutation
from .sections import parse_file
from .service import inspect, load_plan, reorder, reorder_bytes

__all__ = ["JxlError", "UnsupportedError", "center_first_group_order", "center_first_permutation",
           "parse_file", "inspect", "load_plan", "reorder", "reorder_bytes"]
