"""The HTTP/1.1 protocol of ``wireflow-nb serve``: uvicorn's h11 protocol plus a
deadline on request headers (a guard against slowloris).

uvicorn (0.54) times out only idle kept-alive connections, and only after a response: a
client that opens a connection and sends half a request line, or drips one header byte
at a time, keeps its socket (and a file descriptor) for ever, and a few hundred of them
lock every other client out. Here each request's headers must be complete within
``header_timeout`` seconds of its first byte (of the connection, for the first request);
the clock is not reset by more bytes, so dripping does not help. Past the deadline the
server answers ``408`` and closes the connection. The body is not under this deadline
(a big upload on a slow link is legitimate); its size is limited by the middleware.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["DEFAULT_HEADER_TIMEOUT", "HeaderTimeoutProtocol", "header_timeout_protocol"]

#: Seconds a client has to send a request's line and headers.
DEFAULT_HEADER_TIMEOUT = 5.0

_TIMEOUT_BODY = b'{"error": "Request headers not received in time; the connection is closed"}\n'
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: application/json\r\n"
    b"connection: close\r\n"
    b"content-length: %d\r\n"
    b"\r\n%s" % (len(_TIMEOUT_BODY), _TIMEOUT_BODY)
)


class HeaderTimeoutProtocol(H11Protocol):
    """``H11Protocol`` closing connections whose request headers are late."""

    header_timeout: float = DEFAULT_HEADER_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def _waiting_for_headers(self) -> bool:
        return self.conn.their_state is h11.IDLE

    def _arm(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_late)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # the first request's clock starts with the connection

    def data_received(self, data: bytes) -> None:
        # a new request's first bytes start its clock; complete headers stop it
        if self._waiting_for_headers():
            self._arm()
        super().data_received(data)
        if self.transport.is_closing() or not self._waiting_for_headers():
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # a pipelined request already buffered may now be the one waiting for headers
        if self._waiting_for_headers() and self.conn.trailing_data[0]:
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _headers_late(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing() or not self._waiting_for_headers():
            return
        self.logger.warning(
            "closing a connection from %s: no complete request headers within %s s",
            f"{self.client[0]}:{self.client[1]}" if self.client else "unknown",
            self.header_timeout,
        )
        self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()


def header_timeout_protocol(seconds: float) -> type[HeaderTimeoutProtocol]:
    """The protocol class uvicorn instantiates (``uvicorn.Config(http=...)``), with
    ``seconds`` as its header deadline."""
    if not seconds > 0:
        raise ValueError("the header timeout must be a positive number of seconds")
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout": float(seconds)})
