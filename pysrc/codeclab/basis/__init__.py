"""codeclab.basis: Basis Universal textures (KTX2 and .basis).

Parsers for both containers with every field checked (``BasisError`` names
the field and byte offset), GPU byte sizes per transcode target, and the
KTX2Loader-style choice of target from a WebGL2 context's extensions.
Pure Python: runs unchanged in Pyodide.
"""

from __future__ import annotations

from .basisfile import BasisFile, parse_basis
from .common import BasisError, crc16
from .formats import FORMATS, GpuFormat, chain_bytes, level_bytes, rgba8_bytes
from .info import LevelInfo, TextureInfo, describe, detect_container
from .ktx2 import Ktx2File, parse_ktx2
from .targets import Target, auto_target, available_targets, choose_target, forced_target

__all__ = [
    "FORMATS", "BasisError", "BasisFile", "GpuFormat", "Ktx2File", "LevelInfo", "Target", "TextureInfo",
    "auto_target", "available_targets", "chain_bytes", "choose_target", "crc16", "describe",
    "detect_container", "forced_target", "level_bytes", "parse_basis", "parse_ktx2", "rgba8_bytes",
]
