"""What a run's output files carry: the workflow and inputs of the run (``wireflow_nb.provenance``).

Each run gets a ``RunOrigin`` when it is created (``live.create``): the request's
snapshot JSON (nodes and edges, as stored), the fields the hosted API does not read
(``wireflowNb`` canvas items with the bypass stash, ``viewport``) and the run's own
inputs (target, trigger data, batch configs, its index and iterator values). The record
is built and encoded once, the first time a node of the run stores an image or a video
(``NodeContext.save_bytes``), so a run that writes no media pays nothing.

Artifacts are content-addressed: the file a run writes carries that run's record, so
the same picture made by two workflows is two files. A cached output keeps the record of
the run that made it; saving outputs (``wireflow-nb run --out``, ``Save outputs``)
writes the record of the run being saved.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..provenance import can_carry, embed, encode, record_for

if TYPE_CHECKING:
    from ..models import ExecuteRequest
    from .planning import RunPlan

__all__ = ["RunOrigin", "run_origin"]


class RunOrigin:
    """The record of one run, made on first use; thread-safe."""

    __slots__ = ("_extra", "_inputs", "_lock", "_payload", "_snapshot", "execution_id")

    def __init__(
        self, execution_id: str, snapshot: str, extra: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> None:
        self.execution_id = execution_id
        self._snapshot = snapshot
        self._extra = dict(extra)
        self._inputs = dict(inputs)
        self._payload: bytes | None = None
        self._lock = threading.Lock()

    def payload(self) -> bytes:
        """The encoded record."""
        with self._lock:
            if self._payload is None:
                body = {**json.loads(json.dumps(self._extra, default=str)), **json.loads(self._snapshot)}
                record = record_for(body, execution_id=self.execution_id, inputs=self._inputs)
                self._payload = encode(record)
            return self._payload

    def carried(self, data: bytes) -> bytes:
        """``data`` carrying the record when it is an image or a video we know how to write into."""
        return embed(data, self.payload()) if can_carry(data) else data


def run_origin(execution_id: str, request: ExecuteRequest, snapshot: str, plan: RunPlan) -> RunOrigin:
    """The origin of one run of ``request`` (``snapshot``: its nodes and edges as stored,
    before the run's iterator values are written in)."""
    inputs: dict[str, Any] = {
        "targetNodeId": request.target_node_id,
        "triggerData": request.trigger_data or None,
    }
    if request.iterator_configs:
        inputs["iteratorConfigs"] = [config.to_wire() for config in request.iterator_configs]
        inputs["runIndex"], inputs["inputIndex"] = plan.run_index, plan.input_index
        inputs["values"] = {node_id: dict(values) for node_id, values in plan.overrides.items()}
    return RunOrigin(execution_id, snapshot, request.extra_fields, inputs)
