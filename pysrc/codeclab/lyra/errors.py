"""Every error codeclab.lyra raises; each is a ``LyraError``.

Malformed files are also ``FormatError``s (``WavError``, ``LyraFileError``), valid but unsupported
input also ``UnsupportedError``s (``LyraUnsupportedError``, ``WavUnsupportedError``).
"""

from __future__ import annotations

from codeclab.errors import CodeclabError, FormatError, UnsupportedError


class LyraError(CodeclabError):
    """Bad input to the Lyra codec: wrong packet size, unsupported bitrate or rate, bad file."""


class LyraUnsupportedError(LyraError, UnsupportedError):
    """A valid but unsupported parameter (sample rate, bitrate)."""


class LyraFileError(LyraError, FormatError):
    """A .lyra file that holds no decodable packet."""


class WavError(LyraError, FormatError):
    """The file is not a readable WAV file."""


class WavUnsupportedError(LyraUnsupportedError):
    """A valid WAV file in a format we do not read (float, compressed, ...)."""


class ResampleError(LyraError):
    """Invalid resampling parameters."""


class MetricError(LyraError):
    """Signals that cannot be scored (too short, mismatched)."""
