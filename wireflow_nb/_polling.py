"""The spec's polling backoff: the one home of the delays between polls.

The clients' ``wait`` and the notebook's background runner both poll with these delays:
start at 1 s, times 1.5 after each poll, capped at 10 s. Pure: nothing sleeps here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["POLL_FACTOR", "POLL_INITIAL", "POLL_MAX", "PollPolicy", "poll_delays"]

#: Polling backoff of the spec: start at 1 s, x1.5 after each poll, capped at 10 s.
POLL_INITIAL = 1.0
POLL_FACTOR = 1.5
POLL_MAX = 10.0


def poll_delays(
    initial: float = POLL_INITIAL, factor: float = POLL_FACTOR, maximum: float = POLL_MAX
) -> Iterator[float]:
    """The delays between polls: ``initial``, ``initial*factor``, ... capped at ``maximum``.

    >>> from itertools import islice
    >>> list(islice(poll_delays(), 8))
    [1.0, 1.5, 2.25, 3.375, 5.0625, 7.59375, 10.0, 10.0]
    """
    # checked here, not in the generator, so a bad value fails when the client is built
    if initial < 0 or factor < 1 or maximum < 0:
        raise ValueError("poll delays need initial >= 0, factor >= 1 and maximum >= 0")
    return _delays(float(initial), float(factor), float(maximum))


def _delays(delay: float, factor: float, maximum: float) -> Iterator[float]:
    while True:
        yield min(delay, maximum)
        # stop multiplying once capped, so the value never overflows to inf
        if delay < maximum:
            delay *= factor


@dataclass(frozen=True)
class PollPolicy:
    """The spec's polling backoff as a value: ``initial`` seconds, times ``factor``, capped
    at ``maximum``. Checked when made, so a bad value fails where it is written."""

    initial: float = POLL_INITIAL
    factor: float = POLL_FACTOR
    maximum: float = POLL_MAX

    def __post_init__(self) -> None:
        poll_delays(self.initial, self.factor, self.maximum)

    def delays(self) -> Iterator[float]:
        return poll_delays(self.initial, self.factor, self.maximum)
