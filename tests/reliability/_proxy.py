"""A fault-injecting HTTP/1.1 proxy on loopback, for the reliability tests.

    with FaultProxy(upstream="http://127.0.0.1:8123", seed=7, faults=DEFAULT_FAULTS) as proxy:
        client = WireflowClient(api_key=key, base_url=proxy.base_url + "/api/v1")

It listens on ``127.0.0.1`` (a free port chosen by the system), reads each request the
client sends on a keep-alive connection, and decides at random, from a seeded
``random.Random``, what to do with it:

- ``ok``: forward it to the server and relay the answer;
- ``drop_before``: close the connection without forwarding (the server never sees it);
- ``drop_after``: forward it, let the server act on it, then close without answering;
- ``status_502`` / ``status_503``: answer 502 / 503 without forwarding;
- ``gateway_502_after``: forward it, throw the server's answer away, answer 502 (a
  gateway that timed out on a server that did the work);
- ``status_429``: answer 429 with ``Retry-After`` (whole seconds) and the hosted body;
- ``delay``: hold the request ``delay_seconds`` (past the client's timeout), then
  forward it anyway (the server acts on a request the client has given up on).

Every decision is recorded (``events``), so a test can tell exactly what happened. The
proxy runs its own asyncio loop on a background thread; ``close()`` stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType

import httpx

__all__ = ["DEFAULT_FAULTS", "FaultProxy", "ProxyEvent"]

#: Probability of each fault per request; what is left over is ``ok``.
DEFAULT_FAULTS: Mapping[str, float] = {
    "drop_before": 0.05,
    "drop_after": 0.06,
    "status_502": 0.03,
    "status_503": 0.03,
    "gateway_502_after": 0.04,
    "status_429": 0.04,
    "delay": 0.03,
}

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
    "content-encoding",
}

_REASONS = {
    200: "OK",
    201: "Created",
    429: "Too Many Requests",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class ProxyEvent:
    """One request the proxy saw, and what it did with it."""

    method: str
    path: str
    fault: str
    idempotency_key: str | None
    #: What the server answered, when the request reached it.
    upstream_status: int | None
    at: float


@dataclass
class _Request:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return None


@dataclass
class FaultProxy:
    upstream: str
    seed: int = 0
    faults: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_FAULTS))
    delay_seconds: float = 1.5
    retry_after_seconds: tuple[int, ...] = (1, 2)
    #: Only requests whose path contains this are subject to faults (None: every one).
    only_paths: str | None = None

    def __post_init__(self) -> None:
        if sum(self.faults.values()) > 1:
            raise ValueError("fault probabilities add up to more than 1")
        self._rng = random.Random(self.seed)
        self._rng_lock = threading.Lock()
        self.events: list[ProxyEvent] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._upstream_client: httpx.AsyncClient | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.port = 0
        self._startup_error: BaseException | None = None

    # -- lifecycle ----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (the upstream's paths are kept as they are)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("the fault proxy did not start")
        if self._startup_error is not None:
            raise RuntimeError(f"the fault proxy did not start: {self._startup_error}")
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as exc:  # reported by start()
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        self._upstream_client = httpx.AsyncClient(base_url=self.upstream, timeout=60.0)
        self._server = await asyncio.start_server(self._serve_connection, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._upstream_client is not None:
            await self._upstream_client.aclose()

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._stop(), self._loop)
        with contextlib.suppress(Exception):
            future.result(timeout=15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=15)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- figures ------------------------------------------------------------------------
    def fault_counts(self) -> Counter[str]:
        return Counter(e.fault for e in self.events)

    @property
    def faults_injected(self) -> int:
        return sum(1 for e in self.events if e.fault != "ok")

    # -- serving ------------------------------------------------------------------------
    def _choose(self, request: _Request) -> str:
        if self.only_paths is not None and self.only_paths not in request.target:
            return "ok"
        with self._rng_lock:
            roll = self._rng.random()
        for fault, probability in self.faults.items():
            if roll < probability:
                return fault
            roll -= probability
        return "ok"

    def _retry_after(self) -> int:
        with self._rng_lock:
            return self._rng.choice(self.retry_after_seconds)

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                if not await self._handle(request, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _handle(self, request: _Request, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection must be closed."""
        fault = self._choose(request)
        upstream_status: int | None = None
        reply: tuple[int, list[tuple[str, str]], bytes] | None = None
        if fault in ("status_502", "status_503"):
            reply = (
                502 if fault == "status_502" else 503,
                [("content-type", "text/html")],
                b"<html>proxy error</html>",
            )
        elif fault == "status_429":
            seconds = self._retry_after()
            body = (
                b'{"error":"Rate limit exceeded (injected by the test proxy)","retryAfter":'
                + str(int(time.time()) + seconds).encode()
                + b"}"
            )
            reply = (429, [("content-type", "application/json"), ("retry-after", str(seconds))], body)
        elif fault != "drop_before":
            if fault == "delay":
                await asyncio.sleep(self.delay_seconds)
            try:
                response = await self._forward(request)
            except httpx.HTTPError:
                fault = "upstream_error"
            else:
                upstream_status = response.status_code
                if fault == "gateway_502_after":
                    reply = (502, [("content-type", "text/plain")], b"upstream timed out")
                elif fault != "drop_after":
                    headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _HOP_BY_HOP]
                    reply = (response.status_code, headers, response.content)
        # recorded before answering: once the client has its answer, the event is there
        self.events.append(
            ProxyEvent(
                method=request.method,
                path=request.target.split("?", 1)[0],
                fault=fault,
                idempotency_key=request.header("idempotency-key"),
                upstream_status=upstream_status,
                at=time.monotonic(),
            )
        )
        if reply is None:
            return False
        await _write(writer, *reply)
        return True

    async def _forward(self, request: _Request) -> httpx.Response:
        assert self._upstream_client is not None
        headers = [(k, v) for k, v in request.headers if k.lower() not in _HOP_BY_HOP and k.lower() != "host"]
        return await self._upstream_client.request(
            request.method, request.target, headers=headers, content=request.body
        )


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    length = 0
    for name, value in headers:
        if name.lower() == "content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return _Request(method, target, headers, body)


async def _write(
    writer: asyncio.StreamWriter, status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    reason = _REASONS.get(status, "Status")
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines.append(f"content-length: {len(body)}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()
