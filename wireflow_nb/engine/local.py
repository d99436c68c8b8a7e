"""``LocalEngine``: the Executions API in process, offline.

It owns the engine's lifecycle (home folder, SQLite store, artifact store, background
thread with its asyncio loop, thread pool), turns ``Backend`` calls into validated,
planned, paid-for runs, and reads them back in the wire shapes of the spec. What the
caller gives becomes a request in ``request``; what a graph means is ``validation``'s
and ``planning``'s; the runs in flight are ``live``'s, how one runs is ``scheduler``'s,
and waiting for one is ``waiting``'s. This module wires them together.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from .._exceptions import (
    BadRequestError,
    NotFoundError,
    Problem,
    UnprocessableEntityError,
)
from .._home import data_home
from ..backend import IteratorConfigsArg, OnUpdate, WorkflowOrRequest
from ..catalog import Catalog, default_catalog
from ..models import (
    CreditsBreakdownItem,
    ExecuteRequest,
    ExecuteResponse,
    Execution,
    ExecutionSummary,
    PollResponse,
)
from ._gcpause import gc_paused
from .account import AccountMixin
from .artifacts import ArtifactStore
from .cache import OutputCache
from .credits import CreditsLedger, estimate
from .events import EventBus, EventCallback
from .home import OwnerLock, exposure_warning, make_private_dir
from .live import LiveRuns, recover
from .planning import RunPlan, plan_batch
from .request import engine_request, idempotency_hash
from .runs import RunRecord
from .saved import check_page
from .scheduler import Services
from .sources import InputPolicy, read_source, source_refusal
from .speed import INLINE_BUDGET
from .store import Store
from .validation import analyze, input_problems, validation_error
from .waiting import outcome, wait_live, wait_stored
from .workers import NodeWorkers

__all__ = ["DEFAULT_MODEL_LATENCY", "IDEMPOTENCY_TTL", "LocalEngine", "default_home"]

#: Simulated latency of model nodes, in seconds, unless WIREFLOW_NB_MODEL_LATENCY says otherwise.
DEFAULT_MODEL_LATENCY = 0.5
#: How long an Idempotency-Key is remembered, in seconds.
IDEMPOTENCY_TTL = 24 * 3600
#: Seconds ``close`` waits for node workers to finish before it gives up on them.
CLOSE_TIMEOUT = 5.0

_DB_NAME = "wireflow_nb.sqlite3"
_DB_FILES = (_DB_NAME, f"{_DB_NAME}-wal", f"{_DB_NAME}-shm")

logger = logging.getLogger("wireflow_nb.engine")


def default_home() -> Path:
    """``$WIREFLOW_NB_HOME``, else the per-user data folder (platformdirs)."""
    return data_home()


def _default_latency() -> float:
    env = os.environ.get("WIREFLOW_NB_MODEL_LATENCY")
    if env:
        try:
            return max(0.0, float(env))
        except ValueError:
            raise ValueError(f"WIREFLOW_NB_MODEL_LATENCY={env!r} is not a number of seconds") from None
    return DEFAULT_MODEL_LATENCY


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


class LocalEngine(AccountMixin):
    """Run workflows in process, offline, through the same API as ``WireflowClient``.

    ``home``: the folder of the history database and output files (default
    ``$WIREFLOW_NB_HOME`` or the per-user data folder); ``":memory:"`` keeps everything
    in memory and a temporary folder. ``credits``: the balance of a new home.
    ``model_latency``: simulated seconds of each model node (default
    ``$WIREFLOW_NB_MODEL_LATENCY`` or 0.5). ``max_concurrency``: how many nodes run at
    once. ``artifact_base_url``: the URL output files are served under (None:
    ``file://`` URIs). ``input_policy``: what input values the engine reads besides its
    own outputs and ``data:`` URLs (default ``InputPolicy.in_process()``: the user's
    files and URLs; a server passes ``InputPolicy.served()``: neither).

    The account endpoints (``engine.workflows``, ``nodes``, ``usage``, ``estimate``,
    ``upload``, webhooks) come from ``AccountMixin`` (``engine/account.py``).

    >>> with LocalEngine(":memory:", model_latency=0) as engine:   # doctest: +SKIP
    ...     [result] = engine.run("demo", workflow)
    """

    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        *,
        catalog: Catalog | None = None,
        credits: float = 1000,
        model_latency: float | None = None,
        max_concurrency: int = 4,
        artifact_base_url: str | None = None,
        input_policy: InputPolicy | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        if home is not None and str(home) == ":memory:":
            self._tmpdir = tempfile.TemporaryDirectory(prefix="wireflow_nb-", ignore_cleanup_errors=True)
            self.home: Path | None = None
            artifacts_root = Path(self._tmpdir.name) / "artifacts"
            db_path: Path | None = None
        else:
            self.home = Path(home).expanduser() if home is not None else default_home()
            make_private_dir(self.home)
            artifacts_root = self.home / "artifacts"
            db_path = self.home / _DB_NAME
        #: What of the home other local users can read or write, with the fix (None: private).
        self.home_warning = None if self.home is None else exposure_warning(self.home, _DB_FILES)
        if self.home_warning is not None:
            logger.warning("%s", self.home_warning)
        self.catalog = catalog if catalog is not None else default_catalog()
        self.model_latency = _default_latency() if model_latency is None else max(0.0, float(model_latency))
        self.artifact_base_url = artifact_base_url
        #: what input values are read (local files, URLs) and how much of them
        self.input_policy = input_policy if input_policy is not None else InputPolicy.in_process()
        #: Sync executors measured faster than this (seconds), which never wait, run on the
        #: engine thread instead of the pool (a thread hop costs more than they do); 0: never.
        self.inline_budget = INLINE_BUDGET
        self._max_concurrency = int(max_concurrency)
        self._closed = False

        self._store = Store(db_path)
        recover(self._store, self.home)
        self._store.prune_idempotency(before=time.time() - IDEMPOTENCY_TTL)
        # held while this engine is open: what proves its runs are in flight (see ``home``)
        self._owner_lock = None if self.home is None else OwnerLock.acquire(self.home)
        self._owner = (
            self._owner_lock.owner if self._owner_lock is not None else f"{os.getpid()}:{uuid.uuid4().hex}"
        )
        self._artifacts = ArtifactStore(artifacts_root)
        self._cache = OutputCache(self._store, self._artifacts)
        self._ledger = CreditsLedger(self._store, credits)
        self._events = EventBus()
        self._execute_lock = threading.Lock()

        self._loop = asyncio.new_event_loop()
        self._runs = LiveRuns(
            loop=self._loop,
            store=self._store,
            cache=self._cache,
            ledger=self._ledger,
            owner=self._owner,
            closed=lambda: self._closed,
        )
        self._pool = NodeWorkers(max(2, self._max_concurrency), name="wireflow-node")
        self._thread = threading.Thread(target=self._run_loop, name="wireflow-engine", daemon=True)
        self._services = Services(
            loop=self._loop,
            pool=self._pool,
            semaphore=asyncio.Semaphore(self._max_concurrency),
            artifacts=self._artifacts,
            cache=self._cache,
            ledger=self._ledger,
            events=self._events,
            base_url=lambda: self.artifact_base_url,
            latency=lambda: self.model_latency,
            inflight={},
            loop_thread=self._thread,
            inline_budget=lambda: self.inline_budget,
            save_run=self._runs.save,
            input_policy=self.input_policy,
        )
        self._thread.start()
        self._loop.call_soon_threadsafe(self._runs.flush_tick)

    # -- lifecycle -----------------------------------------------------------------------------
    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    @property
    def max_concurrency(self) -> int:
        return self._max_concurrency

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def abandoned_threads(self) -> int:
        """Worker threads given up on because their node was cancelled while stuck (in
        I/O that cannot be interrupted) and still not returned; each was replaced."""
        return self._pool.stuck

    @property
    def abandoned_total(self) -> int:
        """Worker threads given up on over the life of this engine."""
        return self._pool.abandoned_total

    def close(self) -> None:
        """Cancel what still runs, write everything down, stop the background thread."""
        if self._closed:
            return
        self._closed = True
        self._runs.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._pool.shutdown(wait=False, cancel_futures=True)
        # nothing is removed while a node still writes: wait for the workers (bounded),
        # then give up on the ones still stuck, as cancel does
        still_running = self._pool.join(CLOSE_TIMEOUT)
        if still_running:
            logger.warning(
                "LocalEngine.close: %d node worker(s) still running after %.0f s were abandoned",
                still_running,
                CLOSE_TIMEOUT,
            )
        if not self._thread.is_alive():
            self._loop.close()
        self._store.close()
        self._runs.retire()
        if self._owner_lock is not None:
            self._owner_lock.release()
        if self._tmpdir is not None:
            # an abandoned worker may still write into it: what it leaves is not an error
            self._tmpdir.cleanup()

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "memory" if self.home is None else str(self.home)
        return f"LocalEngine(home={where!r}, credits={self.credits_balance()!r}, running={len(self._runs.records)})"

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this LocalEngine is closed; create a new one")

    # -- events ----------------------------------------------------------------------------------
    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback(EngineEvent)`` (on the engine thread) for every run and node
        event as it happens; returns the function that unsubscribes."""
        return self._events.subscribe(callback)

    # -- credits -----------------------------------------------------------------------------------
    def credits_balance(self) -> float:
        return _number(self._ledger.balance)

    def credits_used(self) -> float:
        """Credits charged over the life of this home."""
        return _number(self._ledger.used)

    def add_credits(self, amount: float) -> float:
        """Add ``amount`` credits; returns the new balance."""
        return _number(self._ledger.add(amount))

    def estimate_cost(
        self,
        workflow_or_request: WorkflowOrRequest,
        *,
        target_node_id: str | None = None,
        iterator_configs: IteratorConfigsArg = None,
    ) -> tuple[float, list[CreditsBreakdownItem]]:
        """What executing would cost now: the total and the per-node breakdown (nodes
        already in the cache cost nothing). Raises ``BadRequestError`` for an invalid graph."""
        request, _ = engine_request(
            workflow_or_request,
            self._artifacts,
            target_node_id=target_node_id,
            iterator_configs=iterator_configs,
        )
        plans = self._plan(request)
        total, breakdown = estimate(plans, self._cache)
        return _number(total), breakdown

    def problems(
        self,
        workflow_or_request: WorkflowOrRequest,
        *,
        target_node_id: str | None = None,
        iterator_configs: IteratorConfigsArg = None,
    ) -> list[Problem]:
        """Every reason this engine would refuse to run the workflow (empty: it can run)."""
        try:
            request, _ = engine_request(
                workflow_or_request,
                self._artifacts,
                target_node_id=target_node_id,
                iterator_configs=iterator_configs,
            )
        except BadRequestError as exc:
            return [
                Problem(
                    str(d.get("code", "bad_request")),
                    str(d.get("message", exc.message)),
                    node_id=d.get("nodeId"),
                    field=d.get("field"),
                )
                for d in exc.details
            ] or [Problem("bad_request", exc.message)]
        index = analyze(request, self.catalog)
        if index.problems or self.input_policy.permissive:
            return index.problems
        return self._input_problems(plan_batch(index, request.trigger_data))

    # -- execute --------------------------------------------------------------------------------------

    def _plan(self, request: ExecuteRequest) -> list[RunPlan]:
        index = analyze(request, self.catalog)
        if index.problems:
            raise validation_error(index.problems)
        plans = plan_batch(index, request.trigger_data)
        found = self._input_problems(plans)
        if found:
            raise validation_error(found)
        return plans

    def _input_problems(self, plans: list[RunPlan]) -> list[Problem]:
        """Literal media inputs the input policy refuses (trigger data and batch values
        written in): a 400 before anything runs or is charged."""
        policy = self.input_policy
        if policy.permissive:
            return []
        artifacts, base_url = self._artifacts, self.artifact_base_url
        return input_problems(
            ((pn.id, pn.spec, pn.literals) for plan in plans for pn in plan.nodes.values()),
            lambda value: source_refusal(value, artifacts, base_url, policy),
        )

    def execute(
        self,
        workflow_id: str,
        workflow_or_request: WorkflowOrRequest,
        *,
        target_node_id: str | None = None,
        trigger_data: Mapping[str, Any] | None = None,
        iterator_configs: IteratorConfigsArg = None,
        idempotency_key: str | None = None,
        idempotency_scope: str = "local",
    ) -> ExecuteResponse:
        """Validate, check credits, store and start the runs; returns at once.

        Raises ``BadRequestError`` (every problem in ``details``), ``InsufficientCreditsError``
        (nothing runs, nothing is charged) or ``UnprocessableEntityError`` (an
        ``idempotency_key`` reused with another body). The same key with the same body
        within 24 h returns the original response and starts nothing.
        """
        self._check_open()
        request, snapshot = engine_request(
            workflow_or_request,
            self._artifacts,
            target_node_id=target_node_id,
            trigger_data=trigger_data,
            iterator_configs=iterator_configs,
        )
        with self._execute_lock:
            body_hash = None
            if idempotency_key is not None:
                body_hash = idempotency_hash(workflow_id, request)
                found = self._store.get_idempotent(
                    idempotency_scope, idempotency_key, since=time.time() - IDEMPOTENCY_TTL
                )
                if found is not None:
                    if found[0] == body_hash:
                        return ExecuteResponse.model_validate_json(found[1])
                    message = (
                        f"Idempotency-Key {idempotency_key!r} was already used with a different request "
                        "in the last 24 hours; send a new key for a new request"
                    )
                    raise UnprocessableEntityError(message, body={"error": message})
            with gc_paused():
                plans = self._plan(request)
                total, breakdown = estimate(plans, self._cache)
                reservation = self._ledger.reserve(total, len(plans), breakdown)
                try:
                    batch, response = self._runs.create(workflow_id, request, snapshot, plans, self._render)
                except BaseException:
                    for _ in plans:
                        self._ledger.release(reservation)
                    raise
            batch.reservation = reservation
            if idempotency_key is not None and body_hash is not None:
                self._store.put_idempotent(
                    idempotency_scope,
                    idempotency_key,
                    body_hash,
                    json.dumps(response, separators=(",", ":")),
                    created_at=time.time(),
                )
            for record in batch.records:
                self._runs.records[record.id] = record
        with gc_paused():
            result = ExecuteResponse.model_validate(response)
        # built before the runs start, so this thread and the engine's do not take turns
        # at the GIL for it
        self._loop.call_soon_threadsafe(self._runs.start, batch, self._services)
        return result

    # -- running (engine thread) -----------------------------------------------------------------

    # -- reading ------------------------------------------------------------------------------------
    def _render(self, value: Any) -> Any:
        return self._artifacts.render(value, self.artifact_base_url)

    def _record(self, execution_id: str, *, with_node_runs: bool = True) -> RunRecord:
        record = self._runs.records.get(execution_id)
        if record is None:
            record = self._store.load_run(execution_id, with_node_runs=with_node_runs)
        if record is None:
            message = f"Execution {execution_id!r} not found"
            raise NotFoundError(message, body={"error": message})
        return record

    def poll(self, execution_id: str) -> PollResponse:
        self._check_open()
        return PollResponse.model_validate(self._record(execution_id).poll_wire(self._render))

    def get_execution(self, execution_id: str) -> Execution:
        self._check_open()
        record = self._record(execution_id)
        snapshot = self._store.load_snapshot(execution_id)
        if snapshot is not None:
            snapshot = self._render(snapshot)
        return Execution.model_validate(record.execution_wire(self._render, snapshot))

    def list_executions(
        self, workflow_id: str, *, limit: int = 10, offset: int = 0
    ) -> list[ExecutionSummary]:
        """Executions of ``workflow_id``, most recent first (``limit`` 1..100, ``offset`` >= 0)."""
        self._check_open()
        check_page(limit, offset)
        rows = self._store.list_runs(workflow_id, limit=limit, offset=offset)
        out = []
        for row in rows:
            live = self._runs.records.get(row.id)
            out.append(ExecutionSummary.model_validate((live or row).summary_wire()))
        return out

    def iter_executions(self, workflow_id: str, *, page_size: int = 50) -> Iterator[ExecutionSummary]:
        """Every execution of ``workflow_id``, most recent first, page by page."""
        page_size = max(1, min(100, page_size))
        offset = 0
        while True:
            page = self.list_executions(workflow_id, limit=page_size, offset=offset)
            yield from page
            if len(page) < page_size:
                return
            offset += page_size

    # -- waiting ------------------------------------------------------------------------------------------
    def wait(
        self,
        execution_id: str,
        *,
        timeout: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> PollResponse:
        """Block until the execution ends; returns its poll response when COMPLETED,
        raises ``ExecutionFailedError`` / ``ExecutionCancelledError`` otherwise, and
        ``WaitTimeoutError`` after ``timeout`` seconds (the run goes on)."""
        self._check_open()
        deadline = None if timeout is None else time.monotonic() + timeout
        record = self._runs.records.get(execution_id)
        if record is None:
            stored = self._record(execution_id)
            if not stored.is_terminal:  # a run of another engine process on the same home
                return wait_stored(lambda: self.poll(execution_id), execution_id, deadline, on_update)
            final = PollResponse.model_validate(stored.poll_wire(self._render))
            if on_update is not None:
                on_update(final)
            return outcome(execution_id, final)
        return wait_live(
            record, execution_id, deadline=deadline, timeout=timeout, on_update=on_update, render=self._render
        )

    def run(
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
    ) -> list[PollResponse]:
        """``execute`` then ``wait`` for every run of the batch; one poll response per run."""
        response = self.execute(
            workflow_id,
            workflow_or_request,
            target_node_id=target_node_id,
            trigger_data=trigger_data,
            iterator_configs=iterator_configs,
            idempotency_key=idempotency_key,
        )
        deadline = None if timeout is None else time.monotonic() + timeout
        results = []
        for execution_id in response.execution_ids:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            results.append(self.wait(execution_id, timeout=remaining, on_update=on_update))
        return results

    def cancel(self, execution_id: str) -> PollResponse:
        """Cancel a running execution (running nodes stop, the others are skipped);
        returns its poll response once it has stopped. A finished one is left as is."""
        self._check_open()
        record = self._runs.records.get(execution_id)
        if record is not None:
            record.cancel_event.set()
            self._loop.call_soon_threadsafe(self._runs.cancel_one, execution_id)
            record.done.wait(30)
        return self.poll(execution_id)

    # -- files ------------------------------------------------------------------------------------------
    def artifact_path(self, url: str) -> Path:
        """The local file of an output (its URL, ``file://`` URI or name). Anything that
        is not a file of the artifact store is refused with ``NotFoundError``."""
        name = self._artifacts.name_of(url, self.artifact_base_url) if isinstance(url, str) else None
        try:
            if name is None:
                raise ValueError(url)
            return self._artifacts.path(name)
        except (ValueError, OSError):
            message = f"No output file {url!r}"
            raise NotFoundError(message, body={"error": message}) from None

    def fetch_bytes(self, url: str) -> bytes:
        """The bytes of an output URL (or a data: URL, a local path, an http(s) URL, as
        ``input_policy`` allows). ``NotFoundError`` for what is missing, ``ValueError``
        (``sources.SourceError``) for what cannot or may not be read."""
        try:
            return read_source(url, self._artifacts, self.artifact_base_url, self.input_policy)
        except FileNotFoundError as exc:
            raise NotFoundError(str(exc), body={"error": str(exc)}) from None

    # -- maintenance ------------------------------------------------------------------------------------
    def clear_cache(self) -> None:
        """Forget every cached node output (the next runs compute everything again)."""
        self._cache.clear()
