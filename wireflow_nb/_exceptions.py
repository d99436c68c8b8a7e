"""Every error wireflow_nb raises, in one tree::

    WireflowError
    ├── APIError
    │   ├── APIStatusError(status_code, body, request_id)
    │   │   ├── BadRequestError            400
    │   │   ├── AuthenticationError        401
    │   │   ├── InsufficientCreditsError   402 (required_credits, available_credits, breakdown)
    │   │   ├── PermissionDeniedError      403
    │   │   ├── NotFoundError              404
    │   │   ├── VersionConflictError       409 (current_version, sent_version; never retried)
    │   │   ├── UnprocessableEntityError   422 (violations)
    │   │   ├── RateLimitError             429 (retry_after)
    │   │   └── InternalServerError        5xx
    │   └── APIConnectionError
    │       └── APITimeoutError
    ├── ExecutionFailedError (poll, failed_node_runs)
    ├── WaitTimeoutError (execution_id)
    ├── ExecutionCancelledError (poll)
    └── WorkflowValidationError (problems)

Messages give the server's ``error`` text, what to do about it, and the request id.
An API key never appears in a message: ``redact`` removes it from any text.

Errors travel: every one pickles with its fields (to a worker process and back, into a
cache), and the public ones show as ``wireflow_nb.NotFoundError`` in tracebacks (the
package ``__init__`` sets their ``__module__``, as httpx does for its own).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import CreditsBreakdownItem, NodeRun, PollResponse

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ExecutionCancelledError",
    "ExecutionFailedError",
    "InsufficientCreditsError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "Problem",
    "RateLimitError",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "WireflowError",
    "WorkflowValidationError",
    "redact",
]

_KEY_PATTERN = re.compile(r"\b(sk-|wf_live_|wf_test_)[A-Za-z0-9_\-]{4,}")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every given secret, and anything shaped like an API key, masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEY_PATTERN.sub(lambda m: m.group(1) + "***", text)


def _unpickle(cls: type[WireflowError], args: tuple[Any, ...]) -> WireflowError:
    """An error as it was pickled. ``__init__`` is not called: its keyword-only fields have
    no defaults to call it with, and they come back from the pickled ``__dict__``."""
    return cls.__new__(cls, *args)


class WireflowError(Exception):
    """Base of every error of this package."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own reduce calls cls(*self.args): that fails when a field is
        # keyword-only (execution_id, poll) and rebuilds others wrongly (problems)
        return (_unpickle, (type(self), self.args), dict(self.__dict__))


class APIError(WireflowError):
    """An error talking to the Executions API."""

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        self.message = message
        self.request_id = request_id
        super().__init__(message)

    def __str__(self) -> str:
        if self.request_id:
            return f"{self.message} (request id: {self.request_id})"
        return self.message


class APIConnectionError(APIError):
    """The request did not get an answer (DNS, refused, reset, ...)."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class APIStatusError(APIError):
    """The API answered with a 4xx or 5xx status."""

    status_code: int = 0

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: Any = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id)
        if status_code is not None:
            self.status_code = status_code
        self.body = body


class BadRequestError(APIStatusError):
    status_code = 400

    @property
    def details(self) -> list[dict[str, Any]]:
        """The ``details`` list of a 400 body (``nodeId``, ``field``, ``message``)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("details"), list):
            return [d for d in self.body["details"] if isinstance(d, dict)]
        return []


class AuthenticationError(APIStatusError):
    status_code = 401


class InsufficientCreditsError(APIStatusError):
    status_code = 402

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: Any = None,
        request_id: str | None = None,
        required_credits: float = 0,
        available_credits: float = 0,
        breakdown: Sequence[CreditsBreakdownItem] = (),
    ) -> None:
        super().__init__(message, status_code=status_code, body=body, request_id=request_id)
        self.required_credits = required_credits
        self.available_credits = available_credits
        self.breakdown = list(breakdown)


class PermissionDeniedError(APIStatusError):
    status_code = 403


class NotFoundError(APIStatusError):
    status_code = 404


class VersionConflictError(APIStatusError):
    """A saved workflow changed since it was read: the ``PUT`` named a stale version.
    Sending it again cannot help (the client never retries it): read the workflow
    again, merge, and update with the current version."""

    status_code = 409
    #: The error ``code`` in the 409 body that tells this conflict from a retryable one.
    CODE = "version_conflict"

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: Any = None,
        request_id: str | None = None,
        current_version: int | None = None,
        sent_version: int | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, body=body, request_id=request_id)
        self.current_version = current_version
        self.sent_version = sent_version


class UnprocessableEntityError(APIStatusError):
    status_code = 422

    @property
    def violations(self) -> list[dict[str, Any]]:
        """``violations`` of a 422 graph error (``rule``, ``message``, ``fix``, ``nodeId``)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("violations"), list):
            return [v for v in self.body["violations"] if isinstance(v, dict)]
        return []


class RateLimitError(APIStatusError):
    status_code = 429

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: Any = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, body=body, request_id=request_id)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    status_code = 500


class ExecutionFailedError(WireflowError):
    """The execution ended FAILED (or TIMEOUT). ``poll`` is the last poll response."""

    def __init__(self, message: str, *, execution_id: str, poll: PollResponse) -> None:
        self.execution_id = execution_id
        self.poll = poll
        super().__init__(message)

    @property
    def failed_node_runs(self) -> list[NodeRun]:
        return self.poll.failed_node_runs


class ExecutionCancelledError(WireflowError):
    """The execution was cancelled before it completed."""

    def __init__(self, message: str, *, execution_id: str, poll: PollResponse) -> None:
        self.execution_id = execution_id
        self.poll = poll
        super().__init__(message)


class WaitTimeoutError(WireflowError):
    """``wait`` gave up; the execution goes on: call ``wait(execution_id)`` to resume."""

    def __init__(self, message: str, *, execution_id: str, last: PollResponse | None = None):
        self.execution_id = execution_id
        self.last = last
        super().__init__(message)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a workflow. ``code`` is stable, ``message`` says what to do."""

    code: str
    message: str
    node_id: str | None = None
    edge_id: str | None = None
    field: str | None = None
    path: tuple[str, ...] = dc_field(default=())

    def __str__(self) -> str:
        return self.message

    def to_detail(self) -> dict[str, Any]:
        """The problem as an entry of a 400 body's ``details``."""
        detail: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.node_id is not None:
            detail["nodeId"] = self.node_id
        if self.edge_id is not None:
            detail["edgeId"] = self.edge_id
        if self.field is not None:
            detail["field"] = self.field
        return detail


class WorkflowValidationError(WireflowError, ValueError):
    """A workflow is invalid; ``problems`` lists every problem found, not just the first."""

    def __init__(self, problems: Sequence[Problem], *, summary: str | None = None) -> None:
        self.problems = list(problems)
        head = summary or f"The workflow has {len(self.problems)} problem(s)"
        lines = [f"{head}:"] + [f"  - {p.message}" for p in self.problems]
        super().__init__("\n".join(lines))
