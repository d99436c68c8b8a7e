"""``NodeInspector``: the form of the selected node, generated from its catalog entry.

Text areas for multiline prompts, bounded number fields (a slider when the input has a
``step``: ``wf.Range``; ``_fields.field_widget``), dropdowns for choices,
checkboxes; an input fed by an edge shows where from (``from node-1.text``) instead of a
field. Node types the catalog does not know (hosted workflows) get their ``data`` as raw
JSON, editable. Every edit goes through ``on_edit(node_id, key, mutate)`` so the editor
makes it one undoable step; alone, the inspector writes to the workflow directly.

CSS classes: ``wf-inspector`` (the panel), ``wf-inspector-title``, ``wf-field-<name>``
(the field of input ``name``; ``wf-field-label`` edits the node's label),
``wf-fed-<name>`` (an input fed by an edge), ``wf-field-json`` (raw JSON of ``data``),
``wf-inspector-error``; ``wf-form-tick-<name>`` (the field's "In form" tick,
``_item_forms.form_tick``).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..models import Edge, Node, port_name
from ._fields import UNSET, display_value, field_widget, json_text, parse_field
from ._item_forms import (
    CanvasHandler,
    apply_change,
    bypass_box,
    form_tick,
    group_form,
    note_form,
    set_form_tick,
)

if TYPE_CHECKING:
    from ..catalog import Catalog, InputSpec
    from ..workflow import Workflow

#: ``on_edit(node_id, key, mutate)``: apply ``mutate(node)`` as one undoable edit.
EditHandler = Callable[[str, str, Callable[[Node], None]], None]


def css_name(name: str) -> str:
    """A name made safe for a CSS class (``model:fal:x`` -> ``model-fal-x``)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", name)


class NodeInspector(widgets.VBox):
    """The form of one selected node (or a summary of a multiple selection or an edge)."""

    children: Any  # the VBox trait (annotated for mypy only)

    def __init__(
        self,
        catalog: Catalog | None = None,
        *,
        on_edit: EditHandler | None = None,
        on_canvas: CanvasHandler | None = None,
    ) -> None:
        super().__init__()
        self.add_class("wf-inspector")
        self.layout.width = "300px"
        self.layout.min_width = "300px"
        self.layout.flex = "0 0 300px"
        self.layout.padding = "0 6px"
        self.layout.overflow = "auto"
        self.catalog = catalog
        self.on_edit = on_edit
        self.on_canvas = on_canvas
        #: the picked group or note, ``("group", id)`` / ``("note", id)``: its form is shown
        self.picked: tuple[str, str] | None = None
        self.workflow: Workflow | None = None
        self.node_id: str | None = None
        self.edge: Edge | None = None
        self.count = 0
        self.fields: dict[str, widgets.Widget] = {}
        #: the "In form" tick of each field shown (``wf-form-tick``)
        self.ticks: dict[str, widgets.Checkbox] = {}
        self._signature: tuple[Any, ...] = ()
        self._guard = False
        self._error = widgets.HTML()
        self._error.add_class("wf-inspector-error")
        self._note = widgets.HTML()
        self._note.add_class("wf-inspector-note")
        self._render_empty("Select a node to edit its inputs.")

    # -- what to show ----------------------------------------------------------------------
    def show(
        self,
        workflow: Workflow | None,
        node_ids: list[str],
        edge: Edge | None = None,
        picked: tuple[str, str] | None = None,
    ) -> None:
        self.workflow = workflow
        self.picked = picked
        self.node_id = node_ids[0] if len(node_ids) == 1 else None
        self.edge = edge if not node_ids else None
        self.count = len(node_ids)
        self._signature = ()
        self.refresh()

    def refresh(self) -> None:
        """Show the workflow's current values; rebuild only if the form's shape changed,
        so a field being typed in keeps its focus."""
        wf = self.workflow
        if wf is None:
            self._render_empty("Select a node to edit its inputs.")
            return
        if self.picked is not None and self._show_picked(wf, *self.picked):
            return
        if self.node_id is None or not wf.has_node(self.node_id):
            if self.count > 1:
                self._render_empty(
                    f"{self.count} nodes selected. Delete removes them; Ctrl+C / Ctrl+D copy them."
                )
            elif self.edge is not None and any(e is self.edge for e in wf.edges):
                e = self.edge
                self._render_empty(
                    f"Edge from <b>{html.escape(e.source)}</b>.{html.escape(str(e.source_port))} "
                    f"to <b>{html.escape(e.target)}</b>.{html.escape(str(e.target_port))}. "
                    "Press Delete to remove it.",
                    raw=True,
                )
            else:
                self.node_id = None
                self._render_empty("Select a node to edit its inputs.")
            return
        node = wf.node(self.node_id)
        signature = self._shape(node)
        if signature != self._signature:
            self._build(node)
            self._signature = signature
        else:
            self._update_values(node)

    def _show_picked(self, wf: Workflow, kind: str, item_id: str) -> bool:
        """The form of the picked group or note (False when it is gone)."""
        exists = any(x.id == item_id for x in (wf.groups if kind == "group" else wf.notes))
        if not exists:
            return False
        signature = ("item", kind, item_id)
        if signature != self._signature:
            rows, self.fields = (group_form if kind == "group" else note_form)(wf, item_id, self._send_item)
            self._signature = signature
            self.children = rows
            return True
        item: Any = wf.get_group(item_id) if kind == "group" else wf.note(item_id)
        self._guard = True
        try:
            for name, w in self.fields.items():
                if w.value != getattr(item, name):
                    w.value = getattr(item, name)
        finally:
            self._guard = False
        return True

    def _send_item(self, kind: str, item_id: str, changes: dict[str, Any]) -> None:
        if self._guard or self.workflow is None:
            return
        if self.on_canvas is not None:
            self.on_canvas(kind, item_id, changes)
        else:
            apply_change(self.workflow, kind, item_id, changes)

    # -- building ------------------------------------------------------------------------------
    def _render_empty(self, text: str, *, raw: bool = False) -> None:
        value = text if raw else html.escape(text)
        self.fields = {}
        self._signature = ()
        self._note.value = value  # sends nothing when unchanged
        if tuple(self.children) != (self._note,):
            self.children = [self._note]

    def _spec_fields(self, node: Node) -> list[InputSpec]:
        spec = self.catalog.get(node.node_type) if self.catalog is not None else None
        if spec is None:
            return []
        fields = list(spec.inputs)
        known = {s.name for s in fields}
        fields += [p for p in spec.input_ports(node) if p.name not in known]
        return fields

    def _feeders(self, node: Node) -> dict[str, list[str]]:
        assert self.workflow is not None
        out: dict[str, list[str]] = {}
        for e in self.workflow.edges_into(node.id):
            out.setdefault(e.target_port or "", []).append(f"{e.source}.{e.source_port}")
        return out

    def _shape(self, node: Node) -> tuple[Any, ...]:
        fields = self._spec_fields(node)
        feeders = self._feeders(node)
        return (
            node.id,
            node.node_type,
            tuple((f.name, f.type) for f in fields),
            tuple(sorted((k, tuple(v)) for k, v in feeders.items())),
        )

    def _build(self, node: Node) -> None:
        self.fields, self.ticks = {}, {}
        spec = self.catalog.get(node.node_type) if self.catalog is not None else None
        title = widgets.HTML(
            f"<b>{html.escape(node.label)}</b><br><code>{html.escape(node.node_type)}</code> "
            f"<span style='color:#6b7280'>id {html.escape(node.id)}</span>"
            + (
                ""
                if spec is not None
                else "<br><span style='color:#b45309'>not in the catalog: shown and saved as it is; "
                "edit its data as JSON</span>"
            )
        )
        title.add_class("wf-inspector-title")
        rows: list[widgets.Widget] = [title]
        label = widgets.Text(
            value=node.label,
            description="label",
            continuous_update=True,
            style={"description_width": "110px"},
            layout=widgets.Layout(width="100%"),
        )
        label.add_class("wf-field-label")
        label.observe(lambda ch: self._write_label(ch["new"]), names="value")
        self.fields["label"] = label
        rows.append(label)
        if self.workflow is not None:
            bypass = bypass_box(self.workflow, node.id, self._send_item)
            self.fields["__bypass__"] = bypass
            rows.append(bypass)
        feeders = self._feeders(node)
        values = node.inputs
        for f in self._spec_fields(node):
            if f.name in feeders:
                fed = widgets.HTML(
                    f"<span style='color:#374151'>{html.escape(f.name)}</span>: "
                    f"<span style='color:#2563eb'>from {html.escape(', '.join(feeders[f.name]))}</span>"
                )
                fed.add_class(f"wf-fed-{css_name(f.name)}")
                rows.append(fed)
                continue
            widget = self._field(f, values.get(f.name, f.default))
            widget.add_class(f"wf-field-{css_name(f.name)}")
            self.fields[f.name] = widget
            rows.append(widget)
            if self.workflow is not None:
                tick = self.ticks[f.name] = form_tick(self.workflow, node.id, f.name, css_name(f.name))
                tick.observe(lambda ch, n=f.name: set_form_tick(self.workflow, self.node_id, n, ch["new"]), "value")
                rows.append(tick)
            if f.help:
                hint = widgets.HTML(f"<small style='color:#6b7280'>{html.escape(f.help)}</small>")
                rows.append(hint)
        if spec is None:
            # hosted types: the whole of data as JSON; ports fed by edges listed above it
            for name, sources in feeders.items():
                fed = widgets.HTML(
                    f"{html.escape(name)}: <span style='color:#2563eb'>from {html.escape(', '.join(sources))}</span>"
                )
                fed.add_class(f"wf-fed-{css_name(name)}")
                rows.append(fed)
            raw = self._json_area(node)
            self.fields["__json__"] = raw
            rows.append(raw)
        else:
            raw = self._json_area(node)
            self.fields["__json__"] = raw
            box = widgets.Accordion(children=[raw])
            box.set_title(0, "data as JSON")
            box.selected_index = None
            rows.append(box)
        self._error.value = ""
        rows.append(self._error)
        self.children = rows

    def _json_area(self, node: Node) -> widgets.Textarea:
        area = widgets.Textarea(value=json_text(node.data), continuous_update=False, rows=12)
        area.layout.width = "100%"
        area.add_class("wf-field-json")
        area.observe(lambda ch: self._write_json(ch["new"]), names="value")
        return area

    def _field(self, f: InputSpec, value: Any) -> widgets.Widget:
        w = field_widget(f, value)
        w.observe(lambda ch, f=f: self._write_field(f, ch["new"]), names="value")
        return w

    def _update_values(self, node: Node) -> None:
        self._guard = True
        try:
            values = node.inputs
            for name, w in self.fields.items():
                if name == "label":
                    new: Any = node.label
                elif name == "__bypass__":
                    new = self.workflow is not None and self.workflow.is_bypassed(node.id)
                elif name == "__json__":
                    new = json_text(node.data)
                else:
                    spec_field = next((f for f in self._spec_fields(node) if f.name == name), None)
                    raw = values.get(name, spec_field.default if spec_field else None)
                    new = self._display(w, spec_field, raw)
                if new is not None and getattr(w, "value", None) != new:
                    try:
                        w.value = new  # type: ignore[attr-defined]
                    except Exception:  # a value the widget refuses (out of its options)
                        pass
            for name, tick in self.ticks.items():
                tick.value = self.workflow is not None and self.workflow.in_form(node.id, name)
        finally:
            self._guard = False

    _display = staticmethod(display_value)

    # -- writing -----------------------------------------------------------------------------
    def _apply(self, key: str, mutate: Callable[[Node], None]) -> None:
        if self._guard or self.workflow is None or self.node_id is None:
            return
        if self.on_edit is not None:
            self.on_edit(self.node_id, key, mutate)
        else:
            mutate(self.workflow.node(self.node_id))
            self.workflow.touch("set_input")

    def _write_label(self, value: str) -> None:
        def mutate(node: Node) -> None:
            node.data["label"] = value

        self._apply("label", mutate)

    def _write_field(self, f: InputSpec, value: Any) -> None:
        if self._guard:
            return
        self._error.value = ""
        try:
            value = parse_field(f, value)
        except ValueError as exc:
            self._error.value = f"<span style='color:#c62828'>{html.escape(str(exc))}</span>"
            return
        if value is UNSET:
            self._apply(f.name, lambda node: node.remove_input(f.name))
            return

        def mutate(node: Node, value: Any = value) -> None:
            node.set_input(f.name, value)

        self._apply(f.name, mutate)

    def _write_json(self, text: str) -> None:
        if self._guard:
            return
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            self._error.value = (
                f"<span style='color:#c62828'>not valid JSON (line {exc.lineno}, column {exc.colno}): "
                f"{html.escape(exc.msg)}; nothing was changed</span>"
            )
            return
        if not isinstance(data, dict):
            self._error.value = (
                "<span style='color:#c62828'>data must be a JSON object; nothing was changed</span>"
            )
            return
        self._error.value = ""

        def mutate(node: Node) -> None:
            node.data.clear()
            node.data.update(data)

        self._apply("__json__", mutate)


__all__ = ["NodeInspector", "css_name", "port_name"]
