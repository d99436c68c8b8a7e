"""The editor's minimap and how the canvas fits its place: drawing the overview, its
toolbar switch, the row of palette, canvas and inspector, and the ``GraphEditor`` members
that read or change them.

The minimap is drawn over the ``nodes`` layer, in its bottom-right corner: that layer is
redrawn when the view or the graph changes and never while nodes are dragged (they move
on the live layers), so the minimap adds nothing to a drag's moves and needs no layer
of its own (each layer costs the browser a copy per frame). Its geometry and gesture are
``editing.minimap`` / ``editing.minimap_gestures``.

CSS class: ``wf-minimap-toggle`` (the toolbar's switch).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np

from ..editing.scene import Redraw
from ..editing.state import EditorState
from ..editing.style import BORDER, SELECTED

#: the nodes on the minimap (one colour: the map shows where they are, not what)
MINIMAP_NODE = "#94a3b8"


def draw_minimap(layer: Any, state: EditorState, ratio: float) -> None:
    """Draw the minimap (if it shows) on ``layer`` in screen coordinates."""
    m = state.minimap()
    if m is None:
        return
    layer.set_transform(ratio, 0, 0, ratio, 0, 0)
    x0, y0, x1, y1 = m.frame
    layer.fill_style = "rgba(255, 255, 255, 0.94)"
    layer.fill_rect(x0, y0, x1 - x0, y1 - y0)
    layer.line_width = 1
    layer.stroke_style = BORDER
    layer.stroke_rect(x0, y0, x1 - x0, y1 - y0)
    runs = state.minimap_nodes(m).astype(np.float32)
    if len(runs):
        layer.fill_style = MINIMAP_NODE
        layer.fill_rects(runs[:, 0], runs[:, 1], runs[:, 2], runs[:, 3])
    vx0, vy0, vx1, vy1 = m.rect_on_map(state.visible_rect())
    layer.fill_style = "rgba(37, 99, 235, 0.10)"
    layer.fill_rect(vx0, vy0, vx1 - vx0, vy1 - vy0)
    layer.line_width = 1.5
    layer.stroke_style = SELECTED
    layer.stroke_rect(vx0, vy0, vx1 - vx0, vy1 - vy0)


def minimap_toggle(on_change: Any) -> widgets.ToggleButton:
    """The toolbar's switch (pressed: the minimap shows when the graph needs one)."""
    toggle = widgets.ToggleButton(
        value=True,
        description="Map",
        tooltip="Show a minimap when the graph is larger than the view",
        layout=widgets.Layout(width="auto"),
    )
    toggle.add_class("wf-minimap-toggle")
    toggle.observe(lambda change: on_change(bool(change["new"])), names="value")
    return toggle


def editor_body(palette: widgets.Widget, canvas: widgets.Widget, inspector: widgets.Widget) -> widgets.HBox:
    """Palette and canvas side by side, the canvas's slot (``_fit_width``) taking the width
    left, which the canvas then takes; the inspector right of them when the output area has room for a 480 px canvas
    beside it, else below (the row wraps)."""
    main = widgets.HBox(
        [palette, canvas], layout=widgets.Layout(align_items="flex-start", min_width="0", flex="1 1 640px")
    )
    return widgets.HBox(
        [main, inspector],
        layout=widgets.Layout(align_items="flex-start", flex_flow="row wrap", width="100%"),
    )


class MinimapControls:
    """``GraphEditor``'s minimap and size members (mixed in; uses its state and canvas)."""

    state: EditorState
    pixel_ratio: float
    width: int
    height: int
    _drawing: Any  # its EditorCanvas (``_layers`` imports this module)
    minimap_toggle: widgets.ToggleButton

    def _do(self, flags: Redraw) -> None:  # GraphEditor's
        raise NotImplementedError

    def redraw(self) -> None:  # GraphEditor's
        raise NotImplementedError

    @property
    def minimap_enabled(self) -> bool:
        """The toolbar's switch: False hides the minimap (settable)."""
        return self.state.minimap_enabled

    @minimap_enabled.setter
    def minimap_enabled(self, value: bool) -> None:
        self.minimap_toggle.value = bool(value)  # the toggle's observer applies it

    def toggle_minimap(self) -> None:
        self.minimap_enabled = not self.minimap_enabled

    def _minimap_switched(self, enabled: bool) -> None:
        self._do(self.state.set_minimap(enabled))

    @property
    def minimap_visible(self) -> bool:
        """Whether the minimap shows now (switched on and the graph larger than the view)."""
        self.state.sync()
        return self.state.minimap() is not None

    @property
    def minimap_rect(self) -> tuple[float, float, float, float] | None:
        """``(x, y, w, h)`` of the minimap in event coordinates (canvas buffer pixels),
        or None when it does not show."""
        self.state.sync()
        m = self.state.minimap()
        if m is None:
            return None
        pr = self.pixel_ratio
        x0, y0, x1, y1 = m.frame
        return (x0 * pr, y0 * pr, (x1 - x0) * pr, (y1 - y0) * pr)

    def minimap_point(self, wx: float, wy: float) -> tuple[float, float]:
        """The event-coordinate point of the minimap that shows the world point ``(wx, wy)``."""
        self.state.sync()
        m = self.state.minimap()
        if m is None:
            raise ValueError("the minimap does not show (graph in view, or switched off)")
        sx, sy = m.to_map(wx, wy)
        return (sx * self.pixel_ratio, sy * self.pixel_ratio)

    def resize(self, width: int, height: int | None = None) -> None:
        """Size the canvas to ``width`` x ``height`` CSS pixels (height kept by default):
        its buffer becomes that size times ``pixel_ratio``, so drawing stays sharp when
        the output area shows it at that size; the view keeps its pan and zoom."""
        w, h = int(width), int(height if height is not None else self.height)
        if w < 1 or h < 1:
            raise ValueError(f"canvas size must be positive, not {w} x {h}")
        self.width, self.height = w, h
        self.state.width, self.state.height = float(w), float(h)
        self._drawing.resize(w, h)
        self.redraw()
