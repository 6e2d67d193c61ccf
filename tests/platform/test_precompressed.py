"""devkit/precompress.py (the build's file.gz / file.br copies) and how devkit/server.py serves them, under a
base path, counting the bytes it sends."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from devkit.offline import MANIFEST, write_offline_files
from devkit.precompress import precompress, remove_copies
from devkit.server import BackgroundSite, accepted_encodings, normal_base_path
from tests.needs import missing

try:
    import brotli
except ImportError:
    brotli = None

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _brotli():
    if brotli is None:
        missing("Python's brotli module is not installed: pip install brotli (requirements-dev.txt)")


def _site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "vendor").mkdir(parents=True)
    shutil.copy(REPO / "web" / "sw.js", root / "sw.js")
    (root / "index.html").write_text("<!doctype html><title>x</title>")
    # Compressible: a repetitive wasm-like body; incompressible: random bytes in a wheel.
    (root / "vendor" / "runtime.wasm").write_bytes(b"\0asm\1\0\0\0" + bytes(range(64)) * 2000)
    (root / "vendor" / "packed.whl").write_bytes(os.urandom(50_000))
    return root


def _get(url: str, accept: str | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": accept} if accept is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), b""


def test_copies_are_written_where_they_save_and_left_out_of_the_manifest(tmp_path):
    root = _site(tmp_path)
    before = write_offline_files(root)
    sizes = precompress(root, cache=tmp_path / "cache")
    wasm = (root / "vendor" / "runtime.wasm").read_bytes()
    assert gzip.decompress((root / "vendor" / "runtime.wasm.gz").read_bytes()) == wasm
    assert brotli.decompress((root / "vendor" / "runtime.wasm.br").read_bytes()) == wasm
    assert not (root / "vendor" / "packed.whl.gz").exists() and not (root / "vendor" / "packed.whl.br").exists()
    assert sizes["files"] == 2 and sizes["br"] < sizes["bytes"]  # the wasm and sw.js
    # The manifest (and so the service worker's version) is the same with the copies beside the files.
    assert write_offline_files(root) == before
    assert set(json.loads((root / MANIFEST).read_text())["files"]) == {"index.html", "vendor/runtime.wasm", "vendor/packed.whl"}
    # A second build takes the copies from the cache: same bytes.
    copy = (root / "vendor" / "runtime.wasm.br").read_bytes()
    (root / "vendor" / "runtime.wasm.br").unlink()
    precompress(root, cache=tmp_path / "cache")
    assert (root / "vendor" / "runtime.wasm.br").read_bytes() == copy
    assert remove_copies(root) == 4 and not (root / "vendor" / "runtime.wasm.gz").exists()


def test_the_server_sends_the_copy_the_request_accepts_under_the_base_path(tmp_path):
    root = _site(tmp_path)
    precompress(root, cache=tmp_path / "cache")
    wasm = (root / "vendor" / "runtime.wasm").read_bytes()
    site = BackgroundSite(root, isolate=False, base_path="codeclab")
    try:
        assert site.url.endswith("/codeclab/")
        status, headers, body = _get(site.url + "vendor/runtime.wasm", "gzip, deflate, br")
        assert status == 200 and headers["Content-Encoding"] == "br" and headers["Content-Type"] == "application/wasm"
        assert headers["Vary"] == "Accept-Encoding" and int(headers["Content-Length"]) == len(body) < len(wasm)
        assert brotli.decompress(body) == wasm
        status, headers, body = _get(site.url + "vendor/runtime.wasm", "gzip")
        assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == wasm
        for refused in ("", "br;q=0, gzip;q=0", "identity"):
            status, headers, body = _get(site.url + "vendor/runtime.wasm", refused)
            assert "Content-Encoding" not in headers and body == wasm, refused
        # No copy for the wheel: the file itself.
        status, headers, body = _get(site.url + "vendor/packed.whl", "br")
        assert "Content-Encoding" not in headers and body == (root / "vendor" / "packed.whl").read_bytes()
        # A file changed after the build: its copies are stale, the file is sent.
        (root / "vendor" / "runtime.wasm").write_bytes(b"\0asm changed")
        os.utime(root / "vendor" / "runtime.wasm", (os.stat(root / "vendor" / "runtime.wasm.br").st_mtime + 5,) * 2)
        status, headers, body = _get(site.url + "vendor/runtime.wasm", "br")
        assert "Content-Encoding" not in headers and body == b"\0asm changed"
        # The site is under its base path only; the sockets' bytes are counted.
        assert _get(site.url + "index.html")[0] == 200
        assert _get(site.url.removesuffix("codeclab/") + "index.html")[0] == 404
        sent = site.bytes_sent
        status, headers, body = _get(site.url + "index.html")
        assert site.bytes_sent - sent > len(body) > 0  # the body and the headers
    finally:
        site.close()


def test_accept_encoding_and_base_path_parsing():
    assert accepted_encodings("gzip, deflate, br, zstd") == {"gzip", "deflate", "br", "zstd"}
    assert accepted_encodings("br;q=0, gzip;q=0.5") == {"gzip"}
    assert accepted_encodings("") == set()
    assert [normal_base_path(p) for p in ("", "/", "codeclab", "/codeclab", "/a/b/")] == ["/", "/", "/codeclab/", "/codeclab/", "/a/b/"]
