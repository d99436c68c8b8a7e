"""``HistoryView``: the executions of a workflow, newest first, one page at a time.

A row shows status, start time, duration, credits and what triggered the run. Opening a
row shows that execution's node runs, outputs and error; Restore loads its
``workflowSnapshot`` into the editor; ticking two rows and pressing Compare shows which
inputs differed and both runs' outputs side by side.

CSS classes: ``wf-app-history`` (the view), ``wf-app-history-row`` (one execution; the
open one also has ``wf-app-history-row-selected``), ``wf-app-history-open`` (the row's
button), ``wf-app-history-check`` (its compare tick box), ``wf-app-history-status``,
``wf-app-history-refresh``, ``wf-app-history-prev``, ``wf-app-history-next``,
``wf-app-history-page``, ``wf-app-history-message``, ``wf-app-history-detail``,
``wf-app-history-restore``, ``wf-app-history-compare``, ``wf-app-history-diff``.
"""

from __future__ import annotations

import html
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import ipywidgets as widgets

from .._exceptions import APIConnectionError, WireflowError
from ..models import Execution, ExecutionSummary, Node, normalize_execution_status
from ..models._html import format_duration_ms, render_node_runs, status_badge
from ..provenance import record_for
from ..workflow import Workflow
from ._runner import call_blocking
from ._static import StaticFallback, join_html, outputs_html, table_html
from .outputs import MediaFetcher, OutputView

__all__ = ["HistoryView", "InputChange", "diff_inputs", "format_started"]

logger = logging.getLogger("wireflow_nb.widgets")

_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "(none)"})()


def format_started(iso: str | None) -> str:
    """``2025-03-20T12:01:00.000Z`` -> ``2025-03-20 12:01:00``."""
    if not iso:
        return ""
    text = iso.replace("T", " ")
    if "." in text:
        text = text.split(".", 1)[0]
    return text.rstrip("Z")


@dataclass(frozen=True)
class InputChange:
    """One input that differs between two snapshots (``field`` None: the node itself
    exists in one snapshot only)."""

    node_id: str
    label: str
    field: str | None
    before: Any
    after: Any


def _nodes_of(snapshot: Mapping[str, Any] | None) -> dict[str, Node]:
    nodes: dict[str, Node] = {}
    if isinstance(snapshot, Mapping) and isinstance(snapshot.get("nodes"), list):
        for raw in snapshot["nodes"]:
            try:
                node = Node.model_validate(raw)
            except Exception:
                continue
            nodes.setdefault(node.id, node)
    return nodes


def _edges_into(snapshot: Mapping[str, Any] | None) -> dict[str, set[tuple[str, str | None, str | None]]]:
    found: dict[str, set[tuple[str, str | None, str | None]]] = {}
    if isinstance(snapshot, Mapping) and isinstance(snapshot.get("edges"), list):
        for edge in snapshot["edges"]:
            if isinstance(edge, Mapping) and isinstance(edge.get("target"), str):
                found.setdefault(edge["target"], set()).add(
                    (str(edge.get("source")), edge.get("sourceHandle"), edge.get("targetHandle"))
                )
    return found


def diff_inputs(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[InputChange]:
    """Inputs that differ between two workflow snapshots, node by node (nodes added or
    removed, input values changed, connections into a node changed)."""
    a, b = _nodes_of(before), _nodes_of(after)
    ea, eb = _edges_into(before), _edges_into(after)
    changes: list[InputChange] = []
    for node_id in list(dict.fromkeys([*a, *b])):
        na, nb = a.get(node_id), b.get(node_id)
        label = (nb or na).label if (nb or na) is not None else node_id  # type: ignore[union-attr]
        if na is None or nb is None:
            changes.append(
                InputChange(
                    node_id,
                    label,
                    None,
                    na.node_type if na is not None else _MISSING,
                    nb.node_type if nb is not None else _MISSING,
                )
            )
            continue
        ia, ib = na.inputs, nb.inputs
        for name in list(dict.fromkeys([*ia, *ib])):
            va, vb = ia.get(name, _MISSING), ib.get(name, _MISSING)
            if va != vb:
                changes.append(InputChange(node_id, label, name, va, vb))
        if na.node_type != nb.node_type:
            changes.append(InputChange(node_id, label, "nodeType", na.node_type, nb.node_type))
        if ea.get(node_id, set()) != eb.get(node_id, set()):
            changes.append(
                InputChange(
                    node_id,
                    label,
                    "(connections)",
                    sorted(f"{s}.{h}->{t}" for s, h, t in ea.get(node_id, set())),
                    sorted(f"{s}.{h}->{t}" for s, h, t in eb.get(node_id, set())),
                )
            )
    return changes


def _value_html(value: Any) -> str:
    if value is _MISSING:
        return '<i style="color:#999">(none)</i>'
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > 300:
        text = text[:299] + "\u2026"
    return f'<span style="white-space:pre-wrap">{html.escape(text)}</span>'


class HistoryView(StaticFallback, widgets.VBox):
    """Past executions of ``workflow_id`` on ``backend``.

    ``editor``: where Restore loads a snapshot (anything with a ``workflow`` attribute,
    or a ``set_workflow``/``load_workflow`` method). ``on_restore(workflow, execution)``
    is called after a restore as well.
    """

    def __init__(
        self,
        backend: Any,
        workflow_id: str,
        *,
        editor: Any = None,
        page_size: int = 10,
        fetcher: MediaFetcher | None = None,
        on_restore: Callable[[Workflow, Execution], None] | None = None,
        autoload: bool = True,
    ) -> None:
        if not 1 <= page_size <= 99:
            raise ValueError("page_size must be between 1 and 99")
        self.backend = backend
        self.workflow_id = workflow_id
        self.editor = editor
        self.page_size = page_size
        self.on_restore = on_restore
        self.offset = 0
        self.has_next = False
        self.rows: list[ExecutionSummary] = []
        self.selected: Execution | None = None
        self.compared: tuple[Execution, Execution] | None = None
        self._checks: dict[str, widgets.Checkbox] = {}
        self._row_boxes: dict[str, widgets.HBox] = {}
        self._fetcher = fetcher or MediaFetcher(backend)
        self._refresh_lock = threading.RLock()

        self.refresh_button = self._button("Refresh", "refresh", "wf-app-history-refresh", self.refresh)
        self.prev_button = self._button("Newer", "arrow-left", "wf-app-history-prev", self.previous_page)
        self.next_button = self._button("Older", "arrow-right", "wf-app-history-next", self.next_page)
        self.compare_button = self._button(
            "Compare", "columns", "wf-app-history-compare", self.compare_checked
        )
        self.compare_button.disabled = True
        self.page_label = widgets.HTML()
        self.page_label.add_class("wf-app-history-page")
        self.message = widgets.HTML()
        self.message.add_class("wf-app-history-message")
        self.table = widgets.VBox()
        self.detail_info = widgets.HTML()
        self.restore_button = self._button("Restore", "undo", "wf-app-history-restore", self.restore_selected)
        self.restore_button.disabled = True
        self.detail_outputs = OutputView(fetcher=self._fetcher, labels=self._labels_of_selected)
        self.detail = widgets.VBox([self.detail_info, self.restore_button, self.detail_outputs])
        self.detail.add_class("wf-app-history-detail")
        self.diff = widgets.VBox()
        self.diff.add_class("wf-app-history-diff")
        super().__init__(
            [
                widgets.HBox(
                    [
                        self.refresh_button,
                        self.prev_button,
                        self.next_button,
                        self.page_label,
                        self.compare_button,
                    ]
                ),
                self.message,
                self.table,
                self.detail,
                self.diff,
            ]
        )
        self.add_class("wf-app-history")
        if autoload:
            self.refresh()
        else:
            self._render()

    def static_html(self) -> str:  # the picture where widgets cannot run (_static.py)
        cells = [(html.escape(r.id), status_badge(r.status), html.escape(format_started(r.started_at)),
                  html.escape("" if r.credits_used is None else f"{r.credits_used:g}")) for r in self.rows]  # fmt: skip
        table = table_html(("execution", "status", "started", "credits"), cells, "wf-static-history")
        return join_html([table, outputs_html(self.detail_outputs)])

    @staticmethod
    def _button(text: str, icon: str, css: str, action: Callable[[], Any]) -> widgets.Button:
        button = widgets.Button(description=text, icon=icon, layout=widgets.Layout(width="auto"))
        button.add_class(css)
        button.on_click(lambda _: action())
        return button

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return call_blocking(self.backend, method, *args, timeout=60, **kwargs)

    def _show_error(self, what: str, exc: BaseException) -> None:
        hint = ""
        if isinstance(exc, APIConnectionError):
            hint = " Is the server running, and is the base URL right?"
        self.message.value = (
            f'<div style="color:#c62828;white-space:pre-wrap">{html.escape(what)}: {html.escape(str(exc))}'
            f"{html.escape(hint)}</div>"
        )

    # -- the table ----------------------------------------------------------------------------
    def refresh(self) -> list[ExecutionSummary]:
        """Reload the current page (newest first); the rows shown."""
        # the app refreshes from worker threads too: one refresh at a time, in order
        with self._refresh_lock:
            return self._refresh()

    def _refresh(self) -> list[ExecutionSummary]:
        try:
            page = list(
                self._call("list_executions", self.workflow_id, limit=self.page_size + 1, offset=self.offset)
            )
        except WireflowError as exc:
            self._show_error("Could not load the history", exc)
            return self.rows
        self.message.value = ""
        self.has_next = len(page) > self.page_size
        self.rows = page[: self.page_size]
        if not self.rows and self.offset > 0:
            self.offset = max(0, self.offset - self.page_size)
            return self._refresh()
        self._render()
        return self.rows

    def next_page(self) -> None:
        if self.has_next:
            self.offset += self.page_size
            self.refresh()

    def previous_page(self) -> None:
        if self.offset > 0:
            self.offset = max(0, self.offset - self.page_size)
            self.refresh()

    def _render(self) -> None:
        checked = {eid for eid, box in self._checks.items() if box.value}
        self._checks = {}
        self._row_boxes = {}
        header = widgets.HTML(
            "<div style='display:flex;gap:8px;font-weight:bold;font-size:12px;color:#555'>"
            "<span style='width:24px'></span><span style='width:110px'>execution</span>"
            "<span style='width:90px'>status</span><span style='width:150px'>started</span>"
            "<span style='width:70px'>duration</span><span style='width:60px'>credits</span>"
            "<span>trigger</span></div>"
        )
        rows: list[widgets.Widget] = [header]
        for row in self.rows:
            rows.append(self._row(row, row.id in checked))
        if not self.rows:
            rows.append(widgets.HTML("<i>No executions yet: press Run.</i>"))
        self.table.children = tuple(rows)
        page = self.offset // self.page_size + 1
        self.page_label.value = f"page {page}"
        self.prev_button.disabled = self.offset == 0
        self.next_button.disabled = not self.has_next
        self._update_compare_button()
        if self.selected is not None and self.selected.id in self._row_boxes:
            self._row_boxes[self.selected.id].add_class("wf-app-history-row-selected")

    def _row(self, row: ExecutionSummary, checked: bool) -> widgets.HBox:
        check = widgets.Checkbox(value=checked, indent=False, layout=widgets.Layout(width="24px"))
        check.add_class("wf-app-history-check")
        check.observe(lambda _: self._update_compare_button(), names="value")
        self._checks[row.id] = check
        short = row.id if len(row.id) <= 14 else row.id[:13] + "\u2026"
        opener = widgets.Button(
            description=short, tooltip=f"show execution {row.id}", layout=widgets.Layout(width="110px")
        )
        opener.add_class("wf-app-history-open")
        opener.on_click(lambda _, eid=row.id: self.select(eid))
        status = widgets.HTML(status_badge(row.status), layout=widgets.Layout(width="90px"))
        status.add_class("wf-app-history-status")
        cells = [
            widgets.HTML(html.escape(format_started(row.started_at)), layout=widgets.Layout(width="150px")),
            widgets.HTML(
                html.escape(format_duration_ms(row.execution_time)), layout=widgets.Layout(width="70px")
            ),
            widgets.HTML(
                html.escape("" if row.credits_used is None else f"{row.credits_used:g}"),
                layout=widgets.Layout(width="60px"),
            ),
            widgets.HTML(html.escape(row.triggered_by or "")),
        ]
        box = widgets.HBox([check, opener, status, *cells], layout=widgets.Layout(align_items="center"))
        box.add_class("wf-app-history-row")
        self._row_boxes[row.id] = box
        return box

    def _update_compare_button(self) -> None:
        self.compare_button.disabled = len(self.checked_ids) != 2

    @property
    def checked_ids(self) -> list[str]:
        """Ids of the ticked rows, in table order."""
        return [eid for eid, box in self._checks.items() if box.value]

    def check(self, *execution_ids: str) -> None:
        """Tick exactly these rows (as a person would, to compare them)."""
        for eid, box in self._checks.items():
            box.value = eid in execution_ids

    # -- one execution ----------------------------------------------------------------------------
    def _labels_of_selected(self) -> dict[str, str]:
        snapshot = self.selected.workflow_snapshot if self.selected is not None else None
        return {nid: node.label for nid, node in _nodes_of(snapshot).items()}

    def select(self, execution_id: str) -> Execution | None:
        """Open an execution: its node runs, outputs and error."""
        try:
            execution = self._call("get_execution", execution_id)
        except WireflowError as exc:
            self._show_error(f"Could not load execution {execution_id}", exc)
            return None
        self.message.value = ""
        self.selected = execution
        for eid, box in self._row_boxes.items():
            if eid == execution_id:
                box.add_class("wf-app-history-row-selected")
            else:
                box.remove_class("wf-app-history-row-selected")
        labels = self._labels_of_selected()
        parts = [
            f"<b>Execution <code>{html.escape(execution.id)}</code></b> {status_badge(execution.status)}",
            f"started {html.escape(format_started(execution.started_at))}",
        ]
        if execution.execution_time is not None:
            parts.append(f"took {html.escape(format_duration_ms(execution.execution_time))}")
        if execution.credits_used is not None:
            parts.append(f"{execution.credits_used:g} credits")
        if execution.triggered_by:
            parts.append(f"triggered by {html.escape(execution.triggered_by)}")
        info = " \u00b7 ".join(parts)
        if execution.error_message:
            where = (
                f" (node <code>{html.escape(execution.error_node)}</code>)" if execution.error_node else ""
            )
            info += (
                f'<div style="color:#c62828;white-space:pre-wrap">Error{where}: '
                f"{html.escape(execution.error_message)}</div>"
            )
        if execution.trigger_data:
            info += (
                "<div>trigger data: <code>"
                + html.escape(json.dumps(execution.trigger_data, ensure_ascii=False, default=str))
                + "</code></div>"
            )
        info += render_node_runs(execution.node_runs, labels=labels)
        self.detail_info.value = info
        self.restore_button.disabled = not execution.workflow_snapshot
        self.restore_button.tooltip = (
            "load this run's workflow into the editor"
            if execution.workflow_snapshot
            else "this run kept no snapshot"
        )
        self.detail_outputs.show_node_runs(
            execution.node_runs, title="Outputs of this run", record=_record_of(execution)
        )
        return execution

    def restore_selected(self) -> Workflow | None:
        """Load the open execution's ``workflowSnapshot`` into the editor; the workflow."""
        execution = self.selected
        if execution is None or not execution.workflow_snapshot:
            self.message.value = "<i>Open a run that kept its workflow first.</i>"
            return None
        workflow = Workflow.from_dict(execution.workflow_snapshot, id=self.workflow_id)
        if self.editor is not None:
            _load_into(self.editor, workflow)
        if self.on_restore is not None:
            self.on_restore(workflow, execution)
        started = format_started(execution.started_at)
        self.message.value = (
            f"Restored the workflow of run <code>{html.escape(execution.id)}</code> ({html.escape(started)})."
        )
        return workflow

    # -- comparing two executions ---------------------------------------------------------------------
    def compare_checked(self) -> list[InputChange] | None:
        ids = self.checked_ids
        if len(ids) != 2:
            self.message.value = "<i>Tick exactly two runs to compare them.</i>"
            return None
        return self.compare(ids[1], ids[0])  # table is newest first: older on the left

    def compare(self, before_id: str, after_id: str) -> list[InputChange] | None:
        """Which inputs differed between two executions, and their outputs side by side."""
        try:
            before = self._call("get_execution", before_id)
            after = self._call("get_execution", after_id)
        except WireflowError as exc:
            self._show_error("Could not load the runs to compare", exc)
            return None
        self.compared = (before, after)
        changes = diff_inputs(before.workflow_snapshot, after.workflow_snapshot)
        if not before.workflow_snapshot or not after.workflow_snapshot:
            summary = "<i>One of the runs kept no workflow snapshot: inputs cannot be compared.</i>"
        elif not changes:
            summary = "<i>Same inputs in both runs.</i>"
        else:
            head = "<tr><th>node</th><th>input</th><th>before</th><th>after</th></tr>"
            body = "".join(
                "<tr>"
                f"<td>{html.escape(c.label)} <code>{html.escape(c.node_id)}</code></td>"
                f"<td>{html.escape(c.field or '(node)')}</td>"
                f"<td>{_value_html(c.before)}</td><td>{_value_html(c.after)}</td>"
                "</tr>"
                for c in changes
            )
            summary = f'<table class="wf-app-history-changes" style="font-size:12px">{head}{body}</table>'
        if before.trigger_data != after.trigger_data:
            summary += (
                "<div>trigger data: "
                f"{_value_html(before.trigger_data or {})} \u2192 {_value_html(after.trigger_data or {})}</div>"
            )
        title = (
            f"<b>Compare</b> <code>{html.escape(before.id)}</code> {status_badge(before.status)} \u2192 "
            f"<code>{html.escape(after.id)}</code> {status_badge(after.status)}"
        )
        sides = []
        for execution in (before, after):
            labels = {nid: node.label for nid, node in _nodes_of(execution.workflow_snapshot).items()}
            view = OutputView(fetcher=self._fetcher, labels=labels)
            view.show_node_runs(
                execution.node_runs,
                title=f"{execution.id} ({format_started(execution.started_at)})",
                record=_record_of(execution),
            )
            view.layout = widgets.Layout(width="50%")
            sides.append(view)
        self.diff.children = (widgets.HTML(title + summary), widgets.HBox(sides))
        return changes

    @property
    def compare_views(self) -> list[OutputView]:
        """The two output views of the last comparison (left: older)."""
        for child in self.diff.children:
            if isinstance(child, widgets.HBox):
                return [c for c in child.children if isinstance(c, OutputView)]
        return []

    def wait_loaded(self, timeout: float | None = 30) -> bool:
        views = [self.detail_outputs, *self.compare_views]
        return all(view.wait_loaded(timeout) for view in views)


def _record_of(execution: Any) -> Callable[[], Mapping[str, Any]] | None:
    """What the saved outputs of ``execution`` carry: its workflow snapshot and run inputs."""
    if not execution.workflow_snapshot:
        return None
    inputs = {"triggerData": execution.trigger_data or None}
    return partial(record_for, execution.workflow_snapshot, execution_id=execution.id, inputs=inputs)


def _load_into(editor: Any, workflow: Workflow) -> None:
    """Put ``workflow`` into an editor, whichever way it takes one."""
    for method in ("set_workflow", "load_workflow"):
        fn = getattr(editor, method, None)
        if callable(fn):
            fn(workflow)
            return
    if hasattr(editor, "workflow"):
        editor.workflow = workflow
        return
    raise TypeError(f"cannot load a workflow into {type(editor).__name__}: it has no `workflow` to set")


def summarize(rows: Sequence[ExecutionSummary]) -> dict[str, int]:
    """How many rows per normalized status (for tests and tooltips)."""
    counts: dict[str, int] = {}
    for row in rows:
        key = str(normalize_execution_status(row.status))
        counts[key] = counts.get(key, 0) + 1
    return counts
