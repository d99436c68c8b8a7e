"""HTTP clients of the Wireflow Executions API: ``WireflowClient`` (blocking) and
``AsyncWireflowClient`` (awaitable), for the hosted service or ``wireflow-nb serve``.

Both share one no-I/O core (``_base``: configuration, requests, answers) built from
modules of one concept each: ``_urls`` (URLs and keys), ``_headers``, ``_errors``
(error answers to exceptions), ``_retry`` (retry policy), ``_wait`` (the decisions of
``wait``), ``_polling`` (rate-limit pacing) and ``_uploads`` (local media: what is
uploaded before a run, the upload cache, progress).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._async import AsyncWireflowClient
from ._polling import RateLimit, poll_delays
from ._retry import RetryPolicy
from ._sync import WireflowClient
from ._uploads import UploadProgress
from ._urls import DEFAULT_BASE_URL
from ._webhooks import async_trigger_webhook, trigger_webhook

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
    "UploadProgress",
    "WireflowClient",
    "async_trigger_webhook",
    "poll_delays",
    "trigger_webhook",
]
