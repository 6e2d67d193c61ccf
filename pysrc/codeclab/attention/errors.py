"""Every error codeclab.attention raises; each is an ``AttentionError``.

(A missing model is ``codeclab.errors.ModelUnavailableError``, shared by every tool that runs one;
an undecodable image is ``codeclab.imaging.ImageError``, shared by every tool that reads images.)
"""

from __future__ import annotations

from codeclab.errors import CodeclabError, FormatError, UnsupportedError


class AttentionError(CodeclabError):
    """The attention tool cannot produce a point for this input."""


class AttentionUnsupportedError(AttentionError, UnsupportedError):
    """A valid image the model's frame cannot hold (e.g. an extreme aspect ratio)."""


class LiteWeightsError(AttentionError, FormatError):
    """The lite model's packed weights (attention_lite.rigl) are malformed; names the field and byte offset."""
