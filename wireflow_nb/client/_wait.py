"""The decisions of ``wait``: what a poll means, when to poll next, when to stop.

This module owns ``WaitState`` (the fingerprint that decides when ``on_update`` is
called, the end states and their exceptions, riding out failed polls, the deadline and
the rate-limit pacing of the next poll). Nothing here sleeps or reads a clock. It may
import ``_exceptions``, ``backend`` (types only), ``models`` and ``client._polling``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from .._exceptions import (
    APIError,
    ExecutionCancelledError,
    ExecutionFailedError,
    RateLimitError,
    WaitTimeoutError,
    redact,
)
from ..backend import OnUpdate
from ..models import ExecutionStatus, PollResponse
from ._polling import RequestPacer

__all__ = ["WaitState"]

logger = logging.getLogger("wireflow_nb.client")

# -- wait -------------------------------------------------------------------------------


def _fingerprint(poll: PollResponse) -> str:
    """What ``on_update`` listens to: status, error, and each node's state and output."""
    states = {s.node_id: s.progress for s in (poll.node_states or [])}
    nodes = [
        (run.node_id, str(run.state), run.output, run.error, states.get(run.node_id))
        for run in poll.node_runs
    ]
    return json.dumps([str(poll.state), poll.error, nodes], sort_keys=True, default=str)


class WaitState:
    """The decisions of one ``wait``: what a poll means, when to poll next, when to stop.

    The sync and async clients run the same loop around it: poll, ``observe``, sleep for
    ``next_delay``, until ``observe`` returns True or raises.
    """

    def __init__(
        self,
        execution_id: str,
        *,
        timeout: float | None,
        on_update: OnUpdate | None,
        delays: Iterator[float],
        pacer: RequestPacer,
        now: float,
        resume_hint: str,
        secrets: tuple[str | None, ...] = (),
    ) -> None:
        if timeout is not None and timeout < 0:
            raise ValueError("timeout must be >= 0 seconds (or None to wait as long as it takes)")
        self.execution_id = execution_id
        self.started = now
        self.deadline = None if timeout is None else now + timeout
        self.on_update = on_update
        self.delays = delays
        self.pacer = pacer
        self.resume_hint = resume_hint
        self.secrets = secrets
        self.last: PollResponse | None = None
        self._last_fingerprint: str | None = None
        self._server_wait: float | None = None
        self._failures_in_a_row = 0

    #: Polls that may fail in a row (each after its own retries) before wait gives up.
    max_failures_in_a_row = 3

    def observe(self, poll: PollResponse) -> bool:
        """True when the execution completed; raises when it ended any other way."""
        self.last = poll
        self._server_wait = None
        self._failures_in_a_row = 0
        fingerprint = _fingerprint(poll)
        if fingerprint != self._last_fingerprint:
            self._last_fingerprint = fingerprint
            if self.on_update is not None:
                self.on_update(poll)
        state = poll.state
        if state == ExecutionStatus.COMPLETED:
            return True
        if state in (ExecutionStatus.FAILED, ExecutionStatus.TIMEOUT):
            raise self._failed(poll)
        if state == ExecutionStatus.CANCELLED:
            raise ExecutionCancelledError(
                f"Execution {self.execution_id} was cancelled before it completed"
                + (f": {poll.error_message}" if poll.error_message else "")
                + ". Outputs of nodes that finished are in err.poll.",
                execution_id=self.execution_id,
                poll=poll,
            )
        # PENDING, RUNNING, or a status this client does not know yet: keep polling
        return False

    def transient_failure(self, exc: APIError) -> None:
        """A poll failed even after the client's retries (network, 5xx): a blip must not
        end a long wait, so carry on, unless it keeps failing; then re-raise ``exc``."""
        self._failures_in_a_row += 1
        if self._failures_in_a_row > self.max_failures_in_a_row:
            logger.warning(
                "Polling execution %s keeps failing; it keeps running on the server. Resume with %s.",
                self.execution_id,
                self.resume_hint,
            )
            raise exc
        logger.info("Poll of execution %s failed (%s); polling on", self.execution_id, exc)

    def rate_limited(self, exc: RateLimitError) -> None:
        """A poll got 429 even after the client's own retries: wait as asked, then go on."""
        self._server_wait = exc.retry_after

    def _failed(self, poll: PollResponse) -> ExecutionFailedError:
        verb = "timed out on the server" if poll.state == ExecutionStatus.TIMEOUT else "failed"
        text = f"Execution {self.execution_id} {verb}"
        if poll.error_message:
            text += f": {poll.error_message}"
        failed = poll.failed_node_runs
        if failed:
            text += "\nFailing nodes:\n" + "\n".join(
                f"  - {run.node_id}: {run.error_message or 'failed (no error text)'}" for run in failed
            )
        text += "\nSee err.failed_node_runs and err.poll; fix the inputs named above and run again."
        return ExecutionFailedError(redact(text, self.secrets), execution_id=self.execution_id, poll=poll)

    def next_delay(self, now: float) -> float:
        """Seconds to sleep before the next poll (and books that request's slot).

        The spec's backoff, never faster than the rate-limit budget allows, and never past
        the deadline: when the next allowed poll would fall after it, give up now.
        """
        backoff = next(self.delays)
        if self._server_wait is not None:
            backoff = max(backoff, self._server_wait)
        pace = self.pacer.delay(now)
        if self.deadline is not None:
            left = self.deadline - now
            if left <= 0 or pace > left:
                raise self.timed_out(now)
            backoff = min(backoff, left)
        delay = max(backoff, pace)
        self.pacer.book(now + delay)
        return delay

    def timed_out(self, now: float) -> WaitTimeoutError:
        status = f" (last status: {self.last.status})" if self.last is not None else ""
        return WaitTimeoutError(
            f"Gave up waiting for execution {self.execution_id} after {now - self.started:.0f} s{status}. "
            f"It keeps running on the server: call {self.resume_hint} to resume waiting.",
            execution_id=self.execution_id,
            last=self.last,
        )

    def log_interrupted(self) -> None:
        logger.warning(
            "Stopped waiting for execution %s; it keeps running on the server. Resume with %s.",
            self.execution_id,
            self.resume_hint,
        )
