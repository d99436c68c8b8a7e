"""Headers: the ones the client sends with a request and the ones it reads from an answer.

This module owns the headers of a request (``Accept``, ``User-Agent``, the bearer key,
the idempotency key of one logical call), reading a header whatever the mapping's case,
the server's clock (``Date``), the ``X-RateLimit-*`` headers and the request id. It may
import httpx, ``client._polling`` and, when called, the package's ``__version__``.
"""

from __future__ import annotations

import email.utils
import math
import sys
import uuid
from collections.abc import Mapping
from typing import Any

import httpx

from ._polling import RateLimit

__all__ = ["new_idempotency_key", "parse_rate_limit", "request_headers", "request_id_of", "user_agent"]

#: Header values below this are seconds from now, above it Unix timestamps: servers
#: disagree on which they send, and no real reset is 30 years away.
_EPOCH_THRESHOLD = 1e9


def new_idempotency_key() -> str:
    """A fresh key for one logical ``execute`` (reused on each of its retries)."""
    return str(uuid.uuid4())


def user_agent() -> str:
    """``wireflow_nb/<version> python/<major>.<minor>``: what the server logs of us."""
    from .._version import __version__

    return f"wireflow_nb/{__version__} python/{sys.version_info[0]}.{sys.version_info[1]}"


def request_headers(*, api_key: str | None, idempotency_key: str | None) -> dict[str, str]:
    """The headers of one request. ``api_key`` is sent as a bearer token: the caller passes
    it only for the API's own origin."""
    headers = {"Accept": "application/json", "User-Agent": user_agent()}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    return headers


def _header(headers: Mapping[str, str], name: str) -> str | None:
    if isinstance(headers, httpx.Headers):
        return headers.get(name)
    lower = name.lower()
    for key, value in headers.items():
        if key.lower() == lower:
            return value
    return None


def _number(text: Any) -> float | None:
    if isinstance(text, bool):
        return None
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _seconds_until(value: float, now: float) -> float:
    """Seconds until ``value``, which is a Unix time or already a number of seconds."""
    if value >= _EPOCH_THRESHOLD:
        return max(0.0, value - now)
    return max(0.0, value)


def _server_now(headers: Mapping[str, str], now: float) -> float:
    """The server's clock from its ``Date`` header, else ours."""
    date = _header(headers, "date")
    if date:
        try:
            return email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    return now


def parse_rate_limit(headers: Mapping[str, str], now: float) -> RateLimit | None:
    """The ``X-RateLimit-*`` headers of a response, None when it has none."""
    limit = _number(_header(headers, "x-ratelimit-limit"))
    remaining = _number(_header(headers, "x-ratelimit-remaining"))
    reset = _number(_header(headers, "x-ratelimit-reset"))
    if limit is None and remaining is None and reset is None:
        return None
    reset_after: float | None = None
    if reset is not None:
        if reset >= _EPOCH_THRESHOLD:
            reset_after = max(0.0, reset - _server_now(headers, now))
        else:
            reset_after = max(0.0, reset)
    return RateLimit(
        limit=int(limit) if limit is not None else None,
        remaining=int(remaining) if remaining is not None else None,
        reset=reset,
        observed_at=now,
        reset_after=reset_after,
    )


def request_id_of(headers: Mapping[str, str]) -> str | None:
    return _header(headers, "x-request-id") or _header(headers, "request-id")
