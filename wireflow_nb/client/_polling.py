"""Pure timing for the client: pacing by the ``X-RateLimit-*`` headers (the spec's
polling backoff lives in ``wireflow_nb._polling``).

Nothing here sleeps or reads a clock: callers pass ``now`` (from the client's injectable
clock) and do the sleeping themselves, so tests drive all of it with a fake clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .._polling import poll_delays

__all__ = ["RateLimit", "RequestPacer", "min_request_interval", "poll_delays"]


@dataclass(frozen=True)
class RateLimit:
    """The last ``X-RateLimit-*`` headers the API sent.

    ``reset`` is the header's value (Unix seconds). ``observed_at`` is the client's clock
    when the response arrived and ``reset_after`` the seconds from then until the reset,
    measured against the server's own ``Date`` when it sent one, so a skewed local clock
    does not make the client too eager.
    """

    limit: int | None
    remaining: int | None
    reset: float | None
    observed_at: float
    reset_after: float | None

    def seconds_until_reset(self, now: float) -> float | None:
        """Seconds from ``now`` until the window resets (0 once it has), None if unknown."""
        if self.reset_after is None:
            return None
        return max(0.0, self.reset_after - (now - self.observed_at))


def min_request_interval(
    rate_limit: RateLimit | None,
    now: float,
    *,
    low_fraction: float = 0.5,
    margin: float = 0.5,
    max_interval: float = 120.0,
) -> float:
    """The least spacing between requests that keeps within the remaining budget.

    0 while the budget is comfortable (more than ``low_fraction`` of the limit left) or
    unknown. Once it runs low, the remaining requests are spread evenly until the reset:
    ``(until_reset + margin) / max(remaining, 1)``; with nothing left that is "wait for
    the reset". The margin puts the last request just past the reset rather than on it,
    because servers disagree about which window the boundary second belongs to.
    """
    if rate_limit is None or rate_limit.remaining is None:
        return 0.0
    until = rate_limit.seconds_until_reset(now)
    if until is None or until <= 0:
        return 0.0
    remaining = rate_limit.remaining
    if rate_limit.limit:
        low = remaining <= max(1.0, rate_limit.limit * low_fraction)
    else:
        low = remaining <= 5
    if not low:
        return 0.0
    # a skewed clock or a reset that is really a day away must not freeze a notebook
    return min(max_interval, (until + margin) / max(remaining, 1))


class RequestPacer:
    """Books request slots so that polling never outruns the rate-limit budget.

    The client tells it about every API request it sends (``note_send``) and every
    rate-limit header it receives (``observe``). A poller asks ``delay(now)`` how long to
    hold its next request and then ``book``s the slot it chose, so that several waits
    sharing one client (an async batch) are spaced out together, not each on its own.
    """

    def __init__(
        self, *, low_fraction: float = 0.5, margin: float = 0.5, max_interval: float = 120.0
    ) -> None:
        self.low_fraction = low_fraction
        self.margin = margin
        self.max_interval = max_interval
        self.rate_limit: RateLimit | None = None
        self._last_slot: float | None = None

    def observe(self, rate_limit: RateLimit | None) -> None:
        if rate_limit is not None:
            self.rate_limit = rate_limit

    def note_send(self, at: float) -> None:
        if self._last_slot is None or at > self._last_slot:
            self._last_slot = at

    def book(self, at: float) -> None:
        self.note_send(at)

    def delay(self, now: float) -> float:
        """Seconds from ``now`` before the next request may go out (0 if at once)."""
        rate_limit = self.rate_limit
        if self._last_slot is None or rate_limit is None:
            return 0.0
        base = max(self._last_slot, rate_limit.observed_at)
        until = rate_limit.seconds_until_reset(base)
        if until is None:
            return 0.0
        if until <= 0:
            # the last slot is already in the next window, whose budget is fresh: only
            # the stale headers' window needed spacing, so go with (not before) that slot
            return max(0.0, base - now)
        # the spacing is fixed when the headers arrive: requests booked since then have not
        # been counted in ``remaining`` yet, so each steps one spacing past the last slot
        interval = min_request_interval(
            rate_limit,
            rate_limit.observed_at,
            low_fraction=self.low_fraction,
            margin=self.margin,
            max_interval=self.max_interval,
        )
        if interval <= 0 or math.isnan(interval):
            return 0.0
        return max(0.0, base + interval - now)
