"""The Qt resource bundle reader (GCompris's photos come in .rcc bundles): files come out as they went in, and a
broken bundle is a ResourceBundleError naming the byte offset, never another exception or a hang."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from models.rigl.qt_resources import MAGIC, ResourceBundleError, files


def write_bundle(tree: dict, version: int = 3, compress: set[str] = frozenset()) -> bytes:
    """A bundle laid out as Qt's ``rcc -binary`` lays it out: breadth-first tree entries whose directory children
    are consecutive, a names block and a data block.  ``tree``: nested dicts of name -> bytes or dict."""
    entries, names, payload = [], bytearray(), bytearray()

    def name_offset(name: str) -> int:
        offset = len(names)
        encoded = name.encode("utf-16-be")
        names.extend(struct.pack(">HI", len(encoded) // 2, 0) + encoded)
        return offset

    entries.append(["dir", 0, tree, None])
    queue = [0]
    while queue:
        index = queue.pop(0)
        kind, offset, node, _ = entries[index]
        first = len(entries)
        for name, child in sorted(node.items()):
            entries.append(["dir" if isinstance(child, dict) else "file", name_offset(name), child, name])
        entries[index][3] = (first, len(node), entries[index][3])
        queue += [i for i in range(first, len(entries)) if entries[i][0] == "dir"]
    blob = bytearray()
    for kind, offset, node, extra in entries:
        if kind == "dir":
            first, count, _ = extra
            blob += struct.pack(">IHII", offset, 2, count, first)
        else:
            data_offset = len(payload)
            compressed = extra in compress
            data = struct.pack(">I", len(node)) + zlib.compress(node) if compressed else node
            payload.extend(struct.pack(">I", len(data)) + data)
            blob += struct.pack(">IHHHI", offset, 1 if compressed else 0, 0, 0, data_offset)
        if version >= 2:
            blob += struct.pack(">Q", 0)
    header = 24 if version == 3 else 20
    tree_at = header
    data_at = tree_at + len(blob)
    names_at = data_at + len(payload)
    head = MAGIC + struct.pack(">IIII", version, tree_at, data_at, names_at) + (b"\0" * 4 if version == 3 else b"")
    return bytes(head + blob + payload + names)


CONTENT = {"gcompris": {"src": {"erase": {"resource": {"bee.webp": b"bee bytes" * 50, "cat.png": b"\x89PNG cat",
                                                       "notes.txt": b""}}},
                        "qmldir": b"module"}}


@pytest.mark.parametrize("version", [1, 2, 3])
def test_files_come_out_as_they_went_in(version):
    bundle = write_bundle(CONTENT, version, compress={"bee.webp"})
    assert dict(files(bundle)) == {"/gcompris/qmldir": b"module",
                                   "/gcompris/src/erase/resource/bee.webp": b"bee bytes" * 50,
                                   "/gcompris/src/erase/resource/cat.png": b"\x89PNG cat",
                                   "/gcompris/src/erase/resource/notes.txt": b""}


def test_not_a_bundle_names_the_magic():
    with pytest.raises(ResourceBundleError, match="bytes 0-3"):
        list(files(b"RIFF....WEBPVP8 "))


def test_a_directory_that_contains_itself_is_an_error_not_a_hang():
    bundle = bytearray(write_bundle({"a": {"b": b"x"}}))
    # root's only child "a" (entry 1) claims entry 1 as its own first child
    entry_1 = 24 + 22
    struct.pack_into(">II", bundle, entry_1 + 6, 1, 1)
    with pytest.raises(ResourceBundleError, match="deeper than 64"):
        list(files(bytes(bundle)))


def test_truncated_and_corrupted_bundles_raise_only_bundle_errors():
    bundle = write_bundle(CONTENT, 3, compress={"bee.webp"})
    rng = np.random.default_rng(7)
    outcomes = set()
    for cut in range(0, len(bundle), 7):
        outcomes.add(_outcome(bundle[:cut]))
    for _ in range(400):
        broken = bytearray(bundle)
        for at in rng.integers(0, len(broken), size=int(rng.integers(1, 6))):
            broken[at] = int(rng.integers(0, 256))
        outcomes.add(_outcome(bytes(broken)))
    assert outcomes <= {"ok", "error"} and "error" in outcomes


def _outcome(bundle: bytes) -> str:
    try:
        list(files(bundle))
    except ResourceBundleError as error:
        assert "byte" in str(error) or "deeper" in str(error)
        return "error"
    return "ok"
