"""The exception hierarchy shared by every tool.

Every error a user can cause (bad file, wrong format, unsupported option) is a
``CodeclabError`` subclass with a human-readable message; the browser adapter
shows ``str(err)`` in the page and keeps the app running.
"""

from __future__ import annotations


class CodeclabError(Exception):
    """Base class: an error caused by the input, with a message for a human."""


class FormatError(CodeclabError):
    """A file is malformed.  Names the byte offset and the field when known."""

    def __init__(self, message: str, *, offset: int | None = None, field: str | None = None):
        self.offset = offset
        self.field = field
        self.plain_message = message  # what a person reads; the page shows where() on a smaller details line
        where = self.where()
        super().__init__(f"{message} ({where})" if where else message)

    def where(self) -> str:
        """"field F, byte offset N" (the parts that are known), or "" when neither is."""
        parts = []
        if self.field is not None:
            parts.append(f"field {self.field}")
        if self.offset is not None:
            parts.append(f"byte offset {self.offset}")
        return ", ".join(parts)


class UnsupportedError(CodeclabError):
    """The input is valid but uses something codeclab cannot handle (yet)."""


class ModelUnavailableError(CodeclabError):
    """A model file needed by a tool is not installed in this build."""
