"""The state of one run (or batch), as polls and engine events report it: pure, no I/O.

What this module owns:

- Planning a request's run: ``nodes_to_run`` (the target and its ancestors, else every
  node), ``final_node_ids`` (whose outputs are the result), ``batch_overrides`` (the inputs
  each run of a batch sets, from the engine's one expansion) and ``batch_size``.
- ``RunState``: a pure record of one run (or batch) that polls and engine events are
  folded into: per execution (``ExecutionProgress``) and per node (``NodeProgress``)
  status, outputs, errors, progress, elapsed time. The widgets render from it.

It imports the wire models and the graph walks (and, inside ``batch_overrides``, the
batch expansion): no ipywidgets, no asyncio, no backend (the background driver,
``_runner``, feeds it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

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
    "ExecutionProgress",
    "NodeProgress",
    "RunState",
    "batch_overrides",
    "batch_size",
    "final_node_ids",
    "nodes_to_run",
]

_NODE_TERMINAL = frozenset({"COMPLETED", "FAILED", "SKIPPED", "CANCELLED"})


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


def batch_overrides(request: ExecuteRequest) -> list[dict[str, dict[str, Any]]]:
    """The node inputs each run of the request's batch sets (node id -> {field: value}),
    one entry per execution run, in run order; ``[{}]`` without a batch.

    The expansion is the engine's, the one rule (``batch_items``: configs zipped, each
    value run ``repeat`` times, the largest repeat). Configs the engine refuses (values
    of unequal lengths) count as one run without overrides: such a request starts none.
    """
    # Imported here, not at the top: the expansion lives in the engine for now and is
    # moving to the pure module ``wireflow_nb.batches``; switch this import then.
    from ..batches import batch_items

    try:
        items = batch_items(request)
    except IndexError:  # a later config has fewer values than the first: invalid (400)
        return [{}]
    return [overrides for _, _, overrides in items] or [{}]


def batch_size(request: ExecuteRequest) -> int:
    """How many execution runs a request starts: one per entry of ``batch_overrides``
    (iterator values times the largest repeat)."""
    return len(batch_overrides(request))


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
        #: How far the upload of local media before execute is ("Uploading photo.png 40%").
        self.upload: str | None = None
        self.cancel_requested = False
        self.detached = False
        self._clock = clock
        self.started_at = clock()
        self.finished_at: float | None = None
        self.version = 0

    # -- folding in what the backend says ---------------------------------------------------
    def apply_response(self, response: ExecuteResponse) -> None:
        self.response = response
        self.upload = None
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
