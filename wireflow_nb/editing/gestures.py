"""Pointer gestures of the editor, for a mouse that reports no buttons or modifiers:
node drag, connect (and moving a fed input's edge end), box select, pan, wheel zoom,
dragging a group by its title bar, moving and resizing a note.

A press starts a gesture (a ``NodeDrag``, ``Connect``, ``BoxSelect`` or ``Pan`` that
remembers what it needs), moves update it, the release ends it; a drag moves only the
boxes and writes the positions back as one undoable command on release.

Every candidate port and every drop is judged by ``connections``. Imports numpy,
``graphs``, ``models`` and ``editing`` modules; never a widget library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..graphs import predecessors, reachable, successors
from ..models import Edge, Position
from .canvas_edits import MIN_NOTE_SIZE, CanvasEdits, CanvasHit
from .commands import MoveNodes
from .connections import ConnectCheck, EdgesInto, check_connection, check_ports, edges_into
from .geometry import DRAG_THRESHOLD, GRID, PORT_HIT, Hit, View
from .scene import Redraw


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


@dataclass
class NoteDrag:
    """Moving a note (by its body) or resizing it (by its bottom-right corner)."""

    note_id: str
    start: tuple[float, float]  # screen
    origin: tuple[float, float, float, float]  # world rect
    resize: bool
    moved: bool = False


Gesture = NodeDrag | Connect | BoxSelect | Pan | NoteDrag


class Gestures(CanvasEdits):
    """The scene's pointer gestures; every handler returns the ``Redraw`` flags it needs."""

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
        item = self.hit_canvas_item(sx, sy)
        if item is not None:
            return flags | self._start_canvas_drag(item, sx, sy)
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
        if isinstance(g, NoteDrag):
            return self._drag_note(g, sx, sy)
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
        if isinstance(g, NoteDrag):
            preview, self.note_preview = self.note_preview, None
            if not g.moved or preview is None:
                return Redraw.NONE
            return self.edit_note(
                g.note_id, rect=preview[1], label="resize note" if g.resize else "move note"
            )
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
        if isinstance(g, NoteDrag):
            self.note_preview = None
            return Redraw.STATIC
        return Redraw.OVERLAY

    # groups and notes ----------------------------------------------------------------------
    def _start_canvas_drag(self, item: CanvasHit, sx: float, sy: float) -> Redraw:
        """A group's title bar drags its nodes; a note's body moves it, its corner resizes it."""
        if item.kind == "group":
            flags = self.pick_group(item.id)
            ids = self.selected_ids
            self.gesture = NodeDrag(
                anchor=ids[0],
                start=(sx, sy),
                origins={n: (self.boxes[n].x, self.boxes[n].y) for n in ids},
                positions=self._positions(ids),
            )
            return flags
        flags = self.pick_note(item.id)
        rect = self.note_rect(self.workflow.note(item.id))
        self.gesture = NoteDrag(item.id, (sx, sy), rect, resize=item.kind == "note-corner")
        return flags

    def _drag_note(self, g: NoteDrag, sx: float, sy: float) -> Redraw:
        if not g.moved and math.dist(g.start, (sx, sy)) < DRAG_THRESHOLD:
            return Redraw.NONE
        g.moved = True
        z = self.view.zoom
        dx, dy = (sx - g.start[0]) / z, (sy - g.start[1]) / z
        x0, y0, x1, y1 = g.origin
        if g.resize:
            rect = (x0, y0, max(x0 + MIN_NOTE_SIZE, x1 + dx), max(y0 + MIN_NOTE_SIZE, y1 + dy))
        else:
            if self.snap:
                dx, dy = round((x0 + dx) / GRID) * GRID - x0, round((y0 + dy) / GRID) * GRID - y0
            rect = (x0 + dx, y0 + dy, x1 + dx, y1 + dy)
        self.note_preview = (g.note_id, rect)
        return Redraw.STATIC

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
        pairs = [(e.source, e.target) for e in edges]
        # connecting s -> t makes a cycle iff t already reaches s
        walk = predecessors if hit.side == "out" else successors
        blocked = reachable(hit.node_id, walk(self.boxes, pairs))
        fed = edges_into(edges)
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
        fed: EdgesInto,
    ) -> ConnectCheck:
        check = check_ports(self.boxes, fed, source, out_name, target, in_name)
        if check.ok and cycle:
            # the path for the message is found on drop, not for every candidate
            return ConnectCheck(False, "cycle", f"would make a cycle: {target} already reaches {source}")
        return check

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
                return self.link_dropped(g, sx, sy)
        node_id, port, _, _, check = g.candidates[i]
        if not check.ok:
            return self._refuse(g, node_id, port, check)
        if g.side == "out":
            return self.connect(g.node_id, g.port, node_id, port, replacing=g.replacing)
        return self.connect(node_id, port, g.node_id, g.port)

    def link_dropped(self, g: Connect, sx: float, sy: float) -> Redraw:
        """A link dropped on no node: cancelled here (``EditorState`` opens quick add)."""
        return Redraw.NONE

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

    # wheel ------------------------------------------------------------------------------------
    def wheel(self, dy: float) -> Redraw:
        """Zoom around the last pointer position (the wheel event has no position)."""
        if not dy:
            return Redraw.NONE
        if abs(dy) < 10:  # line-mode deltas (Firefox) are a few units per notch
            dy *= 33
        factor = math.exp(-dy * 0.0015)
        return self.zoom_by(factor, self.pointer)
