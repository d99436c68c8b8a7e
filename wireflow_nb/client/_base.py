"""Everything the sync and async clients share, and no I/O.

This module owns: configuration (key and base URL from the environment), building
requests (URL, headers, the bearer key only for our own origin, idempotency keys),
reading responses (rate-limit headers, ``Retry-After``, hosted body shapes), mapping an
error status to the exception tree with a message that says what to do, the retry
policy, and the decisions of ``wait`` (when to poll next, when to stop, what to raise).
``_sync`` and ``_async`` only add the sending and the sleeping.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import ipaddress
import json
import logging
import math
import os
import random
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote, unquote_to_bytes

import httpx
from pydantic import BaseModel, ValidationError

from .._advice import (
    API_KEY_ENV,
    BASE_URL_ENV,
    connection_advice,
    insufficient_credits_advice,
    status_advice,
    timeout_advice,
)
from .._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ExecutionCancelledError,
    ExecutionFailedError,
    InsufficientCreditsError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    WaitTimeoutError,
    redact,
)
from ..backend import IteratorConfigsArg, OnUpdate, WorkflowOrRequest, as_request
from ..models import (
    CreditsBreakdownItem,
    ExecuteRequest,
    ExecuteResponse,
    Execution,
    ExecutionStatus,
    ExecutionSummary,
    InsufficientCredits,
    PollResponse,
    error_message,
)
from ._polling import RateLimit, RequestPacer, poll_delays

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "BaseClient",
    "RetryPolicy",
    "WaitState",
    "decode_data_url",
    "error_from_response",
    "is_hosted_url",
    "is_loopback_url",
    "mask_key",
    "new_idempotency_key",
    "parse_rate_limit",
    "parse_retry_after",
    "same_origin",
]

logger = logging.getLogger("wireflow_nb.client")

DEFAULT_BASE_URL = "https://www.wireflow.ai/api/v1"
HOSTED_DOMAIN = "wireflow.ai"

#: Header values below this are seconds from now, above it Unix timestamps: servers
#: disagree on which they send, and no real reset is 30 years away.
_EPOCH_THRESHOLD = 1e9

_KEY_PREFIXES = ("sk-", "wf_live_", "wf_test_")

_HttpT = TypeVar("_HttpT", httpx.Client, httpx.AsyncClient)


# -- small helpers ----------------------------------------------------------------------


def new_idempotency_key() -> str:
    """A fresh key for one logical ``execute`` (reused on each of its retries)."""
    return str(uuid.uuid4())


def mask_key(key: str | None) -> str | None:
    """The key as it may be shown: its well-known prefix, never a character of the secret."""
    if key is None:
        return None
    for prefix in _KEY_PREFIXES:
        if key.startswith(prefix):
            return prefix + "***"
    return "***"


def _host_of(url: str | httpx.URL) -> str:
    try:
        return httpx.URL(str(url)).host.lower()
    except (httpx.InvalidURL, TypeError):
        return ""


def is_loopback_url(url: str | httpx.URL) -> bool:
    """True for ``localhost`` and loopback addresses (a local ``wireflow-nb serve``)."""
    host = _host_of(url).strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_hosted_url(url: str | httpx.URL) -> bool:
    """True when the URL points at the hosted Wireflow service."""
    host = _host_of(url)
    return host == HOSTED_DOMAIN or host.endswith("." + HOSTED_DOMAIN)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default_ports = {"http": 80, "https": 443}
    return (url.scheme, url.host.lower(), url.port or default_ports.get(url.scheme))


def same_origin(a: str | httpx.URL, b: str | httpx.URL) -> bool:
    """Same scheme, host and port: the only case where the bearer key may be sent."""
    try:
        return _origin(httpx.URL(str(a))) == _origin(httpx.URL(str(b)))
    except httpx.InvalidURL:
        return False


def _safe_url(url: httpx.URL) -> str:
    """A URL for messages and logs: signed CDN URLs carry tokens in the query, drop it."""
    return str(url.copy_with(query=None, fragment=None))


def decode_data_url(url: str) -> bytes:
    """The bytes of a ``data:`` URL (base64 or percent-encoded)."""
    header, sep, payload = url.partition(",")
    if not sep or not header.lower().startswith("data:"):
        raise ValueError("not a data: URL (expected 'data:[<type>][;base64],<data>')")
    if header.lower().endswith(";base64"):
        raw = unquote_to_bytes(payload)
        try:
            return base64.b64decode(raw + b"=" * (-len(raw) % 4), validate=False)
        except binascii.Error as exc:
            raise ValueError(f"the data: URL holds invalid base64: {exc}") from None
    return unquote_to_bytes(payload)


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


def request_id_of(headers: Mapping[str, str]) -> str | None:
    return _header(headers, "x-request-id") or _header(headers, "request-id")


def _redact_value(value: Any, secrets: tuple[str | None, ...]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {k: _redact_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v, secrets) for v in value]
    return value


def parse_body(response: httpx.Response) -> Any:
    """The JSON of a response; its text (shortened) when it is not JSON; None if empty."""
    if not response.content:
        return None
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        text = response.text.strip()
        return text[:2000] if text else None


_M = TypeVar("_M", bound=BaseModel)


def _read_model(model: type[_M], body: Any) -> _M:
    """``model`` from an answer's JSON; a body of another shape is an ``APIError`` that
    says what was expected, never a raw pydantic error."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the body"
        raise APIError(
            f"The API answered with a body this client cannot read as {model.__name__} "
            f"({where}: {first['msg']}). Check that base_url points at the Executions API "
            "(it ends in /api/v1), or update wireflow_nb."
        ) from None


def _unwrap(body: Any, *wanted: str) -> Any:
    """Unwrap a hosted ``{"data": ...}`` envelope unless the body already has a wanted key."""
    if isinstance(body, dict) and "data" in body and not any(k in body for k in wanted):
        return body["data"]
    return body


# -- errors -----------------------------------------------------------------------------


def _server_text(body: Any) -> str | None:
    if isinstance(body, dict):
        return error_message(body.get("error")) or error_message(body.get("message"))
    if isinstance(body, str) and body:
        # a proxy's HTML error page is noise; keep only short plain text
        return None if body.lstrip().startswith("<") else body[:300]
    return None


def _error_code(body: Any) -> str | None:
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and isinstance(err.get("code"), str):
            return str(err["code"])
        if isinstance(body.get("code"), str):
            return str(body["code"])
    return None


def _list_details(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    lines: list[str] = []
    details = body.get("details")
    if isinstance(details, list):
        for d in details:
            if not isinstance(d, dict):
                continue
            where = ".".join(str(d[k]) for k in ("nodeId", "field") if d.get(k))
            text = str(d.get("message") or d)
            lines.append(f"  - {where}: {text}" if where else f"  - {text}")
    violations = body.get("violations")
    if isinstance(violations, list):
        for v in violations:
            if not isinstance(v, dict):
                continue
            target = v.get("nodeId") or v.get("edgeId")
            rule = f"[{v['rule']}] " if v.get("rule") else ""
            text = f"{rule}{v.get('message') or v}"
            if target:
                text = f"{target}: {text}"
            if v.get("fix"):
                text += f" (fix: {v['fix']})"
            lines.append(f"  - {text}")
    return lines


def error_from_response(
    status: int,
    body: Any,
    headers: Mapping[str, str],
    *,
    secrets: tuple[str | None, ...] = (),
    now: float = 0.0,
    retries: int = 0,
    context: str | None = None,
) -> APIStatusError:
    """The exception for an error answer: the server's ``error`` text, what to do about it
    and (through ``APIError.__str__``) the request id. Secrets never reach the message."""
    body = _redact_value(body, secrets)
    request_id = request_id_of(headers)
    server = _server_text(body)
    head = server or f"HTTP {status}"
    if context:
        head = f"{context}: {head}"
    details = _list_details(body)
    tried = f" (after {retries} retr{'y' if retries == 1 else 'ies'})" if retries else ""

    def message(hint: str, *, with_details: bool = False) -> str:
        text = head.rstrip(".") + "." + tried + (" " + hint if hint else "")
        if with_details and details:
            text += "\n" + "\n".join(details)
        return redact(text, secrets)

    common: dict[str, Any] = {"status_code": status, "body": body, "request_id": request_id}
    if status == 402:
        parsed = _read_model(InsufficientCredits, body) if isinstance(body, dict) else InsufficientCredits()
        breakdown = [
            item if isinstance(item, CreditsBreakdownItem) else _read_model(CreditsBreakdownItem, item)
            for item in parsed.breakdown
        ]
        costs = [(f"{item.node_label or item.node_id} ({item.node_id})", item.credits) for item in breakdown]
        return InsufficientCreditsError(
            message(insufficient_credits_advice(parsed.required_credits, parsed.available_credits, costs)),
            required_credits=parsed.required_credits,
            available_credits=parsed.available_credits,
            breakdown=breakdown,
            **common,
        )
    retry_after = parse_retry_after(headers, body, now) if status == 429 else None
    hint = status_advice(
        status,
        has_details=bool(details),
        idempotency=_error_code(body) in (None, "idempotency_key_reused", "idempotency_conflict"),
        retry_after=retry_after,
    )
    text = message(hint, with_details=status in (400, 422))
    if status == 400:
        return BadRequestError(text, **common)
    if status == 401:
        return AuthenticationError(text, **common)
    if status == 403:
        return PermissionDeniedError(text, **common)
    if status == 404:
        return NotFoundError(text, **common)
    if status == 422:
        return UnprocessableEntityError(text, **common)
    if status == 429:
        return RateLimitError(text, retry_after=retry_after, **common)
    if status >= 500:
        return InternalServerError(text, **common)
    return APIStatusError(text, **common)


# -- retries ----------------------------------------------------------------------------


@dataclass
class RetryPolicy:
    """Which failures to retry and how long to wait before each retry.

    Retried: connection errors, timeouts, 408, 409, 429 and 5xx. Never: the other 4xx,
    where sending the same request again cannot help. The wait is what the server asked
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


# -- the shared client ------------------------------------------------------------------


@dataclass
class _Answer:
    """A successful response, read."""

    response: httpx.Response
    body: Any


class BaseClient(Generic[_HttpT]):
    """Configuration and request/response handling shared by both clients (no I/O)."""

    _http: _HttpT
    _owns_http: bool

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = 30.0,
        max_retries: int = 2,
        poll_initial: float = 1.0,
        poll_factor: float = 1.5,
        poll_max: float = 10.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if api_key is None:
            api_key = os.environ.get(API_KEY_ENV)
        # a trailing newline pasted along with the key is the commonest 401 there is
        self._api_key: str | None = api_key.strip() if api_key and api_key.strip() else None
        resolved = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        self.base_url = resolved.rstrip("/")
        try:
            parsed = httpx.URL(self.base_url)
        except httpx.InvalidURL as exc:
            raise ValueError(f"base_url {self.base_url!r} is not a URL: {exc}") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(
                f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r} or "
                f"'http://127.0.0.1:8000/api/v1', got {self.base_url!r}"
            )
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        poll_delays(poll_initial, poll_factor, poll_max)  # validates the three values
        self.timeout = timeout
        self.max_retries = max_retries
        self.poll_initial = poll_initial
        self.poll_factor = poll_factor
        self.poll_max = poll_max
        self._clock: Callable[[], float] = clock or _wall_clock
        self._retry = RetryPolicy(max_retries=max_retries)
        self._pacer = RequestPacer()

    # -- public, no I/O -----------------------------------------------------------------
    @property
    def rate_limit(self) -> RateLimit | None:
        """The last ``X-RateLimit-*`` values the API sent (None before the first)."""
        return self._pacer.rate_limit

    @property
    def is_hosted(self) -> bool:
        return is_hosted_url(self.base_url)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={mask_key(self._api_key)!r})"

    # -- requests -----------------------------------------------------------------------
    @property
    def _secrets(self) -> tuple[str | None, ...]:
        return (self._api_key,)

    def _url(self, path_or_url: str) -> httpx.URL:
        if path_or_url.startswith("/") and not path_or_url.startswith("//"):
            return httpx.URL(self.base_url + path_or_url)
        return httpx.URL(self.base_url + "/").join(path_or_url)

    def _headers(self, url: httpx.URL, idempotency_key: str | None) -> dict[str, str]:
        from .. import __version__

        headers = {
            "Accept": "application/json",
            "User-Agent": f"wireflow_nb/{__version__} python/{sys.version_info[0]}.{sys.version_info[1]}",
        }
        # the key goes to our own API only; an output URL on a CDN must never see it
        if self._api_key and same_origin(url, self.base_url):
            headers["Authorization"] = f"Bearer {self._api_key}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def _check_key(self, url: httpx.URL) -> None:
        if self._api_key is None and is_hosted_url(url) and same_origin(url, self.base_url):
            raise AuthenticationError(
                f"No API key: set the {API_KEY_ENV} environment variable or pass "
                f"WireflowClient(api_key='sk-...'). Create a key in the Wireflow web app "
                f"(Settings > API keys). To use a local server instead, set {BASE_URL_ENV} "
                "(e.g. http://127.0.0.1:8000/api/v1)."
            )

    def _build_request(
        self,
        method: str,
        url: httpx.URL,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Request:
        kwargs: dict[str, Any] = {"headers": self._headers(url, idempotency_key)}
        if json_body is not None:
            kwargs["json"] = json_body
        if params:
            kwargs["params"] = dict(params)
        # the timeout lives on the httpx client: ours gets self.timeout, a client the
        # caller passed in keeps its own settings
        return self._http.build_request(method, url, **kwargs)

    def _log_target(self, url: httpx.URL) -> str:
        if same_origin(url, self.base_url):
            return url.path
        return _safe_url(url)

    def _is_api(self, url: httpx.URL) -> bool:
        return same_origin(url, self.base_url)

    def _note_send(self, url: httpx.URL) -> None:
        if self._is_api(url):
            self._pacer.note_send(self._clock())

    def _transport_failure(
        self, exc: httpx.TransportError, request: httpx.Request, retries: int
    ) -> tuple[APIConnectionError, float | None]:
        """The error for a request that got no answer, and the delay before a retry."""
        target = self._log_target(request.url)
        tried = f" after {retries + 1} attempt(s)" if retries else ""
        cause = redact(str(exc) or type(exc).__name__, self._secrets)
        error: APIConnectionError
        if isinstance(exc, httpx.TimeoutException):
            error = APITimeoutError(
                f"{request.method} {target} timed out{tried} ({cause}). {timeout_advice()}"
            )
        else:
            error = APIConnectionError(
                f"Could not reach {_safe_url(request.url.copy_with(path='/'))} for {request.method} {target}"
                f"{tried} ({cause}). {connection_advice(self.base_url)}"
            )
        delay = self._retry.delay(retries)
        logger.debug(
            "%s %s -> %s%s",
            request.method,
            target,
            type(exc).__name__,
            f"; retrying in {delay:.2f} s" if delay is not None else "",
        )
        return error, delay

    def _request_failure(self, exc: httpx.RequestError, request: httpx.Request) -> APIConnectionError:
        """The error for a request httpx gave up on for good (too many redirects, an
        undecodable body): sending it again would end the same way."""
        cause = redact(str(exc) or type(exc).__name__, self._secrets)
        return APIConnectionError(f"{request.method} {self._log_target(request.url)} failed: {cause}")

    def _read_response(
        self, request: httpx.Request, response: httpx.Response, retries: int, *, raw: bool = False
    ) -> tuple[_Answer | None, APIError | None, float | None]:
        """Read an answer: (the answer, None, None) on success, else the error and the
        delay before a retry (None: raise it)."""
        now = self._clock()
        target = self._log_target(request.url)
        if self._is_api(request.url):
            self._pacer.observe(parse_rate_limit(response.headers, now))
        request_id = request_id_of(response.headers)
        status = response.status_code
        if status < 400:
            logger.debug("%s %s -> %s (request id %s)", request.method, target, status, request_id)
            body = None if raw else parse_body(response)
            if isinstance(body, str):
                # an HTML page from a proxy or a wrong base_url would otherwise read as an
                # empty poll (status PENDING) and keep wait polling until its timeout
                return (
                    None,
                    APIError(
                        f"{request.method} {target} answered {status} with a body that is not JSON "
                        f"({response.headers.get('content-type', 'no content type')}); is base_url "
                        f"({self.base_url}) the Wireflow API?",
                        request_id=request_id,
                    ),
                    None,
                )
            return _Answer(response, body), None, None
        body = parse_body(response)
        context = None if self._is_api(request.url) else f"Fetching {_safe_url(request.url)} failed"
        error = error_from_response(
            status, body, response.headers, secrets=self._secrets, now=now, retries=retries, context=context
        )
        delay: float | None = None
        if RetryPolicy.is_retryable_status(status):
            retry_after = parse_retry_after(response.headers, body, now, rate_limited=status == 429)
            delay = self._retry.delay(retries, retry_after)
        log = logger.warning if delay is not None and delay >= 10 else logger.debug
        log(
            "%s %s -> %s (request id %s)%s",
            request.method,
            target,
            status,
            request_id,
            f"; retrying in {delay:.1f} s" if delay is not None else "",
        )
        return None, error, delay

    # -- endpoint-specific, no I/O ------------------------------------------------------
    def _execute_call(
        self,
        workflow_id: str,
        workflow_or_request: WorkflowOrRequest,
        *,
        target_node_id: str | None,
        trigger_data: Mapping[str, Any] | None,
        iterator_configs: IteratorConfigsArg,
        idempotency_key: str | None,
    ) -> tuple[str, dict[str, Any], str]:
        """(path, JSON body, idempotency key) of an execute call, checked before sending."""
        if not workflow_id:
            raise ValueError("workflow_id must be a non-empty string (the workflow's id on the server)")
        request = as_request(
            workflow_or_request,
            target_node_id=target_node_id,
            trigger_data=trigger_data,
            iterator_configs=iterator_configs,
        )
        if self.is_hosted:
            _check_hosted_limits(request)
        return (
            f"/workflows/{_seg(workflow_id)}/execute",
            request.to_wire(),
            idempotency_key or new_idempotency_key(),
        )

    @staticmethod
    def _parse_execute(answer: _Answer, workflow_id: str) -> ExecuteResponse:
        body = _unwrap(answer.body, "executionRuns", "workflowId")
        if isinstance(body, dict) and "executionRuns" not in body:
            # a hosted variant answers with just the id; the Location header names it too
            run_id = body.get("executionId") or body.get("id") or _id_from_location(answer.response)
            if isinstance(run_id, str) and run_id:
                status = body.get("status", ExecutionStatus.PENDING)
                body = {
                    "workflowId": body.get("workflowId", workflow_id),
                    "executionRuns": [{"id": run_id, "status": status}],
                }
        if isinstance(body, dict) and "workflowId" not in body:
            body = {**body, "workflowId": workflow_id}
        return _read_model(ExecuteResponse, body)

    @staticmethod
    def _parse_poll(body: Any) -> PollResponse:
        return _read_model(PollResponse, body if isinstance(body, dict) else {})

    @staticmethod
    def _parse_execution(body: Any) -> Execution:
        return _read_model(Execution, _unwrap(body, "id", "status"))

    @staticmethod
    def _parse_summaries(body: Any) -> list[ExecutionSummary]:
        rows = _unwrap(body, "executions", "items")
        if isinstance(rows, dict):
            rows = rows.get("executions", rows.get("items", []))
        if not isinstance(rows, list):
            return []
        return [_read_model(ExecutionSummary, row) for row in rows if isinstance(row, dict)]

    @staticmethod
    def _parse_balance(body: Any) -> float | None:
        body = _unwrap(body, "creditsBalance", "credits", "balance")
        if not isinstance(body, dict):
            return _number(body)
        for key in ("creditsBalance", "credits", "balance", "availableCredits"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("balance", value.get("available"))
            number = _number(value)
            if number is not None:
                return number
        return None

    @staticmethod
    def _check_page(limit: int, offset: int) -> None:
        if not 1 <= limit <= 100:
            raise ValueError(f"limit must be between 1 and 100, got {limit}")
        if offset < 0:
            raise ValueError(f"offset must be >= 0, got {offset}")

    def _cancel_error(self, error: APIStatusError, execution_id: str) -> APIStatusError:
        """A clear error when the server has no cancel endpoint (the hosted API has none)."""
        unsupported = error.status_code == 405 or (error.status_code == 404 and self.is_hosted)
        if not unsupported:
            return error
        text = (
            f"Cannot cancel execution {execution_id}: this server has no cancel endpoint "
            "(the hosted Wireflow API has none). The execution keeps running; stop it from the "
            "Wireflow web app, or run on a local server (wireflow-nb serve) to cancel from Python."
        )
        return type(error)(text, status_code=error.status_code, body=error.body, request_id=error.request_id)

    def _fetch_target(self, url: str) -> httpx.URL | bytes:
        """The URL to GET for an output, or the bytes at once for a ``data:`` URL."""
        if url.startswith("data:"):
            return decode_data_url(url)
        # "/api/v1/files/x" is relative to the origin, "x" to the base URL
        target = httpx.URL(self.base_url + "/").join(url)
        if target.scheme not in ("http", "https"):
            raise ValueError(
                f"cannot fetch {target.scheme}: URLs with the HTTP client; "
                "outputs of a LocalEngine are read with engine.fetch_bytes"
            )
        return target

    def _wait_state(
        self, execution_id: str, timeout: float | None, on_update: OnUpdate | None, resume_hint: str
    ) -> WaitState:
        return WaitState(
            execution_id,
            timeout=timeout,
            on_update=on_update,
            delays=poll_delays(self.poll_initial, self.poll_factor, self.poll_max),
            pacer=self._pacer,
            now=self._clock(),
            resume_hint=resume_hint,
            secrets=self._secrets,
        )


def _wall_clock() -> float:
    import time

    return time.time()


def _seg(value: str) -> str:
    """An id as one path segment: an id holding '/' must not reach another route."""
    return quote(str(value), safe="")


def _id_from_location(response: httpx.Response) -> str | None:
    location = response.headers.get("location")
    if not location:
        return None
    parts = [p for p in httpx.URL(location).path.split("/") if p]
    if parts and parts[-1] == "poll":
        parts = parts[:-1]
    return parts[-1] if parts else None


def _check_hosted_limits(request: ExecuteRequest) -> None:
    """The hosted API's size limits, checked the way ``Workflow.check_hosted_limits`` does."""
    from ..workflow import Workflow

    # Workflow keeps the given node/edge models as they are: no copy of a big graph
    Workflow(nodes=request.nodes, edges=request.edges).check_hosted_limits()
