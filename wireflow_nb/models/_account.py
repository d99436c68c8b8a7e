"""Wire models of the account endpoints: saved workflows, a saved workflow's input
schema, usage, cost estimates, uploaded media and webhooks (``docs/INTERNALS.md``,
"Account endpoints"). Like every wire model they keep unknown fields."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ._base import WireModel
from ._runs import CreditsBreakdownItem

__all__ = [
    "CostEstimate",
    "MediaUpload",
    "SavedWorkflow",
    "Usage",
    "Webhook",
    "WorkflowInput",
    "WorkflowInputs",
    "WorkflowOutput",
    "WorkflowSummary",
]


class WorkflowSummary(WireModel):
    """A row of ``GET /workflows``: a saved workflow without its graph."""

    id: str
    name: str = ""
    version: int = 1
    created_at: str | None = None
    updated_at: str | None = None
    node_count: int | None = None


class SavedWorkflow(WorkflowSummary):
    """``GET /workflows/{id}``: the summary plus the user's workflow JSON, unchanged."""

    workflow: dict[str, Any] = Field(default_factory=dict)


class WorkflowInput(WireModel):
    """One input of a saved workflow: the field ``field`` of node ``node_id``."""

    node_id: str
    field: str
    #: A Python identifier for the input (the keyword of ``workflows.function``).
    name: str
    label: str = ""
    #: A hosted port type: ``TEXT``, ``NUMBER``, ``IMAGE``, ``VIDEO``, ``AUDIO``, ``JSON``, ...
    type: str = "TEXT"
    required: bool = False
    default: Any = None
    description: str = ""
    choices: list[Any] | None = None


class WorkflowOutput(WireModel):
    """A node whose output is a result of the workflow (a node nothing reads from)."""

    node_id: str
    name: str
    label: str = ""


class WorkflowInputs(WireModel):
    """``GET /workflows/{id}/run``: what ``POST /workflows/{id}/run`` accepts."""

    workflow_id: str = ""
    name: str = ""
    inputs: list[WorkflowInput] = Field(default_factory=list)
    outputs: list[WorkflowOutput] = Field(default_factory=list)


class Usage(WireModel):
    """``GET /developer/usage``."""

    credits_balance: int | float | None = None
    credits_used: int | float | None = None


class CostEstimate(WireModel):
    """``POST /workflows/{id}/estimate``: what executing would charge now."""

    workflow_id: str = ""
    total_credits: int | float = 0
    breakdown: list[CreditsBreakdownItem] = Field(default_factory=list)
    available_credits: int | float | None = None
    sufficient: bool | None = None


class MediaUpload(WireModel):
    """``POST /media/upload``: the stored file; ``url`` is what a node input takes."""

    id: str = ""
    url: str
    content_type: str = "application/octet-stream"
    size: int = 0
    filename: str | None = None
    created_at: str | None = None


class Webhook(WireModel):
    """A webhook trigger of a saved workflow: ``POST url`` (no key) starts a run."""

    id: str
    workflow_id: str = ""
    url: str = ""
    created_at: str | None = None
