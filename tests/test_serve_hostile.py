"""The preview server against a hostile web page and rough clients: DNS rebinding, planted
script, floods of requests and idle connections, odd paths. The real server, on
localhost only. (What Chromium makes of a hostile page is in test_serve.py, which owns
the browser.)
"""
from __future__ import annotations

import http.client
import socket
import struct
import threading

import pytest

from press.live.loop import Outcome
from press.live.serve import STREAMS, THREADS, State, start, stop
from press.problems import Problem
from running import Running

PLANTED = """<!DOCTYPE html><html><head><title>planted</title></head><body>
<p id="text">A page some older tool left in the site folder.</p>
<script>document.title = "ran";</script>
<img src="x.png" onerror="document.title = 'ran'">
<iframe id="frame" src="/index.html"></iframe>
<object data="/index.html"></object>
</body></html>"""


@pytest.fixture
def preview(tmp_path):
    site = tmp_path / "html"
    site.mkdir()
    (site / "index.html").write_text("<!DOCTYPE html><html><body><p>Front</p></body></html>")
    (site / "planted.html").write_text(PLANTED)
    server = start(0, site, State())
    yield server
    stop(server)


def get(server, path: str, host: str | None = None):
    """(status, headers, body) of one request; an event stream's body is not waited for."""
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
    connection.putrequest("GET", path, skip_host=host is not None)
    if host is not None:
        connection.putheader("Host", host)
    connection.endheaders()
    response = connection.getresponse()
    endless = response.getheader("Content-Type", "").startswith("text/event-stream")
    return response.status, dict(response.getheaders()), b"" if endless else response.read()


def test_only_local_host_names_are_answered(preview):
    port = preview.server_address[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
        assert get(preview, "/", host)[0] == 200, host
    for host in (f"rebind.example:{port}", "rebind.example", f"127.0.0.1:{port + 1}",
                 f"127.0.0.1.rebind.example:{port}", ""):
        status, _, body = get(preview, "/", host)
        assert status == 403 and b"Front" not in body, host
        assert get(preview, "/__press/events", host)[0] == 403, host


def test_every_response_carries_the_content_security_policy(preview):
    for path in ("/", "/planted.html", "/missing.html", "/missing.png", "/__press/live.js",
                 "/%00"):
        _, headers, _ = get(preview, path)
        policy = headers["Content-Security-Policy"]
        assert "script-src 'nonce-" in policy and "'unsafe-inline'" not in \
            policy.split("script-src")[1].split(";")[0]
        assert "frame-src 'none'" in policy and "object-src 'none'" in policy
        assert "connect-src 'self'" in policy and "default-src 'self'" in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
    first, second = (get(preview, "/")[1]["Content-Security-Policy"] for _ in range(2))
    assert first != second  # a fresh nonce for each page


def test_event_stream_of_a_failed_build_names_no_absolute_path(preview, tmp_path):
    where = tmp_path / "project" / "manuscript" / "chapters" / "01-alpha.md"
    preview.state.publish(Outcome(problems=[
        Problem("manuscript/chapters/01-alpha.md", 3, "M022", "raw HTML tag <b> is not closed"),
        Problem(where, 4, "M001", f"cannot read {where}: Permission denied",
                f"check {tmp_path}/project/ and https://example.org/a/b"),
    ]))
    connection = socket.create_connection(preview.server_address, timeout=30)
    port = preview.server_address[1]
    connection.sendall(f"GET /__press/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
                       .encode())
    seen = b""
    while b"\n\n" not in seen.split(b"data: ", 1)[-1]:
        seen += connection.recv(65536)
    connection.close()
    assert b"M022" in seen and b"M001" in seen and b"01-alpha.md:4" in seen
    assert str(tmp_path).encode() not in seen and b"/tmp/" not in seen
    assert b"https://example.org/a/b" in seen  # a web address is not a path


def test_two_hundred_concurrent_requests_are_all_answered(preview):
    statuses: list[int] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        status = get(preview, "/" if n % 2 else "/planted.html")[0]
        with lock:
            statuses.append(status)

    workers = [threading.Thread(target=one, args=(n,)) for n in range(200)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert statuses.count(200) == 200


def test_idle_connections_do_not_grow_threads_without_bound(preview):
    before = threading.active_count()
    idle = [socket.create_connection(preview.server_address, timeout=30) for _ in range(300)]
    try:
        # Every connection is accepted or queued; the threads answering them are bounded.
        grown = 0
        for _ in range(40):  # look for a while, as the accept loop hands them out
            threading.Event().wait(0.05)
            grown = max(grown, threading.active_count() - before)
        assert THREADS // 2 <= grown <= THREADS
    finally:
        for sock in idle:
            sock.close()
    assert get(preview, "/")[0] == 200  # and the server still answers once they are gone


def test_open_event_streams_are_bounded(preview):
    port = preview.server_address[1]
    streams = []
    for _ in range(STREAMS):
        sock = socket.create_connection(preview.server_address, timeout=30)
        sock.sendall(f"GET /__press/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        assert sock.recv(64).startswith(b"HTTP/1.0 200")
        streams.append(sock)
    try:
        assert get(preview, "/__press/events")[0] == 503
        assert get(preview, "/")[0] == 200  # pages are still served
    finally:
        for sock in streams:
            sock.close()


def test_odd_paths_and_gone_clients_print_no_traceback(make_book, tmp_path):
    task = Running("serve", "--port", "0", "--manuscript", str(make_book().root),
                   "--out", str(tmp_path / "out"))
    try:
        url = task.wait_for(r"serving\s+http://127\.0\.0\.1:(\d+)/")
        port = int(url.group(1))
        for path in ("/%00", "/a%00b.html", "/%0d%0a.html", "/" + "a" * 5000, "/%ff%fe.html"):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", path)
            assert connection.getresponse().status in (400, 404, 414), path
        for _ in range(20):  # clients that leave before, during and after their answer
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            sock.sendall(f"GET /alpha.html HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
                         .encode())
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            socket.create_connection(("127.0.0.1", port), timeout=30).close()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/alpha.html")
        assert connection.getresponse().status == 200
    finally:
        task.stop()
    assert "Traceback" not in task.output() and "Exception" not in task.output()
