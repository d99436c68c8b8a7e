"""``EditorToolbar``: the editor's buttons (undo, redo, delete, fit, zoom, layout, mode,
snap, group, note, bypass, save, load), followed by whatever widgets the editor adds (its zoom label and file
name field).

CSS classes: ``wf-toolbar`` (the bar) and ``wf-btn-<name>`` for each button of
``BUTTONS`` (``wf-btn-undo``, ``wf-btn-zoom-in``, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets

#: Name, label and tooltip of each button, in order (a tooltip names the button's key).
BUTTONS = (
    ("undo", "Undo", "Undo (Ctrl+Z)"),
    ("redo", "Redo", "Redo (Ctrl+Shift+Z / Ctrl+Y)"),
    ("delete", "Delete", "Delete the selection (Delete)"),
    ("fit", "Fit", "Fit the graph in view (F)"),
    ("zoom-out", "\u2212", "Zoom out (-)"),
    ("zoom-in", "+", "Zoom in (+)"),
    ("layout", "Layout", "Arrange the nodes left to right (Shift+L)"),
    ("mode", "Mode: Select", "Drag on empty space selects (V) or pans (H)"),
    ("snap", "Snap: off", "Snap to the grid while dragging (S)"),
    ("group", "Group", "Group the selected nodes (Ctrl+G; Ctrl+Shift+G ungroups)"),
    ("note", "Note", "Add a Markdown note (never run)"),
    ("bypass", "Bypass", "Bypass the selected nodes: pass their input through (Ctrl+B)"),
    ("save", "Save", "Save to the file named on the right"),
    ("load", "Load", "Load the file named on the right"),
    ("templates", "New from template", "Start from a template, one of your blueprints or a saved workflow"),
)


def _button(name: str, description: str, tooltip: str, width: str = "auto") -> widgets.Button:
    b = widgets.Button(description=description, tooltip=tooltip, layout=widgets.Layout(width=width))
    b.add_class(f"wf-btn-{name}")
    return b


#: the ``GraphEditor`` method each button calls (with no argument)
ACTIONS = {
    "undo": "undo",
    "redo": "redo",
    "delete": "delete_selection",
    "fit": "fit",
    "zoom-out": "zoom_out",
    "zoom-in": "zoom_in",
    "layout": "auto_layout",
    "mode": "toggle_mode",
    "snap": "toggle_snap",
    "group": "group_selection",
    "note": "add_note",
    "bypass": "toggle_bypass",
    "save": "_save_clicked",
    "load": "_load_clicked",
    "templates": "show_templates",
}


def editor_actions(editor: Any) -> dict[str, Callable[[], Any]]:
    """Each button's action: the bound method of ``editor`` that ``ACTIONS`` names."""
    return {name: getattr(editor, method) for name, method in ACTIONS.items()}


class EditorToolbar(widgets.HBox):
    """One button per ``BUTTONS`` entry; a click runs ``guard(actions[name])``."""

    def __init__(
        self,
        actions: Mapping[str, Callable[[], Any]],
        *,
        guard: Callable[[Callable[[], Any]], None],
        after: Sequence[widgets.Widget] = (),
    ) -> None:
        self.buttons: dict[str, widgets.Button] = {}
        for name, desc, tip in BUTTONS:
            b = _button(name, desc, tip)
            b.on_click(lambda _b, action=actions[name]: guard(action))
            self.buttons[name] = b
        super().__init__([*self.buttons.values(), *after])
        self.layout.flex_flow = "row wrap"
        self.add_class("wf-toolbar")
