"""What to do about an error: the one home of the advice the package gives.

The client puts this advice into the message of the exception it raises for an answer
(``error_from_response``) or for no answer at all; the app shows an error with
``explain``, which adds the advice only when the message does not carry it already (errors
of the local engine, or raised by user code). Plain text, no I/O; imports only the error
tree.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InsufficientCreditsError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    WaitTimeoutError,
    redact,
)

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "brief",
    "SERVE_WATCH_STDIN_ENV",
    "connection_advice",
    "explain",
    "insufficient_credits_advice",
    "rate_limit_advice",
    "status_advice",
    "timeout_advice",
]

API_KEY_ENV = "WIREFLOW_API_KEY"
BASE_URL_ENV = "WIREFLOW_BASE_URL"
#: ``1``: ``wireflow-nb serve`` stops when its stdin closes, i.e. when the process that
#: started it with a pipe (``wireflow_nb.local_server``) is gone, even killed (no atexit).
SERVE_WATCH_STDIN_ENV = "WIREFLOW_NB_SERVE_WATCH_STDIN"

BAD_REQUEST = "The server refused the request as invalid; fix what is listed and send again."
UNAUTHORIZED = (
    f"Check the API key: pass WireflowClient(api_key=...) or set {API_KEY_ENV} "
    "(keys start with 'sk-' or 'wf_live_', and they can expire)."
)
FORBIDDEN = (
    "The API key is not allowed to do this: give it the scope the call needs "
    "(workflows:execute to run, executions:read to poll and list, usage:read for credits)."
)
NOT_FOUND = "Check the id: the workflow or execution does not exist, or belongs to another account."
TOO_LARGE = "The request is too large: upload media and pass URLs instead of inline data."
UNPROCESSABLE = "Fix what is listed and send again."
IDEMPOTENCY_REUSED = "If an Idempotency-Key was reused for a different request, use a new key."
SERVER_FAILED = "The Wireflow service failed; this is not a problem with your request. Try again later."
#: A saved workflow's PUT named a stale version (409 version_conflict).
VERSION_CONFLICT = (
    "Someone saved this workflow after you read it: read it again (workflows.get), apply your "
    "change to that version and update again; nothing was overwritten."
)
#: A file over the media upload limit (checked before sending).
UPLOAD_TOO_LARGE = "Upload at most 25 MB: shrink or compress the file, or host it and pass its URL instead."
#: A webhook trigger id the server does not know.
WEBHOOK_NOT_FOUND = "Check the webhook URL: create one with client.workflows.create_webhook(workflow_id)."
WAIT_GOES_ON = "It goes on in the background: see the History tab."


def _credits(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{int(value)}" if float(value).is_integer() else f"{value:g}"


def rate_limit_advice(retry_after: float | None) -> str:
    when = f"retry in {retry_after:.0f} s" if retry_after is not None else "retry later"
    return f"Rate limited by the API: {when}, or poll less often (the plan limits requests per minute)."


def insufficient_credits_advice(
    required: float | None, available: float | None, costs: Sequence[tuple[str, float]] = ()
) -> str:
    """The advice for a 402; ``costs`` is ``(node, credits)`` for the breakdown."""
    text = (
        f"This run needs {_credits(required)} credits and the account holds "
        f"{_credits(available)}. Top up credits, or run fewer nodes "
        "(target_node_id=...) or fewer batch items; nothing was run or charged."
    )
    if costs:
        text += " Cost by node: " + ", ".join(f"{name}: {_credits(c)}" for name, c in costs) + "."
    return text


def connection_advice(base_url: object) -> str:
    return (
        f"Check the network and the base_url ({base_url}): is the server running "
        f"(`wireflow-nb serve` for a local one)? Is {BASE_URL_ENV} right? Is a proxy or firewall in the way?"
    )


def timeout_advice() -> str:
    return "The server may be busy: try again, or raise WireflowClient(timeout=...); the run may still have started."


def status_advice(
    status: int,
    *,
    has_details: bool = False,
    idempotency: bool = False,
    retry_after: float | None = None,
) -> str:
    """The advice for an error answer of ``status`` (402 has its own, with figures)."""
    if status == 400:
        return BAD_REQUEST
    if status == 401:
        return UNAUTHORIZED
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return NOT_FOUND
    if status == 413:
        return TOO_LARGE
    if status == 422:
        if idempotency and not has_details:
            return IDEMPOTENCY_REUSED
        return UNPROCESSABLE if has_details else ""
    if status == 429:
        return rate_limit_advice(retry_after)
    if status >= 500:
        return SERVER_FAILED
    return ""


def _advice_of(error: BaseException, base_url: object) -> str:
    if isinstance(error, APITimeoutError):
        return timeout_advice()
    if isinstance(error, APIConnectionError):
        return connection_advice(base_url)
    if isinstance(error, InsufficientCreditsError):
        costs = [
            (f"{item.node_label or item.node_id} ({item.node_id})", item.credits) for item in error.breakdown
        ]
        return insufficient_credits_advice(error.required_credits, error.available_credits, costs)
    if isinstance(error, RateLimitError):
        return rate_limit_advice(error.retry_after)
    for cls, status in (
        (BadRequestError, 400),
        (AuthenticationError, 401),
        (PermissionDeniedError, 403),
        (NotFoundError, 404),
        (UnprocessableEntityError, 422),
        (InternalServerError, 500),
    ):
        if isinstance(error, cls):
            return status_advice(status, has_details=True)
    if isinstance(error, APIStatusError):
        return status_advice(error.status_code)
    if isinstance(error, (WaitTimeoutError, TimeoutError)):
        return WAIT_GOES_ON
    return ""


def explain(error: BaseException, *, base_url: object = None) -> str:
    """The error's message with what to do about it, said once: errors of the client
    carry their advice already; others (the local engine's, user code's) get it added.
    Exceptions that are not the package's show their class name."""
    from ._exceptions import WireflowError

    text = str(error)
    if not isinstance(error, (WireflowError, TimeoutError)):
        text = f"{type(error).__name__}: {text}"
    advice = _advice_of(error, base_url)
    if advice and advice not in text:
        text += "\n" + advice
    return text


#: The longest ``brief`` says (the first line of a message, cut).
_BRIEF_CHARS = 80


def brief(error: BaseException) -> str:
    """A few words on what went wrong, for a toolbar figure that could not be read (no
    advice, never a key): ``cannot reach the server``, ``HTTP 503``, a short first line."""
    if isinstance(error, APITimeoutError):
        return "the server did not answer in time"
    if isinstance(error, APIConnectionError):
        return "cannot reach the server"
    if isinstance(error, AuthenticationError):
        return "the API key was refused (401)"
    if isinstance(error, PermissionDeniedError):
        return "the API key may not read this (403)"
    if isinstance(error, NotFoundError):
        return "not offered by this server (404)"
    if isinstance(error, BadRequestError):
        return "the workflow is not valid yet (400)"
    if isinstance(error, APIStatusError) and error.status_code:
        return f"HTTP {error.status_code}"
    lines = str(error).strip().splitlines()
    text = redact(lines[0] if lines else type(error).__name__)
    return text if len(text) <= _BRIEF_CHARS else text[: _BRIEF_CHARS - 1] + "\u2026"
