"""Errors raised by codeclab.jxl: every malformed input names a byte offset and a field."""

from __future__ import annotations

from codeclab.errors import FormatError
from codeclab.errors import UnsupportedError as _BaseUnsupported


class JxlError(FormatError):
    """A JPEG XL file (container or codestream) is malformed or truncated."""


class UnsupportedError(JxlError, _BaseUnsupported):
    """A valid JPEG XL file uses something this toolkit refuses to rewrite (named in the message)."""
