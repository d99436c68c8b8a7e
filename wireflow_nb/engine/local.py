"""``LocalEngine``: the Executions API in process, offline.

It owns the engine's lifecycle (home folder, SQLite store, artifact store, background
thread with its asyncio loop, thread pool), turns ``Backend`` calls into validated,
planned, paid-for runs, and reads them back in the wire shapes of the spec. What a graph
means is ``validation``'s and ``planning``'s, how it runs is ``scheduler``'s; this module
wires them together.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import os
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError

from .._exceptions import (
    BadRequestError,
    ExecutionCancelledError,
    ExecutionFailedError,
    NotFoundError,
    Problem,
    UnprocessableEntityError,
    WaitTimeoutError,
)
from ..backend import IteratorConfigsArg, OnUpdate, WorkflowOrRequest, as_request
from ..catalog import Catalog, default_catalog
from ..models import (
    CreditsBreakdownItem,
    Edge,
    ExecuteRequest,
    ExecuteResponse,
    Execution,
    ExecutionSummary,
    IteratorConfig,
    Node,
    PollResponse,
)
from ..workflow import Workflow
from ._gcpause import gc_paused
from .artifacts import ArtifactStore, read_source
from .cache import OutputCache
from .credits import CreditsLedger, Reservation, estimate
from .events import EventBus, EventCallback
from .planning import RunPlan, plan_batch
from .runs import CANCELLED, COMPLETED, FAILED, RUNNING, NodeRunState, RunRecord, utc_now_iso
from .scheduler import RunScheduler, Services
from .speed import INLINE_BUDGET
from .store import Store
from .validation import analyze, validation_error

__all__ = ["DEFAULT_MODEL_LATENCY", "IDEMPOTENCY_TTL", "LocalEngine", "default_home"]

#: Simulated latency of model nodes, in seconds, unless WIREFLOW_NB_MODEL_LATENCY says otherwise.
DEFAULT_MODEL_LATENCY = 0.5
#: How long an Idempotency-Key is remembered, in seconds.
IDEMPOTENCY_TTL = 24 * 3600
#: How often the state of running runs is written to the store, in seconds.
FLUSH_INTERVAL = 0.5
#: How often ``wait`` checks for news to give ``on_update``, in seconds.
UPDATE_INTERVAL = 0.05

_DB_NAME = "wireflow_nb.sqlite3"
_RECOVERED_ERROR = (
    "The engine process stopped while this run was in flight, so it did not finish "
    "(found when the engine reopened its home). Run the workflow again."
)

_NODE_LIST = TypeAdapter(list[Node])
_EDGE_LIST = TypeAdapter(list[Edge])

#: Owners (``pid:token``) of the engines open in this process.
_OPEN_OWNERS: set[str] = set()


def default_home() -> Path:
    """``$WIREFLOW_NB_HOME``, else the per-user data folder (platformdirs)."""
    env = os.environ.get("WIREFLOW_NB_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("wireflow_nb"))


def _default_latency() -> float:
    env = os.environ.get("WIREFLOW_NB_MODEL_LATENCY")
    if env:
        try:
            return max(0.0, float(env))
        except ValueError:
            raise ValueError(f"WIREFLOW_NB_MODEL_LATENCY={env!r} is not a number of seconds") from None
    return DEFAULT_MODEL_LATENCY


def _owner_alive(owner: str | None) -> bool:
    """Whether the engine that owns a run (``pid:token``) still runs."""
    if not owner:
        return False
    pid_text, _, _ = owner.partition(":")
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        return owner in _OPEN_OWNERS
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


class _Batch:
    """The runs of one execute request, while they run."""

    __slots__ = ("plans", "records", "reservation")

    def __init__(
        self, plans: list[RunPlan], records: list[RunRecord], reservation: Reservation | None
    ) -> None:
        self.plans = plans
        self.records = records
        self.reservation = reservation


class LocalEngine:
    """Run workflows in process, offline, through the same API as ``WireflowClient``.

    ``home``: the folder of the history database and output files (default
    ``$WIREFLOW_NB_HOME`` or the per-user data folder); ``":memory:"`` keeps everything
    in memory and a temporary folder. ``credits``: the balance of a new home.
    ``model_latency``: simulated seconds of each model node (default
    ``$WIREFLOW_NB_MODEL_LATENCY`` or 0.5). ``max_concurrency``: how many nodes run at
    once. ``artifact_base_url``: the URL output files are served under (None:
    ``file://`` URIs).

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
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        if home is not None and str(home) == ":memory:":
            self._tmpdir = tempfile.TemporaryDirectory(prefix="wireflow_nb-")
            self.home: Path | None = None
            artifacts_root = Path(self._tmpdir.name) / "artifacts"
            db_path: Path | None = None
        else:
            self.home = Path(home).expanduser() if home is not None else default_home()
            self.home.mkdir(parents=True, exist_ok=True)
            artifacts_root = self.home / "artifacts"
            db_path = self.home / _DB_NAME
        self.catalog = catalog if catalog is not None else default_catalog()
        self.model_latency = _default_latency() if model_latency is None else max(0.0, float(model_latency))
        self.artifact_base_url = artifact_base_url
        #: Sync executors measured faster than this (seconds), which never wait, run on the
        #: engine thread instead of the pool (a thread hop costs more than they do); 0: never.
        self.inline_budget = INLINE_BUDGET
        self._max_concurrency = int(max_concurrency)
        self._owner = f"{os.getpid()}:{uuid.uuid4().hex}"
        self._closed = False

        self._store = Store(db_path)
        self._store.recover(_owner_alive, now_iso=utc_now_iso(), message=_RECOVERED_ERROR)
        self._store.prune_idempotency(before=time.time() - IDEMPOTENCY_TTL)
        _OPEN_OWNERS.add(self._owner)
        self._artifacts = ArtifactStore(artifacts_root)
        self._cache = OutputCache(self._store, self._artifacts)
        self._ledger = CreditsLedger(self._store, credits)
        self._events = EventBus()
        self._execute_lock = threading.Lock()
        self._live: dict[str, RunRecord] = {}
        self._schedulers: dict[str, RunScheduler] = {}

        self._loop = asyncio.new_event_loop()
        self._pool = ThreadPoolExecutor(
            max_workers=max(2, self._max_concurrency), thread_name_prefix="wireflow-node"
        )
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
            save_run=self._save,
        )
        self._thread.start()
        self._loop.call_soon_threadsafe(self._flush_tick)

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

    def close(self) -> None:
        """Cancel what still runs, write everything down, stop the background thread."""
        if self._closed:
            return
        self._closed = True
        live = list(self._live.values())
        for record in live:
            record.cancel_event.set()
        if live:
            self._loop.call_soon_threadsafe(self._cancel_all)
            deadline = time.monotonic() + 10
            for record in live:
                record.done.wait(max(0.0, deadline - time.monotonic()))
        try:
            asyncio.run_coroutine_threadsafe(self._flush_now(), self._loop).result(timeout=10)
        except Exception:
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._pool.shutdown(wait=False, cancel_futures=True)
        if not self._thread.is_alive():
            self._loop.close()
        self._store.close()
        _OPEN_OWNERS.discard(self._owner)
        if self._tmpdir is not None:
            self._tmpdir.cleanup()

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "memory" if self.home is None else str(self.home)
        return f"LocalEngine(home={where!r}, credits={self.credits_balance()!r}, running={len(self._live)})"

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
        request, _ = self._request(
            workflow_or_request, target_node_id=target_node_id, iterator_configs=iterator_configs
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
            request, _ = self._request(
                workflow_or_request, target_node_id=target_node_id, iterator_configs=iterator_configs
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
        return analyze(request, self.catalog).problems

    # -- execute --------------------------------------------------------------------------------------
    def _request(
        self,
        workflow_or_request: WorkflowOrRequest,
        *,
        target_node_id: str | None = None,
        trigger_data: Mapping[str, Any] | None = None,
        iterator_configs: IteratorConfigsArg = None,
    ) -> tuple[ExecuteRequest, tuple[str, str]]:
        """The request to run (and its snapshot JSON), as ``as_request`` makes it but without deep-copying the
        nodes of a ``Workflow`` or ``ExecuteRequest`` (a 10,000-node deep copy costs more
        than running the nodes): the engine only reads them while ``execute`` runs, keeps
        the snapshot as JSON and plans from fresh copies of the inputs."""
        try:
            if isinstance(workflow_or_request, Workflow):
                request = ExecuteRequest.model_construct(
                    nodes=workflow_or_request.nodes, edges=workflow_or_request.edges
                )
            elif isinstance(workflow_or_request, ExecuteRequest):
                request = workflow_or_request.model_copy()
                request.nodes = list(request.nodes)
            else:
                request = as_request(workflow_or_request)
            if target_node_id is not None:
                request.target_node_id = target_node_id
            if trigger_data is not None:
                request.trigger_data = dict(trigger_data)
            if iterator_configs is not None:
                request.iterator_configs = [
                    c if isinstance(c, IteratorConfig) else IteratorConfig.model_validate(c)
                    for c in iterator_configs
                ]
        except ValidationError as exc:
            details = [
                {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"], "code": "bad_shape"}
                for err in exc.errors()
            ]
            message = "Invalid request body: " + "; ".join(
                f"{d['field']}: {d['message']}" for d in details[:3]
            )
            raise BadRequestError(message, body={"error": message, "details": details}) from None
        request = self._externalize(request)
        return request, self._snapshot_json(request)

    def _snapshot_json(self, request: ExecuteRequest) -> tuple[str, str]:
        """The request's nodes and edges as JSON (the workflow snapshot), serialized once
        by pydantic-core. Text no UTF-8 can hold (a lone surrogate, which JSON may escape
        as ``"\ud800"``) makes it fail: then, and only then, the request is searched so
        the 400 can say where it is."""
        try:
            parts = (
                _NODE_LIST.dump_json(request.nodes, by_alias=True, exclude_unset=True, fallback=str).decode(),
                _EDGE_LIST.dump_json(request.edges, by_alias=True, exclude_unset=True, fallback=str).decode(),
            )
            request.model_dump_json(
                include={"target_node_id", "trigger_data", "iterator_configs"}, fallback=str
            )
        except PydanticSerializationError:
            found = _lone_surrogates(request)
            if found:
                raise validation_error(found) from None
            raise
        return parts

    def _externalize(self, request: ExecuteRequest) -> ExecuteRequest:
        """Literal bytes and PIL images become stored files (their references in the
        request), paths become strings: a request is JSON from here on. A node that
        changes is copied first, so the caller's workflow is never modified."""
        for i, node in enumerate(request.nodes):
            changes: dict[str, Any] = {}
            for name, value in node.inputs.items():
                if isinstance(value, (str, int, float, bool, type(None), list, dict)):
                    continue
                if isinstance(value, (bytes, bytearray, memoryview)):
                    changes[name] = self._artifacts.ref(self._artifacts.save(bytes(value)))
                elif isinstance(value, os.PathLike):
                    changes[name] = os.fspath(value)
                elif type(value).__module__.startswith("PIL."):
                    from .outputs import encode_png

                    changes[name] = self._artifacts.ref(self._artifacts.save(encode_png(value), "image/png"))
            if changes:
                node = node.model_copy(update={"data": copy.deepcopy(node.data)})
                for name, value in changes.items():
                    node.set_input(name, value)
                request.nodes[i] = node
        return request

    def _plan(self, request: ExecuteRequest) -> list[RunPlan]:
        index = analyze(request, self.catalog)
        if index.problems:
            raise validation_error(index.problems)
        return plan_batch(index, request.trigger_data)

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
        request, snapshot = self._request(
            workflow_or_request,
            target_node_id=target_node_id,
            trigger_data=trigger_data,
            iterator_configs=iterator_configs,
        )
        with self._execute_lock:
            body_hash = None
            if idempotency_key is not None:
                body_hash = self._body_hash(workflow_id, request)
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
                    batch, response = self._create_runs(workflow_id, request, snapshot, plans)
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
                self._live[record.id] = record
        with gc_paused():
            result = ExecuteResponse.model_validate(response)
        # built before the runs start, so this thread and the engine's do not take turns
        # at the GIL for it
        self._loop.call_soon_threadsafe(self._start_batch, batch)
        return result

    @staticmethod
    def _body_hash(workflow_id: str, request: ExecuteRequest) -> str:
        wire = json.loads(request.model_dump_json(by_alias=True, exclude_unset=True, fallback=str))
        text = json.dumps({"workflowId": workflow_id, "request": wire}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def _create_runs(
        self, workflow_id: str, request: ExecuteRequest, snapshot_json: tuple[str, str], plans: list[RunPlan]
    ) -> tuple[_Batch, dict[str, Any]]:
        batch_id = str(uuid.uuid4())
        trigger = dict(request.trigger_data or {})
        triggered_by = "trigger" if trigger else "manual"
        started_at = utc_now_iso()
        # the snapshot is the request's nodes + edges, serialized once (by pydantic-core)
        nodes_json, edges_json = snapshot_json
        base_text = f'{{"nodes":{nodes_json},"edges":{edges_json}}}'
        base_nodes: list[dict[str, Any]] | None = None
        records: list[RunRecord] = []
        rows: list[tuple[RunRecord, str]] = []
        for plan in plans:
            record = RunRecord(
                f"exec_{uuid.uuid4().hex[:24]}",
                workflow_id,
                batch_id=batch_id,
                run_index=plan.run_index,
                input_index=plan.input_index,
                status=RUNNING,
                trigger_data=trigger,
                triggered_by=triggered_by,
                target_node_id=request.target_node_id,
                started_at=started_at,
                owner=self._owner,
            )
            record.node_runs = {
                node_id: NodeRunState(node_id, position) for position, node_id in enumerate(plan.nodes)
            }
            snapshot = base_text
            if plan.overrides:
                if base_nodes is None:
                    base_nodes = json.loads(nodes_json)
                nodes = self._override_nodes(base_nodes, plan.overrides)
                snapshot = f'{{"nodes":{json.dumps(nodes, separators=(",", ":"), ensure_ascii=False, default=str)},"edges":{edges_json}}}'
            records.append(record)
            rows.append((record, snapshot))
        self._store.insert_runs(rows)
        render = self._render
        response = {
            "workflowId": workflow_id,
            "batchId": batch_id,
            "executionRuns": [record.execution_run_wire(render) for record in records],
        }
        return _Batch(plans, records, None), response

    @staticmethod
    def _override_nodes(
        nodes: list[dict[str, Any]], overrides: Mapping[str, Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """The snapshot's nodes with this run's iterator values written in (in each
        node's own shape)."""
        out = list(nodes)
        for i, node in enumerate(out):
            values = overrides.get(node.get("id", ""))
            if values:
                model = Node.model_validate(copy.deepcopy(node))
                for name, value in values.items():
                    model.set_input(name, value)
                out[i] = model.to_wire()
        return out

    # -- running (engine thread) -----------------------------------------------------------------
    def _start_batch(self, batch: _Batch) -> None:
        for plan, record in zip(batch.plans, batch.records, strict=True):
            assert batch.reservation is not None
            scheduler = RunScheduler(plan, record, batch.reservation, self._services)
            self._schedulers[record.id] = scheduler
            self._loop.create_task(self._run(scheduler, batch.reservation))

    async def _run(self, scheduler: RunScheduler, reservation: Reservation) -> None:
        record = scheduler.record
        try:
            await scheduler.run()
        except BaseException as exc:  # an engine bug: the run must still end
            record.status = FAILED
            record.error = record.error or f"internal engine error: {type(exc).__name__}: {exc}"
            record.completed_at = utc_now_iso()
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
        finally:
            self._ledger.release(reservation)
            try:
                with gc_paused():
                    self._save(record)
                    self._cache.flush()
            finally:
                self._schedulers.pop(record.id, None)
                self._live.pop(record.id, None)
                record.done.set()

    def _save(self, record: RunRecord, meta: dict[str, str] | None = None) -> None:
        dirty, record.dirty = record.dirty, set()
        node_runs = record.node_runs
        self._store.save_run(record, [node_runs[node_id] for node_id in dirty], meta=meta)

    def _flush_tick(self) -> None:
        """Write the progress of running runs down every FLUSH_INTERVAL (so a crash
        loses at most that much), and the new cache entries."""
        if self._closed and not self._live:
            return
        try:
            for record in list(self._live.values()):
                if record.dirty and not record.done.is_set():
                    self._save(record)
            self._cache.flush()
        except Exception:  # the store closed under us at shutdown
            pass
        if not self._closed:
            self._loop.call_later(FLUSH_INTERVAL, self._flush_tick)

    async def _flush_now(self) -> None:
        self._cache.flush()

    def _cancel_all(self) -> None:
        for scheduler in list(self._schedulers.values()):
            scheduler.cancel()

    def _cancel_one(self, execution_id: str) -> None:
        scheduler = self._schedulers.get(execution_id)
        if scheduler is not None:
            scheduler.cancel()

    # -- reading ------------------------------------------------------------------------------------
    def _render(self, value: Any) -> Any:
        return self._artifacts.render(value, self.artifact_base_url)

    def _record(self, execution_id: str, *, with_node_runs: bool = True) -> RunRecord:
        record = self._live.get(execution_id)
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
        details = []
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
            details.append(
                {"field": "limit", "message": f"limit must be an integer from 1 to 100, got {limit!r}"}
            )
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            details.append({"field": "offset", "message": f"offset must be an integer >= 0, got {offset!r}"})
        if details:
            message = "Invalid query parameters: " + "; ".join(d["message"] for d in details)
            raise BadRequestError(message, body={"error": message, "details": details})
        rows = self._store.list_runs(workflow_id, limit=limit, offset=offset)
        out = []
        for row in rows:
            live = self._live.get(row.id)
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
        record = self._live.get(execution_id)
        if record is None:
            stored = self._record(execution_id)
            if not stored.is_terminal:  # a run of another engine process on the same home
                return self._wait_stored(execution_id, deadline, on_update)
            final = PollResponse.model_validate(stored.poll_wire(self._render))
            if on_update is not None:
                on_update(final)
            return self._outcome(execution_id, final)
        seen = -1
        last: PollResponse | None = None
        while True:
            if on_update is not None and record.version != seen:
                seen = record.version
                last = PollResponse.model_validate(record.poll_wire(self._render))
                on_update(last)
            if record.done.is_set():
                break
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise WaitTimeoutError(
                    f"Execution {execution_id} is still {record.status} after {timeout:g} s; "
                    f"call wait({execution_id!r}) again to keep waiting",
                    execution_id=execution_id,
                    last=last or PollResponse.model_validate(record.poll_wire(self._render)),
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
            final = PollResponse.model_validate(record.poll_wire(self._render))
        if on_update is not None and record.version != seen:
            on_update(final)
        return self._outcome(execution_id, final)

    def _wait_stored(
        self, execution_id: str, deadline: float | None, on_update: OnUpdate | None
    ) -> PollResponse:
        last_body: dict[str, Any] | None = None
        while True:
            poll = self.poll(execution_id)
            body = poll.to_wire()
            if on_update is not None and body != last_body:
                on_update(poll)
            last_body = body
            if poll.is_terminal:
                return self._outcome(execution_id, poll)
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeoutError(
                    f"Execution {execution_id} is still {poll.status}; call wait({execution_id!r}) again",
                    execution_id=execution_id,
                    last=poll,
                )
            time.sleep(0.2)

    @staticmethod
    def _outcome(execution_id: str, poll: PollResponse) -> PollResponse:
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
        record = self._live.get(execution_id)
        if record is not None:
            record.cancel_event.set()
            self._loop.call_soon_threadsafe(self._cancel_one, execution_id)
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
        """The bytes of an output URL (or a data: URL, a local path, an http(s) URL)."""
        try:
            return read_source(url, self._artifacts, self.artifact_base_url)
        except FileNotFoundError as exc:
            raise NotFoundError(str(exc), body={"error": str(exc)}) from None

    # -- maintenance ------------------------------------------------------------------------------------
    def clear_cache(self) -> None:
        """Forget every cached node output (the next runs compute everything again)."""
        self._cache.clear()


_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogates(request: ExecuteRequest) -> list[Problem]:
    """Text no UTF-8 can hold: JSON may escape a lone surrogate (``"\\ud800"``), and it
    would fail deep in the store; refuse it up front, naming where it is."""

    def where(value: Any, path: str) -> str | None:
        if isinstance(value, str):
            return path if _SURROGATE.search(value) else None
        if isinstance(value, dict):
            for key, item in value.items():
                found = where(key, path) or where(item, f"{path}.{key}" if path else str(key))
                if found is not None:
                    return found
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                found = where(item, f"{path}[{i}]")
                if found is not None:
                    return found
        return None

    problems: list[Problem] = []
    message = '{} holds a lone surrogate (invalid Unicode, e.g. "\\ud800"); send valid UTF-8 text'
    for i, node in enumerate(request.nodes):
        field = (
            where(node.id, "id")
            or where(node.type, "type")
            or where(node.data, "data")
            or where(node.model_extra or {}, "")
        )
        if field is not None:
            name = node.id if _SURROGATE.search(node.id) is None else f"nodes[{i}]"
            problems.append(
                Problem(
                    "invalid_unicode", message.format(f"node {name!r} {field}"), node_id=name, field=field
                )
            )
    for i, edge in enumerate(request.edges):
        field = where(edge.model_dump(by_alias=True), f"edges[{i}]")
        if field is not None:
            problems.append(Problem("invalid_unicode", message.format(f"edge {field}"), field=f"edges[{i}]"))
    rest = {
        "targetNodeId": request.target_node_id,
        "triggerData": request.trigger_data,
        "iteratorConfigs": [c.model_dump(by_alias=True) for c in request.iterator_configs or []],
    }
    field = where(rest, "")
    if field is not None:
        problems.append(
            Problem("invalid_unicode", message.format(field), field=field.split(".")[0].split("[")[0])
        )
    return problems
