"""codeclab.jxl: a pure-Python JPEG XL codestream toolkit.

Layers: bitreader -> container -> headers -> entropy -> toc -> sections -> writer.
``order`` computes the centre-first group permutation (libjxl's order); ``toc`` reads and
writes it in the file's table of contents; ``service`` is what the page calls.
"""

from __future__ import annotations

from .errors import JxlError, JxlFormatError, JxlUnsupportedError

__all__ = ["JxlError", "JxlFormatError", "JxlUnsupportedError"]
