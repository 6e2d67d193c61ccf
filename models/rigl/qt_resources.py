"""Read the files packed in a Qt resource bundle (``.rcc``, as written by Qt's ``rcc -binary``).

GCompris (Debian ``gcompris-qt-data``) ships its activities' photographs inside such bundles; this reads them
without Qt.  Layout (Qt's ``rcc.cpp``, format versions 1-3), all integers big-endian:

* header: ``b"qres"``, uint32 version, uint32 offsets of the tree, the data and the names (v3 adds uint32 flags);
* tree: one entry per node, 14 bytes (v1) or 22 (v2+, with a 64-bit modification time): uint32 name offset,
  uint16 flags (1 zlib, 2 directory, 4 zstd), then for a directory uint32 child count and uint32 first child
  index, for a file uint16 territory, uint16 language and uint32 data offset; entry 0 is the root directory;
* names: uint16 length (UTF-16 code units), uint32 hash, the name in UTF-16BE;
* data: uint32 length, then the bytes; zlib-compressed ones start with a uint32 uncompressed length.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

MAGIC = b"qres"
ZLIB, DIRECTORY, ZSTD = 1, 2, 4


class ResourceBundleError(ValueError):
    """A malformed .rcc file: the message names the byte offset and the field."""


def _unpack(data: bytes, fmt: str, offset: int, field: str) -> tuple:
    size = struct.calcsize(fmt)
    if offset < 0 or offset + size > len(data):
        raise ResourceBundleError(f"{field} at byte {offset} runs past the end of the {len(data)}-byte bundle")
    return struct.unpack_from(fmt, data, offset)


def files(data: bytes) -> Iterator[tuple[str, bytes]]:
    """Every file of the bundle as (``/path/inside``, its bytes, decompressed), depth first."""
    if data[:4] != MAGIC:
        raise ResourceBundleError(f"bytes 0-3 are {data[:4]!r}, not the Qt resource magic {MAGIC!r}")
    version, tree, payload, names = _unpack(data, ">IIII", 4, "header")
    if version not in (1, 2, 3):
        raise ResourceBundleError(f"format version {version} at byte 4 is not 1, 2 or 3")
    entry_size = 14 if version == 1 else 22

    def name_at(offset: int) -> str:
        (length,) = _unpack(data, ">H", names + offset, "name length")
        start = names + offset + 6
        if start + 2 * length > len(data):
            raise ResourceBundleError(f"name at byte {start} runs past the end of the bundle")
        try:
            return data[start:start + 2 * length].decode("utf-16-be")
        except UnicodeDecodeError:
            raise ResourceBundleError(f"name at byte {start} is not UTF-16") from None

    def walk(index: int, prefix: str, depth: int) -> Iterator[tuple[str, bytes]]:
        if depth > 64:
            raise ResourceBundleError(f"tree entry {index} is nested deeper than 64 directories (a cycle?)")
        entry = tree + index * entry_size
        name_offset, flags = _unpack(data, ">IH", entry, f"tree entry {index}")
        name = name_at(name_offset) if index else ""
        if flags & DIRECTORY:
            count, first = _unpack(data, ">II", entry + 6, f"directory entry {index}")
            if first + count > (len(data) - tree) // entry_size:
                raise ResourceBundleError(f"directory entry {index} at byte {entry} lists entries {first}.."
                                          f"{first + count - 1}, past the end of the tree")
            for child in range(first, first + count):
                yield from walk(child, f"{prefix}{name}/", depth + 1)
            return
        (offset,) = _unpack(data, ">I", entry + 10, f"file entry {index} data offset")
        (length,) = _unpack(data, ">I", payload + offset, f"data length of {prefix}{name}")
        start = payload + offset + 4
        if start + length > len(data):
            raise ResourceBundleError(f"data of {prefix}{name} at byte {start} ({length} bytes) runs past the end")
        blob = data[start:start + length]
        if flags & ZSTD:
            raise ResourceBundleError(f"{prefix}{name} (byte {start}) is zstd-compressed, which this reader lacks")
        if flags & ZLIB:
            try:
                blob = zlib.decompress(blob[4:])
            except zlib.error as error:
                raise ResourceBundleError(f"zlib data of {prefix}{name} at byte {start + 4}: {error}") from None
        yield f"{prefix}{name}", blob

    yield from walk(0, "", 0)
