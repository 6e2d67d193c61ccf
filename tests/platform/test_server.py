"""devkit/server.py (build.py serve, and every e2e test's host): no folder listings, and only requests that name
this server by a loopback address are answered (a DNS-rebound name is refused)."""

from __future__ import annotations

import http.client
import threading

import pytest

from devkit.server import make_server


@pytest.fixture
def served(tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>root</title>")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "secret-name.onnx").write_bytes(b"\0" * 16)
    server = make_server(tmp_path, 0, isolate=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def get(port: int, path: str, host: str | None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_host=True)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_a_folder_is_not_listed(served):
    status, body = get(served, "/models/", f"127.0.0.1:{served}")
    assert status == 404 and b"secret-name" not in body
    assert get(served, "/models/secret-name.onnx", f"127.0.0.1:{served}")[0] == 200
    status, body = get(served, "/", f"127.0.0.1:{served}")  # a folder with index.html serves it
    assert status == 200 and b"<title>root</title>" in body


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "[::1]:{port}", "127.0.0.2:{port}"])
def test_loopback_names_of_this_server_are_answered(served, host):
    assert get(served, "/index.html", host.format(port=served))[0] == 200


@pytest.mark.parametrize("host", ["attacker.example:{port}", "attacker.example", "127.0.0.1", "127.0.0.1:1",
                                  "localhost.attacker.example:{port}", "10.0.0.1:{port}", "", None])
def test_any_other_host_is_refused(served, host):
    status, body = get(served, "/index.html", None if host is None else host.format(port=served))
    assert status in (400, 421) and b"<title>root</title>" not in body
