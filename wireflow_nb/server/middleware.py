"""The ASGI middleware in front of every route: request ids, rate limiting, the
``Host`` and ``Origin`` checks (``hosts``), authentication, CORS for ``--allow-origin``
origins, the JSON media type of bodies, the body size limit, and a JSON 500 that never
shows a traceback.

Whatever answers a request (a route, an error handler, or this middleware refusing it),
the response carries ``X-Request-Id`` and the ``X-RateLimit-*`` headers.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._exceptions import redact
from .auth import BearerAuth
from .body import accepts_body, unsupported_media_type_message
from .errors import BodyTooLargeError
from .hosts import CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS, HostPolicy
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
        hosts: HostPolicy | None = None,
    ) -> None:
        self.app = app
        self.hosts = hosts or HostPolicy()
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
        origin = headers.get("origin")
        if self.hosts.explicitly_allowed(origin):
            assert origin is not None
            # CORS only for the origins given with --allow-origin (off by default)
            extra.update(
                {
                    "Access-Control-Allow-Origin": origin,
                    "Access-Control-Expose-Headers": CORS_EXPOSE_HEADERS,
                    "Vary": "Origin",
                }
            )
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
        refusal = self.hosts.check_host(headers.get("host")) or self.hosts.check_origin(origin)
        if refusal is not None:
            logger.warning("refused %s %s: %s", scope.get("method"), path, refusal.message)
            await answer(refusal.status, refusal.body())
            return
        if scope.get("method") == "OPTIONS" and "Access-Control-Allow-Origin" in extra:
            # a preflight carries no key; the request it announces will need one
            response = Response(
                status_code=204,
                headers={
                    "Access-Control-Allow-Methods": "GET, POST, HEAD",
                    "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
                    "Access-Control-Max-Age": "600",
                },
            )
            await response(scope, receive, send_with_headers)
            return
        if not auth.ok:
            assert auth.error is not None
            await answer(401, {"error": auth.error}, {"WWW-Authenticate": 'Bearer realm="wireflow"'})
            return

        length_header = headers.get("content-length")
        has_body = "transfer-encoding" in headers or length_header not in (None, "0")
        if has_body and not accepts_body(path, headers.get("content-type")):
            # every body this API takes is JSON (an upload: a multipart form); anything
            # else (a cross-site text/plain POST) is refused before it is read
            await answer(415, {"error": unsupported_media_type_message(headers.get("content-type"))})
            return
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
