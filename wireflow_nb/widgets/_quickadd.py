"""The quick-add box of the ``GraphEditor``, over its canvas at the pointer.

``QuickAddBox`` shows an ``EditorState.quick_add`` menu (``editing/quickadd.py``): a
search field, the listed types (a pool of ``MAX_CHOICES`` buttons, the highlighted one
``primary``) and a hint. ``stage`` is a one-cell CSS grid holding the canvas and the box,
so the box lies over the canvas; its margins, in percent of the canvas's width (what CSS
resolves vertical margins against too), put it at the pointer whatever size the canvas
is shown at, kept inside the canvas by CSS ``min``/``max``.

Keys: the canvas keeps the keyboard focus (a press focuses it, and ipywidgets' ``Text``
reports no arrow or Escape keys to Python), so what the user types right away reaches
the state through the canvas's key events and shows in the field; arrows, Enter and
Escape work the same way. A click into the field types there instead (filtered as typed,
Enter adds); a click on a type adds it.

CSS classes: ``wf-quickadd`` (the box), ``wf-quickadd-search`` (its text field),
``wf-quickadd-option`` (each listed type; the highlighted one also
``wf-quickadd-active``), ``wf-quickadd-hint``. Imports ipywidgets and ``editing``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..editing.quickadd import MAX_CHOICES, QuickAddMenu
from ..editing.scene import Redraw
from ..editing.state import EditorState

#: CSS px of the box: its width, and the heights of its field, of a listed type and of
#: the hint (to keep the whole box inside the canvas).
BOX_WIDTH = 260
_FIELD_H, _ROW_H, _HINT_H, _PAD = 34, 30, 22, 10


class QuickAddBox:
    """The box of one editor; ``stage`` replaces the canvas in the editor's layout."""

    def __init__(
        self,
        canvas: widgets.DOMWidget,
        state: EditorState,
        do: Callable[[Redraw], Any],
        *,
        guard: Callable[[Callable[[], Any]], Any],
    ) -> None:
        """``do(flags)`` draws what a change of ``state`` needs; ``guard(action)`` runs a
        click's action (an error goes to the status line, not the output area)."""
        self._state = state

        def on_query(change: dict[str, Any]) -> None:
            if not self._showing:  # not our own value echoed back
                do(state.quick_add_query(str(change["new"])))

        def on_pick(index: int | None) -> None:
            guard(lambda: do(state.quick_add_pick(index)))

        def on_submit(_w: Any, content: dict[str, Any], _b: Any) -> None:
            # Enter in the field: its front end sends "submit" (``on_submit`` is deprecated)
            if content.get("event") == "submit":
                on_pick(None)

        self.search = widgets.Text(
            placeholder="type to search node types",
            continuous_update=True,
            layout=widgets.Layout(width="100%", flex="0 0 auto"),
        )
        self.search.add_class("wf-quickadd-search")
        self._showing = False
        self.search.observe(on_query, names="value")
        self.search.on_msg(on_submit)
        self.options = [
            widgets.Button(layout=widgets.Layout(width="100%", flex="0 0 auto", display="none"))
            for _ in range(MAX_CHOICES)
        ]
        for i, button in enumerate(self.options):
            button.add_class("wf-quickadd-option")
            button.on_click(lambda _b, i=i: on_pick(i))
        self.hint = widgets.HTML(layout=widgets.Layout(flex="0 0 auto"))
        self.hint.add_class("wf-quickadd-hint")
        self.box = widgets.VBox(
            [self.search, *self.options, self.hint],
            layout=widgets.Layout(
                display="none",
                width=f"{BOX_WIDTH}px",
                grid_area="1 / 1",
                padding="4px",
                border="1px solid #94a3b8",
                overflow="hidden",
            ),
        )
        self.box.add_class("wf-quickadd")
        # the canvas and the box in one grid cell: the box (later) lies over the canvas;
        # the canvas shrinks with the cell when the output area is narrower (its max width
        # is _layers.css_max_width: min(its size, 100%))
        canvas.layout.grid_area = "1 / 1"
        self.stage = widgets.GridBox(
            [canvas, self.box],
            layout=widgets.Layout(
                grid_template_columns="minmax(0, max-content)",
                justify_items="flex-start",
                align_items="flex-start",
                min_width="0",
                flex="0 1 auto",
            ),
        )

    @property
    def size(self) -> tuple[float, float]:
        """The canvas's CSS size (it changes when the canvas takes its slot's width)."""
        return (self._state.width, self._state.height)

    def show(self, menu: QuickAddMenu | None) -> None:
        """Draw ``menu`` (None hides the box)."""
        if menu is None:
            self.box.layout.display = "none"
            return
        shown = menu.shown
        self._showing = True  # the field's observer must not echo our own value back
        try:
            if self.search.value != menu.query:
                self.search.value = menu.query
        finally:
            self._showing = False
        for i, button in enumerate(self.options):
            if i >= len(shown):
                button.layout.display = "none"
                continue
            c = shown[i]
            button.description = f"{c.label}  \u00b7  {c.category}"
            button.tooltip = c.node_type + (f" (connects {c.port})" if c.port else "")
            button.button_style = "primary" if i == menu.index else ""
            if i == menu.index:
                button.add_class("wf-quickadd-active")
            else:
                button.remove_class("wf-quickadd-active")
            button.layout.display = "flex"
        hint = menu.hint()
        self.hint.value = f"<i style='color:#6b7280;font-size:11px'>{hint}</i>" if hint else ""
        if self.box.layout.display == "none":  # placed when it opens; typing keeps it still
            self._place(menu)
            self.box.layout.display = "flex"

    def _place(self, menu: QuickAddMenu) -> None:
        rows = min(len(menu.found), MAX_CHOICES)
        height = _FIELD_H + rows * _ROW_H + _HINT_H + _PAD
        x, y = menu.at
        w, h = self.size
        # percent margins are of the cell's width, the top one too, so they follow the
        # canvas when CSS shrinks it; min/max keep the box inside it (at any size)
        left = f"max(0px, min({100 * x / w:.3f}%, calc(100% - {BOX_WIDTH}px)))"
        top = f"max(0px, min({100 * y / w:.3f}%, calc({100 * h / w:.3f}% - {height}px)))"
        self.box.layout.margin = f"{top} 0 0 {left}"
