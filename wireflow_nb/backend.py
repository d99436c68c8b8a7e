"""The ``Backend`` protocol: what widgets and scripts may ask of any way to run a
workflow. ``WireflowClient`` (hosted API or ``wireflow-nb serve``) and ``LocalEngine``
(in-process) both satisfy it; ``AsyncWireflowClient`` satisfies ``AsyncBackend``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol, Union, runtime_checkable

from .models import (
    ExecuteRequest,
    ExecuteResponse,
    Execution,
    ExecutionSummary,
    IteratorConfig,
    PollResponse,
)

if TYPE_CHECKING:
    from .catalog import Catalog
    from .models import CostEstimate, MediaUpload, Usage
    from .workflow import Workflow

WorkflowOrRequest = Union["Workflow", ExecuteRequest, Mapping[str, Any]]
IteratorConfigsArg = Union[Iterable[IteratorConfig | Mapping[str, Any]], None]
OnUpdate = Callable[[PollResponse], None]


@runtime_checkable
class Backend(Protocol):
    """Run workflows and read their history; blocking calls."""

    def execute(
        self,
        workflow_id: str,
        workflow_or_request: WorkflowOrRequest,
        *,
        target_node_id: str | None = None,
        trigger_data: Mapping[str, Any] | None = None,
        iterator_configs: IteratorConfigsArg = None,
        idempotency_key: str | None = None,
    ) -> ExecuteResponse: ...

    def poll(self, execution_id: str) -> PollResponse: ...

    def wait(
        self,
        execution_id: str,
        *,
        timeout: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> PollResponse: ...

    def get_execution(self, execution_id: str) -> Execution: ...

    def list_executions(
        self, workflow_id: str, *, limit: int = 10, offset: int = 0
    ) -> list[ExecutionSummary]: ...

    def iter_executions(self, workflow_id: str, *, page_size: int = 50) -> Iterator[ExecutionSummary]: ...

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
    ) -> list[PollResponse]: ...

    def cancel(self, execution_id: str) -> PollResponse: ...

    def fetch_bytes(self, url: str) -> bytes:
        """The bytes of an output URL (image or video), fetched the backend's way."""
        ...

    def credits_balance(self) -> float | None:
        """Credits left, when the backend knows (None otherwise)."""
        ...

    # -- the account (docs/INTERNALS.md, "Account endpoints"); ``workflows`` is the
    # saved-workflows resource of each backend (``engine.workflows`` / ``client.workflows``)
    def nodes(self) -> Catalog:
        """The node catalogue this backend runs."""
        ...

    def usage(self) -> Usage: ...

    def estimate(
        self,
        workflow: WorkflowOrRequest | str,
        *,
        workflow_id: str | None = None,
        target_node_id: str | None = None,
        iterator_configs: IteratorConfigsArg = None,
    ) -> CostEstimate: ...

    def upload(
        self, source: Any, *, filename: str | None = None, idempotency_key: str | None = None
    ) -> MediaUpload: ...


@runtime_checkable
class AsyncBackend(Protocol):
    """The same as ``Backend``, every method awaitable."""

    async def execute(
        self,
        workflow_id: str,
        workflow_or_request: WorkflowOrRequest,
        *,
        target_node_id: str | None = None,
        trigger_data: Mapping[str, Any] | None = None,
        iterator_configs: IteratorConfigsArg = None,
        idempotency_key: str | None = None,
    ) -> ExecuteResponse: ...

    async def poll(self, execution_id: str) -> PollResponse: ...

    async def wait(
        self,
        execution_id: str,
        *,
        timeout: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> PollResponse: ...

    async def get_execution(self, execution_id: str) -> Execution: ...

    async def list_executions(
        self, workflow_id: str, *, limit: int = 10, offset: int = 0
    ) -> list[ExecutionSummary]: ...

    def iter_executions(
        self, workflow_id: str, *, page_size: int = 50
    ) -> AsyncIterator[ExecutionSummary]: ...

    async def cancel(self, execution_id: str) -> PollResponse: ...

    async def fetch_bytes(self, url: str) -> bytes: ...

    async def credits_balance(self) -> float | None: ...

    # -- the account (docs/INTERNALS.md, "Account endpoints"); ``workflows`` is the
    # saved-workflows resource of each backend (``engine.workflows`` / ``client.workflows``)
    async def nodes(self) -> Catalog:
        """The node catalogue this backend runs."""
        ...

    async def usage(self) -> Usage: ...

    async def estimate(
        self,
        workflow: WorkflowOrRequest | str,
        *,
        workflow_id: str | None = None,
        target_node_id: str | None = None,
        iterator_configs: IteratorConfigsArg = None,
    ) -> CostEstimate: ...

    async def upload(
        self, source: Any, *, filename: str | None = None, idempotency_key: str | None = None
    ) -> MediaUpload: ...


def as_request(
    workflow_or_request: WorkflowOrRequest,
    *,
    target_node_id: str | None = None,
    trigger_data: Mapping[str, Any] | None = None,
    iterator_configs: IteratorConfigsArg = None,
) -> ExecuteRequest:
    """One ``ExecuteRequest`` from a ``Workflow``, a request or its JSON, with the
    keyword options layered on top (they win over what the request already had)."""
    from .workflow import Workflow

    if isinstance(workflow_or_request, Workflow):
        # the options go into to_request: its bypass rewrite must know them
        return workflow_or_request.to_request(
            target_node_id=target_node_id, trigger_data=trigger_data, iterator_configs=iterator_configs
        )
    if isinstance(workflow_or_request, ExecuteRequest):
        request = workflow_or_request.model_copy(deep=True)
    else:
        request = ExecuteRequest.model_validate(dict(workflow_or_request))
    return with_options(
        request, target_node_id=target_node_id, trigger_data=trigger_data, iterator_configs=iterator_configs
    )


def with_options(
    request: ExecuteRequest,
    *,
    target_node_id: str | None = None,
    trigger_data: Mapping[str, Any] | None = None,
    iterator_configs: IteratorConfigsArg = None,
) -> ExecuteRequest:
    """``request`` (changed in place) with the keyword options of ``execute`` layered on
    top: each one given wins over what the request already had."""
    if target_node_id is not None:
        request.target_node_id = target_node_id
    if trigger_data is not None:
        request.trigger_data = dict(trigger_data)
    if iterator_configs is not None:
        request.iterator_configs = [
            c if isinstance(c, IteratorConfig) else IteratorConfig.model_validate(c) for c in iterator_configs
        ]
    return request
