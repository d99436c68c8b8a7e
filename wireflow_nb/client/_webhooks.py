"""``trigger_webhook(url, data)``: start a saved workflow through its webhook trigger
(``POST /workflow/{webhookId}/trigger``, 202). No API key is sent, whatever the
environment holds: the unguessable webhook URL is the credential, and whoever holds it
is not meant to hold a key. An error answer raises the client's typed errors. It may
import httpx and the client's ``_base``, ``_errors`` and ``_headers``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from .._exceptions import APIConnectionError
from ..models import ExecuteResponse
from ._base import BaseClient, _Answer
from ._errors import error_from_response, parse_body
from ._headers import user_agent

__all__ = ["async_trigger_webhook", "trigger_webhook"]


def _request(url: str, data: Mapping[str, Any] | None) -> tuple[str, dict[str, Any], dict[str, str]]:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"a webhook URL starts with http:// or https://, got {url[:40]!r}")
    headers = {"Accept": "application/json", "User-Agent": user_agent()}
    return url, dict(data or {}), headers


def _read(response: httpx.Response) -> ExecuteResponse:
    body = parse_body(response)
    if response.status_code >= 400:
        raise error_from_response(response.status_code, body, response.headers)
    workflow_id = body.get("workflowId", "") if isinstance(body, dict) else ""
    return BaseClient._parse_execute(_Answer(response, body), str(workflow_id))


def _failed(exc: httpx.HTTPError) -> APIConnectionError:
    # the URL is a credential: name only its origin
    where = exc.request.url.copy_with(path="/", query=None) if isinstance(exc, httpx.RequestError) else "?"
    return APIConnectionError(f"Could not trigger the webhook at {where} ({type(exc).__name__})")


def trigger_webhook(
    url: str,
    data: Mapping[str, Any] | None = None,
    *,
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> ExecuteResponse:
    """POST ``data`` (it becomes the run's ``triggerData``) to a webhook URL; returns the
    started execution (poll it with a client that has a key)."""
    target, body, headers = _request(url, data)
    with httpx.Client(timeout=timeout, transport=transport) as http:
        try:
            response = http.post(target, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise _failed(exc) from None
    return _read(response)


async def async_trigger_webhook(
    url: str,
    data: Mapping[str, Any] | None = None,
    *,
    timeout: float = 30.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ExecuteResponse:
    """``trigger_webhook``, awaitable."""
    target, body, headers = _request(url, data)
    async with httpx.AsyncClient(timeout=timeout, transport=transport) as http:
        try:
            response = await http.post(target, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise _failed(exc) from None
    return _read(response)
