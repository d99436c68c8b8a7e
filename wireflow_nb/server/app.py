"""The ASGI app of ``wireflow-nb serve``: configuration only (routes, middleware, error
handlers, lifespan); what each part does lives in its own module."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware

from ..models import ExecuteResponse, Execution, ExecutionSummary, PollResponse
from .account_routes import account_routes
from .auth import BearerAuth
from .errors import EXCEPTION_HANDLERS
from .hosts import HostPolicy
from .middleware import ApiGuardMiddleware
from .ratelimit import DEFAULT_RATE_LIMIT, RateLimiter
from .routes import API_PREFIX, PUBLIC_PREFIXES, api_routes

__all__ = ["DEFAULT_MAX_BODY_BYTES", "ServedEngine", "create_app"]

#: Largest request body accepted (the hosted service's media upload limit).
DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024


class ServedEngine(Protocol):
    """What the server needs of its engine (``LocalEngine`` has it all)."""

    artifact_base_url: str | None

    def execute(
        self,
        workflow_id: str,
        workflow_or_request: Any,
        *,
        idempotency_key: str | None = None,
        idempotency_scope: str = "local",
    ) -> ExecuteResponse: ...

    def poll(self, execution_id: str) -> PollResponse: ...

    def get_execution(self, execution_id: str) -> Execution: ...

    def list_executions(
        self, workflow_id: str, *, limit: int = 10, offset: int = 0
    ) -> list[ExecutionSummary]: ...

    def cancel(self, execution_id: str) -> PollResponse: ...

    def credits_balance(self) -> float | None: ...

    def artifact_path(self, url_or_name: str) -> Path: ...

    def close(self) -> None: ...


def create_app(
    engine: ServedEngine | None = None,
    *,
    api_key: str | None = None,
    rate_limit: int | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    public_url: str | None = None,
    close_engine: bool | None = None,
    bind_host: str = "127.0.0.1",
    allowed_hosts: Iterable[str] = (),
    allowed_origins: Iterable[str] = (),
) -> Starlette:
    """The Executions API over ``engine`` (a new served ``LocalEngine`` when None, closed with
    the app).

    ``api_key``: the bearer key every request must carry; None lets loopback clients in
    without one and refuses everyone else. ``rate_limit``: requests per minute per key.
    ``public_url``: the server's root URL (``http://127.0.0.1:8000``); output URLs become
    ``<public_url>/api/v1/files/<name>``. Without it the first request's URL is used.
    ``close_engine``: close the engine when the app shuts down (default: only the engine
    the app made). Closing there, not after the server returns, matters: uvicorn
    re-raises SIGTERM once it has shut down, and nothing after that runs.
    ``bind_host``, ``allowed_hosts``, ``allowed_origins``: the ``Host`` names and
    ``Origin`` s answered (see ``hosts.HostPolicy``; loopback names always are).
    """
    hosts = HostPolicy(bind_host=bind_host, allowed_hosts=allowed_hosts, allowed_origins=allowed_origins)
    if public_url is not None:
        hosts.add_url(public_url)
    owns_engine = engine is None if close_engine is None else close_engine
    if engine is None:
        from ..engine import InputPolicy, LocalEngine

        # a served engine reads only its artifact store and data: URLs for a caller
        engine = LocalEngine(input_policy=InputPolicy.served())
    if public_url is not None:
        engine.artifact_base_url = public_url.rstrip("/") + f"{API_PREFIX}/files/"

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if owns_engine:
                # runs in flight are cancelled and written down, never left RUNNING
                await run_in_threadpool(app.state.engine.close)

    auth = BearerAuth(api_key)
    limiter = RateLimiter(rate_limit if rate_limit is not None else DEFAULT_RATE_LIMIT)
    secrets = [api_key] if api_key else []
    app = Starlette(
        routes=[*api_routes(), *account_routes()],
        middleware=[
            Middleware(
                ApiGuardMiddleware,
                auth=auth,
                limiter=limiter,
                max_body_bytes=max_body_bytes,
                public_prefixes=PUBLIC_PREFIXES,
                secrets=secrets,
                hosts=hosts,
            )
        ],
        exception_handlers=dict(EXCEPTION_HANDLERS),  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.secrets = secrets
    app.state.auth = auth
    app.state.limiter = limiter
    app.state.idempotent_replays = {}
    app.state.account_replays = {}  # server/account_routes.py: POST /workflows by Idempotency-Key
    app.state.artifact_base_url_set = public_url is not None
    return app
