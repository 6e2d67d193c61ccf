"""codeclab.attention: Google's attention-center model, and a saliency fallback.

``preprocess`` (TensorFlow-exact resize_with_pad) -> the model (through ``codeclab.onnx_bridge``)
-> ``geometry`` (the point back in image pixels); ``predict`` ties them together, ``saliency`` is
the fallback without a model, ``lite`` the RigL-trained sparse student (models/rigl/), ``service``
is what the page calls.
"""

from __future__ import annotations

from .errors import AttentionError, AttentionUnsupportedError, LiteWeightsError

__all__ = ["AttentionError", "AttentionUnsupportedError", "LiteWeightsError"]
