"""The ASGI middleware in front of every route: request ids, authentication, rate
limiting, the body size limit, and a JSON 500 that never shows a traceback.

Whatever answers a request (a route, an error handler, or this middleware refusing it),
the response carries ``X-Request-Id`` and the ``X-RateLimit-*`` headers.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._exceptions import redact
from .auth import BearerAuth
from .errors import BodyTooLargeError
from .ratelimit import RateLimiter

__all__ = ["ApiGuardMiddleware", "new_request_id"]

logger = logging.getLogger("wireflow_nb.server")


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


class ApiGuardMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        auth: BearerAuth,
        limiter: RateLimiter,
        max_body_bytes: int,
        public_prefixes: Iterable[str] = (),
        secrets: Iterable[str | None] = (),
    ) -> None:
        self.app = app
        self.auth = auth
        self.limiter = limiter
        self.max_body_bytes = max_body_bytes
        self.public_prefixes = tuple(public_prefixes)
        self.secrets = [s for s in secrets if s]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = new_request_id()
        headers = Headers(scope=scope)
        client = scope.get("client")
        client_host = client[0] if client else None
        path: str = scope.get("path", "")
        public = path.startswith(self.public_prefixes) if self.public_prefixes else False
        auth = self.auth.authenticate(headers.get("authorization"), client_host, public=public)
        decision = self.limiter.hit(auth.identity)

        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["idempotency_scope"] = auth.scope
        extra = {"X-Request-Id": request_id, **decision.headers()}
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", [])
                if not isinstance(message["headers"], list):
                    message["headers"] = list(message["headers"])
                response_headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    response_headers[name] = value
            await send(message)

        async def answer(
            status_code: int, body: dict[str, object], more: dict[str, str] | None = None
        ) -> None:
            response = JSONResponse(
                {k: redact(v, self.secrets) if isinstance(v, str) else v for k, v in body.items()},
                status_code=status_code,
                headers=more,
            )
            await response(scope, receive, send_with_headers)

        if not decision.allowed:
            await answer(429, decision.body())
            return
        if not auth.ok:
            assert auth.error is not None
            await answer(401, {"error": auth.error}, {"WWW-Authenticate": 'Bearer realm="wireflow"'})
            return

        length_header = headers.get("content-length")
        if length_header is not None:
            try:
                length = int(length_header)
            except ValueError:
                await answer(400, {"error": "Invalid Content-Length header", "details": []})
                return
            if length > self.max_body_bytes:
                await answer(413, {"error": str(BodyTooLargeError(self.max_body_bytes))})
                return

        received = 0

        async def receive_with_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLargeError(self.max_body_bytes)
            return message

        try:
            await self.app(scope, receive_with_limit, send_with_headers)
        except BodyTooLargeError as exc:
            if started:
                raise
            await answer(413, {"error": str(exc)})
        except Exception:
            logger.exception(
                "unhandled error answering %s %s (request id %s)", scope.get("method"), path, request_id
            )
            if started:
                raise
            await answer(
                500,
                {"error": f"Internal server error; the server log has the details (request id {request_id})"},
            )
