"""HTTP clients of the Wireflow Executions API: ``WireflowClient`` (blocking) and
``AsyncWireflowClient`` (awaitable), for the hosted service or ``wireflow-nb serve``.

Both share one no-I/O core (``_base``: requests, retries, errors, wait decisions) and
one timing module (``_polling``: backoff and rate-limit pacing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._async import AsyncWireflowClient
from ._base import DEFAULT_BASE_URL, RetryPolicy
from ._polling import RateLimit, poll_delays
from ._sync import WireflowClient

if TYPE_CHECKING:
    from ..backend import AsyncBackend, Backend

    # mypy proves both clients satisfy the protocols widgets program against
    def _is_backend(client: WireflowClient) -> Backend:
        return client

    def _is_async_backend(client: AsyncWireflowClient) -> AsyncBackend:
        return client


__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncWireflowClient",
    "RateLimit",
    "RetryPolicy",
    "WireflowClient",
    "poll_delays",
]
