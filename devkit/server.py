"""The static server for dist/: the MIME types the app needs, the Content Security Policy (devkit/csp.py)
on documents and scripts (a worker's policy comes from its own response) and, by default, COOP/COEP.

Cross-origin isolation (COOP + COEP) lets onnxruntime-web use threads; ``isolate=False`` serves like
a plain static host (GitHub Pages), where the app runs single-threaded.

It serves only on loopback, only to requests whose ``Host`` names this server by a loopback name (a web page
elsewhere that rebinds its own DNS name to 127.0.0.1 cannot read dist/ through it), and lists no folders.
"""

from __future__ import annotations

import functools
import http.server
import ipaddress
import os
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .csp import policy

MIME_TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".json": "application/json",
    ".jxl": "image/jxl",
    ".ktx2": "image/ktx2",
    ".basis": "application/octet-stream",
    ".lyra": "application/octet-stream",
    ".onnx": "application/octet-stream",
    ".tflite": "application/octet-stream",
    ".npy": "application/octet-stream",
    ".npz": "application/octet-stream",
    ".zip": "application/zip",
    ".whl": "application/zip",
    ".wav": "audio/wav",
    ".webmanifest": "application/manifest+json",
}

# Responses a policy applies to: documents (the page) and scripts (any of which may be a worker's).
POLICY_SUFFIXES = ("/", ".html", ".js", ".mjs")


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with the MIME types the app needs and, optionally, cross-origin isolation."""

    isolate = True
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}

    def end_headers(self) -> None:
        if self.isolate:
            # COOP + COEP make the page cross-origin isolated, so onnxruntime-web may use threads.
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        path = unquote(urlsplit(self.path).path)
        if path.endswith(POLICY_SUFFIXES):
            self.send_header("Content-Security-Policy", policy(path))
        self.send_header("Cache-Control", "no-cache")
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

    def handle_error(self, request, client_address) -> None:
        # A browser closing a connection mid-transfer is not an error worth a traceback.
        if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
            super().handle_error(request, client_address)


def make_server(root: Path, port: int = 0, isolate: bool = True) -> QuietServer:
    handler = functools.partial(type("Handler", (SiteHandler,), {"isolate": isolate}), directory=str(root))
    return QuietServer(("127.0.0.1", port), handler)


def serve(root: Path, port: int, isolate: bool) -> None:
    """Serve ``root`` on 127.0.0.1:``port`` until Ctrl+C."""
    server = make_server(root, port, isolate)
    host, bound = server.server_address[:2]
    print(f"codeclab is served at http://{host}:{bound}/  (Ctrl+C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


class BackgroundSite:
    """``root`` served on a free loopback port from a daemon thread (tests and benchmarks)."""

    def __init__(self, root: Path, isolate: bool = True):
        self.server = make_server(root, 0, isolate)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
