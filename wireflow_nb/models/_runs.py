"""Responses of the Executions API: execute, poll, execution details, history, 402."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from pydantic import Field, PrivateAttr, field_validator, model_serializer, model_validator
from pydantic.functional_serializers import SerializerFunctionWrapHandler

from ._base import WireModel
from ._outputs import ImageOutput, VideoOutput, images_of, text_of, videos_of
from ._status import (
    ExecutionStatus,
    NodeRunStatus,
    NodeStatusValue,
    StatusValue,
    error_message,
    is_terminal,
    keep_exact,
    normalize_execution_status,
    normalize_node_status,
)


def _html() -> ModuleType:
    # imported on use: models import nothing of the package at import time
    import importlib

    return importlib.import_module("wireflow_nb.models._html")


class _HasExecutionStatus(WireModel):
    status: StatusValue = ExecutionStatus.PENDING

    @field_validator("status", mode="before")
    @classmethod
    def _keep_status(cls, value: Any) -> Any:
        return keep_exact(ExecutionStatus, value)

    @property
    def state(self) -> ExecutionStatus | str:
        """The status normalized (``running``/``IN_PROGRESS`` -> ``RUNNING``)."""
        return normalize_execution_status(self.status)

    @property
    def is_terminal(self) -> bool:
        return is_terminal(self.status)


class NodeRun(WireModel):
    node_id: str
    status: NodeStatusValue = NodeRunStatus.PENDING
    output: Any = None
    error: Any = None

    @field_validator("status", mode="before")
    @classmethod
    def _keep_status(cls, value: Any) -> Any:
        return keep_exact(NodeRunStatus, value)

    @property
    def state(self) -> NodeRunStatus | str:
        return normalize_node_status(self.status)

    @property
    def cached(self) -> bool:
        return bool((self.__pydantic_extra__ or {}).get("cached", False))

    @property
    def images(self) -> list[ImageOutput]:
        return images_of(self.output)

    @property
    def videos(self) -> list[VideoOutput]:
        return videos_of(self.output)

    @property
    def text(self) -> str | None:
        return text_of(self.output)

    @property
    def error_message(self) -> str | None:
        return error_message(self.error)


class NodeResults(WireModel):
    node_runs: list[NodeRun] = Field(default_factory=list)

    @field_validator("node_runs", mode="before")
    @classmethod
    def _drop_placeholders(cls, value: Any) -> Any:
        return value


class NodeState(WireModel):
    """Per-node state of the wrapped poll shape (``data.nodeStates``)."""

    node_id: str
    label: str | None = None
    status: NodeStatusValue = NodeRunStatus.PENDING
    error: Any = None
    output_url: str | None = None
    output_urls: list[str] | None = None
    text: str | None = None
    progress: float | None = None
    request_id: str | None = None

    @field_validator("status", mode="before")
    @classmethod
    def _keep_status(cls, value: Any) -> Any:
        return keep_exact(NodeRunStatus, value)

    def to_node_run(self) -> NodeRun:
        urls = list(self.output_urls or [])
        if self.output_url and self.output_url not in urls:
            urls.insert(0, self.output_url)
        output: dict[str, Any] | None = None
        if urls:
            videos = [u for u in urls if videos_of(u)]
            images = [u for u in urls if u not in videos]
            output = {}
            if images:
                output["images"] = [{"url": u} for u in images]
            if videos:
                output["videos"] = [{"url": u} for u in videos]
        if self.text is not None:
            output = {**(output or {}), "text": self.text}
        return NodeRun(node_id=self.node_id, status=self.status, output=output, error=self.error)


class ExecutionRun(_HasExecutionStatus):
    id: str
    start_time: str | None = None
    end_time: str | None = None
    error: Any = None
    node_runs: list[NodeRun] = Field(default_factory=list)
    batch_id: str | None = None
    run_index_in_batch: int | None = None
    input_index: int | None = None


class ExecuteResponse(WireModel):
    """201 body of execute: one execution run per batch item."""

    workflow_id: str
    batch_id: str | None = None
    execution_runs: list[ExecutionRun] = Field(default_factory=list)

    @property
    def execution_ids(self) -> list[str]:
        return [run.id for run in self.execution_runs]

    @property
    def execution_id(self) -> str:
        """Id of the first (usually only) execution run."""
        if not self.execution_runs:
            raise ValueError("the execute response holds no execution run")
        return self.execution_runs[0].id

    def _repr_html_(self) -> str:
        return str(_html().render_execute_response(self))


class PollResponse(_HasExecutionStatus):
    """Body of poll. Reads the reference shape and the wrapped ``{"data": {...}}`` shape
    with ``nodeStates``; writes back the shape it read."""

    error: Any = None
    node_results: NodeResults | None = None
    node_states: list[NodeState] | None = None
    final_output: Any = None

    _wrapped: dict[str, Any] | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _unwrap(cls, value: Any, handler: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("data"), dict) and "status" not in value:
            outer = {k: v for k, v in value.items() if k != "data"}
            model = handler(value["data"])
            model._wrapped = outer
            return model
        return handler(value)

    @model_serializer(mode="wrap")
    def _rewrap(self, handler: SerializerFunctionWrapHandler) -> Any:
        body = handler(self)
        if self._wrapped is not None:
            return {**self._wrapped, "data": body}
        return body

    @classmethod
    def from_run(cls, run: ExecutionRun) -> PollResponse:
        """The poll answer an execution run stands for (status, error, its node runs): the
        one way a run of an execute answer becomes what ``wait`` and the app follow."""
        return cls(
            status=run.status, error=run.error, node_results=NodeResults(node_runs=list(run.node_runs))
        )

    @property
    def node_runs(self) -> list[NodeRun]:
        """Node runs of either shape (``nodeResults.nodeRuns`` or ``nodeStates``)."""
        if self.node_results is not None and self.node_results.node_runs:
            return list(self.node_results.node_runs)
        if self.node_states:
            return [state.to_node_run() for state in self.node_states]
        return []

    def node_run(self, node_id: str) -> NodeRun | None:
        for run in self.node_runs:
            if run.node_id == node_id:
                return run
        return None

    @property
    def error_message(self) -> str | None:
        return error_message(self.error)

    @property
    def failed_node_runs(self) -> list[NodeRun]:
        return [r for r in self.node_runs if r.state == NodeRunStatus.FAILED]

    def _repr_html_(self) -> str:
        return str(_html().render_poll_response(self))


class Execution(_HasExecutionStatus):
    """Body of ``GET /workflows/executions/{id}``: the full record."""

    id: str
    workflow_id: str | None = None
    triggered_by: str | None = None
    trigger_data: dict[str, Any] | None = None
    node_results: NodeResults | None = None
    current_node: Any = None
    output: Any = None
    error: Any = None
    error_node: str | None = None
    execution_time: int | float | None = None
    credits_used: int | float | None = None
    started_at: str | None = None
    completed_at: str | None = None
    workflow_snapshot: dict[str, Any] | None = None

    @property
    def node_runs(self) -> list[NodeRun]:
        return list(self.node_results.node_runs) if self.node_results else []

    @property
    def error_message(self) -> str | None:
        return error_message(self.error)

    def _repr_html_(self) -> str:
        return str(_html().render_execution(self))


class ExecutionSummary(_HasExecutionStatus):
    """One row of ``GET /workflows/{id}/executions``."""

    id: str
    workflow_id: str | None = None
    triggered_by: str | None = None
    execution_time: int | float | None = None
    credits_used: int | float | None = None
    started_at: str | None = None
    completed_at: str | None = None
    error: Any = None

    @property
    def error_message(self) -> str | None:
        return error_message(self.error)


class ExecutionSummaryList(list[ExecutionSummary]):
    """A page of history (a plain ``list``) that renders as an HTML table in notebooks."""

    def _repr_html_(self) -> str:
        return str(_html().render_execution_summaries(self))


class CreditsBreakdownItem(WireModel):
    node_id: str
    node_label: str | None = None
    credits: int | float = 0


class InsufficientCredits(WireModel):
    """Body of a 402."""

    error: Any = None
    insufficient_credits: bool = True
    required_credits: int | float = 0
    available_credits: int | float = 0
    breakdown: list[CreditsBreakdownItem] = Field(default_factory=list)
