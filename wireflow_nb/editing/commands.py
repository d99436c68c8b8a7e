"""Undoable changes of a workflow (add, remove, move, set data, groups/notes/bypass,
compound) and the undo/redo ``History`` that stacks them.

Commands carry JSON dicts and list positions, so a delete followed by an undo leaves a
file byte for byte; consecutive edits of one field merge into one undo step.

Imports ``models`` (and ``Workflow`` for types only); no widget library.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..models import Edge, Node, Position

if TYPE_CHECKING:
    from ..workflow import Workflow


def round_coordinate(v: float) -> float | int:
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
        #: the groups and bypass flags the removed nodes had (undo gives them back)
        self._canvas = wf.canvas_snapshot() if self.nodes else None

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
        if self._canvas is not None:
            wf.restore_canvas(self._canvas)

    @property
    def empty(self) -> bool:
        return not self.nodes and not self.edges


class EditCanvas(Command):
    """Change groups, notes or bypass flags through ``change(workflow)`` (group, ungroup,
    rename, notes, bypass); undo puts back what was before, redo what was after. Put in a
    ``Compound`` after an ``AddItems``, it makes "add nodes inside a group" one step."""

    def __init__(self, change: Callable[[Workflow], object], label: str = "edit") -> None:
        self.change = change
        self.label = label
        self.before: dict[str, Any] | None = None
        self.after: dict[str, Any] | None = None

    def apply(self, wf: Workflow) -> None:
        if self.after is None:
            self.before = wf.canvas_snapshot()
            self.change(wf)
            self.after = wf.canvas_snapshot()
        else:
            wf.restore_canvas(self.after)

    def revert(self, wf: Workflow) -> None:
        if self.before is not None:
            wf.restore_canvas(self.before)


class MoveNodes(Command):
    def __init__(
        self, moves: Mapping[str, tuple[Position, tuple[float, float]]], label: str = "move"
    ) -> None:
        self.before = {k: v[0].model_copy(deep=True) for k, v in moves.items()}
        self.after = {k: (round_coordinate(v[1][0]), round_coordinate(v[1][1])) for k, v in moves.items()}
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
        self._group: list[Command] | None = None

    @contextmanager
    def grouped(self, label: str) -> Iterator[None]:
        """Record the commands pushed inside the block as one undo step (a ``Compound``)."""
        outer, self._group = self._group, []
        try:
            yield
        finally:
            commands, self._group = self._group, outer
            if len(commands) == 1:
                self.push(commands[0])
            elif commands:
                self.push(Compound(commands, label=label))

    def push(self, command: Command) -> None:
        """Record a command that has been applied already."""
        if self._group is not None:
            self._group.append(command)
            return
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


def unique_id(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... the first not ``taken`` (new edges' ids)."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def new_node_id(taken: set[str]) -> str:
    """``node-N`` for the first free N past the number of nodes ``taken`` (new nodes' ids)."""
    i = len(taken) + 1
    while f"node-{i}" in taken:
        i += 1
    return f"node-{i}"
