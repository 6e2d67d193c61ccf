"""The static server for dist/: the MIME types the app needs, the Content Security Policy (devkit/csp.py)
on documents and scripts (a worker's policy comes from its own response) and, by default, COOP/COEP.

Cross-origin isolation (COOP + COEP) lets onnxruntime-web use threads; ``isolate=False`` serves like
a plain static host (GitHub Pages), where the page is isolated by its service worker from the first
load it controls. The build's precompressed copies (``file.br``, ``file.gz``, see devkit/precompress.py)
are sent in place of a file with their ``Content-Encoding`` when the request accepts it, as a host
configured for them would. ``base_path`` serves the site under a sub-path (``/codeclab/``), as
GitHub Pages serves a project site; every byte written to the sockets is counted (``bytes_sent``).

It serves only on loopback, only to requests whose ``Host`` names this server by a loopback name (a web page
elsewhere that rebinds its own DNS name to 127.0.0.1 cannot read dist/ through it), and lists no folders.
"""

from __future__ import annotations

import functools
import http.server
import ipaddress
import os
import re
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .csp import policy
from .tools import load_tools

MIME_TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".json": "application/json",
    ".onnx": "application/octet-stream",
    ".tflite": "application/octet-stream",
    ".npy": "application/octet-stream",
    ".npz": "application/octet-stream",
    ".zip": "application/zip",
    ".whl": "application/zip",
    ".wav": "audio/wav",
    ".webmanifest": "application/manifest+json",
}
# And each tool's own file types (the "mime" field of its manifest).
MIME_TYPES.update({suffix: kind for tool in load_tools() for suffix, kind in tool.mime.items()})

# Responses a policy applies to: documents (the page) and scripts (any of which may be a worker's).
POLICY_SUFFIXES = ("/", ".html", ".js", ".mjs")

# Precompressed copies the build writes beside a file, best first: (Content-Encoding, suffix).
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def accepted_encodings(header: str) -> set[str]:
    """The content codings an Accept-Encoding header allows (q=0 refuses one)."""
    accepted = set()
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        quality = re.search(r"q=([0-9.]+)", params)
        if name and not (quality and float(quality.group(1)) == 0):
            accepted.add(name.strip().lower())
    return accepted


def _is_current_copy(path: str, copy: str) -> bool:
    """``copy`` exists and is not older than ``path`` (a file changed after the build has no current copy)."""
    try:
        return os.stat(copy).st_mtime >= os.stat(path).st_mtime
    except OSError:
        return False


class _CountingWriter:
    """A socket writer that adds what it writes to its server's ``bytes_sent``."""

    def __init__(self, inner, server):
        self.inner = inner
        self.server = server

    def write(self, data) -> int:
        written = self.inner.write(data)
        with self.server.count_lock:
            self.server.bytes_sent += len(data)
        return written

    def __getattr__(self, name):
        return getattr(self.inner, name)



class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with the MIME types the app needs and, optionally, cross-origin isolation."""

    isolate = True
    base_path = "/"
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}

    def setup(self) -> None:
        super().setup()
        self.wfile = _CountingWriter(self.wfile, self.server)

    def translate_path(self, path: str) -> str:
        # Outside the base path there is nothing (a path that cannot exist under the root).
        if not path.startswith(self.base_path):
            return os.path.join(self.directory, ".outside-the-base-path")
        return super().translate_path("/" + path[len(self.base_path):])

    def send_head(self):
        """A precompressed copy in place of the file, when there is one and the request accepts it."""
        path = self.translate_path(self.path)
        if os.path.isfile(path):
            accepted = accepted_encodings(self.headers.get("Accept-Encoding", ""))
            for encoding, suffix in ENCODINGS:
                if encoding in accepted and _is_current_copy(path, path + suffix):
                    return self._send_encoded(path, path + suffix, encoding)
        return super().send_head()

    def _send_encoded(self, path: str, encoded: str, encoding: str):
        handle = open(encoded, "rb")  # the base class closes it after copying it out
        try:
            stat = os.fstat(handle.fileno())
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(path))
            self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(stat.st_size))
            self.send_header("Last-Modified", self.date_time_string(int(stat.st_mtime)))
            self.send_header("Vary", "Accept-Encoding")
            self.end_headers()
        except BaseException:
            handle.close()
            raise
        return handle

    def end_headers(self) -> None:
        if self.isolate:
            # COOP + COEP make the page cross-origin isolated, so onnxruntime-web may use threads.
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        path = unquote(urlsplit(self.path).path)
        if path.endswith(POLICY_SUFFIXES):
            # The policy is looked up by the path inside the site (a worker's may differ from the page's).
            inside = path[len(self.base_path) - 1:] if path.startswith(self.base_path) else path
            self.send_header("Content-Security-Policy", policy(inside))
        # version.json says what is deployed now (web/lib/update.js): no copy of it may be kept anywhere.
        self.send_header("Cache-Control", "no-store" if path.endswith("/version.json") else "no-cache")
        super().end_headers()

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if not self._host_is_this_server(self.headers.get("Host")):
            # DNS rebinding: a page on another site whose name now resolves to 127.0.0.1 sends its own name here.
            self.send_error(421, "Misdirected Request", "This server answers only to its loopback address")
            return False
        return True

    def _host_is_this_server(self, host: str | None) -> bool:
        """``Host`` is a loopback name or address of this server, with this server's port."""
        if not host:
            return False
        name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
        if not name or port != str(self.server.server_address[1]):
            return False
        name = name.strip("[]").lower()
        if name == "localhost":
            return True
        try:
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False

    def list_directory(self, path):
        """No folder listings: a folder without index.html is simply not found."""
        self.send_error(404, "Not Found")
        return None

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (signature from the base class)
        if os.environ.get("CODECLAB_SERVE_LOG"):
            super().log_message(format, *args)


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.count_lock = threading.Lock()
        self.bytes_sent = 0

    def handle_error(self, request, client_address) -> None:
        # A browser closing a connection mid-transfer is not an error worth a traceback.
        if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
            super().handle_error(request, client_address)


def normal_base_path(base_path: str) -> str:
    """``codeclab``, ``/codeclab`` and ``/codeclab/`` all mean ``/codeclab/``."""
    return "/" + "/".join(part for part in base_path.split("/") if part) + "/" if base_path.strip("/") else "/"


def make_server(root: Path, port: int = 0, isolate: bool = True, base_path: str = "/",
                handler_class: type[SiteHandler] = SiteHandler) -> QuietServer:
    attributes = {"isolate": isolate, "base_path": normal_base_path(base_path)}
    handler = functools.partial(type("Handler", (handler_class,), attributes), directory=str(root))
    return QuietServer(("127.0.0.1", port), handler)


def serve(root: Path, port: int, isolate: bool, base_path: str = "/") -> None:
    """Serve ``root`` on 127.0.0.1:``port`` (under ``base_path``) until Ctrl+C."""
    server = make_server(root, port, isolate, base_path)
    host, bound = server.server_address[:2]
    print(f"codeclab is served at http://{host}:{bound}{normal_base_path(base_path)}  (Ctrl+C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


class BackgroundSite:
    """``root`` served on a free loopback port from a daemon thread (tests and benchmarks)."""

    def __init__(self, root: Path, isolate: bool = True, base_path: str = "/", handler_class: type[SiteHandler] = SiteHandler):
        self.server = make_server(root, 0, isolate, base_path, handler_class)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{normal_base_path(base_path)}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def bytes_sent(self) -> int:
        """Bytes written to the sockets so far (headers and bodies, as they went on the wire)."""
        with self.server.count_lock:
            return self.server.bytes_sent

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
