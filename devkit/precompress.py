"""Precompressed copies of dist/'s large files: ``file.gz`` (always) and ``file.br`` (when the ``brotli``
module is installed), written beside each file, for hosts that send a file's precompressed copy with
``Content-Encoding`` (devkit/server.py does; docs/hosting.md says how to set up others).

A copy is kept only where it saves at least ``MIN_SAVING`` of the file (wheels and zips are compressed
already). Copies are cached by the content's sha256 in .cache/precompressed/, so a rebuild compresses only
what changed. ``best=True`` (publishing) spends minutes on Brotli's slowest, smallest setting; the default
(a few seconds) is what a developer's build needs.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

from .paths import CACHE
from .tools import load_tools

try:
    import brotli
except ImportError:  # optional: gzip alone still helps (docs/hosting.md)
    brotli = None

# What is worth compressing: the wasm, models, wheels and archives, scripts and data, and the file types a tool
# declares compressible (the "compressible" field of its manifest).
SUFFIXES = {".wasm", ".onnx", ".tflite", ".whl", ".zip", ".tar", ".js", ".mjs", ".json", ".npy", ".npz", ".rigl",
            ".css", ".html", ".svg", ".webmanifest"}.union(*(tool.compressible for tool in load_tools()))
MIN_SIZE = 1024
MIN_SAVING = 0.05
COMPRESSED_SUFFIXES = (".gz", ".br")


def _compressors(best: bool) -> dict:
    compressors = {".gz": lambda data: gzip.compress(data, compresslevel=9, mtime=0)}
    if brotli is not None:
        quality = 11 if best else 5
        compressors[".br"] = lambda data: brotli.compress(data, quality=quality, lgwin=24)
    return compressors


def _cached(data: bytes, suffix: str, best: bool, compress, cache: Path) -> bytes:
    """The compressed bytes of ``data`` from the cache, else compressed now and cached."""
    level = "best" if (best or suffix == ".gz") else "fast"
    path = cache / f"{hashlib.sha256(data).hexdigest()}.{level}{suffix}"
    if path.exists():
        return path.read_bytes()
    out = compress(data)
    cache.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_bytes(out)
    partial.replace(path)
    return out


def precompress(root: Path, best: bool = False, cache: Path = CACHE / "precompressed") -> dict:
    """Write the compressed copies under ``root``; return {"files": how many got a copy, "bytes": the size of
    all candidates, "gz"/"br": what they weigh in that encoding (the original where it has no copy)}."""
    compressors = _compressors(best)
    totals = {"files": 0, "bytes": 0, **{suffix.lstrip("."): 0 for suffix in compressors}}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix not in SUFFIXES or path.stat().st_size < MIN_SIZE:
            continue
        data = path.read_bytes()
        wrote = False
        for suffix, compress in compressors.items():
            out = _cached(data, suffix, best, compress, cache)
            kept = len(out) <= len(data) * (1 - MIN_SAVING)
            if kept:
                path.with_name(path.name + suffix).write_bytes(out)
                wrote = True
            totals[suffix.lstrip(".")] += len(out) if kept else len(data)
        totals["files"] += wrote
        totals["bytes"] += len(data)
    return totals


def is_precompressed_copy(root: Path, rel: str) -> bool:
    """``rel`` is a copy written here (``x.wasm.gz`` beside ``x.wasm``), not a file of the site."""
    return rel.endswith(COMPRESSED_SUFFIXES) and (root / rel[:-3]).is_file()


def remove_copies(root: Path) -> int:
    """Delete the copies written here (for a host that compresses on the fly, such as GitHub Pages); return how many."""
    copies = [path for path in root.rglob("*") if path.is_file() and is_precompressed_copy(root, path.relative_to(root).as_posix())]
    for path in copies:
        path.unlink()
    return len(copies)
