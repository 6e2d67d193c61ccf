"""Every error codeclab.jxl raises; each is a ``JxlError``.

``JxlFormatError`` is a malformed or truncated file (it names a byte offset and a field);
``JxlUnsupportedError`` is a valid file or request this toolkit refuses (it is *not* a format
error: the file is fine).
"""

from __future__ import annotations

from codeclab.errors import CodeclabError, FormatError, UnsupportedError


class JxlError(CodeclabError):
    """Base class of codeclab.jxl's errors."""


class JxlFormatError(JxlError, FormatError):
    """A JPEG XL file (container or codestream) is malformed or truncated."""


class JxlUnsupportedError(JxlError, UnsupportedError):
    """A valid JPEG XL file or request uses something this toolkit refuses (named in the message)."""
