"""The account endpoints' shapes for the clients, no I/O: request bodies and reading
answers into the wire models of ``models/_account.py``, whether the body is bare or in
the hosted ``{"data": ...}`` envelope, and whatever spelling a hosted variant uses for
the same fact. ``_async_resources`` / ``_async`` send; this module decides. It may import
httpx, ``_media``, ``account``, ``models``, ``catalog``, ``workflow`` and the client's
``_errors``, ``_headers`` and ``_uploads``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._media import check_upload_size, media_bytes, sniff_content_type
from ..models import CostEstimate, MediaUpload, SavedWorkflow, Usage, Webhook, WorkflowInputs, WorkflowSummary
from ._errors import _read_model, _unwrap
from ._headers import _number
from ._uploads import ProgressBody

__all__ = [
    "parse_estimate",
    "parse_inputs",
    "parse_media",
    "parse_saved",
    "parse_summaries",
    "parse_usage",
    "parse_webhook",
    "upload_body",
]


def _dict(body: Any, *wanted: str) -> dict[str, Any]:
    body = _unwrap(body, *wanted)
    return dict(body) if isinstance(body, Mapping) else {}


def _summary_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """A hosted row in our names: ``_id`` / ``title`` and counted ``nodes`` are accepted."""
    out = dict(row)
    if "id" not in out and isinstance(out.get("_id"), str):
        out["id"] = out["_id"]
    if "name" not in out and isinstance(out.get("title"), str):
        out["name"] = out["title"]
    if "nodeCount" not in out and isinstance(out.get("nodes"), list):
        out["nodeCount"] = len(out["nodes"])
    return out


def parse_summaries(body: Any) -> list[WorkflowSummary]:
    rows = _unwrap(body, "workflows", "items")
    if isinstance(rows, Mapping):
        rows = rows.get("workflows", rows.get("items", []))
    if not isinstance(rows, list):
        return []
    return [
        _read_model(WorkflowSummary, _summary_fields({k: v for k, v in row.items() if k != "workflow"}))
        for row in rows
        if isinstance(row, Mapping)
    ]


def parse_saved(body: Any) -> SavedWorkflow:
    """A saved workflow: ours (``{..., "workflow": {...}}``) or a hosted one whose nodes
    and edges sit beside its id (they become its workflow JSON)."""
    row = _summary_fields(_dict(body, "id", "workflow"))
    if not isinstance(row.get("workflow"), Mapping) and isinstance(row.get("nodes"), list):
        graph_keys = ("nodes", "edges", "viewport")
        row["workflow"] = {k: row[k] for k in graph_keys if k in row}
    return _read_model(SavedWorkflow, row)


def parse_inputs(body: Any, workflow_id: str) -> WorkflowInputs:
    """The input schema; ``inputs`` as a list of fields or a ``{nodeId: field}`` object."""
    row = _dict(body, "inputs", "workflowId")
    inputs = row.get("inputs")
    if isinstance(inputs, Mapping):
        row["inputs"] = [
            {"nodeId": node_id, **(spec if isinstance(spec, Mapping) else {"default": spec})}
            for node_id, spec in inputs.items()
        ]
    fields = []
    for entry in row.get("inputs") or []:
        if not isinstance(entry, Mapping):
            continue
        entry = dict(entry)
        entry.setdefault("field", entry.get("name") or "value")
        entry.setdefault("name", entry.get("nodeId", "input"))
        fields.append(entry)
    row["inputs"] = fields
    row.setdefault("workflowId", workflow_id)
    return _read_model(WorkflowInputs, row)


def parse_usage(body: Any) -> Usage:
    row = _dict(body, "creditsBalance", "credits", "balance")
    balance = None
    for key in ("creditsBalance", "credits", "balance", "availableCredits"):
        value = row.get(key)
        if isinstance(value, Mapping):
            value = value.get("balance", value.get("available"))
        balance = _number(value)
        if balance is not None:
            break
    used = _number(row.get("creditsUsed", row.get("used")))
    return Usage(credits_balance=_whole(balance), credits_used=_whole(used))


def _whole(value: float | None) -> int | float | None:
    return int(value) if value is not None and float(value).is_integer() else value


def parse_estimate(body: Any, workflow_id: str) -> CostEstimate:
    row = _dict(body, "totalCredits", "estimatedCredits", "credits")
    for key in ("totalCredits", "estimatedCredits", "requiredCredits", "credits", "total"):
        total = _number(row.get(key))
        if total is not None:
            row["totalCredits"] = _whole(total)
            break
    row.setdefault("workflowId", workflow_id)
    return _read_model(CostEstimate, row)


def parse_media(body: Any) -> MediaUpload:
    row = _dict(body, "url", "id")
    if "url" not in row:
        for key in ("fileUrl", "mediaUrl", "location"):
            if isinstance(row.get(key), str):
                row["url"] = row[key]
                break
    return _read_model(MediaUpload, row)


def parse_webhook(body: Any) -> Webhook:
    row = _dict(body, "id", "url")
    if "id" not in row and isinstance(row.get("webhookId"), str):
        row["id"] = row["webhookId"]
    return _read_model(Webhook, row)


def upload_body(
    source: Any, filename: str | None, progress: Callable[[int, int], None] | None = None
) -> ProgressBody:
    """The multipart body of an upload: the bytes (at most 25 MB, checked before anything
    is sent) with the content type their first bytes say, never the name's; its chunks
    call ``progress(sent, total)``."""
    data, name = media_bytes(source)
    check_upload_size(len(data))
    content_type = sniff_content_type(data)
    return ProgressBody(data, filename or name or "upload", content_type, progress)
