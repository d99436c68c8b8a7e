"""``AsyncWireflowClient``: the client that sends with ``httpx.AsyncClient`` and sleeps
with ``anyio.sleep``. It owns only the I/O; every decision lives in ``_base`` and the
modules of one concept it uses.

The two clients are twins from one source: ``_sync.py`` (the blocking client) is
generated from ``_async.py`` (the async one) by ``scripts/unasync.py``, which CI runs
with ``--check``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any

import anyio
import httpx

from .._exceptions import (
    APIConnectionError,
    APIStatusError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
)
from ..backend import IteratorConfigsArg, OnUpdate, WorkflowOrRequest
from ..catalog import Catalog, catalog_from_hosted
from ..models import (
    CostEstimate,
    ExecuteResponse,
    Execution,
    ExecutionSummary,
    MediaUpload,
    PollResponse,
    Usage,
)
from ._account import parse_estimate, parse_media, parse_usage, upload_body
from ._async_resources import AsyncWorkflows
from ._base import BaseClient, _Answer, logger
from ._headers import new_idempotency_key
from ._uploads import MediaPlan, OnUpload, ProgressBody, UploadPlan
from ._urls import _seg

__all__ = ["AsyncWireflowClient"]


class AsyncWireflowClient(BaseClient[httpx.AsyncClient]):
    """Run workflows on the hosted Wireflow API (or a ``wireflow-nb serve``) and wait.

    >>> client = AsyncWireflowClient()  # key from WIREFLOW_API_KEY  # doctest: +SKIP
    >>> [result] = await client.run("my-workflow", workflow)  # doctest: +SKIP
    >>> result.node_run("image").images[0].url  # doctest: +SKIP

    Both clients, blocking and async, have the same methods; the async one's are
    awaited. ``base_url`` defaults to ``$WIREFLOW_BASE_URL``, else the hosted API
    (``https://www.wireflow.ai/api/v1``). ``sleep`` (default ``anyio.sleep``) and
    ``clock`` (``time.time``-like) are injectable so tests never wait. Pass
    ``http_client`` to use your own ``httpx.AsyncClient`` (it is not closed by
    ``close()``), or ``transport`` for ours.

    Local media (a path, bytes, a PIL image or a numpy array as the value of an image,
    video or audio input) is uploaded before a run, once per content hash, and the
    request carries the upload's URL: a local path is never sent. ``upload_cache``:
    where uploads are remembered between kernels (True: ``<data home>/uploads``, a
    folder, or False: in memory only).
    """

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
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] | None = None,
        upload_cache: str | os.PathLike[str] | bool = True,
    ) -> None:
        super().__init__(
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            poll_initial=poll_initial,
            poll_factor=poll_factor,
            poll_max=poll_max,
            clock=clock,
            upload_cache=upload_cache,
        )
        if http_client is not None and transport is not None:
            raise ValueError("pass either http_client or transport, not both")
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout, transport=transport)
        self._sleep: Callable[[float], Awaitable[None]] = sleep or anyio.sleep
        #: The saved workflows of the account: list, get, create, update, delete, inputs,
        #: run, function, create_webhook (``_async_resources``).
        self.workflows = AsyncWorkflows(self)

    # -- lifecycle ------------------------------------------------------------------------
    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    aclose = close  # unasync: drop (httpx.AsyncClient's name; the blocking client has close only)

    async def __aenter__(self) -> AsyncWireflowClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- sending --------------------------------------------------------------------------
    async def _request(
        self,
        method: str,
        path_or_url: str | httpx.URL,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        raw: bool = False,
        upload: ProgressBody | None = None,
    ) -> _Answer:
        url = path_or_url if isinstance(path_or_url, httpx.URL) else self._url(path_or_url)
        self._check_key(url)
        retries = 0
        while True:
            # the same idempotency key on every attempt: a retry must never start a twin
            request = self._build_request(
                method,
                url,
                json_body=json_body,
                params=params,
                idempotency_key=idempotency_key,
                upload=upload,
            )
            self._note_send(url)
            delay: float | None
            try:
                # httpx drops the Authorization header on a redirect to another origin
                response = await self._http.send(request, follow_redirects=True)
            except httpx.TransportError as exc:
                error, delay = self._transport_failure(exc, request, retries)
                if delay is None:
                    raise error from exc
            except httpx.RequestError as exc:
                raise self._request_failure(exc, request) from exc
            else:
                answer, status_error, delay = self._read_response(request, response, retries, raw=raw)
                if answer is not None:
                    return answer
                assert status_error is not None
                if delay is None:
                    raise status_error
            await self._sleep(delay)
            retries += 1

    # -- the API --------------------------------------------------------------------------
    async def execute(
        self,
        workflow_id: str,
        workflow_or_request: WorkflowOrRequest,
        *,
        target_node_id: str | None = None,
        trigger_data: Mapping[str, Any] | None = None,
        iterator_configs: IteratorConfigsArg = None,
        idempotency_key: str | None = None,
        on_upload: OnUpload | None = None,
    ) -> ExecuteResponse:
        """Start a run (``POST /workflows/{id}/execute``); returns at once with its ids.
        Local media is uploaded first (once per content hash); ``on_upload(progress)``
        hears how far each upload is."""
        path, request, key = self._execute_call(
            workflow_id,
            workflow_or_request,
            target_node_id=target_node_id,
            trigger_data=trigger_data,
            iterator_configs=iterator_configs,
            idempotency_key=idempotency_key,
        )
        body = await self._with_uploads(MediaPlan(request), on_upload)
        answer = await self._request("POST", path, json_body=body, idempotency_key=key)
        return self._parse_execute(answer, workflow_id)

    async def poll(self, execution_id: str) -> PollResponse:
        """The current status of an execution (``GET /workflows/executions/{id}/poll``)."""
        answer = await self._request("GET", f"/workflows/executions/{_seg(execution_id)}/poll")
        return self._parse_poll(answer.body)

    async def wait(
        self,
        execution_id: str,
        *,
        timeout: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> PollResponse:
        """Poll until the execution ends; returns its last poll when it COMPLETED.

        Raises ``ExecutionFailedError`` (FAILED or TIMEOUT), ``ExecutionCancelledError``,
        or ``WaitTimeoutError`` after ``timeout`` seconds (the execution keeps running:
        call ``wait`` again to resume). ``on_update(poll)`` is called whenever the status
        or a node's state or output changed. Stopping the wait (an interrupt, or a
        cancelled task) leaves the execution running on the server.
        """
        state = self._wait_state(execution_id, timeout, on_update, f"await client.wait({execution_id!r})")
        try:
            while True:
                try:
                    poll = await self.poll(execution_id)
                except RateLimitError as exc:
                    state.rate_limited(exc)
                except (APIConnectionError, InternalServerError) as exc:
                    state.transient_failure(exc)
                else:
                    if state.observe(poll):
                        return poll
                await self._sleep(state.next_delay(self._clock()))
        except (KeyboardInterrupt, anyio.get_cancelled_exc_class()):
            state.log_interrupted()
            raise

    async def get_execution(self, execution_id: str) -> Execution:
        """The full record of an execution (``GET /workflows/executions/{id}``)."""
        answer = await self._request("GET", f"/workflows/executions/{_seg(execution_id)}")
        return self._parse_execution(answer.body)

    async def list_executions(
        self, workflow_id: str, *, limit: int = 10, offset: int = 0
    ) -> list[ExecutionSummary]:
        """One page of a workflow's history, most recent first."""
        self._check_page(limit, offset)
        answer = await self._request(
            "GET", f"/workflows/{_seg(workflow_id)}/executions", params={"limit": limit, "offset": offset}
        )
        return self._parse_summaries(answer.body)

    async def iter_executions(
        self, workflow_id: str, *, page_size: int = 50
    ) -> AsyncIterator[ExecutionSummary]:
        """Every execution of a workflow, most recent first, fetching page after page."""
        self._check_page(page_size, 0)
        offset = 0
        seen: set[str] = set()
        while True:
            page = await self.list_executions(workflow_id, limit=page_size, offset=offset)
            fresh = [row for row in page if row.id not in seen]
            for row in fresh:
                yield row
            seen.update(row.id for row in page)
            # a short page is the last; a page of nothing new means the server ignores offset
            if len(page) < page_size or not fresh:
                return
            offset += len(page)

    async def run(
        self,
        workflow_id: str,
        workflow_or_request: WorkflowOrRequest,
        *,
        target_node_id: str | None = None,
        trigger_data: Mapping[str, Any] | None = None,
        iterator_configs: IteratorConfigsArg = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
        on_update: OnUpdate | None = None,
        on_upload: OnUpload | None = None,
    ) -> list[PollResponse]:
        """``execute`` then ``wait`` for every run of the batch, in batch order.

        ``timeout`` bounds the whole call. Raises ``ExecutionFailedError`` on the first
        run that failed (the others keep their results on the server). Runs are waited
        for one after another, not concurrently: they run in parallel on the server
        anyway, and one poller per run would spend the rate-limit budget n times.
        """
        started = self._clock()
        response = await self.execute(
            workflow_id,
            workflow_or_request,
            target_node_id=target_node_id,
            trigger_data=trigger_data,
            iterator_configs=iterator_configs,
            idempotency_key=idempotency_key,
            on_upload=on_upload,
        )
        logger.debug("run of %s started executions %s", workflow_id, response.execution_ids)
        results: list[PollResponse] = []
        for run in response.execution_runs:
            left = None if timeout is None else max(0.0, timeout - (self._clock() - started))
            if run.is_terminal:
                # the execute answer already holds the end state: no request needed
                state = self._wait_state(run.id, left, on_update, f"await client.wait({run.id!r})")
                poll = PollResponse.from_run(run)
                state.observe(poll)
                results.append(poll)
            else:
                results.append(await self.wait(run.id, timeout=left, on_update=on_update))
        return results

    async def cancel(self, execution_id: str) -> PollResponse:
        """Stop an execution (local server only: the hosted API has no cancel)."""
        try:
            answer = await self._request("POST", f"/workflows/executions/{_seg(execution_id)}/cancel")
        except APIStatusError as exc:
            error = self._cancel_error(exc, execution_id)
            if error is exc:
                raise
            raise error from None
        return self._parse_poll(answer.body)

    async def fetch_bytes(self, url: str) -> bytes:
        """The bytes of an output URL (``data:`` URLs included). The API key is sent only
        to the API's own origin, never to a CDN."""
        target = self._fetch_target(url)
        if isinstance(target, bytes):
            return target
        answer = await self._request("GET", target, raw=True)
        return answer.response.content

    async def credits_balance(self) -> float | None:
        """Credits left on the account (``GET /developer/usage``); None if not offered."""
        try:
            answer = await self._request("GET", "/developer/usage")
        except NotFoundError:
            return None
        return self._parse_balance(answer.body)

    # -- the account ----------------------------------------------------------------------
    async def nodes(self) -> Catalog:
        """The node catalogue of the server (``GET /nodes``) as a ``Catalog`` of typed
        ``NodeSpec`` objects (read by ``catalog.catalog_from_hosted``)."""
        answer = await self._request("GET", "/nodes")
        return catalog_from_hosted(answer.body)

    async def usage(self) -> Usage:
        """Credits left and used (``GET /developer/usage``)."""
        answer = await self._request("GET", "/developer/usage")
        return parse_usage(answer.body)

    async def estimate(
        self,
        workflow: WorkflowOrRequest | str,
        *,
        workflow_id: str | None = None,
        target_node_id: str | None = None,
        iterator_configs: IteratorConfigsArg = None,
        on_upload: OnUpload | None = None,
    ) -> CostEstimate:
        """What executing would charge now (``POST /workflows/{id}/estimate``): for a
        workflow (or request), or for the saved workflow of an id (a ``str``)."""
        if isinstance(workflow, str):
            answer = await self._request("POST", f"/workflows/{_seg(workflow)}/estimate", json_body={})
            return parse_estimate(answer.body, workflow)
        path, request, _ = self._execute_call(
            workflow_id or str(getattr(workflow, "id", "") or "notebook"),
            workflow,
            target_node_id=target_node_id,
            trigger_data=None,
            iterator_configs=iterator_configs,
            idempotency_key=None,
        )
        body = await self._with_uploads(MediaPlan(request), on_upload)
        estimate_path = path.removesuffix("/execute") + "/estimate"
        answer = await self._request("POST", estimate_path, json_body=body)
        return parse_estimate(answer.body, estimate_path.split("/")[2])

    async def upload(
        self,
        source: Any,
        *,
        filename: str | None = None,
        idempotency_key: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> MediaUpload:
        """Upload a file (a path, bytes, a PIL image or a numpy array; at most 25 MB,
        checked before sending) to ``POST /media/upload``; its ``url`` is what an image
        input takes. The content type is read from the bytes. ``progress(sent, total)``
        is called as the bytes go out. Retries reuse one idempotency key, so a retried
        upload stores one file. Runs reuse the upload for the same bytes."""
        body = upload_body(source, filename, progress)
        key = idempotency_key or new_idempotency_key()
        answer = await self._request("POST", "/media/upload", upload=body, idempotency_key=key)
        media = parse_media(answer.body)
        if media.url:
            self.upload_cache.put(hashlib.sha256(body.data).hexdigest(), media.url)
        return media

    async def _with_uploads(self, plan: UploadPlan, on_upload: OnUpload | None) -> dict[str, Any]:
        """The body of ``plan`` (a request's, a saved workflow run's inputs, or a workflow
        to save), each local media value uploaded (unless the upload cache knows its
        bytes) and replaced by the upload's URL. (A missing file raised when the plan was made: nothing sent.)"""
        for media, node_id, field in self._missing_uploads(plan):
            await self.upload(
                media.data,
                filename=media.name,
                progress=self._upload_progress(media, node_id, field, on_upload),
            )
        return self._planned_body(plan)
