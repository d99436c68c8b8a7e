"""Run records: the in-memory state of an execution run and its node runs, shared by the
scheduler (which writes them), the store (which persists them) and the engine (which
renders them as the wire bodies of execute, poll, execution details and history)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..models import ExecutionStatus, NodeRunStatus

if TYPE_CHECKING:
    from .carry import RunOrigin

__all__ = [
    "CANCELLED",
    "COMPLETED",
    "FAILED",
    "NODE_TERMINAL",
    "PENDING",
    "RUNNING",
    "RUN_TERMINAL",
    "SKIPPED",
    "NodeRunState",
    "RunRecord",
    "utc_now_iso",
]

PENDING = "PENDING"
RUNNING = "RUNNING"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
SKIPPED = "SKIPPED"

RUN_TERMINAL = frozenset({COMPLETED, FAILED, CANCELLED})
NODE_TERMINAL = frozenset({COMPLETED, FAILED, CANCELLED, SKIPPED})

Render = Callable[[Any], Any]

# Wire bodies carry the enum members, so the models take their fast path.
_RUN_STATUS = {s.value: s for s in ExecutionStatus}
_NODE_STATUS = {s.value: s for s in NodeRunStatus}


_last_stamp: tuple[int, str] = (-1, "")


def utc_now_iso(now: float | None = None) -> str:
    """ISO 8601 UTC with milliseconds and ``Z`` (``2025-03-20T12:01:00.000Z``)."""
    global _last_stamp
    seconds = time.time() if now is None else now
    millis = int(seconds * 1000)
    last = _last_stamp
    if last[0] == millis:  # nodes finish many times a millisecond: format once
        return last[1]
    moment = datetime.fromtimestamp(millis / 1000, tz=timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"
    _last_stamp = (millis, text)
    return text


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


class NodeRunState:
    """One node's run inside an execution run. ``output`` holds artifact references."""

    __slots__ = (
        "cached",
        "completed_at",
        "error",
        "has_refs",
        "node_id",
        "output",
        "output_json",
        "position",
        "progress",
        "started_at",
        "status",
    )

    def __init__(self, node_id: str, position: int, status: str = PENDING) -> None:
        self.node_id = node_id
        self.position = position
        self.status = status
        self.output: Any = None
        #: ``output`` as JSON, when it was already serialized (shared by store and cache)
        self.output_json: str | None = None
        self.error: str | None = None
        self.cached = False
        self.started_at: str | None = None
        self.completed_at: str | None = None
        self.progress: float | None = None
        self.has_refs = False

    def wire(self, render: Render) -> dict[str, Any]:
        body: dict[str, Any] = {
            "nodeId": self.node_id,
            "status": _NODE_STATUS.get(self.status, self.status),
            "output": render(self.output) if self.has_refs else self.output,
        }
        if self.error is not None:
            body["error"] = self.error
        if self.cached:
            body["cached"] = True
        if self.progress is not None and self.status == RUNNING:
            body["progress"] = self.progress
        return body


class RunRecord:
    """One execution run (one item of a batch)."""

    __slots__ = (
        "batch_id",
        "cancel_event",
        "completed_at",
        "credits_used",
        "dirty",
        "done",
        "error",
        "error_node",
        "execution_time",
        "id",
        "input_index",
        "node_runs",
        "origin",
        "owner",
        "run_index",
        "started_at",
        "started_mono",
        "status",
        "target_node_id",
        "trigger_data",
        "triggered_by",
        "version",
        "workflow_id",
    )

    def __init__(
        self,
        id: str,
        workflow_id: str,
        *,
        batch_id: str | None = None,
        run_index: int = 0,
        input_index: int = 0,
        status: str = PENDING,
        trigger_data: dict[str, Any] | None = None,
        triggered_by: str = "manual",
        target_node_id: str | None = None,
        started_at: str | None = None,
        owner: str | None = None,
    ) -> None:
        self.id = id
        self.workflow_id = workflow_id
        self.batch_id = batch_id
        self.run_index = run_index
        self.input_index = input_index
        self.status = status
        self.trigger_data = trigger_data or {}
        self.triggered_by = triggered_by
        self.target_node_id = target_node_id
        self.started_at = started_at
        self.started_mono = time.monotonic()
        self.completed_at: str | None = None
        self.execution_time: int | None = None
        self.credits_used: float = 0
        self.error: str | None = None
        self.error_node: str | None = None
        self.owner = owner
        self.node_runs: dict[str, NodeRunState] = {}
        #: what its output files carry (``carry.RunOrigin``; None for a run read back from the store)
        self.origin: RunOrigin | None = None
        #: node ids whose state changed since the store last saw them
        self.dirty: set[str] = set()
        self.version = 0
        self.done = threading.Event()
        self.cancel_event = threading.Event()

    @property
    def is_terminal(self) -> bool:
        return self.status in RUN_TERMINAL

    @property
    def current_node(self) -> str | None:
        for state in self.node_runs.values():
            if state.status == RUNNING:
                return state.node_id
        return None

    # -- wire bodies --------------------------------------------------------------------
    def node_runs_wire(self, render: Render) -> list[dict[str, Any]]:
        return [state.wire(render) for state in self.node_runs.values()]

    def execution_run_wire(self, render: Render) -> dict[str, Any]:
        """An item of ``executionRuns`` in the execute response."""
        return {
            "id": self.id,
            "startTime": self.started_at,
            "endTime": self.completed_at,
            "status": _RUN_STATUS.get(self.status, self.status),
            "error": self.error,
            "nodeRuns": self.node_runs_wire(render),
            "batchId": self.batch_id,
            "runIndexInBatch": self.run_index,
            "inputIndex": self.input_index,
        }

    def poll_wire(self, render: Render) -> dict[str, Any]:
        body: dict[str, Any] = {"status": _RUN_STATUS.get(self.status, self.status)}
        if self.error is not None:
            body["error"] = self.error
        body["nodeResults"] = {"nodeRuns": self.node_runs_wire(render)}
        return body

    def summary_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "workflowId": self.workflow_id,
            "status": _RUN_STATUS.get(self.status, self.status),
            "triggeredBy": self.triggered_by,
            "executionTime": self.execution_time,
            "creditsUsed": _number(self.credits_used),
            "startedAt": self.started_at,
            "completedAt": self.completed_at,
            "error": self.error,
        }

    def execution_wire(self, render: Render, snapshot: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "id": self.id,
            "workflowId": self.workflow_id,
            "status": _RUN_STATUS.get(self.status, self.status),
            "triggeredBy": self.triggered_by,
            "triggerData": self.trigger_data,
            "nodeResults": {"nodeRuns": self.node_runs_wire(render)},
            "currentNode": self.current_node,
            "output": None,
            "error": self.error,
            "errorNode": self.error_node,
            "executionTime": self.execution_time,
            "creditsUsed": _number(self.credits_used),
            "startedAt": self.started_at,
            "completedAt": self.completed_at,
            "workflowSnapshot": snapshot,
            "batchId": self.batch_id,
            "runIndexInBatch": self.run_index,
            "inputIndex": self.input_index,
            "targetNodeId": self.target_node_id,
        }
