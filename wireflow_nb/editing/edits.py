"""Editing actions of the editor: connect, delete, add, nudge, copy/paste/duplicate,
auto-layout, data edits, mode and snap. Each change runs as one undoable command.

Imports numpy, ``models`` and ``editing`` modules; never a widget library.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..models import Edge, Node, port_name
from .clipboard import PASTE_OFFSET, copy_items, paste_items
from .commands import (
    AddItems,
    Command,
    Compound,
    EditCanvas,
    MoveNodes,
    RemoveItems,
    SetNodeData,
    new_node_id,
    unique_id,
)
from .connections import check_connection
from .geometry import GRID, NODE_WIDTH, node_height
from .layout import layered_layout
from .scene import Redraw, Scene

if TYPE_CHECKING:
    from ..workflow import Workflow


class Edits(Scene):
    """The scene's editing actions; every one returns the ``Redraw`` flags it needs."""

    # connecting ---------------------------------------------------------------------------------
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
        edge_id = unique_id(f"e-{source}-{port_name(sh)}-{target}-{port_name(th)}", taken)
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
            node_id = new_node_id(taken)
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
        self.clipboard.nodes, self.clipboard.edges = self._items(ids)
        self.clipboard.bypassed = {n for n in ids if self.workflow.is_bypassed(n)}
        self.clipboard.pastes = 0
        self.message = f"copied {len(ids)} node{'s' if len(ids) != 1 else ''}"
        return Redraw.STATUS

    def paste(self) -> Redraw:
        if not self.clipboard.nodes:
            self.message = "nothing to paste"
            return Redraw.STATUS
        self.clipboard.pastes += 1
        offset = PASTE_OFFSET * self.clipboard.pastes
        return self._paste(
            self.clipboard.nodes, self.clipboard.edges, offset, "paste", bypassed=self.clipboard.bypassed
        )

    def duplicate(self) -> Redraw:
        ids = self.selected_ids
        if not ids:
            return Redraw.NONE
        bypassed = {n for n in ids if self.workflow.is_bypassed(n)}
        return self._paste(*self._items(ids), PASTE_OFFSET, "duplicate", bypassed=bypassed)

    def _items(self, ids: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return copy_items((self.workflow.node(n) for n in ids), (e for _, e in self.edges))

    def _paste(
        self,
        nodes: list[dict[str, Any]],
        edges: list[dict[str, Any]],
        offset: float,
        label: str,
        *,
        bypassed: Iterable[str] = (),
    ) -> Redraw:
        edge_ids = {e.id for _, e in self.edges if e.id}
        new_nodes, new_edges, rename = paste_items(nodes, edges, set(self.boxes), edge_ids, offset)
        count = len(new_nodes)
        what = f"{count} node{'s' if count != 1 else ''}"
        command: Command = AddItems(
            [(None, n) for n in new_nodes], [(None, e) for e in new_edges], label=f"{label} {what}"
        )
        copies = [rename[n] for n in bypassed if n in rename]
        if copies:  # a bypassed node's copy is bypassed too, in the same step

            def bypass(wf: Workflow) -> None:
                for n in copies:
                    wf.set_bypass(n)

            command = Compound([command, EditCanvas(bypass, "bypass")], label=command.label)
        flags = self.execute(command)
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
