"""Pydantic models of the Wireflow Executions API (the wire contract).

Attributes are snake_case; the wire is camelCase. Every model keeps unknown fields and
writes them back, and unknown status strings are carried as strings.
"""

from __future__ import annotations

from ._account import (
    CostEstimate,
    MediaUpload,
    SavedWorkflow,
    Usage,
    Webhook,
    WorkflowInput,
    WorkflowInputs,
    WorkflowOutput,
    WorkflowSummary,
)
from ._base import WireModel
from ._graph import (
    META_KEYS,
    Edge,
    ExecuteRequest,
    IteratorConfig,
    Node,
    Position,
    port_name,
)
from ._outputs import ImageOutput, MediaOutput, VideoOutput, images_of, text_of, videos_of
from ._runs import (
    CreditsBreakdownItem,
    ExecuteResponse,
    Execution,
    ExecutionRun,
    ExecutionSummary,
    ExecutionSummaryList,
    InsufficientCredits,
    NodeResults,
    NodeRun,
    NodeState,
    PollResponse,
)
from ._status import (
    TERMINAL_EXECUTION_STATUSES,
    ExecutionStatus,
    NodeRunStatus,
    error_message,
    is_terminal,
    normalize_execution_status,
    normalize_node_status,
)

__all__ = [
    "META_KEYS",
    "TERMINAL_EXECUTION_STATUSES",
    "CostEstimate",
    "CreditsBreakdownItem",
    "Edge",
    "ExecuteRequest",
    "ExecuteResponse",
    "Execution",
    "ExecutionRun",
    "ExecutionStatus",
    "ExecutionSummary",
    "ExecutionSummaryList",
    "ImageOutput",
    "InsufficientCredits",
    "IteratorConfig",
    "MediaOutput",
    "MediaUpload",
    "Node",
    "NodeResults",
    "NodeRun",
    "NodeRunStatus",
    "NodeState",
    "PollResponse",
    "Position",
    "SavedWorkflow",
    "Usage",
    "VideoOutput",
    "Webhook",
    "WireModel",
    "WorkflowInput",
    "WorkflowInputs",
    "WorkflowOutput",
    "WorkflowSummary",
    "error_message",
    "images_of",
    "is_terminal",
    "normalize_execution_status",
    "normalize_node_status",
    "port_name",
    "text_of",
    "videos_of",
]
