"""Waiting for an execution of the local engine to end (``LocalEngine.wait``).

A run of this engine is waited on through its record (an event, no polling; news for
``on_update`` every UPDATE_INTERVAL); a run that another engine process on the same home
is running is polled from the store. Either way the end is a poll response when
COMPLETED, else the error the client raises for the same answer. Imports the run
records and the wire models only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .._exceptions import ExecutionCancelledError, ExecutionFailedError, WaitTimeoutError
from ..backend import OnUpdate
from ..models import PollResponse
from ._gcpause import gc_paused
from .runs import CANCELLED, COMPLETED, RunRecord

__all__ = ["UPDATE_INTERVAL", "outcome", "wait_live", "wait_stored"]

#: How often ``wait`` checks for news to give ``on_update``, in seconds.
UPDATE_INTERVAL = 0.05


def wait_live(
    record: RunRecord,
    execution_id: str,
    *,
    deadline: float | None,
    timeout: float | None,
    on_update: OnUpdate | None,
    render: Callable[[Any], Any],
) -> PollResponse:
    """Wait for a run of this engine, by its record."""
    seen = -1
    last: PollResponse | None = None
    while True:
        if on_update is not None and record.version != seen:
            seen = record.version
            last = PollResponse.model_validate(record.poll_wire(render))
            on_update(last)
        if record.done.is_set():
            break
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise WaitTimeoutError(
                f"Execution {execution_id} is still {record.status} after {timeout:g} s; "
                f"call wait({execution_id!r}) again to keep waiting",
                execution_id=execution_id,
                last=last or PollResponse.model_validate(record.poll_wire(render)),
            )
        step = (
            remaining
            if on_update is None
            else UPDATE_INTERVAL
            if remaining is None
            else min(remaining, UPDATE_INTERVAL)
        )
        record.done.wait(step)
    with gc_paused():
        final = PollResponse.model_validate(record.poll_wire(render))
    if on_update is not None and record.version != seen:
        on_update(final)
    return outcome(execution_id, final)


def wait_stored(
    poll_once: Callable[[], PollResponse],
    execution_id: str,
    deadline: float | None,
    on_update: OnUpdate | None,
) -> PollResponse:
    """Wait for a run of another engine process on the same home, by polling the store."""
    last_body: dict[str, Any] | None = None
    while True:
        poll = poll_once()
        body = poll.to_wire()
        if on_update is not None and body != last_body:
            on_update(poll)
        last_body = body
        if poll.is_terminal:
            return outcome(execution_id, poll)
        if deadline is not None and time.monotonic() >= deadline:
            raise WaitTimeoutError(
                f"Execution {execution_id} is still {poll.status}; call wait({execution_id!r}) again",
                execution_id=execution_id,
                last=poll,
            )
        time.sleep(0.2)


def outcome(execution_id: str, poll: PollResponse) -> PollResponse:
    """The final poll response of a COMPLETED run; raises for a cancelled or failed one."""
    if poll.status == COMPLETED:
        return poll
    if poll.status == CANCELLED:
        raise ExecutionCancelledError(
            f"Execution {execution_id} was cancelled", execution_id=execution_id, poll=poll
        )
    raise ExecutionFailedError(
        f"Execution {execution_id} failed: {poll.error_message or 'no error message'}",
        execution_id=execution_id,
        poll=poll,
    )
