"""Editor geometry, in world units (CSS px at zoom 1): node boxes and their ports, the
view transform (pan/zoom, React Flow's ``{x, y, zoom}``), edge curves and what a hit
test answers.

Owns the sizes every picture of a graph shares (the canvas editor and the SVG repr):
node width, header and row heights, port radius, grid, zoom limits. Which ports a node
has comes from ``catalog.node_ports``; this module only places them.

Imports numpy, ``models`` and ``catalog`` (ports); never a widget library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..catalog import Port, node_ports
from ..models import Edge, Node, port_name

if TYPE_CHECKING:
    from ..catalog import Catalog

# -- geometry (world units) ----------------------------------------------------------
NODE_WIDTH = 220.0
HEADER_HEIGHT = 42.0
ROW_HEIGHT = 22.0
BODY_PAD = 8.0
PORT_RADIUS = 5.5
THUMB_HEIGHT = 124.0
GRID = 20.0
#: Pixels (screen) a pointer must travel before a press becomes a drag.
DRAG_THRESHOLD = 3.0
#: Pixels (screen) around a port that still hit it.
PORT_HIT = 10.0
#: Pixels (screen) around an edge that still hit it.
EDGE_HIT = 6.0
MIN_ZOOM = 0.1
MAX_ZOOM = 4.0
ZOOM_STEP = 1.2
BEZIER_SEGMENTS = 24
#: World units an edge's curve reaches sideways from its ends, at the least.
CURVE_MIN_REACH = 40.0


# -- nodes and ports -------------------------------------------------------------------
@dataclass
class NodeBox:
    """A node as drawn: its rectangle (world units) and its ports."""

    id: str
    x: float
    y: float
    w: float
    h: float
    label: str
    node_type: str
    category: str
    known: bool
    inputs: list[Port] = field(default_factory=list)
    outputs: list[Port] = field(default_factory=list)
    #: required inputs with neither a value nor an edge
    missing: frozenset[str] = frozenset()
    #: inputs fed by an edge
    fed: frozenset[str] = frozenset()
    thumb: bool = False
    _index: dict[str, dict[str, int]] = field(default_factory=dict, repr=False, compare=False)

    def port_y(self, index: int) -> float:
        return self.y + HEADER_HEIGHT + BODY_PAD + ROW_HEIGHT * (index + 0.5)

    def input_point(self, index: int) -> tuple[float, float]:
        return (self.x, self.port_y(index))

    def output_point(self, index: int) -> tuple[float, float]:
        return (self.x + self.w, self.port_y(index))

    def find_port(self, side: str, name: str | None) -> int | None:
        ports = self.inputs if side == "in" else self.outputs
        if name is None:
            return 0 if ports else None
        index = self._index.get(side)
        if index is None or len(index) != len(ports):
            index = {}
            for i, port in enumerate(ports):
                index.setdefault(port.name, i)
            self._index[side] = index
        return index.get(port_name(name) or "")

    def port_point(self, side: str, name: str | None) -> tuple[float, float]:
        """Where an edge attaches: the port, or the middle of the side without one."""
        index = self.find_port(side, name)
        if index is None:
            return (self.x if side == "in" else self.x + self.w, self.y + HEADER_HEIGHT / 2)
        return self.input_point(index) if side == "in" else self.output_point(index)

    def contains(self, wx: float, wy: float) -> bool:
        return self.x <= wx <= self.x + self.w and self.y <= wy <= self.y + self.h

    @property
    def ports_bottom(self) -> float:
        rows = max(1, len(self.inputs), len(self.outputs))
        return self.y + HEADER_HEIGHT + BODY_PAD + ROW_HEIGHT * rows


def node_height(rows: int, thumb: bool) -> float:
    h = HEADER_HEIGHT + BODY_PAD + ROW_HEIGHT * max(1, rows) + BODY_PAD
    return h + (THUMB_HEIGHT + BODY_PAD if thumb else 0.0)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def build_box(
    node: Node,
    catalog: Catalog | None,
    edges_in: Sequence[Edge],
    edges_out: Sequence[Edge],
    *,
    thumb: bool = False,
) -> NodeBox:
    spec = catalog.get(node.node_type) if catalog is not None else None
    inputs, outputs = node_ports(node, spec, edges_in, edges_out)
    fed = frozenset(p for p in (e.target_port for e in edges_in) if p)
    values = node.inputs
    missing = frozenset(
        p.name for p in inputs if p.required and p.name not in fed and _empty(values.get(p.name))
    )
    pos = node.position
    return NodeBox(
        id=node.id,
        x=float(pos.x),
        y=float(pos.y),
        w=NODE_WIDTH,
        h=node_height(max(len(inputs), len(outputs)), thumb),
        label=node.label,
        node_type=node.node_type,
        category=(spec.category if spec else node.category) or "",
        known=spec is not None,
        inputs=inputs,
        outputs=outputs,
        missing=missing,
        fed=fed,
        thumb=thumb,
    )


def thumb_rect(b: NodeBox, size: tuple[int, int] | None) -> tuple[float, float, float, float]:
    """Where a node's thumbnail goes: below its ports, fitted, centred."""
    area_w, area_h = b.w - 2 * BODY_PAD, THUMB_HEIGHT
    top = b.ports_bottom + BODY_PAD
    if not size or not size[0] or not size[1]:
        return (b.x + BODY_PAD, top, area_w, area_h)
    scale = min(area_w / size[0], area_h / size[1])
    w, h = size[0] * scale, size[1] * scale
    return (b.x + (b.w - w) / 2, top + (area_h - h) / 2, w, h)


# -- view ----------------------------------------------------------------------------
@dataclass
class View:
    """Pan and zoom: ``screen = world * zoom + (x, y)`` (CSS px), as React Flow's viewport."""

    x: float = 0.0
    y: float = 0.0
    zoom: float = 1.0

    def to_world(self, sx: float, sy: float) -> tuple[float, float]:
        return ((sx - self.x) / self.zoom, (sy - self.y) / self.zoom)

    def to_screen(self, wx: float, wy: float) -> tuple[float, float]:
        return (wx * self.zoom + self.x, wy * self.zoom + self.y)

    def zoom_at(self, sx: float, sy: float, factor: float) -> None:
        """Zoom by ``factor`` keeping the world point under ``(sx, sy)`` in place."""
        new = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom * factor))
        wx, wy = self.to_world(sx, sy)
        self.zoom = new
        self.x = sx - wx * new
        self.y = sy - wy * new

    def fit(
        self,
        bounds: tuple[float, float, float, float] | None,
        width: float,
        height: float,
        *,
        padding: float = 40.0,
        max_zoom: float = 1.0,
    ) -> None:
        """Show ``bounds`` (x0, y0, x1, y1) whole and centred."""
        if bounds is None:
            self.x, self.y, self.zoom = 0.0, 0.0, 1.0
            return
        x0, y0, x1, y1 = bounds
        bw, bh = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
        zoom = min((width - 2 * padding) / bw, (height - 2 * padding) / bh, max_zoom)
        self.zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        self.x = width / 2 - (x0 + bw / 2) * self.zoom
        self.y = height / 2 - (y0 + bh / 2) * self.zoom

    def reveal(
        self, bounds: tuple[float, float, float, float], width: float, height: float, *, padding: float = 40.0
    ) -> bool:
        """Pan the least that shows ``bounds`` whole, ``padding`` px from the edges, keeping
        the zoom if it fits at this zoom (else zoom out to fit); False if already shown."""
        x0, y0, x1, y1 = bounds
        sx0, sy0 = self.to_screen(x0, y0)
        sx1, sy1 = self.to_screen(x1, y1)
        room_w, room_h = max(width - 2 * padding, 1.0), max(height - 2 * padding, 1.0)
        if sx1 - sx0 > room_w or sy1 - sy0 > room_h:
            self.fit(bounds, width, height, padding=padding, max_zoom=self.zoom)
            return True
        dx = padding - sx0 if sx0 < padding else min(0.0, width - padding - sx1)
        dy = padding - sy0 if sy0 < padding else min(0.0, height - padding - sy1)
        self.x += dx
        self.y += dy
        return bool(dx or dy)

    def copy(self) -> View:
        return View(self.x, self.y, self.zoom)

    def as_viewport(self) -> dict[str, float]:
        return {"x": round(self.x, 2), "y": round(self.y, 2), "zoom": round(self.zoom, 4)}


# -- edges ---------------------------------------------------------------------------
def edge_key(index: int, edge: Edge) -> str:
    """A stable name for an edge: its id, or its position for an edge without one."""
    return edge.id if edge.id else f"#{index}"


def curve_reach(x0: float, x3: float) -> float:
    """How far an edge's curve reaches sideways from its ends (where its control points
    are): half the horizontal gap between them, at least ``CURVE_MIN_REACH``."""
    return max(CURVE_MIN_REACH, abs(x3 - x0) / 2)


def bezier_points(p0: np.ndarray, p3: np.ndarray, segments: int = BEZIER_SEGMENTS) -> np.ndarray:
    """Sampled cubic curves from outputs ``p0`` (n, 2) to inputs ``p3`` (n, 2): (n, k, 2).

    The control points leave the output to the right and enter the input from the left,
    as in React Flow.
    """
    p0 = np.asarray(p0, dtype=np.float64).reshape(-1, 2)
    p3 = np.asarray(p3, dtype=np.float64).reshape(-1, 2)
    d = np.maximum(CURVE_MIN_REACH, np.abs(p3[:, 0] - p0[:, 0]) / 2.0)  # curve_reach, n at once
    p1 = p0.copy()
    p1[:, 0] += d
    p2 = p3.copy()
    p2[:, 0] -= d
    t = np.linspace(0.0, 1.0, segments + 1)[None, :, None]
    u = 1.0 - t
    pts = (
        (u**3) * p0[:, None, :]
        + 3 * (u**2) * t * p1[:, None, :]
        + 3 * u * (t**2) * p2[:, None, :]
        + (t**3) * p3[:, None, :]
    )
    return pts


def segment_distance(points: np.ndarray, px: float, py: float) -> float:
    """Shortest distance from ``(px, py)`` to a polyline (k, 2)."""
    a = points[:-1]
    b = points[1:]
    ab = b - a
    ap = np.array([px, py]) - a
    denom = np.maximum((ab**2).sum(axis=1), 1e-12)
    t = np.clip((ap * ab).sum(axis=1) / denom, 0.0, 1.0)
    proj = a + ab * t[:, None]
    return float(np.sqrt(((proj - np.array([px, py])) ** 2).sum(axis=1)).min())


# -- hit tests -----------------------------------------------------------------------
@dataclass
class Hit:
    """What is under a point (``EditorState.hit``)."""

    kind: str  # "port" | "node" | "edge" | "none"
    node_id: str = ""
    side: str = ""  # "in" | "out" for ports
    port: str = ""
    edge: str = ""  # edge key


NO_HIT = Hit("none")
