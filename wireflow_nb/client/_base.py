"""The no-I/O core the sync and async clients share: ``BaseClient``.

This module owns the client's configuration (key and base URL from the environment, the
timeout, retries and poll delays), building a request (URL, headers, the bearer key only
for our own origin), reading an answer into a result or an error and a retry delay, and
the endpoint-specific shapes (paths, bodies, parsing). ``_sync`` and ``_async`` only add
the sending and the sleeping. The rules it applies live in the modules of one concept:
``_urls`` (URLs and keys), ``_headers``, ``_errors`` (error mapping), ``_retry``,
``_wait`` and ``_uploads`` (local media). It may import httpx, ``_advice``,
``_exceptions``, ``_media``, ``backend``, ``models`` and those modules; never ``_sync``
or ``_async``, which build on it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx

from .._advice import API_KEY_ENV, BASE_URL_ENV, connection_advice, timeout_advice
from .._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    redact,
)
from .._media import LocalMedia
from ..backend import IteratorConfigsArg, OnUpdate, WorkflowOrRequest, as_request
from ..models import (
    ExecuteRequest,
    ExecuteResponse,
    Execution,
    ExecutionStatus,
    ExecutionSummary,
    PollResponse,
)
from ._errors import _read_model, _unwrap, error_code, error_from_response, parse_body
from ._headers import _number, new_idempotency_key, parse_rate_limit, request_headers, request_id_of
from ._polling import RateLimit, RequestPacer, poll_delays
from ._retry import RetryPolicy, parse_retry_after
from ._uploads import (
    OnUpload,
    ProgressBody,
    UploadCache,
    UploadPlan,
    UploadProgress,
    default_cache_folder,
)
from ._urls import (
    _id_from_location,
    _safe_url,
    _seg,
    decode_data_url,
    is_hosted_url,
    mask_key,
    resolve_api_key,
    resolve_base_url,
    same_origin,
)
from ._wait import WaitState

__all__ = ["BaseClient"]

logger = logging.getLogger("wireflow_nb.client")

_HttpT = TypeVar("_HttpT", httpx.Client, httpx.AsyncClient)


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
        upload_cache: str | os.PathLike[str] | bool = True,
    ) -> None:
        self._api_key: str | None = resolve_api_key(api_key)
        self.base_url = resolve_base_url(base_url)
        if upload_cache is True:
            cache_folder: Path | None = default_cache_folder()
        elif upload_cache is False:
            cache_folder = None
        else:
            cache_folder = Path(upload_cache)
        #: Uploads of local media by content hash (``_uploads.UploadCache``).
        self.upload_cache = UploadCache(self.base_url, cache_folder)
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
        # the key goes to our own API only; an output URL on a CDN must never see it
        api_key = self._api_key if same_origin(url, self.base_url) else None
        return request_headers(api_key=api_key, idempotency_key=idempotency_key)

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
        upload: ProgressBody | None = None,
    ) -> httpx.Request:
        kwargs: dict[str, Any] = {"headers": self._headers(url, idempotency_key)}
        if json_body is not None:
            kwargs["json"] = json_body
        if upload is not None:
            # multipart/form-data (an upload), streamed from the start on each attempt
            kwargs["headers"].update(upload.headers)
            kwargs["content"] = upload.stream(asynchronous=isinstance(self._http, httpx.AsyncClient))
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
        if RetryPolicy.is_retryable_answer(status, error_code(body)):
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
    ) -> tuple[str, ExecuteRequest, str]:
        """(path, request, idempotency key) of an execute call, checked before sending.
        The request is a copy: a ``MediaPlan`` may write upload URLs into it."""
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
            request,
            idempotency_key or new_idempotency_key(),
        )

    def _missing_uploads(self, plan: UploadPlan) -> list[tuple[LocalMedia, str | None, str]]:
        """(media, node id, field) of the plan's local media the upload cache does not know."""
        return [item for item in plan.media if self.upload_cache.get(item[0].sha256) is None]

    def _planned_body(self, plan: UploadPlan) -> dict[str, Any]:
        """The plan's body, every local media value replaced by its upload URL."""
        urls = {media.sha256: self.upload_cache.get(media.sha256) or "" for media, _, _ in plan.media}
        return plan.apply(urls)

    @staticmethod
    def _upload_progress(
        media: LocalMedia, node_id: str | None, field: str, on_upload: OnUpload | None
    ) -> Callable[[int, int], None] | None:
        """``progress(sent, total)`` of one media upload, reported to ``on_upload``."""
        if on_upload is None:
            return None

        def report(sent: int, total: int) -> None:
            on_upload(UploadProgress(media.name, sent, total, node_id, field))

        return report

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


def _check_hosted_limits(request: ExecuteRequest) -> None:
    """The hosted API's size limits, checked the way ``Workflow.check_hosted_limits`` does."""
    from ..workflow import Workflow

    # Workflow keeps the given node/edge models as they are: no copy of a big graph
    Workflow(nodes=request.nodes, edges=request.edges).check_hosted_limits()
