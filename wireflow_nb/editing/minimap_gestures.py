"""The minimap in the editor's model: whether it shows, its geometry for the current
graph and view, the press or drag on it that moves the view, and bringing new nodes into
view.

``MinimapGestures(Gestures)`` comes before the other gestures: a press on the minimap's
frame is its own, any other press goes on to ``Gestures``. While no minimap drag is in
progress, a move or release costs one attribute test more, so the other gestures' mouse
path does no new work. Imports ``editing`` modules only; never a widget library.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .geometry import View
from .gestures import Gestures
from .minimap import (
    MinimapGeometry,
    Rect,
    centered_on,
    covered_runs,
    minimap_frame,
    minimap_geometry,
    needs_minimap,
)
from .scene import Redraw

#: What moving the view redraws (as a pan does), the minimap's view box included.
VIEW_MOVED = Redraw.GRID | Redraw.STATIC | Redraw.LIVE | Redraw.VIEW


@dataclass
class MinimapDrag:
    #: the minimap as it was at the press: kept for the drag, so the picture does not
    #: rescale under the pointer as the view moves
    geometry: MinimapGeometry
    start_view: View


class MinimapGestures(Gestures):
    """The minimap's switch, geometry and gesture (see the module docstring)."""

    #: the toolbar's switch: False hides the minimap whatever the graph
    minimap_enabled: bool = True
    minimap_drag: MinimapDrag | None = None
    #: (the boxes dict it was read from, node rects (n, 4), their bounds): ``sync``
    #: replaces the dict when the graph changes, so a pan reuses the arrays
    _minimap_nodes: tuple[Any, np.ndarray, Rect | None] | None = None
    _minimap_runs: tuple[MinimapGeometry, np.ndarray, np.ndarray] | None = None

    def _node_rects(self) -> tuple[np.ndarray, Rect | None]:
        cached = self._minimap_nodes
        if cached is not None and cached[0] is self.boxes and not self.moving:
            return cached[1], cached[2]
        rects = np.array([(b.x, b.y, b.w, b.h) for b in self.boxes.values()], dtype=np.float64).reshape(-1, 4)
        bounds: Rect | None = None
        if len(rects):
            bounds = (
                float(rects[:, 0].min()),
                float(rects[:, 1].min()),
                float((rects[:, 0] + rects[:, 2]).max()),
                float((rects[:, 1] + rects[:, 3]).max()),
            )
        if not self.moving:  # dragged boxes move in place: not worth keeping
            self._minimap_nodes = (self.boxes, rects, bounds)
        return rects, bounds

    def minimap_nodes(self, m: MinimapGeometry) -> np.ndarray:
        """The map's pixels that nodes cover, as runs (``minimap.covered_runs``)."""
        rects = self._node_rects()[0]
        cached = self._minimap_runs
        if cached is not None and cached[0] == m and cached[1] is rects:
            return cached[2]  # a pan within the graph: the same picture
        runs = covered_runs(m, rects)
        self._minimap_runs = (m, rects, runs)
        return runs

    def minimap(self) -> MinimapGeometry | None:
        """The minimap to draw now: None when switched off, when the graph fits in the
        view, or when the canvas has no room for it."""
        if self.minimap_drag is not None:
            return self.minimap_drag.geometry
        if not self.minimap_enabled:
            return None
        bounds, visible = self._node_rects()[1], self.visible_rect()
        if bounds is None or not needs_minimap(bounds, visible):
            return None
        return minimap_geometry(bounds, visible, self.width, self.height)

    def set_minimap(self, enabled: bool) -> Redraw:
        if bool(enabled) == self.minimap_enabled:
            return Redraw.NONE
        self.minimap_enabled = bool(enabled)
        return Redraw.NODES  # the minimap is drawn over the nodes layer

    def reveal(self, ids: Iterable[str]) -> Redraw:
        """Pan (zoom kept when they fit) so that the nodes ``ids`` are in view."""
        bounds = self.bounds(list(ids))
        if bounds is None or not self.view.reveal(bounds, self.width, self.height):
            return Redraw.NONE
        return Redraw.SCENE | Redraw.VIEW

    # -- the gesture ----------------------------------------------------------------------------
    def pointer_down(self, sx: float, sy: float) -> Redraw:
        flags = Redraw.NONE
        if self.minimap_drag is not None:  # a press without a release
            flags |= self.pointer_up(sx, sy)
        if self.gesture is None and self.sync():
            flags |= Redraw.SCENE
        # the frame's test first: a press elsewhere does not measure the graph
        frame = minimap_frame(self.width, self.height)
        on_frame = frame is not None and frame[0] <= sx <= frame[2] and frame[1] <= sy <= frame[3]
        m = self.minimap() if on_frame and self.minimap_enabled else None
        if m is None or not m.hit(sx, sy):
            return flags | super().pointer_down(sx, sy)
        if self.gesture is not None:
            flags |= super().pointer_up(sx, sy)
        self.pointer = (sx, sy)
        self.minimap_drag = MinimapDrag(m, self.view.copy())
        return flags | self._center_on_map(sx, sy)

    def pointer_move(self, sx: float, sy: float) -> Redraw:
        if self.minimap_drag is None:
            return super().pointer_move(sx, sy)
        self.pointer = (sx, sy)
        return self._center_on_map(sx, sy)

    def pointer_up(self, sx: float, sy: float) -> Redraw:
        if self.minimap_drag is None:
            return super().pointer_up(sx, sy)
        self.pointer = (sx, sy)
        flags = self._center_on_map(sx, sy)
        self.minimap_drag = None
        # the minimap may rescale (or hide) now that the drag no longer holds it
        return flags | Redraw.NODES

    def pointer_out(self, sx: float, sy: float) -> Redraw:
        if self.minimap_drag is None:
            return super().pointer_out(sx, sy)
        return self.pointer_up(sx, sy)

    def cancel(self) -> Redraw:
        drag = self.minimap_drag
        if drag is None:
            return super().cancel()
        self.minimap_drag = None
        self.view = drag.start_view
        return Redraw.SCENE | Redraw.VIEW

    def _center_on_map(self, sx: float, sy: float) -> Redraw:
        drag = self.minimap_drag
        assert drag is not None
        wx, wy = drag.geometry.to_world(sx, sy)
        new = centered_on(self.view, wx, wy, self.width, self.height)
        if (new.x, new.y) == (self.view.x, self.view.y):
            return Redraw.NONE
        self.view = new
        return VIEW_MOVED
