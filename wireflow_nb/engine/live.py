"""Runs in flight: the bookkeeping of the runs an engine has started.

``LiveRuns`` creates the records of a request's runs (stored before any starts, with
their snapshots), starts one scheduler per run on the engine's loop, writes their
progress down every FLUSH_INTERVAL (so a crash loses at most that much), cancels them,
and forgets them once they end. Recovery: each run is stamped with its engine's owner
(``pid:token:flock``, the lock of ``home.OwnerLock``); when a home is reopened, runs
whose owner holds no lock any more are failed (``recover``), whatever process now has
the owner's PID. Imports the run records, the store, the scheduler, the home and the
planning types; nothing of the public API.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..models import ExecuteRequest
from ._gcpause import gc_paused
from .cache import OutputCache
from .carry import run_origin
from .credits import CreditsLedger, Reservation
from .home import legacy_owner_alive, lock_held, sweep_stale_locks
from .planning import RunPlan
from .request import override_nodes
from .runs import FAILED, RUNNING, NodeRunState, RunRecord, utc_now_iso
from .scheduler import RunScheduler, Services
from .store import Store

__all__ = ["FLUSH_INTERVAL", "Batch", "LiveRuns", "owner_alive", "recover"]

#: How often the state of running runs is written to the store, in seconds.
FLUSH_INTERVAL = 0.5

_RECOVERED_ERROR = (
    "The engine process stopped while this run was in flight, so it did not finish "
    "(found when the engine reopened its home). Run the workflow again."
)

#: Owners without a lock (``pid:token``: no ``flock`` here) of the engines open in this process.
_OPEN_OWNERS: set[str] = set()


def owner_alive(owner: object, started_at: object = None, home: Path | None = None) -> bool:
    """Whether the engine that owns a run still runs.

    ``pid:token:flock``: iff someone holds the lock ``token`` under ``home`` (the PID is
    for people reading the row; a reused PID proves nothing). ``pid:token`` (an engine
    without a lock, or an old home) and ``pid`` (older homes): an engine of this process
    that is open, else ``home.legacy_owner_alive`` (the process runs and started before
    the run did). Anything else: gone."""
    if not isinstance(owner, str) or not owner:
        return False
    parts = owner.split(":")
    if len(parts) == 3 and parts[2] == "flock":
        return home is not None and lock_held(home, parts[1])
    if len(parts) > 2:
        return False
    try:
        pid = int(parts[0])
    except ValueError:
        return False
    if pid == os.getpid():
        return owner in _OPEN_OWNERS
    return legacy_owner_alive(pid, started_at if isinstance(started_at, str) else None)


def recover(store: Store, home: Path | None = None) -> None:
    """Fail the runs of ``store`` whose engine stopped while they were in flight, then
    delete the lock files of the owners that are gone."""

    def alive(owner: object, started_at: object) -> bool:
        return owner_alive(owner, started_at, home)

    store.recover(alive, now_iso=utc_now_iso(), message=_RECOVERED_ERROR)
    if home is not None:
        sweep_stale_locks(home)


class Batch:
    """The runs of one execute request, while they run."""

    __slots__ = ("plans", "records", "reservation")

    def __init__(
        self, plans: list[RunPlan], records: list[RunRecord], reservation: Reservation | None
    ) -> None:
        self.plans = plans
        self.records = records
        self.reservation = reservation


class LiveRuns:
    """The runs of one engine from their creation to their end. ``records`` may be read
    from any thread; everything else but ``create`` and ``stop`` runs on the engine's loop."""

    def __init__(
        self,
        *,
        loop: asyncio.AbstractEventLoop,
        store: Store,
        cache: OutputCache,
        ledger: CreditsLedger,
        owner: str,
        closed: Callable[[], bool],
    ) -> None:
        self._loop = loop
        self._store = store
        self._cache = cache
        self._ledger = ledger
        self._closed = closed
        self.owner = owner
        #: execution id -> record, of every run not ended yet
        self.records: dict[str, RunRecord] = {}
        self._schedulers: dict[str, RunScheduler] = {}
        _OPEN_OWNERS.add(owner)

    def retire(self) -> None:
        """The engine closed: its runs left in the store are not in flight any more."""
        _OPEN_OWNERS.discard(self.owner)

    # -- creating (caller's thread) ----------------------------------------------------------
    def create(
        self,
        workflow_id: str,
        request: ExecuteRequest,
        snapshot_json: tuple[str, str, str],
        plans: list[RunPlan],
        render: Callable[[Any], Any],
    ) -> tuple[Batch, dict[str, Any]]:
        """Store a record per run (RUNNING, with its snapshot); returns the batch and the
        execute response body."""
        batch_id = str(uuid.uuid4())
        trigger = dict(request.trigger_data or {})
        triggered_by = "trigger" if trigger else "manual"
        started_at = utc_now_iso()
        # the snapshot is the request's nodes + edges, serialized once (by pydantic-core)
        nodes_json, edges_json, kept_json = snapshot_json
        base_text = f'{{"nodes":{nodes_json},"edges":{edges_json}{kept_json}}}'
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
                owner=self.owner,
            )
            record.node_runs = {
                node_id: NodeRunState(node_id, position) for position, node_id in enumerate(plan.nodes)
            }
            record.origin = run_origin(record.id, request, base_text, plan)
            snapshot = base_text
            if plan.overrides:
                if base_nodes is None:
                    base_nodes = json.loads(nodes_json)
                nodes = override_nodes(base_nodes, plan.overrides)
                snapshot = f'{{"nodes":{json.dumps(nodes, separators=(",", ":"), ensure_ascii=False, default=str)},"edges":{edges_json}{kept_json}}}'
            records.append(record)
            rows.append((record, snapshot))
        self._store.insert_runs(rows)
        response = {
            "workflowId": workflow_id,
            "batchId": batch_id,
            "executionRuns": [record.execution_run_wire(render) for record in records],
        }
        return Batch(plans, records, None), response

    # -- running (engine thread) -----------------------------------------------------------------
    def start(self, batch: Batch, services: Services) -> None:
        for plan, record in zip(batch.plans, batch.records, strict=True):
            assert batch.reservation is not None
            scheduler = RunScheduler(plan, record, batch.reservation, services)
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
                    self.save(record)
                    self._cache.flush()
            finally:
                self._schedulers.pop(record.id, None)
                self.records.pop(record.id, None)
                record.done.set()

    def save(self, record: RunRecord, meta: dict[str, str] | None = None) -> None:
        dirty, record.dirty = record.dirty, set()
        node_runs = record.node_runs
        self._store.save_run(record, [node_runs[node_id] for node_id in dirty], meta=meta)

    def flush_tick(self) -> None:
        """Write the progress of running runs down every FLUSH_INTERVAL (so a crash
        loses at most that much), and the new cache entries."""
        if self._closed() and not self.records:
            return
        try:
            for record in list(self.records.values()):
                if record.dirty and not record.done.is_set():
                    self.save(record)
            self._cache.flush()
        except Exception:  # the store closed under us at shutdown
            pass
        if not self._closed():
            self._loop.call_later(FLUSH_INTERVAL, self.flush_tick)

    async def _flush_now(self) -> None:
        self._cache.flush()

    def _cancel_all(self) -> None:
        for scheduler in list(self._schedulers.values()):
            scheduler.cancel()

    def cancel_one(self, execution_id: str) -> None:
        scheduler = self._schedulers.get(execution_id)
        if scheduler is not None:
            scheduler.cancel()

    # -- stopping (caller's thread) --------------------------------------------------------------
    def stop(self) -> None:
        """Cancel every run, wait (up to 10 s) for them to end and write the cache down."""
        live = list(self.records.values())
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
