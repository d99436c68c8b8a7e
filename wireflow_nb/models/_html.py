"""HTML tables of API responses, for places without widgets (nbconvert HTML, GitHub).

The models' ``_repr_html_`` methods delegate here. Rules this module keeps:

- every value that came from a server or a user is HTML-escaped, in text and in
  attributes alike;
- an image thumbnail (``<img>``) is drawn only for ``http(s)://`` and ``data:image/``
  URLs; any other URL (``file:``, ``javascript:``, relative paths...) is shown as
  escaped text;
- only ``http(s)://`` URLs become links, so a ``javascript:`` URL never does.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._base import local_name
from ._outputs import images_of, text_of, videos_of
from ._status import error_message, normalize_execution_status

if TYPE_CHECKING:
    from ._runs import ExecuteResponse, Execution, ExecutionSummary, NodeRun, PollResponse

__all__ = [
    "escape",
    "format_duration_ms",
    "is_image_src",
    "is_link_url",
    "render_execute_response",
    "render_execution",
    "render_execution_summaries",
    "render_node_runs",
    "render_output",
    "render_poll_response",
    "status_badge",
]

#: Background colour per normalized status (anything else is grey).
STATUS_COLORS = {
    "PENDING": "#9e9e9e",
    "RUNNING": "#1e88e5",
    "COMPLETED": "#2e7d32",
    "FAILED": "#c62828",
    "CANCELLED": "#6d4c41",
    "TIMEOUT": "#c62828",
    "SKIPPED": "#757575",
}

_THUMB_PX = 96
_MAX_TEXT = 500
_MAX_JSON = 2000

_TABLE = 'style="border-collapse:collapse;margin:2px 0;font-size:12px"'
_CELL = 'style="border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top"'


def escape(value: Any) -> str:
    """``value`` as text, HTML-escaped (quotes too, so it is safe in attributes)."""
    if value is None:
        return ""
    return html.escape(str(value), quote=True)


def _clean_url(url: str) -> str:
    # Browsers ignore leading/trailing whitespace and control characters in URLs, so
    # decide on the stripped form, and emit that same form.
    return url.strip(" \t\n\r\f\v\x00")


def is_image_src(url: Any) -> bool:
    """Whether ``url`` may be the ``src`` of a thumbnail (http(s) or data:image)."""
    if not isinstance(url, str):
        return False
    lower = _clean_url(url).lower()
    return lower.startswith(("http://", "https://", "data:image/"))


def is_link_url(url: Any) -> bool:
    """Whether ``url`` may become a link (http(s) only)."""
    if not isinstance(url, str):
        return False
    return _clean_url(url).lower().startswith(("http://", "https://"))


def format_duration_ms(ms: Any) -> str:
    """``15000`` -> ``15.0 s``; ``65000`` -> ``1 min 5 s``; missing -> ``""``."""
    if not isinstance(ms, (int, float)) or isinstance(ms, bool):
        return ""
    seconds = ms / 1000.0
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds >= 1 else f"{ms:.0f} ms"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _status_text(status: Any) -> str:

    return str(normalize_execution_status(status)) if status is not None else ""


def status_badge(status: Any, *, cached: bool = False) -> str:
    """A coloured pill with the status (the raw string is shown when unknown)."""
    text = _status_text(status)
    color = STATUS_COLORS.get(text, "#607d8b")
    label = escape(text) + (" (cached)" if cached else "")
    return (
        f'<span class="wf-status" style="background:{color};color:#fff;border-radius:8px;'
        f'padding:0 6px;font-size:11px;white-space:nowrap">{label}</span>'
    )


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _url_html(url: str) -> str:
    if is_link_url(url):
        clean = _clean_url(url)
        return f'<a href="{escape(clean)}" target="_blank" rel="noopener noreferrer">{escape(_truncate(clean, 80))}</a>'
    if _clean_url(url).lower().startswith("file:"):  # the file's name: no path of this machine in a notebook
        return f"<code>{escape(_truncate(local_name(url), 87))}</code>"
    return f"<code>{escape(_truncate(url, 200))}</code>"


def _thumbnail(url: str) -> str:
    clean = _clean_url(url)
    img = (
        f'<img src="{escape(clean)}" alt="output image" loading="lazy" '
        f'style="max-width:{_THUMB_PX}px;max-height:{_THUMB_PX}px;border:1px solid #ccc"/>'
    )
    if is_link_url(url):
        return f'<a href="{escape(clean)}" target="_blank" rel="noopener noreferrer">{img}</a>'
    return img


def _json_text(value: Any) -> str:
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text


def render_output(output: Any) -> str:
    """A node output: image thumbnails, video links, text, or pretty JSON."""

    if output is None:
        return ""
    parts: list[str] = []
    for image in images_of(output):
        if is_image_src(image.url):
            parts.append(_thumbnail(image.url))
        else:
            parts.append(_url_html(image.url))
    for video in videos_of(output):
        parts.append("video: " + _url_html(video.url))
    text = text_of(output)
    if text is not None:
        parts.append(f'<span style="white-space:pre-wrap">{escape(_truncate(text, _MAX_TEXT))}</span>')
    if parts:
        return " ".join(parts)
    return f'<pre style="margin:0;font-size:11px">{escape(_truncate(_json_text(output), _MAX_JSON))}</pre>'


def _row(cells: Iterable[str], *, header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(f"<{tag} {_CELL}>{c}</{tag}>" for c in cells) + "</tr>"


def _kv_table(rows: Iterable[tuple[str, str]]) -> str:
    body = "".join(_row([f"<b>{escape(k)}</b>", v]) for k, v in rows if v != "")
    return f"<table {_TABLE}>{body}</table>"


def _labels_of(snapshot: Any) -> dict[str, str]:
    labels: dict[str, str] = {}
    if isinstance(snapshot, Mapping):
        nodes = snapshot.get("nodes")
        if isinstance(nodes, list):
            for node in nodes:
                if isinstance(node, Mapping) and isinstance(node.get("id"), str):
                    data = node.get("data")
                    label = data.get("label") if isinstance(data, Mapping) else None
                    if label is not None:
                        labels[node["id"]] = str(label)
    return labels


def render_node_runs(node_runs: Iterable[NodeRun], *, labels: Mapping[str, str] | None = None) -> str:
    """A table of node runs: node, status (cached), output, error."""

    runs = list(node_runs)
    if not runs:
        return '<div style="color:#777;font-size:12px">no node runs</div>'
    labels = labels or {}
    has_labels = any(run.node_id in labels for run in runs)
    head = ["node", *(["label"] if has_labels else []), "status", "output", "error"]
    rows = [_row([escape(h) for h in head], header=True)]
    for run in runs:
        cells = [f"<code>{escape(run.node_id)}</code>"]
        if has_labels:
            cells.append(escape(labels.get(run.node_id, "")))
        cells.append(status_badge(run.status, cached=run.cached))
        cells.append(render_output(run.output))
        cells.append(escape(error_message(run.error)))
        rows.append(_row(cells))
    return f'<table class="wf-node-runs" {_TABLE}>{"".join(rows)}</table>'


def _frame(title: str, body: str) -> str:
    return (
        f'<div class="wf-repr" style="font-family:sans-serif">'
        f'<div style="font-weight:bold;margin:4px 0">{title}</div>{body}</div>'
    )


def render_execute_response(response: ExecuteResponse) -> str:
    parts = [
        _kv_table(
            [
                ("workflow", escape(response.workflow_id)),
                ("batch", escape(response.batch_id)),
                ("runs", escape(len(response.execution_runs))),
            ]
        )
    ]
    for run in response.execution_runs:
        meta = _kv_table(
            [
                ("execution", f"<code>{escape(run.id)}</code>"),
                ("status", status_badge(run.status)),
                ("started", escape(run.start_time)),
                ("ended", escape(run.end_time)),
                ("run in batch", escape(run.run_index_in_batch)),
                ("input index", escape(run.input_index)),
                ("error", escape(_error_text(run.error))),
            ]
        )
        parts.append(f'<div style="margin-left:12px">{meta}{render_node_runs(run.node_runs)}</div>')
    return _frame("Execution started", "".join(parts))


def _error_text(error: Any) -> str | None:

    return error_message(error)


def render_poll_response(poll: PollResponse) -> str:
    rows = [("status", status_badge(poll.status)), ("error", escape(poll.error_message))]
    if poll.final_output is not None:
        rows.append(("final output", render_output(poll.final_output)))
    body = _kv_table(rows) + render_node_runs(poll.node_runs)
    return _frame("Execution status", body)


def render_execution(execution: Execution) -> str:
    rows = [
        ("execution", f"<code>{escape(execution.id)}</code>"),
        ("workflow", escape(execution.workflow_id)),
        ("status", status_badge(execution.status)),
        ("triggered by", escape(execution.triggered_by)),
        ("started", escape(execution.started_at)),
        ("completed", escape(execution.completed_at)),
        ("duration", escape(format_duration_ms(execution.execution_time))),
        ("credits used", escape(execution.credits_used)),
        ("error", escape(execution.error_message)),
        ("failed node", escape(execution.error_node)),
    ]
    if execution.trigger_data:
        rows.append(
            (
                "trigger data",
                f"<pre style='margin:0'>{escape(_truncate(_json_text(execution.trigger_data), _MAX_JSON))}</pre>",
            )
        )
    if execution.output is not None:
        rows.append(("output", render_output(execution.output)))
    labels = _labels_of(execution.workflow_snapshot)
    body = _kv_table(rows) + render_node_runs(execution.node_runs, labels=labels)
    return _frame("Execution", body)


def render_execution_summaries(summaries: Iterable[ExecutionSummary]) -> str:
    items = list(summaries)
    if not items:
        return _frame("Executions", '<div style="color:#777">no executions yet</div>')
    head = ["execution", "status", "triggered by", "started", "duration", "credits", "error"]
    rows = [_row([escape(h) for h in head], header=True)]
    for item in items:
        rows.append(
            _row(
                [
                    f"<code>{escape(item.id)}</code>",
                    status_badge(item.status),
                    escape(item.triggered_by),
                    escape(item.started_at),
                    escape(format_duration_ms(item.execution_time)),
                    escape(item.credits_used),
                    escape(item.error_message),
                ]
            )
        )
    return _frame(
        f"Executions ({len(items)})", f'<table class="wf-executions" {_TABLE}>{"".join(rows)}</table>'
    )
