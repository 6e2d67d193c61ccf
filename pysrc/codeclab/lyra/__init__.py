"""codeclab.lyra: Lyra v2 (SoundStream) speech codec in plain Python + numpy.

Codec logic (resampling, residual vector quantizer, packets, concealment,
comfort noise) is pure numpy; the two neural models (SoundStream encoder,
LyraGAN decoder) run through a small runner interface (``models.py``) so the
same code drives onnxruntime in CPython, the TFLite interpreter in tests, and
onnxruntime-web in the page.
"""

from __future__ import annotations

from .config import (  # noqa: F401
    BITRATES,
    FRAME_RATE,
    INTERNAL_SAMPLE_RATE,
    SAMPLES_PER_HOP,
    SUPPORTED_SAMPLE_RATES,
    LyraError,
)
