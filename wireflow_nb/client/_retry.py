"""The retry policy: which failures are sent again, and after how long.

This module owns ``RetryPolicy`` (retryable statuses, jittered exponential backoff, the
cap on a server-asked wait) and reading the wait a server asks for (``Retry-After``, a
429 body's ``retryAfter``, ``X-RateLimit-Reset``). It may import ``client._headers``.
"""

from __future__ import annotations

import email.utils
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._headers import _EPOCH_THRESHOLD, _header, _number, _seconds_until, _server_now

__all__ = ["RetryPolicy", "parse_retry_after"]


def parse_retry_after(
    headers: Mapping[str, str], body: Any, now: float, *, rate_limited: bool = True
) -> float | None:
    """Seconds to wait before retrying, as the server asked, or None if it did not say.

    ``Retry-After`` (seconds or an HTTP date) wins; on a 429 the body's ``retryAfter``
    (Unix seconds) and then ``X-RateLimit-Reset`` are used.
    """
    header = _header(headers, "retry-after")
    if header:
        seconds = _number(header.strip())
        if seconds is not None:
            return max(0.0, seconds)
        try:
            when = email.utils.parsedate_to_datetime(header.strip()).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            when = None
        if when is not None:
            return max(0.0, when - _server_now(headers, now))
    if not rate_limited:
        return None
    if isinstance(body, dict):
        value = _number(body.get("retryAfter"))
        if value is not None:
            return _seconds_until(value, now)
    reset = _number(_header(headers, "x-ratelimit-reset"))
    if reset is not None:
        if reset >= _EPOCH_THRESHOLD:
            return max(0.0, reset - _server_now(headers, now))
        return max(0.0, reset)
    return None


@dataclass
class RetryPolicy:
    """Which failures to retry and how long to wait before each retry.

    Retried: connection errors, timeouts, 408, 409, 429 and 5xx. Never: the other 4xx,
    where sending the same request again cannot help, nor a 409 whose error code says a
    saved workflow's version is stale (``version_conflict``: the same PUT fails again). The wait is what the server asked
    (``Retry-After`` ...) when it asked, else ``initial * 2**n`` capped at ``maximum``,
    shortened by up to ``jitter`` so that many clients do not retry in step.
    """

    max_retries: int = 2
    initial: float = 0.5
    maximum: float = 8.0
    jitter: float = 0.25
    #: A server asking for a longer wait (a daily quota) gets an error, not a frozen kernel.
    max_retry_after: float = 90.0
    rng: random.Random = field(default_factory=random.Random)

    @staticmethod
    def is_retryable_status(status: int) -> bool:
        return status in (408, 409, 429) or status >= 500

    @staticmethod
    def is_retryable_answer(status: int, error_code: str | None) -> bool:
        """``is_retryable_status``, knowing the error code of the body too."""
        if status == 409 and error_code == "version_conflict":
            return False
        return RetryPolicy.is_retryable_status(status)

    def backoff(self, retries_done: int) -> float:
        delay = min(self.maximum, self.initial * (2.0**retries_done))
        return delay * (1.0 - self.jitter * self.rng.random())

    def delay(self, retries_done: int, retry_after: float | None = None) -> float | None:
        """Seconds before the next attempt, or None to give up."""
        if retries_done >= self.max_retries:
            return None
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            return retry_after
        return self.backoff(retries_done)
