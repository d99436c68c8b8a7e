"""The minimap's geometry: where the overview sits on the canvas, when it shows, and how
its points map to the world and back.

The minimap is a small picture of the whole graph in the canvas's bottom-right corner
(screen coordinates: CSS pixels of the canvas). It shows the union of the graph's bounds
and the world rectangle in view, scaled to fit its frame and centred, so the view's
rectangle is always on it. It shows only when the graph does not fit in the view. A
point of the minimap maps to the world point under it, clamped to the region shown.

Pure (numpy): no widget library, no state; ``minimap_gestures.MinimapGestures`` uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import View

#: ``(x0, y0, x1, y1)``
Rect = tuple[float, float, float, float]

#: Size of the minimap's frame, and its distance from the canvas's edges (CSS px).
MINIMAP_WIDTH = 160.0
MINIMAP_HEIGHT = 110.0
MINIMAP_MARGIN = 10.0
#: Room inside the frame around the picture (CSS px).
MINIMAP_PAD = 6.0


def minimap_frame(width: float, height: float) -> Rect | None:
    """The minimap's rectangle on a ``width`` x ``height`` canvas (bottom-right corner);
    None when the canvas is too small to spare it (less than twice its size)."""
    if width < 2 * MINIMAP_WIDTH or height < 2 * MINIMAP_HEIGHT:
        return None
    x1, y1 = width - MINIMAP_MARGIN, height - MINIMAP_MARGIN
    return (x1 - MINIMAP_WIDTH, y1 - MINIMAP_HEIGHT, x1, y1)


def contains(outer: Rect, inner: Rect, tolerance: float = 0.5) -> bool:
    """Whether ``inner`` lies inside ``outer`` (to ``tolerance`` world units)."""
    return (
        inner[0] >= outer[0] - tolerance
        and inner[1] >= outer[1] - tolerance
        and inner[2] <= outer[2] + tolerance
        and inner[3] <= outer[3] + tolerance
    )


def needs_minimap(bounds: Rect | None, visible: Rect) -> bool:
    """True when the graph (``bounds``) is larger than the view or partly outside it."""
    return bounds is not None and not contains(visible, bounds)


def union(a: Rect, b: Rect) -> Rect:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


@dataclass(frozen=True)
class MinimapGeometry:
    """A frame on the canvas showing the world region ``world`` scaled by ``scale``."""

    frame: Rect  # screen
    world: Rect  # world units
    scale: float  # screen px per world unit
    left: float  # screen x of world x0
    top: float  # screen y of world y0

    def to_map(self, wx: float, wy: float) -> tuple[float, float]:
        """The minimap point (screen) showing the world point ``(wx, wy)``."""
        return (self.left + (wx - self.world[0]) * self.scale, self.top + (wy - self.world[1]) * self.scale)

    def to_world(self, sx: float, sy: float) -> tuple[float, float]:
        """The world point a minimap point shows, clamped to the region shown."""
        wx = self.world[0] + (sx - self.left) / self.scale
        wy = self.world[1] + (sy - self.top) / self.scale
        return (min(max(wx, self.world[0]), self.world[2]), min(max(wy, self.world[1]), self.world[3]))

    def rect_on_map(self, rect: Rect) -> Rect:
        x0, y0 = self.to_map(rect[0], rect[1])
        x1, y1 = self.to_map(rect[2], rect[3])
        return (x0, y0, x1, y1)

    def hit(self, sx: float, sy: float) -> bool:
        """Whether a screen point is on the minimap's frame."""
        x0, y0, x1, y1 = self.frame
        return x0 <= sx <= x1 and y0 <= sy <= y1


def minimap_geometry(bounds: Rect, visible: Rect, width: float, height: float) -> MinimapGeometry | None:
    """The minimap of a graph with ``bounds`` seen through ``visible`` (world rects) on a
    ``width`` x ``height`` canvas; None when the canvas has no room for one."""
    frame = minimap_frame(width, height)
    if frame is None:
        return None
    world = union(bounds, visible)
    ww, wh = max(world[2] - world[0], 1.0), max(world[3] - world[1], 1.0)
    room_w = frame[2] - frame[0] - 2 * MINIMAP_PAD
    room_h = frame[3] - frame[1] - 2 * MINIMAP_PAD
    scale = min(room_w / ww, room_h / wh)
    left = frame[0] + MINIMAP_PAD + (room_w - ww * scale) / 2
    top = frame[1] + MINIMAP_PAD + (room_h - wh * scale) / 2
    return MinimapGeometry(frame, world, scale, left, top)


def centered_on(view: View, wx: float, wy: float, width: float, height: float) -> View:
    """``view`` panned (same zoom) so that the world point ``(wx, wy)`` is at the centre
    of a ``width`` x ``height`` canvas."""
    z = view.zoom
    return View(width / 2 - wx * z, height / 2 - wy * z, z)


def covered_runs(m: MinimapGeometry, rects: np.ndarray) -> np.ndarray:
    """The minimap's pixels (1 CSS px cells of its frame) that nodes cover, as horizontal
    runs ``(k, 4)``: x, y, w, h in screen coordinates. ``rects`` is ``(n, 4)``: x, y, w,
    h of the nodes in world units. Every node covers one cell at least; the number of
    runs is bounded by the frame's size, whatever the number of nodes (so is what a
    redraw sends)."""
    fx0, fy0, fx1, fy1 = m.frame
    cols, rows = int(fx1 - fx0), int(fy1 - fy0)
    if not len(rects) or cols < 1 or rows < 1:
        return np.zeros((0, 4))
    rects = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
    x = m.left - fx0 + (rects[:, 0] - m.world[0]) * m.scale
    y = m.top - fy0 + (rects[:, 1] - m.world[1]) * m.scale
    c0 = np.clip(np.floor(x), 0, cols - 1).astype(np.intp)
    r0 = np.clip(np.floor(y), 0, rows - 1).astype(np.intp)
    c1 = np.clip(np.ceil(x + rects[:, 2] * m.scale), c0 + 1, cols).astype(np.intp)
    r1 = np.clip(np.ceil(y + rects[:, 3] * m.scale), r0 + 1, rows).astype(np.intp)
    # each node's rectangle as four corners of a difference array: summed, the coverage
    diff = np.zeros((rows + 1, cols + 1), dtype=np.int32)
    np.add.at(diff, (r0, c0), 1)
    np.add.at(diff, (r0, c1), -1)
    np.add.at(diff, (r1, c0), -1)
    np.add.at(diff, (r1, c1), 1)
    covered = diff.cumsum(axis=0).cumsum(axis=1)[:rows, :cols] > 0
    edges = np.diff(np.pad(covered, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    start_r, start_c = np.nonzero(edges == 1)
    _, end_c = np.nonzero(edges == -1)  # row-major, so each end pairs with its start
    return np.column_stack([fx0 + start_c, fy0 + start_r, end_c - start_c, np.ones(len(start_c))]).astype(
        np.float64
    )
