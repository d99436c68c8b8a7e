"""The background run behind ``WorkflowApp``: start an execution, follow it, report.

What this module owns:

- ``RunState``: a pure record of one run (or batch) that polls and engine events are
  folded into: per execution and per node status, outputs, errors, progress, elapsed
  time. No I/O; the widgets render from it.
- ``BackgroundRun``: drives one run. Its coroutine calls ``execute``, then polls with
  the spec's backoff (1 s, x1.5, capped at 10 s) until every execution of the batch is
  terminal. A backend with ``subscribe(callback)`` (``LocalEngine``) also sends events
  from its own thread; they update nodes at once and wake the poller, so a local run
  shows each node as it happens and ends without waiting out a poll delay.
- Where the coroutine runs: as an asyncio task on the notebook kernel's loop when one is
  running (the cell returns at once, the canvas keeps answering, widget updates happen on
  the kernel's thread), else on a shared background thread with its own loop. A sync
  backend's blocking calls go through ``asyncio.to_thread``. An ``AsyncBackend`` is
  awaited, always on the background loop, so that its connection pool only ever sees
  one loop (``call_blocking`` sends the widgets' other calls there too).
- ``run_sync``: run a coroutine to completion from sync code even inside Jupyter's
  running loop, on a worker thread with its own loop (no nest-asyncio patching).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from .._exceptions import APIConnectionError, NotFoundError, RateLimitError
from .._polling import PollPolicy
from ..graphs import nodes_to_run as _nodes_to_run
from ..models import (
    ExecuteRequest,
    ExecuteResponse,
    PollResponse,
    is_terminal,
    normalize_execution_status,
    normalize_node_status,
)

__all__ = [
    "BackgroundLoop",
    "BackgroundRun",
    "CostEstimate",
    "ExecutionProgress",
    "NodeProgress",
    "PollPolicy",
    "RunState",
    "batch_size",
    "backend_name",
    "call_backend",
    "call_blocking",
    "estimate_credits",
    "final_node_ids",
    "is_async_backend",
    "nodes_to_run",
    "run_sync",
    "running_loop",
    "shared_loop",
]

logger = logging.getLogger("wireflow_nb.widgets")

T = TypeVar("T")

_NODE_TERMINAL = frozenset({"COMPLETED", "FAILED", "SKIPPED", "CANCELLED"})

#: Consecutive failed polls (connection errors) before a run is given up as unreachable.
MAX_POLL_FAILURES = 5


# -- loops and threads ------------------------------------------------------------------


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in this thread (Jupyter's, in a notebook), if any."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def run_sync(coro: Coroutine[Any, Any, T], *, timeout: float | None = None) -> T:
    """Run ``coro`` to completion from sync code.

    Outside a running loop this is ``asyncio.run``. Inside one (a notebook cell) the
    coroutine runs on a worker thread with its own loop while this thread waits, so a
    blocking helper works in Jupyter without patching the loop.
    """
    if running_loop() is None:
        return asyncio.run(_with_timeout(coro, timeout))
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(_with_timeout(coro, timeout))
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=target, name="wireflow-nb-run-sync", daemon=True)
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


async def _with_timeout(coro: Awaitable[T], timeout: float | None) -> T:
    if timeout is None:
        return await coro
    return await asyncio.wait_for(coro, timeout)


class BackgroundLoop:
    """An event loop on a daemon thread, started on first use and shared.

    Runs are driven here when no loop runs in the caller's thread (scripts, tests) or
    when the caller wants to block until the end. One loop, reused, so an async client's
    connection pool always sees the same loop.
    """

    def __init__(self, name: str = "wireflow-nb-runner") -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                ready = threading.Event()
                loop = asyncio.new_event_loop()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=serve, name=self.name, daemon=True)
                self._loop = loop
                self._thread.start()
                ready.wait()
            return self._loop

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on this loop; a thread-safe future of its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, coro: Coroutine[Any, Any, T], *, timeout: float | None = None) -> T:
        """Run ``coro`` on this loop and wait for its result (never from the loop's own thread)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("BackgroundLoop.call() from its own thread would deadlock; await instead")
        return self.submit(coro).result(timeout)


_SHARED: BackgroundLoop | None = None
_SHARED_LOCK = threading.Lock()


def shared_loop() -> BackgroundLoop:
    """The process-wide background loop of the widgets."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = BackgroundLoop()
        return _SHARED


# -- backends ----------------------------------------------------------------------------


def is_async_backend(backend: Any) -> bool:
    """Whether ``backend`` is an ``AsyncBackend`` (its ``execute`` is a coroutine function)."""
    return inspect.iscoroutinefunction(getattr(backend, "execute", None))


async def call_backend(backend: Any, method: str, /, *args: Any, **kwargs: Any) -> Any:
    """``backend.method(*args, **kwargs)`` from async code: awaited for an async backend,
    on a worker thread for a blocking one."""
    fn = getattr(backend, method)
    if inspect.iscoroutinefunction(fn):
        return await fn(*args, **kwargs)
    result = await asyncio.to_thread(fn, *args, **kwargs)
    if inspect.isawaitable(result):
        return await result
    return result


def call_blocking(
    backend: Any, method: str, /, *args: Any, timeout: float | None = None, **kwargs: Any
) -> Any:
    """``backend.method(...)`` from sync code: a direct call for a blocking backend; for an
    ``AsyncBackend``, awaited on the widgets' background loop (every widget call to an
    async backend goes to that one loop, so its connection pool sees a single loop)."""
    fn = getattr(backend, method)
    if not inspect.iscoroutinefunction(fn):
        return fn(*args, **kwargs)
    return shared_loop().call(fn(*args, **kwargs), timeout=timeout)


def backend_name(backend: Any) -> str:
    """What the toolbar calls a backend: its class, and where it sends requests."""
    kind = type(backend).__name__
    base_url = getattr(backend, "base_url", None)
    if isinstance(base_url, str) and base_url:
        return f"{kind} \u2192 {base_url}"
    home = getattr(backend, "home", None)
    if home is not None and kind == "LocalEngine":
        return f"{kind} ({home})" if str(home) != ":memory:" else f"{kind} (in memory)"
    return kind


# -- planning (pure) ---------------------------------------------------------------------


def nodes_to_run(request: ExecuteRequest) -> list[str]:
    """Ids of the nodes a request runs, in node order: all of them, or the target node
    and its ancestors when ``targetNodeId`` is set (``graphs.nodes_to_run``)."""
    return _nodes_to_run(
        (node.id for node in request.nodes),
        ((edge.source, edge.target) for edge in request.edges),
        request.target_node_id,
    )


def final_node_ids(request: ExecuteRequest) -> list[str]:
    """The nodes whose outputs are a run's result: the target, else the nodes that feed
    no other node."""
    if request.target_node_id is not None:
        return [request.target_node_id]
    running = nodes_to_run(request)
    feeding = {e.source for e in request.edges if e.target in running and e.source != e.target}
    return [i for i in running if i not in feeding]


def batch_size(request: ExecuteRequest) -> int:
    """How many execution runs a request starts (iterator values times repeat)."""
    configs = request.iterator_configs or []
    if not configs:
        return 1
    return max(1, max(len(c.values) * max(1, c.repeat) for c in configs))


@dataclass(frozen=True)
class CostEstimate:
    """Credits a request will cost at most (cached nodes cost nothing when run)."""

    total: float
    per_run: float
    runs: int
    breakdown: tuple[tuple[str, str, float], ...]  # (node id, label, credits per run)
    unknown: tuple[str, ...] = ()  # node types without a known price

    def describe(self) -> str:
        text = f"{self.total:g} credits"
        if self.runs > 1:
            text += f" ({self.per_run:g} \u00d7 {self.runs} runs)"
        if self.unknown:
            text = f"\u2265 {text}; price unknown for {', '.join(sorted(set(self.unknown)))}"
        return text


def estimate_credits(request: ExecuteRequest, catalog: Any = None) -> CostEstimate:
    """The estimate from the catalog's prices: the nodes that will run, times the runs."""
    if catalog is None:
        from ..catalog import default_catalog

        catalog = default_catalog()
    running = set(nodes_to_run(request))
    breakdown: list[tuple[str, str, float]] = []
    unknown: list[str] = []
    for node in request.nodes:
        if node.id not in running:
            continue
        spec = catalog.get(node.node_type)
        if spec is None:
            unknown.append(node.node_type)
            continue
        price = spec.price_for(node.inputs)
        if price:
            breakdown.append((node.id, node.label, price))
    per_run = sum(c for _, _, c in breakdown)
    runs = batch_size(request)
    return CostEstimate(per_run * runs, per_run, runs, tuple(breakdown), tuple(unknown))


# -- the state of a run (pure) --------------------------------------------------------------


def _node_status(value: Any) -> str:
    return str(normalize_node_status(value)) if value is not None else "PENDING"


def _exec_status(value: Any) -> str:
    return str(normalize_execution_status(value)) if value is not None else "PENDING"


@dataclass
class NodeProgress:
    """One node of one execution."""

    status: str = "PENDING"
    cached: bool = False
    error: str | None = None
    output: Any = None

    @property
    def terminal(self) -> bool:
        return self.status in _NODE_TERMINAL

    @property
    def badge(self) -> str:
        """``PENDING``, ``RUNNING``, ``COMPLETED``, ``cached``, ``FAILED`` or ``SKIPPED``."""
        if self.status == "COMPLETED" and self.cached:
            return "cached"
        if self.status == "CANCELLED":
            return "SKIPPED"
        return self.status


@dataclass
class ExecutionProgress:
    """One execution run of the batch."""

    execution_id: str
    index: int
    input_index: int | None = None
    status: str = "PENDING"
    error: str | None = None
    error_node: str | None = None
    nodes: dict[str, NodeProgress] = field(default_factory=dict)
    #: The last poll; the final one once ``finished``.
    poll: PollResponse | None = None
    finished: bool = False

    @property
    def terminal(self) -> bool:
        return is_terminal(self.status)


class RunState:
    """Everything known about one run (one execute call, maybe a batch)."""

    def __init__(
        self, workflow_id: str, request: ExecuteRequest, *, clock: Callable[[], float] = time.monotonic
    ):
        self.workflow_id = workflow_id
        self.request = request
        self.node_ids = nodes_to_run(request)
        self.final_node_ids = final_node_ids(request)
        self.expected_runs = batch_size(request)
        self.phase: Literal["starting", "running", "finished"] = "starting"
        self.response: ExecuteResponse | None = None
        self.executions: dict[str, ExecutionProgress] = {}
        #: Why the run could not start or be followed (a 402, a 400, a lost connection...).
        self.error: BaseException | None = None
        #: Something to tell the user that is not an error of the run (e.g. cancel refused).
        self.message: str | None = None
        self.cancel_requested = False
        self.detached = False
        self._clock = clock
        self.started_at = clock()
        self.finished_at: float | None = None
        self.version = 0

    # -- folding in what the backend says ---------------------------------------------------
    def apply_response(self, response: ExecuteResponse) -> None:
        self.response = response
        self.phase = "running"
        for i, run in enumerate(response.execution_runs):
            progress = ExecutionProgress(
                execution_id=run.id,
                index=run.run_index_in_batch if run.run_index_in_batch is not None else i,
                input_index=run.input_index,
                nodes={node_id: NodeProgress() for node_id in self.node_ids},
            )
            self.executions[run.id] = progress
            if run.node_runs or run.is_terminal:
                self.apply_poll(run.id, PollResponse.from_run(run))
        self.version += 1

    def apply_poll(self, execution_id: str, poll: PollResponse) -> None:
        progress = self.executions.get(execution_id)
        if progress is None:
            return
        progress.poll = poll
        self._set_execution_status(progress, poll.status)
        if poll.error_message:
            progress.error = poll.error_message
        error_node = poll.extra_fields.get("errorNode")
        if isinstance(error_node, str):
            progress.error_node = error_node
        for run in poll.node_runs:
            self._set_node(
                progress,
                run.node_id,
                status=_node_status(run.status),
                cached=run.cached,
                error=run.error_message,
                output=run.output,
            )
        if poll.is_terminal:
            progress.finished = True
            self._settle(progress)
        self.version += 1

    def apply_event(self, event: Any) -> bool:
        """Fold in an ``EngineEvent``; False when it is not about this run."""
        progress = self.executions.get(getattr(event, "execution_id", None) or "")
        if progress is None:
            return False
        kind = getattr(event, "kind", "")
        node_id = getattr(event, "node_id", None)
        status = getattr(event, "status", None)
        if kind == "run_started":
            self._set_execution_status(progress, status or "RUNNING")
        elif kind == "run_finished":
            self._set_execution_status(progress, status or "COMPLETED")
            if getattr(event, "error", None):
                progress.error = str(event.error)
        elif node_id is not None:
            default = {
                "node_started": "RUNNING",
                "node_finished": "COMPLETED",
                "node_failed": "FAILED",
                "node_skipped": "SKIPPED",
            }.get(kind)
            if default is None:
                return False
            self._set_node(
                progress,
                node_id,
                status=_node_status(status or default),
                cached=bool(getattr(event, "cached", False)),
                error=getattr(event, "error", None),
                output=getattr(event, "output", None),
            )
        else:
            return False
        self.version += 1
        return True

    def finish(self, error: BaseException | None = None, *, detached: bool = False) -> None:
        if error is not None and self.error is None:
            self.error = error
        self.detached = self.detached or detached
        self.phase = "finished"
        self.finished_at = self._clock()
        self.version += 1

    def _set_execution_status(self, progress: ExecutionProgress, status: Any) -> None:
        new = _exec_status(status)
        # never move back from an end state (a stale poll after an event)
        if progress.terminal and not is_terminal(new):
            return
        progress.status = new

    def _set_node(
        self,
        progress: ExecutionProgress,
        node_id: str,
        *,
        status: str,
        cached: bool,
        error: str | None,
        output: Any,
    ) -> None:
        node = progress.nodes.setdefault(node_id, NodeProgress())
        if node_id not in self.node_ids:
            self.node_ids.append(node_id)
        if node.terminal and status not in _NODE_TERMINAL:
            return
        if node.status == "RUNNING" and status == "PENDING":
            return
        node.status = status
        node.cached = node.cached or cached
        if error:
            node.error = error
        if output is not None:
            node.output = output

    def _settle(self, progress: ExecutionProgress) -> None:
        """Nodes left unfinished by a failed or cancelled execution did not run."""
        if progress.status == "COMPLETED":
            return
        for node in progress.nodes.values():
            if not node.terminal:
                node.status = "SKIPPED"

    # -- reading ---------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.phase == "finished"

    @property
    def all_terminal(self) -> bool:
        return bool(self.executions) and all(p.finished for p in self.executions.values())

    @property
    def status(self) -> str:
        """``STARTING``, ``RUNNING``, ``COMPLETED``, ``FAILED``, ``CANCELLED``, ``TIMEOUT``,
        ``ERROR`` (it could not start or be followed) or ``DETACHED``."""
        if not self.executions:
            if self.phase == "finished":
                return "ERROR" if self.error is not None else "CANCELLED"
            return "STARTING"
        if self.detached:
            return "DETACHED"
        statuses = [p.status for p in self.executions.values()]
        if not all(is_terminal(s) for s in statuses):
            return "ERROR" if self.phase == "finished" and self.error is not None else "RUNNING"
        for worst in ("FAILED", "TIMEOUT", "CANCELLED"):
            if worst in statuses:
                return worst
        if all(s == "COMPLETED" for s in statuses):
            return "COMPLETED"
        return statuses[0]

    @property
    def progress(self) -> tuple[int, int]:
        """(nodes finished, nodes in all) over the whole batch."""
        if not self.executions:
            return 0, len(self.node_ids) * self.expected_runs
        done = total = 0
        for progress in self.executions.values():
            total += len(progress.nodes)
            done += sum(1 for n in progress.nodes.values() if n.terminal)
        return done, total

    @property
    def elapsed(self) -> float:
        end = self.finished_at if self.finished_at is not None else self._clock()
        return max(0.0, end - self.started_at)

    def ordered_executions(self) -> list[ExecutionProgress]:
        return sorted(self.executions.values(), key=lambda p: p.index)

    @property
    def polls(self) -> list[PollResponse]:
        """The last poll of each execution, in batch order."""
        return [p.poll for p in self.ordered_executions() if p.poll is not None]

    def node_badge(self, node_id: str) -> str | None:
        """The badge of a node over the whole batch (None: the node is not in this run)."""
        nodes = [p.nodes[node_id] for p in self.executions.values() if node_id in p.nodes]
        if not nodes:
            return "PENDING" if node_id in self.node_ids and self.phase != "finished" else None
        statuses = [n.status for n in nodes]
        if "RUNNING" in statuses:
            return "RUNNING"
        if "FAILED" in statuses:
            return "FAILED"
        if all(n.terminal for n in nodes):
            if all(n.status == "COMPLETED" for n in nodes):
                return "cached" if all(n.cached for n in nodes) else "COMPLETED"
            return "SKIPPED"
        if any(n.terminal for n in nodes):
            return "RUNNING"  # part of the batch done, the rest to come
        return "PENDING"

    def node_error(self, node_id: str) -> str | None:
        for progress in self.ordered_executions():
            node = progress.nodes.get(node_id)
            if node is not None and node.error:
                return node.error
        return None

    @property
    def failed_nodes(self) -> dict[str, str]:
        """Failed node id -> its error (first execution that says why)."""
        found: dict[str, str] = {}
        for progress in self.ordered_executions():
            for node_id, node in progress.nodes.items():
                if node.status == "FAILED" and node_id not in found:
                    found[node_id] = node.error or progress.error or "failed"
        return found

    def outputs_of(self, node_id: str) -> list[tuple[ExecutionProgress, Any]]:
        """(execution, output) of a node for each execution that has one, batch order."""
        found = []
        for progress in self.ordered_executions():
            node = progress.nodes.get(node_id)
            if node is not None and node.output is not None:
                found.append((progress, node.output))
        return found


# -- driving a run ---------------------------------------------------------------------------

Mode = Literal["auto", "task", "thread"]


class BackgroundRun:
    """One run of a request on a backend, followed in the background.

    ``on_change(state)`` is called after every change, from the thread that drives the
    run (the kernel's thread when the run is a task on its loop). ``start()`` returns at
    once; ``wait()`` blocks (from another thread), ``await wait_async()`` awaits.
    """

    def __init__(
        self,
        backend: Any,
        workflow_id: str,
        request: ExecuteRequest,
        *,
        on_change: Callable[[RunState], None] | None = None,
        poll_policy: PollPolicy | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
        background: BackgroundLoop | None = None,
    ) -> None:
        self.backend = backend
        self.workflow_id = workflow_id
        self.request = request
        self.state = RunState(workflow_id, request)
        self.on_change = on_change
        self.poll_policy = poll_policy or PollPolicy()
        self.idempotency_key = idempotency_key
        self.timeout = timeout
        self._background = background
        self.done = threading.Event()
        self.mode: Literal["task", "thread"] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._finished: asyncio.Event | None = None
        self._future: asyncio.Future[None] | concurrent.futures.Future[None] | None = None
        self._early_events: list[Any] = []
        self._cancel_task: asyncio.Task[None] | None = None

    # -- control -----------------------------------------------------------------------------
    def start(self, *, mode: Mode = "auto") -> BackgroundRun:
        """Start following the run: a task on this thread's running loop (``auto`` when
        there is one, or ``task``), else (``thread``) on the background loop."""
        if self._future is not None:
            raise RuntimeError("this run was already started")
        loop = running_loop()
        if mode == "task" and (loop is None or is_async_backend(self.backend)):
            raise RuntimeError("mode='task' needs a running event loop in this thread and a blocking backend")
        # an AsyncBackend always runs on the background loop: see call_blocking
        if mode != "thread" and loop is not None and not is_async_backend(self.backend):
            self.mode = "task"
            self._loop = loop
            self._future = loop.create_task(self._drive())
        else:
            self.mode = "thread"
            self._future = (self._background or shared_loop()).submit(self._drive())
        return self

    def cancel(self) -> None:
        """Ask the backend to cancel every unfinished execution of the run (any thread)."""
        if self.done.is_set():
            return
        self.state.cancel_requested = True
        loop = self._loop
        if loop is None:
            return  # not driving yet: the driver cancels right after execute
        with contextlib.suppress(RuntimeError):  # loop closed: nothing left to cancel
            loop.call_soon_threadsafe(self._request_cancel)

    def wait(self, timeout: float | None = None) -> RunState:
        """Block until the run ends; the final ``RunState``.

        Not from the thread whose loop drives the run (a notebook cell after ``start()``
        in task mode): that would stop the very loop the run needs; use
        ``await wait_async()`` there, or start with ``mode='thread'``.
        """
        if (
            self.mode == "task"
            and self._loop is not None
            and running_loop() is self._loop
            and not self.done.is_set()
        ):
            raise RuntimeError(
                "this run is a task on the running event loop: blocking here would freeze it. "
                "Use `await run.wait_async()` (or `await app.wait_async()`) in a notebook cell."
            )
        if not self.done.wait(timeout):
            raise TimeoutError(f"the run did not finish within {timeout} s; it goes on in the background")
        return self.state

    async def wait_async(self, timeout: float | None = None) -> RunState:
        if self.done.is_set():
            return self.state
        future = self._future
        if self.mode == "task" and isinstance(future, asyncio.Future) and running_loop() is self._loop:
            await asyncio.wait_for(asyncio.shield(future), timeout)
        else:
            ok = await asyncio.to_thread(self.done.wait, timeout)
            if not ok:
                raise TimeoutError(f"the run did not finish within {timeout} s")
        return self.state

    # -- the driver ------------------------------------------------------------------------------
    def _notify(self) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change(self.state)
        except Exception:  # a display bug must not stop following the run
            logger.exception("updating the display of run %s failed", self.workflow_id)

    def _on_engine_event(self, event: Any) -> None:
        # engine thread -> the driving loop
        loop = self._loop
        if loop is None or getattr(event, "workflow_id", self.workflow_id) != self.workflow_id:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._handle_event, event)

    def _handle_event(self, event: Any) -> None:
        if self.state.response is None:
            self._early_events.append(event)
            return
        if self._apply_event(event):
            self._notify()

    def _apply_event(self, event: Any) -> bool:
        applied = self.state.apply_event(event)
        if applied and getattr(event, "kind", "") == "run_finished" and self._wake is not None:
            self._wake.set()  # poll now for the end state instead of after the delay
        return applied

    def _request_cancel(self) -> None:
        if self._wake is not None:
            self._wake.set()
        if self.state.response is not None and self._cancel_task is None:
            self._cancel_task = asyncio.get_running_loop().create_task(self._send_cancel())

    async def _send_cancel(self) -> None:
        for progress in self.state.ordered_executions():
            if progress.finished:
                continue
            try:
                poll = await call_backend(self.backend, "cancel", progress.execution_id)
            except Exception as exc:
                self.state.message = (
                    f"Could not cancel: {exc} Stopped following the run; it may still finish "
                    "(and be charged) on the server; see the history."
                )
                self.state.detached = True
                break
            if isinstance(poll, PollResponse):
                self.state.apply_poll(progress.execution_id, poll)
        self._notify()
        if self._wake is not None:
            self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        assert self._wake is not None
        if not self._wake.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _drive(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        unsubscribe: Callable[[], None] | None = None
        error: BaseException | None = None
        try:
            subscribe = getattr(self.backend, "subscribe", None)
            if callable(subscribe) and not inspect.iscoroutinefunction(subscribe):
                result = subscribe(self._on_engine_event)
                unsubscribe = result if callable(result) else None
            self._notify()
            try:
                response = await call_backend(
                    self.backend,
                    "execute",
                    self.workflow_id,
                    self.request,
                    idempotency_key=self.idempotency_key,
                )
            except Exception as exc:
                error = exc
                return
            self.state.apply_response(response)
            for event in self._early_events:
                self._apply_event(event)
            self._early_events.clear()
            self._notify()
            if self.state.cancel_requested:
                self._request_cancel()
            await self._follow()
        except asyncio.CancelledError:
            self.state.message = "Stopped following the run."
            raise
        except Exception as exc:  # a bug or an unexpected answer: show it, do not hang
            logger.exception("following run of %s failed", self.workflow_id)
            error = exc
        finally:
            if unsubscribe is not None:
                with contextlib.suppress(Exception):
                    unsubscribe()
            if self._cancel_task is not None and not self._cancel_task.done():
                with contextlib.suppress(Exception):
                    await self._cancel_task
            self.state.finish(error, detached=self.state.detached)
            self._notify()
            self.done.set()

    async def _follow(self) -> None:
        delays = self.poll_policy.delays()
        failures = 0
        deadline = None if self.timeout is None else self.state.started_at + self.timeout
        while not self.state.all_terminal and not self.state.detached:
            delay = next(delays)
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"the run did not finish within {self.timeout:g} s; it goes on: see the history"
                    )
                delay = min(delay, left)
            await self._sleep(delay)
            if self.state.detached:
                break
            for progress in self.state.ordered_executions():
                if progress.finished:
                    continue
                try:
                    poll = await call_backend(self.backend, "poll", progress.execution_id)
                except RateLimitError as exc:
                    # the client already waited and retried; back off further before the next poll
                    if exc.retry_after:
                        await self._sleep(float(exc.retry_after))
                    break
                except APIConnectionError:
                    failures += 1
                    if failures >= MAX_POLL_FAILURES:
                        raise
                    break
                except NotFoundError:
                    raise
                failures = 0
                self.state.apply_poll(progress.execution_id, poll)
                self._notify()
