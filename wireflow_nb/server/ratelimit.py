"""Per-caller request rate limiting, reported the way the hosted service reports it.

Each caller (API key, or client address without one) gets ``limit`` requests per window
of ``window_seconds``; the window opens at the caller's first request. Every response
carries ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` (Unix seconds); a refused
request gets ``429``, ``Retry-After`` (seconds) and ``{"error", "retryAfter"}`` where
``retryAfter`` is the Unix time the window resets, as on the hosted service.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["DEFAULT_RATE_LIMIT", "RateDecision", "RateLimiter"]

#: Requests per minute when the server is started without ``--rate-limit``: high enough
#: never to slow a local user, still a real, reported limit.
DEFAULT_RATE_LIMIT = 100_000


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    #: Unix time (seconds) at which the caller's window resets.
    reset_at: float
    #: Seconds until the reset (0 when allowed).
    retry_after: int

    def headers(self) -> dict[str, str]:
        """The ``X-RateLimit-*`` headers (plus ``Retry-After`` when refused)."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers

    def body(self) -> dict[str, object]:
        """The 429 body."""
        return {
            "error": (
                f"Rate limit exceeded: {self.limit} requests per minute. "
                f"Retry after {self.retry_after} seconds."
            ),
            "retryAfter": math.ceil(self.reset_at),
        }


@dataclass
class _Window:
    started: float
    count: int = 0


class RateLimiter:
    """Fixed windows per caller. ``clock`` returns Unix seconds (injectable for tests)."""

    def __init__(
        self,
        limit: int = DEFAULT_RATE_LIMIT,
        *,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1:
            raise ValueError("the rate limit must be at least 1 request per window")
        self.limit = int(limit)
        self.window_seconds = float(window_seconds)
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def hit(self, identity: str) -> RateDecision:
        """Count one request of ``identity`` and say whether it may proceed."""
        with self._lock:
            now = self._clock()
            window = self._windows.get(identity)
            if window is None or now >= window.started + self.window_seconds:
                if len(self._windows) > 10_000:
                    self._forget_expired(now)
                window = _Window(started=now)
                self._windows[identity] = window
            reset_at = window.started + self.window_seconds
            if window.count >= self.limit:
                return RateDecision(
                    allowed=False,
                    limit=self.limit,
                    remaining=0,
                    reset_at=reset_at,
                    retry_after=max(1, math.ceil(reset_at - now)),
                )
            window.count += 1
            return RateDecision(
                allowed=True,
                limit=self.limit,
                remaining=self.limit - window.count,
                reset_at=reset_at,
                retry_after=0,
            )

    def _forget_expired(self, now: float) -> None:
        expired = [k for k, w in self._windows.items() if now >= w.started + self.window_seconds]
        for key in expired:
            del self._windows[key]
