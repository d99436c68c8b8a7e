"""The inspector's forms for what is not a node's input: a picked group's title and
colour, a picked note's text, a node's "Bypass" checkbox and each field's "In form" tick.

Each change goes through ``on_change(kind, item_id, changes)`` (``kind`` is ``group``,
``note`` or ``bypass``), so the editor makes it one undoable step; without a handler
the workflow is changed directly. Text fields send on blur or Enter (one undo step per
edit, not per key).

CSS classes: ``wf-group-title``, ``wf-group-color``, ``wf-group-ungroup`` (a button),
``wf-note-text``, ``wf-field-bypass``, ``wf-form-tick`` (with ``wf-form-tick-<name>``).

An "In form" tick (``Workflow.set_form_input``: what ``WorkflowApp.make_form()`` shows)
changes the workflow directly: it is saved with it but is not an undo step.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..canvas_items import GROUP_COLORS

if TYPE_CHECKING:
    from ..workflow import Workflow

#: ``on_change(kind, item_id, changes)``
CanvasHandler = Callable[[str, str, dict[str, Any]], None]

__all__ = ["CanvasHandler", "apply_change", "bypass_box", "form_tick", "group_form", "set_form_tick", "note_form"]

_STYLE = {"description_width": "110px"}


def apply_change(wf: Workflow, kind: str, item_id: str, changes: dict[str, Any]) -> None:
    """What a form's change does when no editor handles it."""
    if kind == "group" and changes.get("ungroup"):
        wf.ungroup(item_id)
    elif kind == "group":
        wf.set_group(item_id, **changes)
    elif kind == "note":
        wf.edit_note(item_id, **changes)
    elif kind == "bypass":
        wf.set_bypass(item_id, bool(changes["on"]))


def group_form(
    wf: Workflow, group_id: str, send: CanvasHandler
) -> tuple[list[widgets.Widget], dict[str, Any]]:
    """Rows of a group's form, and its fields by name (for updating in place)."""
    g = wf.get_group(group_id)
    head = widgets.HTML(
        f"<b>Group</b> <span style='color:#6b7280'>id {html.escape(g.id)}, "
        f"{len(g.nodes)} node{'s' if len(g.nodes) != 1 else ''}</span><br>"
        "<small style='color:#6b7280'>drag its title bar to move it; Ctrl+Shift+G ungroups</small>"
    )
    head.add_class("wf-inspector-title")
    title = widgets.Text(
        value=g.title,
        description="title",
        continuous_update=False,
        style=_STYLE,
        layout=widgets.Layout(width="100%"),
    )
    title.add_class("wf-group-title")
    colors = list(GROUP_COLORS) + ([g.color] if g.color not in GROUP_COLORS else [])
    color = widgets.Dropdown(options=colors, value=g.color, description="colour", style=_STYLE)
    color.add_class("wf-group-color")
    title.observe(lambda ch: send("group", group_id, {"title": ch["new"]}), names="value")
    color.observe(lambda ch: send("group", group_id, {"color": ch["new"]}), names="value")
    ungroup = widgets.Button(description="Ungroup", tooltip="Remove the frame; the nodes stay (Ctrl+Shift+G)")
    ungroup.add_class("wf-group-ungroup")
    ungroup.on_click(lambda _b: send("group", group_id, {"ungroup": True}))
    return [head, title, color, ungroup], {"title": title, "color": color}


def note_form(wf: Workflow, note_id: str, send: CanvasHandler) -> tuple[list[widgets.Widget], dict[str, Any]]:
    n = wf.note(note_id)
    head = widgets.HTML(
        f"<b>Note</b> <span style='color:#6b7280'>id {html.escape(n.id)}</span><br>"
        "<small style='color:#6b7280'>Markdown (# headings, - bullets); never run; "
        "drag its corner to resize</small>"
    )
    head.add_class("wf-inspector-title")
    text = widgets.Textarea(
        value=n.text, continuous_update=False, rows=10, layout=widgets.Layout(width="100%")
    )
    text.add_class("wf-note-text")
    text.observe(lambda ch: send("note", note_id, {"text": ch["new"]}), names="value")
    return [head, text], {"text": text}


def bypass_box(wf: Workflow, node_id: str, send: CanvasHandler) -> widgets.Checkbox:
    box = widgets.Checkbox(
        value=wf.is_bypassed(node_id),
        description="Bypass (Ctrl+B): pass its input through, do not run it",
        indent=False,
        layout=widgets.Layout(width="100%"),
    )
    box.add_class("wf-field-bypass")
    box.observe(lambda ch: send("bypass", node_id, {"on": bool(ch["new"])}), names="value")
    return box


def form_tick(wf: Workflow, node_id: str, name: str, css: str) -> widgets.Checkbox:
    """The "In form" tick of input ``name`` of ``node_id`` (CSS ``wf-form-tick-<css>``);
    the inspector observes it (``set_form_tick``)."""
    box = widgets.Checkbox(
        value=wf.in_form(node_id, name),
        description="In form",
        tooltip="Show this field in the form of Make form (FormApp)",
        indent=False,
        layout=widgets.Layout(width="auto", margin="0 0 4px 114px"),
    )
    box.add_class("wf-form-tick")
    box.add_class(f"wf-form-tick-{css}")
    return box


def set_form_tick(wf: Workflow | None, node_id: str | None, name: str, on: bool) -> None:
    """What an "In form" tick does: tick or untick the input in the workflow."""
    if wf is not None and node_id is not None and wf.has_node(node_id):
        wf.set_form_input(node_id, name, on)
