"""Slowloris against a real ``wireflow-nb serve`` (issue 10, point 7): hundreds of
connections that send half a request line or half the headers (or drip them a byte at a
time) and stop. Each is closed by the server after ``--header-timeout`` (408, then EOF),
and a well-behaved client is served meanwhile.

Bounded in count and time; only 127.0.0.1; every socket is closed.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests._servers import RunningServer, running_server

HEADER_TIMEOUT = 1.0
#: Past the header timeout, how long the server may take to close (a loaded CI box).
MARGIN = 20.0
HALF_OPEN = 300


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(
        tmp_path_factory.mktemp("attack-load"),
        api_key=None,
        extra_args=["--header-timeout", str(HEADER_TIMEOUT)],
    ) as running:
        yield running


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setblocking(False)
    return sock


def _closed_by_server(sockets: dict[socket.socket, bytearray], deadline: float) -> set[socket.socket]:
    """Read every socket until the server closes it (EOF) or ``deadline``; returns the
    ones closed, their bytes (the 408) collected in ``sockets``."""
    closed: set[socket.socket] = set()
    with selectors.DefaultSelector() as selector:
        for sock in sockets:
            selector.register(sock, selectors.EVENT_READ)
        while len(closed) < len(sockets) and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=max(0.0, min(1.0, deadline - time.monotonic()))):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    data = b""
                if data:
                    sockets[sock] += data
                else:
                    closed.add(sock)
                    selector.unregister(sock)
    return closed


def test_half_sent_requests_are_closed_and_others_are_served(server: RunningServer) -> None:
    halves = [
        b"GE",
        b"GET /api/v1/nodes HTTP/1.1\r\n",
        b"GET /api/v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ",
        b"POST /api/v1/workflows/w/execute HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n",
    ]
    sockets: dict[socket.socket, bytearray] = {}
    try:
        for i in range(HALF_OPEN):
            sock = _connect(server.port)
            sockets[sock] = bytearray()
            if i % 5:  # one in five sends nothing at all
                sock.sendall(halves[i % len(halves)])
        started = time.monotonic()
        # a well-behaved client is served while they hang
        answer = httpx.get(f"{server.base_url}/developer/usage", timeout=30)
        assert answer.status_code == 200
        closed = _closed_by_server(sockets, started + HEADER_TIMEOUT + MARGIN)
        assert len(closed) == HALF_OPEN, f"{HALF_OPEN - len(closed)} half-open connections were never closed"
        answered = [bytes(data) for data in sockets.values() if data]
        assert answered and all(data.startswith(b"HTTP/1.1 408 ") for data in answered)
        assert b"not received in time" in answered[0]
        # and the server still serves
        assert httpx.get(f"{server.base_url}/developer/usage", timeout=30).status_code == 200
    finally:
        for sock in sockets:
            sock.close()


def test_dripping_headers_does_not_reset_the_clock(server: RunningServer) -> None:
    """A byte every 50 ms keeps the connection busy, but the headers are still late."""
    request = b"GET /api/v1/developer/usage HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Pad: " + b"a" * 10_000
    with contextlib.closing(_connect(server.port)) as sock:
        started = time.monotonic()
        sent = 0
        received = bytearray()
        closed = False
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            while not closed and time.monotonic() < started + HEADER_TIMEOUT + MARGIN:
                if sent < len(request):
                    with contextlib.suppress(BlockingIOError, BrokenPipeError, ConnectionResetError):
                        sent += sock.send(request[sent : sent + 1])
                if selector.select(timeout=0.05):  # the drip's pace, and the wait for the close
                    try:
                        data = sock.recv(65536)
                    except ConnectionResetError:
                        # a byte dripped after the server's close makes its kernel reset
                        # the connection, which may drop the 408 still unread here
                        data = b""
                    received += data
                    closed = not data
        assert closed, "the dripping connection was never closed"
        assert sent < len(request)  # closed while still dripping
        assert not received or received.startswith(b"HTTP/1.1 408 "), bytes(received[:100])


def test_a_kept_alive_connection_has_the_same_deadline_for_its_next_request(server: RunningServer) -> None:
    with contextlib.closing(socket.create_connection(("127.0.0.1", server.port), timeout=30)) as sock:
        sock.sendall(b"GET /api/v1/developer/usage HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = bytearray()
        while b"\r\n\r\n" not in first or not first.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            assert chunk, bytes(first)
            first += chunk
        assert first.startswith(b"HTTP/1.1 200 ")
        sock.sendall(b"GET /api/v1/developer/usage HTTP/1.1\r\nHost: 12")  # and stops
        sock.setblocking(False)
        sockets = {sock: bytearray()}
        assert _closed_by_server(sockets, time.monotonic() + HEADER_TIMEOUT + MARGIN) == {sock}
        assert bytes(sockets[sock]).startswith(b"HTTP/1.1 408 ")
