"""Every error codeclab.basis raises; each is a ``BasisError``."""

from __future__ import annotations

from codeclab.errors import CodeclabError, FormatError, UnsupportedError


class BasisError(CodeclabError):
    """Base class of codeclab.basis's errors."""


class BasisFormatError(BasisError, FormatError):
    """A KTX2 or .basis file is malformed (names the field and byte offset)."""


class BasisUnsupportedError(BasisError, UnsupportedError):
    """A valid texture or request this tool cannot serve (unknown format, a target WebGL lacks)."""
