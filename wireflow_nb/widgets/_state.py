"""The graph editor's state and logic, with no widget imports.

Owns: node geometry (boxes and ports, in world units = CSS px at zoom 1), the view
transform (pan/zoom, React Flow's ``{x, y, zoom}``), selection, hit testing, connection
checks (kind mismatch, cycles, inputs already fed), the gestures of a mouse that reports
no buttons or modifiers (node drag, connect, box select, pan, wheel zoom), keyboard
shortcuts, the undo/redo stack of commands, the clipboard, snapping and the layered
auto-layout.

The ``Workflow`` stays the source of truth for nodes, edges, data and positions; the
state caches one ``NodeBox`` per node (rebuilt by ``sync()`` when the workflow changes)
and moves those boxes alone while a drag is in progress, writing positions back as one
undoable command when the mouse is released.

Every gesture method returns ``Redraw`` flags that name what must be redrawn, so the
widget shell draws only that (one ``hold_canvas`` batch per event).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntFlag
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..catalog import Port, can_feed, kind_mismatch, node_ports
from ..graphs import back_edges, reachable, shortest_path, topological_order
from ..models import Edge, Node, Position, port_name

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..workflow import Workflow

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
    STATIC = EDGES | NODES
    SCENE = GRID | EDGES | NODES | LIVE | OVERLAY


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

    def copy(self) -> View:
        return View(self.x, self.y, self.zoom)

    def as_viewport(self) -> dict[str, float]:
        return {"x": round(self.x, 2), "y": round(self.y, 2), "zoom": round(self.zoom, 4)}


# -- edges ---------------------------------------------------------------------------
def edge_key(index: int, edge: Edge) -> str:
    """A stable name for an edge: its id, or its position for an edge without one."""
    return edge.id if edge.id else f"#{index}"


def bezier_points(p0: np.ndarray, p3: np.ndarray, segments: int = BEZIER_SEGMENTS) -> np.ndarray:
    """Sampled cubic curves from outputs ``p0`` (n, 2) to inputs ``p3`` (n, 2): (n, k, 2).

    The control points leave the output to the right and enter the input from the left,
    as in React Flow.
    """
    p0 = np.asarray(p0, dtype=np.float64).reshape(-1, 2)
    p3 = np.asarray(p3, dtype=np.float64).reshape(-1, 2)
    d = np.maximum(40.0, np.abs(p3[:, 0] - p0[:, 0]) / 2.0)
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


def _segment_distance(points: np.ndarray, px: float, py: float) -> float:
    """Shortest distance from ``(px, py)`` to a polyline (k, 2)."""
    a = points[:-1]
    b = points[1:]
    ab = b - a
    ap = np.array([px, py]) - a
    denom = np.maximum((ab**2).sum(axis=1), 1e-12)
    t = np.clip((ap * ab).sum(axis=1) / denom, 0.0, 1.0)
    proj = a + ab * t[:, None]
    return float(np.sqrt(((proj - np.array([px, py])) ** 2).sum(axis=1)).min())


# -- connection checks ---------------------------------------------------------------
class ConnectCheck(NamedTuple):
    ok: bool
    code: str = ""
    reason: str = ""


OK = ConnectCheck(True)


def check_connection(
    boxes: Mapping[str, NodeBox],
    edges: Sequence[Edge],
    source: str,
    source_port: str,
    target: str,
    target_port: str,
) -> ConnectCheck:
    """Whether an edge ``source.source_port -> target.target_port`` may be added.

    Refusals (``code``): ``self`` (a node feeding itself), ``kind`` (the output's kind
    cannot feed the input), ``fed`` (the input takes one edge and has one), ``duplicate``
    (that very edge exists), ``cycle`` (the target already reaches the source),
    ``port`` (no such port).
    """
    src, dst = boxes.get(source), boxes.get(target)
    if src is None or dst is None:
        return ConnectCheck(False, "port", "no such node")
    oi, ii = src.find_port("out", source_port), dst.find_port("in", target_port)
    if oi is None or ii is None:
        return ConnectCheck(False, "port", f"no port {source_port!r} -> {target_port!r}")
    out, inp = src.outputs[oi], dst.inputs[ii]
    if source == target:
        return ConnectCheck(False, "self", f"a node cannot feed itself ({source})")
    if not can_feed(out.kind, inp.kind):
        return ConnectCheck(
            False,
            "kind",
            kind_mismatch(out.kind, source, out.name, inp.kind, target, inp.name),
        )
    into = [e for e in edges if e.target == target and e.target_port == inp.name]
    if any(e.source == source and e.source_port == out.name for e in into):
        return ConnectCheck(False, "duplicate", f"{source}.{out.name} already feeds {target}.{inp.name}")
    if into and not inp.multiple:
        e = into[0]
        return ConnectCheck(
            False,
            "fed",
            f"input {target}.{inp.name} is already fed by {e.source}.{e.source_port}; delete that edge first",
        )
    succ: dict[str, list[str]] = {}
    for e in edges:
        succ.setdefault(e.source, []).append(e.target)
    path = shortest_path(target, source, succ)
    if path:
        return ConnectCheck(
            False, "cycle", "would make a cycle: " + " -> ".join([*path, target]) + "; connect the other way"
        )
    return OK


# -- layout --------------------------------------------------------------------------
def layered_layout(
    order: Sequence[str],
    edges: Iterable[tuple[str, str]],
    heights: Mapping[str, float],
    *,
    width: float = NODE_WIDTH,
    column_gap: float = 100.0,
    row_gap: float = 40.0,
    origin: tuple[float, float] = (0.0, 0.0),
) -> dict[str, tuple[float, float]]:
    """Left-to-right layered positions: a node's column is its longest path from a
    source; rows are ordered by the mean row of their predecessors (fewer crossings) and
    every column is centred vertically. Cycles are broken at their back edges."""
    ids = list(dict.fromkeys(order))
    index = {n: i for i, n in enumerate(ids)}
    succ: dict[str, list[str]] = {n: [] for n in ids}
    for s, t in edges:
        if s in succ and t in succ and s != t and t not in succ[s]:
            succ[s].append(t)
    # drop back edges so the rest is a DAG; a node's column is its longest path from a source
    pairs = [(s, t) for s, ts in succ.items() for t in ts]
    back = back_edges(ids, pairs)
    dag_pairs = [p for p in pairs if p not in back]
    pred: dict[str, list[str]] = {n: [] for n in ids}
    dag: dict[str, list[str]] = {n: [] for n in ids}
    for s, t in dag_pairs:
        pred[t].append(s)
        dag[s].append(t)
    layer = dict.fromkeys(ids, 0)
    for n in topological_order(ids, dag_pairs):
        for t in dag[n]:
            layer[t] = max(layer[t], layer[n] + 1)
    columns: dict[int, list[str]] = {}
    for n in ids:
        columns.setdefault(layer[n], []).append(n)
    row: dict[str, float] = {}
    for c in sorted(columns):
        col = columns[c]
        if c > 0:

            def bary(n: str) -> tuple[float, int]:
                ps = [row[p] for p in pred[n] if p in row]
                return (sum(ps) / len(ps) if ps else math.inf, index[n])

            col.sort(key=bary)
        for i, n in enumerate(col):
            row[n] = float(i)
    col_heights = {
        c: sum(heights.get(n, 100.0) for n in col) + row_gap * (len(col) - 1) for c, col in columns.items()
    }
    tallest = max(col_heights.values(), default=0.0)
    ox, oy = origin
    out: dict[str, tuple[float, float]] = {}
    for c, col in columns.items():
        y = oy + (tallest - col_heights[c]) / 2
        for n in col:
            out[n] = (ox + c * (width + column_gap), y)
            y += heights.get(n, 100.0) + row_gap
    return out


# -- commands (undo/redo) ----------------------------------------------------------------
def _clean(v: float) -> float | int:
    v = round(float(v), 2)
    return int(v) if v.is_integer() else v


class Command:
    """An undoable change of a workflow."""

    label = "edit"

    def apply(self, wf: Workflow) -> None:
        raise NotImplementedError

    def revert(self, wf: Workflow) -> None:
        raise NotImplementedError


class AddItems(Command):
    """Add nodes and edges (as JSON dicts), optionally at given list positions."""

    def __init__(
        self,
        nodes: Sequence[tuple[int | None, dict[str, Any]]] = (),
        edges: Sequence[tuple[int | None, dict[str, Any]]] = (),
        label: str = "add",
    ) -> None:
        self.nodes = [(i, copy.deepcopy(n)) for i, n in nodes]
        self.edges = [(i, copy.deepcopy(e)) for i, e in edges]
        self.label = label
        self._edge_objs: list[Edge] = []

    def apply(self, wf: Workflow) -> None:
        for i, n in sorted(self.nodes, key=lambda p: (p[0] is None, p[0] or 0)):
            wf.add(Node.model_validate(copy.deepcopy(n)), index=i)
        self._edge_objs = []
        for i, e in sorted(self.edges, key=lambda p: (p[0] is None, p[0] or 0)):
            edge = Edge.model_validate(copy.deepcopy(e))
            wf.add_edge(edge, index=i)
            self._edge_objs.append(edge)

    def revert(self, wf: Workflow) -> None:
        for edge in self._edge_objs:
            if any(e is edge for e in wf.edges):
                wf.remove_edge(edge)
        for _, n in self.nodes:
            if wf.has_node(n["id"]):
                wf.remove_node(n["id"])


class RemoveItems(Command):
    """Remove nodes (with every edge touching them) and edges; undo puts each back at
    its old position in the lists, so a delete + undo leaves the file byte for byte."""

    def __init__(
        self, wf: Workflow, node_ids: Iterable[str], edges: Iterable[Edge], label: str = "delete"
    ) -> None:
        ids = set(node_ids)
        chosen = {id(e) for e in edges}
        all_nodes, all_edges = wf.nodes, wf.edges
        self.nodes = [(i, n.to_wire()) for i, n in enumerate(all_nodes) if n.id in ids]
        self.edges = [
            (i, e.to_wire())
            for i, e in enumerate(all_edges)
            if id(e) in chosen or e.source in ids or e.target in ids
        ]
        self.label = label
        self._inverse = AddItems(self.nodes, self.edges)

    def apply(self, wf: Workflow) -> None:
        current = wf.edges
        doomed: list[Edge] = []
        for i, wire in self.edges:
            # the edge at its recorded index, else an equal one (the lists may have
            # changed from Python between an undo and a redo)
            if i < len(current) and current[i].to_wire() == wire and not any(d is current[i] for d in doomed):
                doomed.append(current[i])
                continue
            for e in current:
                if e.to_wire() == wire and not any(d is e for d in doomed):
                    doomed.append(e)
                    break
        for e in doomed:
            wf.remove_edge(e)
        for _, n in self.nodes:
            if wf.has_node(n["id"]):
                wf.remove_node(n["id"])

    def revert(self, wf: Workflow) -> None:
        self._inverse.apply(wf)

    @property
    def empty(self) -> bool:
        return not self.nodes and not self.edges


class MoveNodes(Command):
    def __init__(
        self, moves: Mapping[str, tuple[Position, tuple[float, float]]], label: str = "move"
    ) -> None:
        self.before = {k: v[0].model_copy(deep=True) for k, v in moves.items()}
        self.after = {k: (_clean(v[1][0]), _clean(v[1][1])) for k, v in moves.items()}
        self.label = label
        #: nodes whose file had no ``position``: undo leaves them without one again
        self._unset: set[str] | None = None

    def apply(self, wf: Workflow) -> None:
        nodes = {n.id: n for n in wf.nodes}
        if self._unset is None:
            self._unset = {
                k for k in self.after if k in nodes and "position" not in nodes[k].model_fields_set
            }
        for node_id, (x, y) in self.after.items():
            node = nodes.get(node_id)
            if node is not None:
                node.position = Position(x=x, y=y)
        wf.touch("move_node")

    def revert(self, wf: Workflow) -> None:
        nodes = {n.id: n for n in wf.nodes}
        for node_id, pos in self.before.items():
            node = nodes.get(node_id)
            if node is not None:
                node.position = pos.model_copy(deep=True)
                if self._unset and node_id in self._unset:
                    node.model_fields_set.discard("position")
        wf.touch("move_node")


class SetNodeData(Command):
    """Replace a node's ``data`` (inspector edits, raw JSON); consecutive edits of the
    same field merge into one undo step."""

    def __init__(
        self, node_id: str, before: dict[str, Any], after: dict[str, Any], key: str = "", label: str = ""
    ) -> None:
        self.node_id = node_id
        self.before = copy.deepcopy(before)
        self.after = copy.deepcopy(after)
        self.key = key
        self.label = label or (f"edit {node_id}.{key}" if key else f"edit {node_id}")

    def _set(self, wf: Workflow, data: dict[str, Any]) -> None:
        node = wf.node(self.node_id)
        node.data.clear()
        node.data.update(copy.deepcopy(data))
        wf.touch("set_input")

    def apply(self, wf: Workflow) -> None:
        self._set(wf, self.after)

    def revert(self, wf: Workflow) -> None:
        self._set(wf, self.before)


class Compound(Command):
    def __init__(self, commands: Sequence[Command], label: str = "edit") -> None:
        self.commands = list(commands)
        self.label = label

    def apply(self, wf: Workflow) -> None:
        for c in self.commands:
            c.apply(wf)

    def revert(self, wf: Workflow) -> None:
        for c in reversed(self.commands):
            c.revert(wf)


class History:
    """Undo and redo stacks of commands."""

    def __init__(self, limit: int = 500) -> None:
        self.limit = limit
        self.undo_stack: list[Command] = []
        self.redo_stack: list[Command] = []
        self._sealed = True

    def push(self, command: Command) -> None:
        """Record a command that has been applied already."""
        top = self.undo_stack[-1] if self.undo_stack else None
        if (
            not self._sealed
            and isinstance(command, SetNodeData)
            and isinstance(top, SetNodeData)
            and command.key
            and (top.node_id, top.key) == (command.node_id, command.key)
        ):
            top.after = command.after
        else:
            self.undo_stack.append(command)
            del self.undo_stack[: -self.limit]
        self.redo_stack.clear()
        self._sealed = not isinstance(command, SetNodeData)

    def seal(self) -> None:
        """End the merging of consecutive edits of one field."""
        self._sealed = True

    def clear(self) -> None:
        self.undo_stack.clear()
        self.redo_stack.clear()
        self._sealed = True

    @property
    def can_undo(self) -> bool:
        return bool(self.undo_stack)

    @property
    def can_redo(self) -> bool:
        return bool(self.redo_stack)


# -- gestures ----------------------------------------------------------------------------
@dataclass
class Hit:
    kind: str  # "port" | "node" | "edge" | "none"
    node_id: str = ""
    side: str = ""  # "in" | "out" for ports
    port: str = ""
    edge: str = ""  # edge key


NO_HIT = Hit("none")


@dataclass
class NodeDrag:
    anchor: str
    start: tuple[float, float]  # screen
    origins: dict[str, tuple[float, float]]
    positions: dict[str, Position]
    moved: bool = False
    was_selected: bool = False


@dataclass
class Connect:
    node_id: str
    side: str  # the side the drag started from
    port: str
    origin: tuple[float, float]  # world point of the port
    pointer: tuple[float, float]  # screen
    #: candidate ports on the other side: (node id, port name, world x, world y, check)
    candidates: list[tuple[str, str, float, float, ConnectCheck]] = field(default_factory=list)
    xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    hover: int = -1
    #: the edge whose end was picked up from a fed input (moved on drop, kept on cancel)
    replacing: Edge | None = None
    replacing_key: str = ""


@dataclass
class BoxSelect:
    start: tuple[float, float]  # screen
    end: tuple[float, float]
    preview: list[str] = field(default_factory=list)
    moved: bool = False


@dataclass
class Pan:
    start: tuple[float, float]  # screen
    view: View
    moved: bool = False


Gesture = NodeDrag | Connect | BoxSelect | Pan


@dataclass
class Clipboard:
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    pastes: int = 0


#: Shared by every editor of the process, so nodes copy from one editor to another.
CLIPBOARD = Clipboard()


def _unique(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


class EditorState:
    """Everything the editor knows besides the workflow, and every gesture's logic.

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
        if not self.history.undo_stack:
            self.message = "nothing to undo"
            return Redraw.STATUS
        command = self.history.undo_stack.pop()
        self._run(command.revert)
        self.history.redo_stack.append(command)
        self.history.seal()
        self.message = f"undid {command.label}"
        return Redraw.SCENE | Redraw.WORKFLOW | Redraw.STATUS | Redraw.SELECTION

    def redo(self) -> Redraw:
        if not self.history.redo_stack:
            self.message = "nothing to redo"
            return Redraw.STATUS
        command = self.history.redo_stack.pop()
        self._run(command.apply)
        self.history.undo_stack.append(command)
        self.history.seal()
        self.message = f"redid {command.label}"
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

    def edge_kind(self, edge: Edge) -> str:
        src = self.boxes.get(edge.source)
        if src is not None:
            i = src.find_port("out", edge.source_handle)
            if i is not None and src.outputs[i].kind != "any":
                return src.outputs[i].kind
        dst = self.boxes.get(edge.target)
        if dst is not None:
            i = dst.find_port("in", edge.target_handle)
            if i is not None:
                return dst.inputs[i].kind
        return "any"

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
        for key, edge in self.edges:
            ends = self.edge_points(edge)
            if ends is None:
                continue
            (x0, y0), (x3, y3) = ends
            d = max(40.0, abs(x3 - x0) / 2)
            if not (min(x0, x3) - d - tolerance <= wx <= max(x0, x3) + d + tolerance):
                continue
            if not (min(y0, y3) - tolerance <= wy <= max(y0, y3) + tolerance):
                continue
            pts = bezier_points(np.array([ends[0]]), np.array([ends[1]]))[0]
            dist = _segment_distance(pts, wx, wy)
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

    # -- gestures ---------------------------------------------------------------------------
    def pointer_down(self, sx: float, sy: float) -> Redraw:
        self.pointer = (sx, sy)
        flags = Redraw.NONE
        if self.gesture is None and self.sync():
            flags |= Redraw.SCENE
        if self.gesture is not None:  # a press without a release: end the old one
            flags |= self.pointer_up(sx, sy)
        hit = self.hit(sx, sy)
        if hit.kind == "port":
            return flags | self._start_connect(hit, sx, sy)
        if hit.kind == "node":
            was = hit.node_id in self.selection
            if not was:
                flags |= self.select([hit.node_id])
            ids = self.selected_ids
            self.gesture = NodeDrag(
                anchor=hit.node_id,
                start=(sx, sy),
                origins={n: (self.boxes[n].x, self.boxes[n].y) for n in ids},
                positions=self._positions(ids),
                was_selected=was,
            )
            return flags
        if hit.kind == "edge":
            return flags | self.select((), [hit.edge])
        if self.mode == "pan":
            self.gesture = Pan((sx, sy), self.view.copy())
        else:
            self.gesture = BoxSelect((sx, sy), (sx, sy))
        return flags

    def pointer_move(self, sx: float, sy: float) -> Redraw:
        self.pointer = (sx, sy)
        g = self.gesture
        if g is None:
            return Redraw.NONE
        if isinstance(g, NodeDrag):
            return self._drag_nodes(g, sx, sy)
        if isinstance(g, Connect):
            g.pointer = (sx, sy)
            g.hover = self._candidate_at(g, sx, sy)
            return Redraw.OVERLAY
        if isinstance(g, BoxSelect):
            if not g.moved and math.dist(g.start, (sx, sy)) < DRAG_THRESHOLD:
                return Redraw.NONE
            g.moved = True
            g.end = (sx, sy)
            g.preview = self.nodes_in_rect(g.start, g.end)
            return Redraw.OVERLAY
        if isinstance(g, Pan):
            if not g.moved and math.dist(g.start, (sx, sy)) < DRAG_THRESHOLD:
                return Redraw.NONE
            g.moved = True
            self.view.x = g.view.x + sx - g.start[0]
            self.view.y = g.view.y + sy - g.start[1]
            return Redraw.GRID | Redraw.STATIC | Redraw.LIVE | Redraw.VIEW
        return Redraw.NONE

    def pointer_up(self, sx: float, sy: float) -> Redraw:
        self.pointer = (sx, sy)
        g, self.gesture = self.gesture, None
        if g is None:
            return Redraw.NONE
        if isinstance(g, NodeDrag):
            if not g.moved:
                if len(self.selection) > 1 and g.was_selected:
                    return self.select([g.anchor])
                return Redraw.NONE
            moves = {
                n: (g.positions[n], (self.boxes[n].x, self.boxes[n].y)) for n in g.origins if n in self.boxes
            }
            self.moving.clear()
            n = len(moves)
            return self.execute(MoveNodes(moves, label=f"move {n} node{'s' if n != 1 else ''}"))
        if isinstance(g, Connect):
            shown_again = Redraw.EDGES if g.replacing is not None else Redraw.NONE
            return Redraw.OVERLAY | shown_again | self._finish_connect(g, sx, sy)
        if isinstance(g, BoxSelect):
            if not g.moved:
                return self.select() | Redraw.OVERLAY
            return self.select(g.preview) | Redraw.OVERLAY
        if isinstance(g, Pan):
            if not g.moved:
                return self.select()
            return Redraw.VIEW
        return Redraw.NONE

    def pointer_out(self, sx: float, sy: float) -> Redraw:
        """The pointer left the canvas: the browser will not report the release, so end
        the gesture here (a connection in progress is cancelled)."""
        g = self.gesture
        if isinstance(g, Connect):
            self.gesture = None
            return Redraw.OVERLAY | (Redraw.EDGES if g.replacing is not None else Redraw.NONE)
        if g is None:
            return Redraw.NONE
        return self.pointer_up(sx, sy)

    def cancel(self) -> Redraw:
        """Escape: drop the gesture in progress (a drag goes back where it started)."""
        g, self.gesture = self.gesture, None
        if isinstance(g, NodeDrag) and g.moved:
            for n, (x, y) in g.origins.items():
                if n in self.boxes:
                    self.boxes[n].x, self.boxes[n].y = x, y
            self.moving.clear()
            return Redraw.STATIC | Redraw.LIVE
        if isinstance(g, Pan):
            self.view = g.view
            return Redraw.SCENE | Redraw.VIEW
        if isinstance(g, Connect) and g.replacing is not None:
            return Redraw.OVERLAY | Redraw.EDGES
        return Redraw.OVERLAY

    def _drag_nodes(self, g: NodeDrag, sx: float, sy: float) -> Redraw:
        flags = Redraw.LIVE
        if not g.moved:
            if math.dist(g.start, (sx, sy)) < DRAG_THRESHOLD:
                return Redraw.NONE
            g.moved = True
            self.moving = set(g.origins)
            flags |= Redraw.STATIC
        z = self.view.zoom
        dx, dy = (sx - g.start[0]) / z, (sy - g.start[1]) / z
        if self.snap:
            ax, ay = g.origins[g.anchor]
            dx = round((ax + dx) / GRID) * GRID - ax
            dy = round((ay + dy) / GRID) * GRID - ay
        for n, (x, y) in g.origins.items():
            box = self.boxes.get(n)
            if box is not None:
                box.x, box.y = x + dx, y + dy
        return flags

    # connecting ----------------------------------------------------------------------------
    def _start_connect(self, hit: Hit, sx: float, sy: float) -> Redraw:
        box = self.boxes[hit.node_id]
        edges = [e for _, e in self.edges]
        flags = Redraw.OVERLAY
        replacing: tuple[str, Edge] | None = None
        if hit.side == "in":
            i = box.find_port("in", hit.port)
            into = [(k, e) for k, e in self.edges if e.target == hit.node_id and e.target_port == hit.port]
            if (
                len(into) == 1
                and i is not None
                and not box.inputs[i].multiple
                and into[0][1].source in self.boxes
            ):
                # a fed input: pick up the end of its edge to move it (React Flow's
                # edge update); the drag continues from the edge's source output
                replacing = into[0]
        if replacing is not None:
            _key, edge = replacing
            hit = Hit("port", edge.source, "out", edge.source_port or "")
            box = self.boxes[edge.source]
            edges = [e for e in edges if e is not edge]
            flags |= Redraw.EDGES  # hide the edge being moved
        origin = box.port_point(hit.side, hit.port)
        g = Connect(hit.node_id, hit.side, hit.port, origin, (sx, sy))
        if replacing is not None:
            g.replacing_key, g.replacing = replacing
        other = "in" if hit.side == "out" else "out"
        # reachability once per gesture, so each candidate costs O(1) + its own edges
        succ: dict[str, list[str]] = {}
        pred: dict[str, list[str]] = {}
        for e in edges:
            succ.setdefault(e.source, []).append(e.target)
            pred.setdefault(e.target, []).append(e.source)
        # connecting s -> t makes a cycle iff t already reaches s
        blocked = reachable(hit.node_id, pred if hit.side == "out" else succ)
        fed: dict[tuple[str, str], list[Edge]] = {}
        for e in edges:
            fed.setdefault((e.target, e.target_port or ""), []).append(e)
        for b in self.boxes.values():
            ports = b.inputs if other == "in" else b.outputs
            for i, port in enumerate(ports):
                if hit.side == "out":
                    check = self._quick_check(hit.node_id, hit.port, b.id, port.name, b.id in blocked, fed)
                    wx, wy = b.input_point(i)
                else:
                    check = self._quick_check(b.id, port.name, hit.node_id, hit.port, b.id in blocked, fed)
                    wx, wy = b.output_point(i)
                g.candidates.append((b.id, port.name, wx, wy, check))
        g.xy = np.array([(c[2], c[3]) for c in g.candidates], dtype=np.float64).reshape(-1, 2)
        self.gesture = g
        return flags

    @property
    def hidden_edge(self) -> str | None:
        """The edge whose end is being dragged elsewhere (not drawn meanwhile)."""
        g = self.gesture
        return g.replacing_key if isinstance(g, Connect) and g.replacing is not None else None

    def _quick_check(
        self,
        source: str,
        out_name: str,
        target: str,
        in_name: str,
        cycle: bool,
        fed: Mapping[tuple[str, str], list[Edge]],
    ) -> ConnectCheck:
        src, dst = self.boxes[source], self.boxes[target]
        oi, ii = src.find_port("out", out_name), dst.find_port("in", in_name)
        if oi is None or ii is None:
            return ConnectCheck(False, "port", "no such port")
        out, inp = src.outputs[oi], dst.inputs[ii]
        if source == target:
            return ConnectCheck(False, "self", f"a node cannot feed itself ({source})")
        if not can_feed(out.kind, inp.kind):
            return ConnectCheck(
                False,
                "kind",
                kind_mismatch(out.kind, source, out.name, inp.kind, target, inp.name),
            )
        into = fed.get((target, inp.name), [])
        if any(e.source == source and e.source_port == out.name for e in into):
            return ConnectCheck(False, "duplicate", f"{source}.{out.name} already feeds {target}.{inp.name}")
        if into and not inp.multiple:
            e = into[0]
            return ConnectCheck(
                False,
                "fed",
                f"input {target}.{inp.name} is already fed by {e.source}.{e.source_port}; delete that edge first",
            )
        if cycle:
            # the path for the message is found on drop, not for every candidate
            return ConnectCheck(False, "cycle", f"would make a cycle: {target} already reaches {source}")
        return OK

    def _candidate_at(self, g: Connect, sx: float, sy: float) -> int:
        if not len(g.xy):
            return -1
        wx, wy = self.view.to_world(sx, sy)
        d2 = ((g.xy - np.array([wx, wy])) ** 2).sum(axis=1)
        i = int(d2.argmin())
        r = PORT_HIT / self.view.zoom
        return i if d2[i] <= r * r else -1

    def _finish_connect(self, g: Connect, sx: float, sy: float) -> Redraw:
        i = self._candidate_at(g, sx, sy)
        if i < 0:
            # dropped on a node's body: its first port that accepts the connection
            hit = self.hit(sx, sy)
            if hit.kind in ("node", "port") and hit.node_id:
                mine = [j for j, c in enumerate(g.candidates) if c[0] == hit.node_id]
                good = [j for j in mine if g.candidates[j][4].ok]
                if good:
                    i = good[0]
                elif mine:
                    i = mine[0]
                    node_id, port, _, _, check = g.candidates[i]
                    return self._refuse(g, node_id, port, check)
                elif hit.node_id == g.node_id:
                    return Redraw.NONE
                else:
                    side = "inputs" if g.side == "out" else "outputs"
                    self.message = f"refused: {hit.node_id} has no {side} to connect"
                    return Redraw.STATUS
            else:
                return Redraw.NONE
        node_id, port, _, _, check = g.candidates[i]
        if not check.ok:
            return self._refuse(g, node_id, port, check)
        if g.side == "out":
            return self.connect(g.node_id, g.port, node_id, port, replacing=g.replacing)
        return self.connect(node_id, port, g.node_id, g.port)

    def _refuse(self, g: Connect, node_id: str, port: str, check: ConnectCheck) -> Redraw:
        if check.code == "cycle":  # now name the cycle's path
            src, sp, dst, dp = (
                (g.node_id, g.port, node_id, port) if g.side == "out" else (node_id, port, g.node_id, g.port)
            )
            others = [e for _, e in self.edges if e is not g.replacing]
            full = check_connection(self.boxes, others, src, sp, dst, dp)
            if not full.ok:
                check = full
        self.message = "refused: " + check.reason
        return Redraw.STATUS

    def handle_style(self) -> tuple[str, str]:
        """Prefixes for new edges' handles: ``out-``/``in-`` when the file uses them."""
        for _, e in self.edges:
            if (e.source_handle or "").startswith("out-") or (e.target_handle or "").startswith("in-"):
                return ("out-", "in-")
        return ("", "")

    def connect(
        self, source: str, source_port: str, target: str, target_port: str, *, replacing: Edge | None = None
    ) -> Redraw:
        """Add an edge after checking it (or move ``replacing`` there: one undo step); a
        refusal only sets ``message``."""
        others = [e for _, e in self.edges if e is not replacing]
        check = check_connection(self.boxes, others, source, source_port, target, target_port)
        if not check.ok:
            self.message = "refused: " + check.reason
            return Redraw.STATUS
        out_prefix, in_prefix = self.handle_style()
        sh, th = out_prefix + (port_name(source_port) or ""), in_prefix + (port_name(target_port) or "")
        taken = {e.id for _, e in self.edges if e.id}
        edge_id = _unique(f"e-{source}-{port_name(sh)}-{target}-{port_name(th)}", taken)
        edge = {"id": edge_id, "source": source, "target": target, "sourceHandle": sh, "targetHandle": th}
        self.message = f"connected {source}.{port_name(sh)} -> {target}.{port_name(th)}"
        if replacing is not None:
            same = (replacing.source, replacing.source_port, replacing.target, replacing.target_port)
            if same == (source, port_name(sh), target, port_name(th)):
                self.message = ""
                return Redraw.EDGES  # dropped back where it was
            # the moved edge keeps its own fields (id, animated, ...) and gets its new end
            moved = replacing.to_wire()
            moved["target"] = target
            moved["targetHandle"] = in_prefix + (port_name(target_port) or "")
            index = next(i for i, (_, e) in enumerate(self.edges) if e is replacing)
            command = Compound(
                [RemoveItems(self.workflow, (), [replacing]), AddItems(edges=[(index, moved)])],
                label="reconnect",
            )
            self.message = f"moved edge {source}.{port_name(sh)} to {target}.{port_name(th)}"
            return self.execute(command) | Redraw.STATUS
        flags = self.execute(AddItems(edges=[(None, edge)], label="connect"))
        return flags | Redraw.STATUS

    # keys -------------------------------------------------------------------------------------
    def key(self, key: str, shift: bool = False, ctrl: bool = False, meta: bool = False) -> Redraw:
        """A key press (the browser reports no key-up: no hold-to-pan)."""
        mod = ctrl or meta
        k = key.lower() if len(key) == 1 else key
        if mod:
            if k == "z":
                return self.redo() if shift else self.undo()
            if k == "y":
                return self.redo()
            if k == "a":
                return self.select(self.boxes)
            if k == "c":
                return self.copy_selection()
            if k == "x":
                return self.copy_selection() | self.delete_selection()
            if k == "v":
                return self.paste()
            if k == "d":
                return self.duplicate()
            return Redraw.NONE
        if key in ("Delete", "Backspace"):
            return self.delete_selection()
        if key == "Escape":
            if self.gesture is not None:
                return self.cancel()
            return self.select()
        if k == "f":
            return self.fit()
        if key in ("+", "="):
            return self.zoom_by(ZOOM_STEP)
        if key in ("-", "_"):
            return self.zoom_by(1 / ZOOM_STEP)
        if key == "0":
            return self.zoom_by(1 / self.view.zoom)
        if k == "v":
            return self.set_mode("select")
        if k == "h":
            return self.set_mode("pan")
        if k == "s" and not shift:
            return self.toggle_snap()
        if k == "l" and shift:
            return self.auto_layout()
        arrows = {"ArrowLeft": (-1, 0), "ArrowRight": (1, 0), "ArrowUp": (0, -1), "ArrowDown": (0, 1)}
        if key in arrows and self.selection:
            step = GRID * 5 if shift else GRID if self.snap else 10.0
            ax, ay = arrows[key]
            return self.nudge(ax * step, ay * step)
        return Redraw.NONE

    def set_mode(self, mode: str) -> Redraw:
        if mode not in ("select", "pan"):
            raise ValueError("mode is 'select' or 'pan'")
        self.mode = mode
        self.message = "drag on empty space: " + ("box select" if mode == "select" else "pan")
        return Redraw.STATUS

    def toggle_snap(self, on: bool | None = None) -> Redraw:
        self.snap = (not self.snap) if on is None else on
        self.message = f"snap to grid {'on' if self.snap else 'off'}"
        return Redraw.STATUS

    # view -------------------------------------------------------------------------------------
    def wheel(self, dy: float) -> Redraw:
        """Zoom around the last pointer position (the wheel event has no position)."""
        if not dy:
            return Redraw.NONE
        if abs(dy) < 10:  # line-mode deltas (Firefox) are a few units per notch
            dy *= 33
        factor = math.exp(-dy * 0.0015)
        return self.zoom_by(factor, self.pointer)

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

    # editing ------------------------------------------------------------------------------------
    def delete_selection(self) -> Redraw:
        edges = [e for k, e in self.edges if k in self.edge_selection]
        command = RemoveItems(self.workflow, self.selected_ids, edges)
        if command.empty:
            return Redraw.NONE
        n, m = len(command.nodes), len(command.edges)
        command.label = f"delete {n} node{'s' if n != 1 else ''}, {m} edge{'s' if m != 1 else ''}"
        self.message = command.label
        self.selection.clear()
        self.edge_selection.clear()
        return self.execute(command) | Redraw.SELECTION | Redraw.STATUS

    def free_spot(self, w: float = NODE_WIDTH, h: float = 120.0) -> tuple[float, float]:
        """A world position near the middle of the view where a new node overlaps none."""
        cx, cy = self.view.to_world(self.width / 2, self.height / 2)
        x0, y0 = cx - w / 2, cy - h / 2
        margin = 20.0
        rects = np.array([(b.x, b.y, b.x + b.w, b.y + b.h) for b in self.boxes.values()], dtype=np.float64)
        rects = rects.reshape(-1, 4)

        def free(x: float, y: float) -> bool:
            if not len(rects):
                return True
            apart = (
                (x + w + margin <= rects[:, 0])
                | (rects[:, 2] + margin <= x)
                | (y + h + margin <= rects[:, 1])
                | (rects[:, 3] + margin <= y)
            )
            return bool(apart.all())

        step = 40.0
        for ring in range(0, 16):
            cells = (
                [(0, 0)]
                if ring == 0
                else [
                    (dx, dy)
                    for dx in range(-ring, ring + 1)
                    for dy in range(-ring, ring + 1)
                    if max(abs(dx), abs(dy)) == ring
                ]
            )
            cells.sort(key=lambda c: (abs(c[1]), abs(c[0])))
            for dx, dy in cells:
                x, y = x0 + dx * step * 2, y0 + dy * step
                if free(x, y):
                    return self._snapped(x, y)
        return self._snapped(x0, y0)

    def _snapped(self, x: float, y: float) -> tuple[float, float]:
        if self.snap:
            return (round(x / GRID) * GRID, round(y / GRID) * GRID)
        return (round(x), round(y))

    def add_node(
        self,
        node_type: str,
        *,
        position: tuple[float, float] | None = None,
        node_id: str | None = None,
        **inputs: Any,
    ) -> tuple[str, Redraw]:
        """Add a node of ``node_type`` (undoable) at ``position`` or a free spot in view."""
        spec = self.catalog.get(node_type) if self.catalog is not None else None
        rows = max(len(spec.input_ports()), len(spec.outputs)) if spec else 1
        x, y = position if position is not None else self.free_spot(NODE_WIDTH, node_height(rows, False))
        taken = set(self.boxes)
        if node_id is None:
            i = len(taken) + 1
            while f"node-{i}" in taken:
                i += 1
            node_id = f"node-{i}"
        elif node_id in taken:
            raise ValueError(f"a node with id {node_id!r} already exists")
        data: dict[str, Any] = {
            "label": spec.label if spec else node_type,
            "nodeType": node_type,
            "category": spec.category if spec else node_type.split(":", 1)[0],
        }
        data.update(inputs)
        kind = spec.kind if spec else "default"
        node = {"id": node_id, "type": kind, "position": {"x": x, "y": y}, "data": data}
        flags = self.execute(AddItems(nodes=[(None, node)], label=f"add {node_id}"))
        self.message = f"added {node_id} ({node_type})"
        return node_id, flags | self.select([node_id]) | Redraw.STATUS

    def nudge(self, dx: float, dy: float) -> Redraw:
        ids = self.selected_ids
        positions = self._positions(ids)
        moves = {n: (positions[n], (self.boxes[n].x + dx, self.boxes[n].y + dy)) for n in ids}
        if not moves:
            return Redraw.NONE
        return self.execute(MoveNodes(moves, label="nudge"))

    def copy_selection(self) -> Redraw:
        ids = self.selected_ids
        if not ids:
            return Redraw.NONE
        chosen = set(ids)
        self.clipboard.nodes = [self.workflow.node(n).to_wire() for n in ids]
        self.clipboard.edges = [
            e.to_wire() for _, e in self.edges if e.source in chosen and e.target in chosen
        ]
        self.clipboard.pastes = 0
        self.message = f"copied {len(ids)} node{'s' if len(ids) != 1 else ''}"
        return Redraw.STATUS

    def paste(self) -> Redraw:
        if not self.clipboard.nodes:
            self.message = "nothing to paste"
            return Redraw.STATUS
        self.clipboard.pastes += 1
        return self._paste(self.clipboard.nodes, self.clipboard.edges, 40.0 * self.clipboard.pastes, "paste")

    def duplicate(self) -> Redraw:
        ids = self.selected_ids
        if not ids:
            return Redraw.NONE
        chosen = set(ids)
        nodes = [self.workflow.node(n).to_wire() for n in ids]
        edges = [e.to_wire() for _, e in self.edges if e.source in chosen and e.target in chosen]
        return self._paste(nodes, edges, 40.0, "duplicate")

    def _paste(
        self, nodes: list[dict[str, Any]], edges: list[dict[str, Any]], offset: float, label: str
    ) -> Redraw:
        taken = set(self.boxes)
        rename: dict[str, str] = {}
        new_nodes = []
        counter = len(taken) + 1
        for n in nodes:
            while f"node-{counter}" in taken:
                counter += 1
            new_id = f"node-{counter}"
            taken.add(new_id)
            rename[n["id"]] = new_id
            m = copy.deepcopy(n)
            m["id"] = new_id
            pos = m.get("position") or {}
            m["position"] = {
                "x": _clean(float(pos.get("x", 0)) + offset),
                "y": _clean(float(pos.get("y", 0)) + offset),
            }
            new_nodes.append((None, m))
        edge_ids = {e.id for _, e in self.edges if e.id}
        new_edges = []
        for e in edges:
            f = copy.deepcopy(e)
            f["source"], f["target"] = rename[e["source"]], rename[e["target"]]
            sh, th = port_name(f.get("sourceHandle")), port_name(f.get("targetHandle"))
            f["id"] = _unique(f"e-{f['source']}-{sh}-{f['target']}-{th}", edge_ids)
            edge_ids.add(f["id"])
            new_edges.append((None, f))
        count = len(new_nodes)
        what = f"{count} node{'s' if count != 1 else ''}"
        flags = self.execute(AddItems(new_nodes, new_edges, label=f"{label} {what}"))
        self.message = f"pasted {what}" if label == "paste" else f"duplicated {what}"
        return flags | self.select(rename.values()) | Redraw.STATUS

    def auto_layout(self, ids: Iterable[str] | None = None) -> Redraw:
        """Layered left-to-right layout of every node (undoable), then fit the view."""
        order = list(ids) if ids is not None else list(self.boxes)
        if not order:
            return Redraw.NONE
        heights = {n: self.boxes[n].h for n in order}
        x0 = min(self.boxes[n].x for n in order) if ids is not None else 0.0
        y0 = min(self.boxes[n].y for n in order) if ids is not None else 0.0
        spots = layered_layout(order, ((e.source, e.target) for _, e in self.edges), heights, origin=(x0, y0))
        positions = self._positions(spots)
        moves = {n: (positions[n], self._snapped(*xy)) for n, xy in spots.items()}
        flags = self.execute(MoveNodes(moves, label="auto-layout"))
        self.message = f"laid out {len(moves)} nodes"
        return flags | self.fit() | Redraw.STATUS

    def edit_data(self, node_id: str, mutate: Callable[[Node], None], key: str = "") -> Redraw:
        """Change a node's data through ``mutate(node)`` as one undoable step."""
        node = self.workflow.node(node_id)
        before = copy.deepcopy(node.data)
        self.applying = True
        try:
            mutate(node)
        finally:
            self.applying = False
        if node.data == before:
            return Redraw.NONE
        self.history.push(SetNodeData(node_id, before, node.data, key))
        self.applying = True
        try:
            self.workflow.touch("set_input")
        finally:
            self.applying = False
        self.sync(force=True)
        return Redraw.SCENE | Redraw.WORKFLOW
