"""The scene: what the editor shows and knows besides the workflow.

Owns the ``NodeBox`` cache of the workflow's nodes (rebuilt by ``sync()`` when the
workflow changes), the edges by key, the view, the selection, node statuses, highlights
and thumbnails, the running of commands with undo/redo, and the hit tests and geometry
queries over them. ``Redraw`` flags name what a change needs redrawn, so a widget shell
draws only that.

The base of ``EditorState``: ``edits.Edits`` adds the editing actions,
``gestures.Gestures`` the pointer, ``state.EditorState`` the keyboard.

Imports numpy, ``catalog`` (the kind an edge carries), ``models`` and ``editing``
modules; never a widget library.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from enum import IntFlag
from typing import TYPE_CHECKING

import numpy as np

from ..catalog import carried_kind
from ..models import Edge, Position
from .clipboard import CLIPBOARD, Clipboard
from .commands import Command, History
from .geometry import (
    EDGE_HIT,
    MAX_ZOOM,
    MIN_ZOOM,
    NO_HIT,
    PORT_HIT,
    Hit,
    NodeBox,
    View,
    bezier_points,
    build_box,
    curve_reach,
    edge_key,
    segment_distance,
)

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..workflow import Workflow
    from .gestures import Gesture


class Redraw(IntFlag):
    """What a state change needs redrawn (and which side panels need refreshing)."""

    NONE = 0
    GRID = 1
    EDGES = 2
    NODES = 4
    LIVE = 8
    OVERLAY = 16
    #: the selection changed: refresh the inspector, call selection listeners
    SELECTION = 32
    #: ``state.message`` changed
    STATUS = 64
    #: pan/zoom changed
    VIEW = 128
    #: the workflow changed (nodes, edges, data or positions)
    WORKFLOW = 256
    #: the quick-add box opened, closed or changed (``EditorState.quick_add``)
    MENU = 512
    STATIC = EDGES | NODES
    SCENE = GRID | EDGES | NODES | LIVE | OVERLAY


class Scene:
    """Everything the editor knows besides the workflow.

    Screen coordinates here are CSS pixels of the canvas; the widget divides the
    browser's event coordinates (canvas buffer pixels) by the pixel ratio first.
    """

    def __init__(
        self,
        workflow: Workflow,
        catalog: Catalog | None = None,
        *,
        width: float = 960,
        height: float = 600,
        clipboard: Clipboard | None = None,
    ) -> None:
        self.workflow = workflow
        self.catalog = catalog
        self.width = float(width)
        self.height = float(height)
        self.view = View()
        self.mode = "select"  # or "pan"
        self.snap = False
        self.selection: set[str] = set()
        self.edge_selection: set[str] = set()
        self.statuses: dict[str, str] = {}
        self.highlights: dict[str, str] = {}
        self.thumbs: set[str] = set()
        self.history = History()
        self.clipboard = clipboard if clipboard is not None else CLIPBOARD
        self.gesture: Gesture | None = None
        self.pointer: tuple[float, float] = (self.width / 2, self.height / 2)
        #: nodes being dragged (drawn on the live layers)
        self.moving: set[str] = set()
        self.message = ""
        #: True while a command runs, so the widget ignores the workflow's own events
        self.applying = False
        self.boxes: dict[str, NodeBox] = {}
        self.edges: list[tuple[str, Edge]] = []
        self._version = -1
        self.sync()

    # -- syncing with the workflow ------------------------------------------------------
    def sync(self, *, force: bool = False) -> bool:
        """Rebuild the boxes from the workflow if it changed; prune the selection."""
        if not force and self._version == self.workflow.version:
            return False
        wf = self.workflow
        edges = wf.edges
        into: dict[str, list[Edge]] = {}
        out_of: dict[str, list[Edge]] = {}
        for e in edges:
            into.setdefault(e.target, []).append(e)
            out_of.setdefault(e.source, []).append(e)
        boxes: dict[str, NodeBox] = {}
        for node in wf.nodes:
            if node.id in boxes:  # duplicate id: draw the first
                continue
            boxes[node.id] = build_box(
                node,
                self.catalog,
                into.get(node.id, ()),
                out_of.get(node.id, ()),
                thumb=node.id in self.thumbs,
            )
        self.boxes = boxes
        self.edges = [(edge_key(i, e), e) for i, e in enumerate(edges)]
        self.selection &= set(boxes)
        self.edge_selection &= {k for k, _ in self.edges}
        self.moving &= set(boxes)
        self._version = wf.version
        return True

    def set_workflow(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self.selection.clear()
        self.edge_selection.clear()
        self.statuses.clear()
        self.highlights.clear()
        self.thumbs.clear()
        self.history.clear()
        self.gesture = None
        self.moving.clear()
        self._version = -1
        self.sync()

    def edge_by_key(self, key: str) -> Edge | None:
        for k, e in self.edges:
            if k == key:
                return e
        return None

    # -- commands -----------------------------------------------------------------------
    def execute(self, command: Command, *, record: bool = True) -> Redraw:
        self._run(command.apply)
        if record:
            self.history.push(command)
        return Redraw.SCENE | Redraw.WORKFLOW

    def _run(self, fn: Callable[[Workflow], None]) -> None:
        self.applying = True
        try:
            fn(self.workflow)
        finally:
            self.applying = False
        self.sync(force=True)

    def undo(self) -> Redraw:
        return self._replay(undo=True)

    def redo(self) -> Redraw:
        return self._replay(undo=False)

    def _replay(self, *, undo: bool) -> Redraw:
        """Revert the last command (undo) or apply again the last undone one (redo)."""
        h = self.history
        source, target = (h.undo_stack, h.redo_stack) if undo else (h.redo_stack, h.undo_stack)
        if not source:
            self.message = f"nothing to {'undo' if undo else 'redo'}"
            return Redraw.STATUS
        command = source.pop()
        self._run(command.revert if undo else command.apply)
        target.append(command)
        h.seal()
        self.message = f"{'undid' if undo else 'redid'} {command.label}"
        return Redraw.SCENE | Redraw.WORKFLOW | Redraw.STATUS | Redraw.SELECTION

    # -- geometry ---------------------------------------------------------------------------
    def bounds(self, ids: Iterable[str] | None = None) -> tuple[float, float, float, float] | None:
        boxes = (
            [self.boxes[i] for i in ids if i in self.boxes] if ids is not None else list(self.boxes.values())
        )
        if not boxes:
            return None
        return (
            min(b.x for b in boxes),
            min(b.y for b in boxes),
            max(b.x + b.w for b in boxes),
            max(b.y + b.h for b in boxes),
        )

    def visible_rect(self, margin: float = 0.0) -> tuple[float, float, float, float]:
        """The world rectangle in view (x0, y0, x1, y1), grown by ``margin`` screen px."""
        x0, y0 = self.view.to_world(-margin, -margin)
        x1, y1 = self.view.to_world(self.width + margin, self.height + margin)
        return (x0, y0, x1, y1)

    def edge_points(self, edge: Edge) -> tuple[tuple[float, float], tuple[float, float]] | None:
        src, dst = self.boxes.get(edge.source), self.boxes.get(edge.target)
        if src is None or dst is None:
            return None
        return src.port_point("out", edge.source_handle), dst.port_point("in", edge.target_handle)

    def edge_ends(self) -> Iterator[tuple[str, Edge, tuple[tuple[float, float], tuple[float, float]]]]:
        """Each edge whose two nodes are drawn, with its key and its ends (world units)."""
        for key, edge in self.edges:
            ends = self.edge_points(edge)
            if ends is not None:
                yield key, edge, ends

    def edge_kind(self, edge: Edge) -> str:
        """The kind the edge carries (``catalog.carried_kind``), by its ports as drawn."""
        out_kind = in_kind = None
        src, dst = self.boxes.get(edge.source), self.boxes.get(edge.target)
        if src is not None and (i := src.find_port("out", edge.source_handle)) is not None:
            out_kind = src.outputs[i].kind
        if dst is not None and (j := dst.find_port("in", edge.target_handle)) is not None:
            in_kind = dst.inputs[j].kind
        return carried_kind(out_kind, in_kind)

    def port_screen(self, node_id: str, handle: str, side: str | None = None) -> tuple[float, float]:
        """Screen position of a port; plain names look among outputs first."""
        box = self.boxes[node_id]
        sides = (
            [side]
            if side
            else (
                ["in"]
                if handle.startswith("in-")
                else ["out"]
                if handle.startswith("out-")
                else ["out", "in"]
            )
        )
        for s in sides:
            i = box.find_port(s, handle)
            if i is not None:
                wx, wy = box.input_point(i) if s == "in" else box.output_point(i)
                return self.view.to_screen(wx, wy)
        names = [p.name for p in box.inputs] + [p.name for p in box.outputs]
        raise KeyError(f"node {node_id!r} has no port {handle!r}; ports: {', '.join(names) or '(none)'}")

    # -- hit testing ----------------------------------------------------------------------
    def hit(self, sx: float, sy: float) -> Hit:
        """What is under a screen point: a port, a node, an edge, or nothing (top first)."""
        wx, wy = self.view.to_world(sx, sy)
        r = PORT_HIT / self.view.zoom
        order = list(self.boxes.values())
        for box in reversed(order):
            if not (box.x - r <= wx <= box.x + box.w + r and box.y <= wy <= box.y + box.h):
                continue
            for side, ports, px in (("out", box.outputs, box.x + box.w), ("in", box.inputs, box.x)):
                if abs(wx - px) > r:
                    continue
                for i, port in enumerate(ports):
                    if abs(wy - box.port_y(i)) <= r:
                        return Hit("port", box.id, side, port.name)
            if box.contains(wx, wy):
                return Hit("node", box.id)
        key = self.hit_edge(wx, wy, EDGE_HIT / self.view.zoom)
        if key is not None:
            return Hit("edge", edge=key)
        return NO_HIT

    def hit_edge(self, wx: float, wy: float, tolerance: float) -> str | None:
        best: tuple[float, str] | None = None
        for key, _edge, ends in self.edge_ends():
            (x0, y0), (x3, y3) = ends
            d = curve_reach(x0, x3)
            if not (min(x0, x3) - d - tolerance <= wx <= max(x0, x3) + d + tolerance):
                continue
            if not (min(y0, y3) - tolerance <= wy <= max(y0, y3) + tolerance):
                continue
            pts = bezier_points(np.array([ends[0]]), np.array([ends[1]]))[0]
            dist = segment_distance(pts, wx, wy)
            if dist <= tolerance and (best is None or dist < best[0]):
                best = (dist, key)
        return best[1] if best else None

    def nodes_in_rect(self, a: tuple[float, float], b: tuple[float, float]) -> list[str]:
        """Nodes touching the screen rectangle with corners ``a`` and ``b``."""
        (x0, y0), (x1, y1) = self.view.to_world(*a), self.view.to_world(*b)
        x0, x1 = min(x0, x1), max(x0, x1)
        y0, y1 = min(y0, y1), max(y0, y1)
        return [
            box.id
            for box in self.boxes.values()
            if box.x <= x1 and box.x + box.w >= x0 and box.y <= y1 and box.y + box.h >= y0
        ]

    # -- selection --------------------------------------------------------------------------
    def select(self, node_ids: Iterable[str] = (), edge_keys: Iterable[str] = ()) -> Redraw:
        nodes = {n for n in node_ids if n in self.boxes}
        edges = set(edge_keys)
        if nodes == self.selection and edges == self.edge_selection:
            return Redraw.NONE
        flags = Redraw.SELECTION
        if nodes != self.selection:
            flags |= Redraw.LIVE  # selection outlines live on the live layer
        if edges != self.edge_selection:
            flags |= Redraw.EDGES
        self.selection = nodes
        self.edge_selection = edges
        self.history.seal()
        return flags

    def _positions(self, ids: Iterable[str]) -> dict[str, Position]:
        wanted = set(ids)
        return {n.id: n.position for n in self.workflow.nodes if n.id in wanted}

    @property
    def selected_ids(self) -> list[str]:
        """Selected node ids in workflow order."""
        return [n for n in self.boxes if n in self.selection]

    # -- view -----------------------------------------------------------------------------------
    def zoom_by(self, factor: float, at: tuple[float, float] | None = None) -> Redraw:
        sx, sy = at if at is not None else (self.width / 2, self.height / 2)
        before = self.view.zoom
        self.view.zoom_at(sx, sy, factor)
        if self.view.zoom == before:
            return Redraw.NONE
        return Redraw.SCENE | Redraw.VIEW

    def fit(self, ids: Iterable[str] | None = None) -> Redraw:
        chosen = list(ids) if ids is not None else None
        self.view.fit(self.bounds(chosen), self.width, self.height)
        return Redraw.SCENE | Redraw.VIEW

    def set_view(self, x: float, y: float, zoom: float) -> Redraw:
        self.view = View(float(x), float(y), min(MAX_ZOOM, max(MIN_ZOOM, float(zoom))))
        return Redraw.SCENE | Redraw.VIEW
