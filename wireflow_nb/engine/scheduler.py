"""The scheduler: runs one ``RunPlan`` on the engine's asyncio loop.

A node starts as soon as every node feeding it is done (a ready set, as with
``graphlib.TopologicalSorter``): async executors run on the loop, sync ones on the
engine's thread pool, and the simulated latency of model nodes is an ``asyncio.sleep``,
so latency-bound nodes cost no thread. An engine-wide semaphore bounds how many nodes
run at once. A cancelled node frees its slot at once, even when its sync executor is
stuck (its worker thread is abandoned and replaced: ``workers``). Cached nodes complete inline; two runs that need the same uncached key at
once compute it once (the second waits and is served from the cache).

Failure rules (DECISIONS.md): a failing node fails the execution and its dependants are
SKIPPED while independent branches finish; on cancel, running nodes are stopped
(CANCELLED) and nodes not started are SKIPPED.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._gcpause import gc_paused
from .artifacts import ARTIFACT_PREFIX, ArtifactStore
from .cache import MISSING, OutputCache
from .context import NodeCancelled, NodeContext, NodeError, error_text
from .credits import CreditsLedger, Reservation
from .events import EngineEvent, EventBus
from .outputs import has_refs, to_stored
from .planning import PlannedNode, RunPlan
from .runs import (
    CANCELLED,
    COMPLETED,
    FAILED,
    RUNNING,
    SKIPPED,
    NodeRunState,
    RunRecord,
    utc_now_iso,
)
from .sources import InputPolicy
from .speed import INLINE_BUDGET, ExecutorSpeed, timed
from .workers import NodeWorkers

__all__ = ["RunScheduler", "Services"]


@dataclass
class Services:
    """What a scheduler uses of its engine."""

    loop: asyncio.AbstractEventLoop
    pool: NodeWorkers
    semaphore: asyncio.Semaphore
    artifacts: ArtifactStore
    cache: OutputCache
    ledger: CreditsLedger
    events: EventBus
    #: the current ``artifact_base_url`` (None: file:// URIs)
    base_url: Callable[[], str | None]
    #: the current simulated latency of model nodes, in seconds
    latency: Callable[[], float]
    #: cache key -> future of the run computing it now
    inflight: dict[str, asyncio.Future[Any]]
    #: the thread running ``loop`` (``ctx.sleep`` refuses to block it)
    loop_thread: threading.Thread | None = None
    #: sync executors measured faster than this (seconds) run inline; 0 disables it
    inline_budget: Callable[[], float] = lambda: INLINE_BUDGET
    #: what is known of each sync executor's speed
    speeds: dict[int, ExecutorSpeed] = field(default_factory=dict)
    #: writes a run down now, with extra meta values in the same transaction
    save_run: Callable[[RunRecord, dict[str, str]], None] | None = None
    #: what ``ctx.load_bytes`` may read (local files, URLs), and how much
    input_policy: InputPolicy = field(default_factory=InputPolicy.in_process)


class RunScheduler:
    """Runs one execution run to its end."""

    def __init__(
        self,
        plan: RunPlan,
        record: RunRecord,
        reservation: Reservation,
        services: Services,
    ) -> None:
        self.plan = plan
        self.record = record
        self.reservation = reservation
        self.services = services
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._remaining: dict[str, int] = {}
        self._open = 0
        self._finished: asyncio.Future[None] | None = None

    # -- events and state ------------------------------------------------------------------
    def _emit(self, kind: str, state: NodeRunState | None = None) -> None:
        services = self.services
        if not services.events.active:
            return
        record = self.record
        if state is None:
            event = EngineEvent(
                kind,
                record.id,
                record.workflow_id,
                status=record.status,
                error=record.error,
                timestamp=utc_now_iso(),
            )
        else:
            output = state.output
            if state.has_refs:
                output = services.artifacts.render(output, services.base_url())
            event = EngineEvent(
                kind,
                record.id,
                record.workflow_id,
                node_id=state.node_id,
                status=state.status,
                output=output,
                error=state.error,
                cached=state.cached,
                timestamp=utc_now_iso(),
            )
        services.events.emit(event)

    def _changed(self, state: NodeRunState) -> None:
        record = self.record
        record.dirty.add(state.node_id)
        record.version += 1

    def _finish_node(
        self,
        state: NodeRunState,
        status: str,
        *,
        output: Any = None,
        has_refs: bool = False,
        error: str | None = None,
        cached: bool = False,
    ) -> None:
        state.output = output
        state.has_refs = has_refs
        state.error = error
        state.cached = cached
        state.progress = None
        state.completed_at = utc_now_iso()
        state.status = status
        self._changed(state)
        if self.services.events.active:
            self._emit(_FINISH_EVENT.get(status, "node_skipped"), state)

    def _fail(self, planned: PlannedNode, state: NodeRunState, message: str) -> None:
        self._finish_node(state, FAILED, error=message)
        record = self.record
        if record.error is None:
            who = (
                f"Node {planned.id!r}"
                if planned.label == planned.id
                else f"Node {planned.label!r} ({planned.id})"
            )
            record.error = f"{who} failed: {message}"
            record.error_node = planned.id

    # -- the run ---------------------------------------------------------------------------
    async def run(self) -> None:
        record = self.record
        plan = self.plan
        record.status = RUNNING
        record.version += 1
        self._emit("run_started")
        self._remaining = {node_id: len(pn.preds) for node_id, pn in plan.nodes.items()}
        self._open = len(plan.nodes)
        self._finished = self.services.loop.create_future()
        if self._open:
            self._release(plan.roots)
            await self._finished
        self._end()

    def cancel(self) -> None:
        """Stop the run: running nodes are cancelled, the others will be skipped."""
        self.record.cancel_event.set()
        for task in list(self._tasks.values()):
            task.cancel()

    def _end(self) -> None:
        record = self.record
        statuses = [s.status for s in record.node_runs.values()]
        if record.cancel_event.is_set() and not all(s == COMPLETED for s in statuses):
            record.status = CANCELLED
            record.error = "The execution was cancelled"
        elif FAILED in statuses:
            record.status = FAILED
        else:
            record.status = COMPLETED
        now = time.time()
        record.completed_at = utc_now_iso(now)
        record.execution_time = round((time.monotonic() - record.started_mono) * 1000)
        record.version += 1
        self._emit("run_finished")

    def _node_done(self, node_id: str) -> list[str]:
        """Count ``node_id`` as done; returns the nodes it made ready."""
        self._open -= 1
        ready = []
        remaining = self._remaining
        for succ in self.plan.nodes[node_id].succs:
            remaining[succ] -= 1
            if not remaining[succ]:
                ready.append(succ)
        if not self._open and self._finished is not None and not self._finished.done():
            self._finished.set_result(None)
        return ready

    def _skip_reason(self, planned: PlannedNode) -> str | None:
        if self.record.cancel_event.is_set():
            return "not run: the execution was cancelled"
        node_runs = self.record.node_runs
        for pred in planned.preds:
            status = node_runs[pred].status
            if status != COMPLETED:
                what = "failed" if status == FAILED else "did not run"
                return f"not run: its input node {pred!r} {what}"
        return None

    def _release(self, ready: list[str]) -> None:
        """Start (or skip, or serve from the cache) every node of ``ready``, and whatever
        that makes ready in turn; iterative, so a 10,000-node chain of cache hits is fine."""
        with gc_paused():
            self._release_all(deque(ready))

    def _release_all(self, queue: deque[str]) -> None:
        nodes = self.plan.nodes
        node_runs = self.record.node_runs
        cache = self.services.cache
        loop = self.services.loop
        while queue:
            node_id = queue.popleft()
            planned = nodes[node_id]
            state = node_runs[node_id]
            reason = self._skip_reason(planned)
            if reason is not None:
                self._finish_node(state, SKIPPED, error=reason)
                queue.extend(self._node_done(node_id))
                continue
            if planned.cacheable:
                output = cache.get(planned.key)
                if output is not MISSING:
                    self._finish_node(state, COMPLETED, output=output, has_refs=has_refs(output), cached=True)
                    queue.extend(self._node_done(node_id))
                    continue
            if self._run_inline(planned, state):
                queue.extend(self._node_done(node_id))
                continue
            self._tasks[node_id] = loop.create_task(self._run_node(planned, state))

    async def _run_node(self, planned: PlannedNode, state: NodeRunState) -> None:
        services = self.services
        future: asyncio.Future[Any] | None = None
        try:
            if planned.cacheable:
                waiting = services.inflight.get(planned.key)
                if waiting is not None:
                    output = await asyncio.shield(waiting)
                    if output is not MISSING:
                        self._finish_node(
                            state, COMPLETED, output=output, has_refs=has_refs(output), cached=True
                        )
                        return
                future = services.loop.create_future()
                services.inflight[planned.key] = future
            result = await self._compute(planned, state)
            if future is not None:
                future.set_result(result)
        except asyncio.CancelledError:
            if state.status == RUNNING:
                self._finish_node(state, CANCELLED, error="cancelled while running")
            elif state.status not in (COMPLETED, FAILED):
                self._finish_node(state, SKIPPED, error="not run: the execution was cancelled")
        except Exception as exc:  # a bug of the engine itself: never leave the node RUNNING
            self._fail(planned, state, f"internal engine error: {error_text(exc)}")
        finally:
            if future is not None:
                if not future.done():
                    future.set_result(MISSING)
                if services.inflight.get(planned.key) is future:
                    del services.inflight[planned.key]
            self._tasks.pop(planned.id, None)
            self._release(self._node_done(planned.id))

    def _prepare(
        self, planned: PlannedNode, state: NodeRunState
    ) -> tuple[NodeContext, dict[str, Any]] | None:
        """Check credits and gather the inputs; None when the node failed already."""
        services = self.services
        if planned.price and not services.ledger.can_charge(self.reservation, planned.price):
            self._fail(
                planned,
                state,
                f"insufficient credits: this node costs {planned.price:g} credits and "
                f"{services.ledger.available:g} are available; add credits and run it again",
            )
            return None
        try:
            inputs = self._inputs(planned)
        except Exception as exc:
            self._fail(planned, state, error_text(exc))
            return None
        return NodeContext(self, planned, state), inputs

    def _started(self, state: NodeRunState) -> None:
        state.started_at = utc_now_iso()
        state.status = RUNNING
        self._changed(state)
        if self.services.events.active:
            self._emit("node_started", state)

    def _complete(self, planned: PlannedNode, state: NodeRunState, ctx: NodeContext, raw: Any) -> Any:
        """Store what an executor returned, charge the node, cache its output; returns
        the stored output, or MISSING when the node did not complete."""
        services = self.services
        if self.record.cancel_event.is_set():
            self._finish_node(state, CANCELLED, error="cancelled while running")
            return MISSING
        try:
            output = raw if isinstance(raw, dict) else ({} if raw is None else {"output": raw})
            stored, has_refs = to_stored(output, ctx, services.artifacts, services.base_url())
            if planned.generative:
                stored.setdefault("seed", planned.seed)
                stored.setdefault("provider", "local-preview")
            text = json.dumps(stored, separators=(",", ":"), ensure_ascii=False)
            if not text.isascii():
                _check_utf8(text)
        except Exception as exc:
            self._fail(planned, state, f"its output could not be stored: {error_text(exc)}")
            return MISSING
        if planned.price:
            self.record.credits_used += planned.price
        if planned.cacheable:
            services.cache.put(planned.key, planned.node_type, stored, text)
        state.output_json = text
        self._finish_node(state, COMPLETED, output=stored, has_refs=has_refs)
        if planned.price:
            # the charge is written with the node's COMPLETED row and the run's
            # creditsUsed, in one transaction: a crash keeps both or neither
            record = self.record
            save_run = services.save_run
            services.ledger.charge(
                self.reservation,
                planned.price,
                save=None if save_run is None else (lambda meta: save_run(record, meta)),
            )
        return stored

    def _run_inline(self, planned: PlannedNode, state: NodeRunState) -> bool:
        """Run a node known to be trivial right here, without a task or a thread hop;
        False when it must take the normal path."""
        services = self.services
        if planned.is_async or planned.price or (planned.generative and services.latency() > 0):
            return False
        speed = services.speeds.get(id(planned.executor))
        budget = services.inline_budget()
        if speed is None or not speed.inline or speed.executor is not planned.executor or budget <= 0:
            return False
        if planned.cacheable and planned.key in services.inflight:
            return False
        prepared = self._prepare(planned, state)
        if prepared is None:
            return True
        ctx, inputs = prepared
        ctx._inline = True
        self._started(state)
        try:
            start = time.perf_counter()
            raw = planned.executor(ctx, inputs)
            wall = time.perf_counter() - start
        except NodeCancelled:
            self._finish_node(state, CANCELLED, error="cancelled while running")
            return True
        except Exception as exc:
            self._fail(planned, state, error_text(exc))
            return True
        speed.record(wall, wall, ctx.blocking, budget)  # on the loop thread wall time is CPU time
        self._complete(planned, state, ctx, raw)
        return True

    async def _compute(self, planned: PlannedNode, state: NodeRunState) -> Any:
        """Run the executor; returns the stored output, or MISSING when the node did not
        complete (failed or cancelled)."""
        prepared = self._prepare(planned, state)
        if prepared is None:
            return MISSING
        ctx, inputs = prepared
        async with self.services.semaphore:
            if self.record.cancel_event.is_set():
                self._finish_node(state, SKIPPED, error="not run: the execution was cancelled")
                return MISSING
            self._started(state)
            try:
                latency = ctx.latency
                if latency > 0:
                    await asyncio.sleep(latency)
                if planned.is_async:
                    raw = await planned.executor(ctx, inputs)
                else:
                    raw = await self._call_sync(planned.executor, ctx, inputs)
            except NodeCancelled:
                self._finish_node(state, CANCELLED, error="cancelled while running")
                return MISSING
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._fail(planned, state, error_text(exc))
                return MISSING
        return self._complete(planned, state, ctx, raw)

    async def _call_sync(self, fn: Callable[..., Any], ctx: NodeContext, inputs: dict[str, Any]) -> Any:
        """A sync executor on the thread pool, or inline when it is known to be trivial."""
        services = self.services
        budget = services.inline_budget()
        speed = services.speeds.get(id(fn))
        if speed is None or speed.executor is not fn:
            speed = services.speeds[id(fn)] = ExecutorSpeed(fn)
        if speed.inline and budget > 0:  # (a node that could not take the task-free path)
            ctx._inline = True
            raw, wall, cpu, waited = timed(fn, ctx, inputs)
        else:
            job = services.pool.submit(timed, fn, ctx, inputs)
            try:
                raw, wall, cpu, waited = await asyncio.wrap_future(job, loop=services.loop)
            except asyncio.CancelledError:
                # the run was cancelled while the executor ran: its slot is free at once;
                # a worker that does not return (stuck in I/O) is left behind and replaced
                if not job.cancel():
                    services.pool.abandon(job)
                raise
        speed.record(wall, cpu, ctx.blocking, budget, waited)
        return raw

    def _inputs(self, planned: PlannedNode) -> dict[str, Any]:
        """Literal inputs merged with edge-fed values (an edge wins; a ``multiple``
        input gets the list of everything fed to it; a single image input fed a list of
        images gets the first)."""
        services = self.services
        base_url = services.base_url()
        artifacts = services.artifacts
        inputs = dict(planned.literals)
        for name, value in inputs.items():
            kind = type(value)
            if kind is str:
                if value.startswith(ARTIFACT_PREFIX):
                    inputs[name] = artifacts.url(value[len(ARTIFACT_PREFIX) :], base_url)
            elif kind is int or kind is float or kind is bool:
                continue
            else:  # containers: render copies them, so an executor may change its inputs
                inputs[name] = artifacts.render(value, base_url)
        if not planned.feeds:
            return inputs
        node_runs = self.record.node_runs
        for port, sources in planned.feeds.items():
            values = []
            for source, source_port in sources:
                state = node_runs[source]
                output = state.output
                value = output.get(source_port) if isinstance(output, dict) else output
                if state.has_refs:
                    value = artifacts.render(value, base_url)
                values.append(value)
            spec = planned.spec.input(port)
            if spec is not None and spec.multiple:
                flat: list[Any] = []
                for value in values:
                    if isinstance(value, list):
                        flat.extend(value)
                    elif value is not None:
                        flat.append(value)
                inputs[port] = flat
            else:
                value = values[-1]
                if spec is not None and spec.kind in ("image", "video") and isinstance(value, list):
                    value = value[0] if value else None
                inputs[port] = value
        return inputs


def _check_utf8(text: str) -> None:
    """Refuse text no UTF-8 can hold (a lone surrogate): the store could not write it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NodeError(
            'it holds a lone surrogate (invalid Unicode, e.g. "\\ud800"); return valid UTF-8 text'
        ) from None


_FINISH_EVENT = {COMPLETED: "node_finished", FAILED: "node_failed"}
