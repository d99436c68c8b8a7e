"""wireflow_nb: build, run and inspect Wireflow AI workflows from Jupyter.

Public names only; a test pins ``__all__``. Heavy parts (client, engine, widgets) are
imported on first use so ``import wireflow_nb`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ExecutionCancelledError,
    ExecutionFailedError,
    InsufficientCreditsError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    Problem,
    RateLimitError,
    UnprocessableEntityError,
    WaitTimeoutError,
    WireflowError,
    WorkflowValidationError,
)
from .backend import AsyncBackend, Backend
from .catalog import Catalog, NodeSpec, default_catalog, node_type
from .models import (
    CreditsBreakdownItem,
    Edge,
    ExecuteRequest,
    ExecuteResponse,
    Execution,
    ExecutionRun,
    ExecutionStatus,
    ExecutionSummary,
    ImageOutput,
    InsufficientCredits,
    IteratorConfig,
    Node,
    NodeResults,
    NodeRun,
    NodeRunStatus,
    PollResponse,
    Position,
    VideoOutput,
)
from .workflow import Workflow

__version__ = "0.1.0"

# name -> module that defines it, imported on first access
_LAZY = {
    "WireflowClient": "wireflow_nb.client",
    "AsyncWireflowClient": "wireflow_nb.client",
    "LocalEngine": "wireflow_nb.engine",
    "GraphEditor": "wireflow_nb.widgets",
    "WorkflowApp": "wireflow_nb.widgets",
    "HistoryView": "wireflow_nb.widgets",
}

if TYPE_CHECKING:
    from .client import AsyncWireflowClient, WireflowClient
    from .engine import LocalEngine
    from .widgets import GraphEditor, HistoryView, WorkflowApp


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wireflow_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncBackend",
    "AsyncWireflowClient",
    "AuthenticationError",
    "Backend",
    "BadRequestError",
    "Catalog",
    "CreditsBreakdownItem",
    "Edge",
    "ExecuteRequest",
    "ExecuteResponse",
    "Execution",
    "ExecutionCancelledError",
    "ExecutionFailedError",
    "ExecutionRun",
    "ExecutionStatus",
    "ExecutionSummary",
    "GraphEditor",
    "HistoryView",
    "ImageOutput",
    "InsufficientCredits",
    "InsufficientCreditsError",
    "InternalServerError",
    "IteratorConfig",
    "LocalEngine",
    "Node",
    "NodeResults",
    "NodeRun",
    "NodeRunStatus",
    "NodeSpec",
    "NotFoundError",
    "PermissionDeniedError",
    "PollResponse",
    "Position",
    "Problem",
    "RateLimitError",
    "UnprocessableEntityError",
    "VideoOutput",
    "WaitTimeoutError",
    "WireflowClient",
    "WireflowError",
    "Workflow",
    "WorkflowApp",
    "WorkflowValidationError",
    "__version__",
    "default_catalog",
    "node_type",
]
