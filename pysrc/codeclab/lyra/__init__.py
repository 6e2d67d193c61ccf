"""codeclab.lyra: Lyra v2 (SoundStream) speech codec in plain Python + numpy.

Codec logic (resampling, residual vector quantizer, packets, concealment,
comfort noise) is pure numpy; the two neural models (SoundStream encoder,
LyraGAN decoder) run through a small runner interface (``models.py``) so the
same code drives onnxruntime in CPython, the TFLite interpreter in tests, and
LiteRT.js (or onnxruntime-web) in the page. Packet-loss concealment is
``concealment.py``; what the page calls is ``service.py`` (its open streams:
``streams.py``); the page's playout (jitter buffer) is web/tools/lyra/.
"""

from __future__ import annotations

from .errors import (
    LyraError,
    LyraFileError,
    LyraUnsupportedError,
    MetricError,
    ResampleError,
    WavError,
    WavUnsupportedError,
)

__all__ = [
    "LyraError", "LyraFileError", "LyraUnsupportedError", "MetricError", "ResampleError", "WavError",
    "WavUnsupportedError",
]
