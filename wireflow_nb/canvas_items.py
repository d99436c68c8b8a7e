"""What a workflow holds besides nodes and edges: groups (a titled, coloured frame around
some nodes), notes (Markdown text on the canvas), each node's bypass flag and the inputs
ticked "In form" (what ``FormApp`` shows; ``node_id.field`` entries).

None of them is a node, so none is ever sent as one. They live in one top-level field of
the workflow JSON, ``wireflowNb`` (``CANVAS_KEY``), beside React Flow's ``viewport``:
the hosted service reads ``nodes``, ``edges`` and the execute options only, and keeps the
other top-level fields of a saved workflow (docs/INTERNALS.md, "Groups, notes, bypass").

``CanvasItems`` is the part of ``Workflow`` that owns them (a mixin, so ``workflow.py``
stays one concept): the methods, the change events (through ``Workflow.touch``) and their
JSON. Imports ``models`` only.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Node

__all__ = ["CANVAS_KEY", "FORM_KEY", "GROUP_COLORS", "CanvasItems", "Group", "Note"]

#: The top-level field of the workflow JSON (and of the execute request) that holds them.
CANVAS_KEY = "wireflowNb"

#: The key of ``wireflowNb`` that lists the inputs ticked "In form".
FORM_KEY = "form_inputs"

#: The colours the editor offers for groups; the first is the default.
GROUP_COLORS = ("#4f6bed", "#2e9d6a", "#d98a1c", "#c2416b", "#7c4dcc", "#6b7280")

NOTE_WIDTH = 240.0
NOTE_HEIGHT = 140.0
MIN_NOTE_SIZE = 60.0


@dataclass(frozen=True)
class Group:
    """A titled, coloured frame around ``nodes`` (drawn around their boxes)."""

    id: str
    title: str = "Group"
    color: str = GROUP_COLORS[0]
    nodes: tuple[str, ...] = ()
    #: fields of the saved entry this version does not know, written back
    extra: Mapping[str, Any] = field(default_factory=dict, compare=True)

    def to_wire(self) -> dict[str, Any]:
        return {
            **copy.deepcopy(dict(self.extra)),
            "id": self.id,
            "title": self.title,
            "color": self.color,
            "nodes": list(self.nodes),
        }


@dataclass(frozen=True)
class Note:
    """Markdown ``text`` in a box at ``(x, y)`` of ``width`` x ``height`` (world units)."""

    id: str
    text: str = ""
    x: float = 0.0
    y: float = 0.0
    width: float = NOTE_WIDTH
    height: float = NOTE_HEIGHT
    extra: Mapping[str, Any] = field(default_factory=dict, compare=True)

    def to_wire(self) -> dict[str, Any]:
        return {
            **copy.deepcopy(dict(self.extra)),
            "id": self.id,
            "text": self.text,
            "position": {"x": _num(self.x), "y": _num(self.y)},
            "width": _num(self.width),
            "height": _num(self.height),
        }


def _num(v: float) -> float | int:
    v = round(float(v), 2)
    return int(v) if v.is_integer() else v


def _finite(value: Any, default: float) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return out if math.isfinite(out) else default


def _group_from_wire(raw: Any, taken: set[str]) -> Group | None:
    """A group of a saved file; None for an entry without an id. A node already in an
    earlier group stays there (a node is in at most one group)."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str) or not raw["id"]:
        return None
    nodes = raw.get("nodes")
    ids = [n for n in nodes if isinstance(n, str) and n not in taken] if isinstance(nodes, list) else []
    ids = list(dict.fromkeys(ids))
    taken.update(ids)
    title, color = raw.get("title"), raw.get("color")
    return Group(
        raw["id"],
        title if isinstance(title, str) else "Group",
        color if isinstance(color, str) and color else GROUP_COLORS[0],
        tuple(ids),
        {k: copy.deepcopy(v) for k, v in raw.items() if k not in ("id", "title", "color", "nodes")},
    )


def _note_from_wire(raw: Any) -> Note | None:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str) or not raw["id"]:
        return None
    pos = raw.get("position")
    pos = pos if isinstance(pos, Mapping) else {}
    text = raw.get("text")
    return Note(
        raw["id"],
        text if isinstance(text, str) else "",
        _finite(pos.get("x"), 0.0),
        _finite(pos.get("y"), 0.0),
        max(MIN_NOTE_SIZE, _finite(raw.get("width"), NOTE_WIDTH)),
        max(MIN_NOTE_SIZE, _finite(raw.get("height"), NOTE_HEIGHT)),
        {
            k: copy.deepcopy(v)
            for k, v in raw.items()
            if k not in ("id", "text", "position", "width", "height")
        },
    )


def _free_id(prefix: str, taken: Iterable[str]) -> str:
    used = set(taken)
    i = len(used) + 1
    while f"{prefix}-{i}" in used:
        i += 1
    return f"{prefix}-{i}"


class CanvasItems:
    """Groups, notes and bypass flags of a ``Workflow`` (its base class).

    >>> from wireflow_nb import Workflow
    >>> wf = Workflow()
    >>> a, b = wf.add_node("input:text", text="x"), wf.add_node("image:resize")
    >>> wf.group([a, b], title="Prep")
    'group-1'
    >>> wf.set_bypass(b)
    >>> wf.bypassed
    ['node-2']
    """

    _nodes: list[Node]
    _groups: list[Group]
    _notes: list[Note]
    _bypassed: set[str]
    #: ``node_id.field`` entries ticked "In form", in the order they were ticked
    _form_inputs: list[str]
    #: fields of ``wireflowNb`` this version does not know, written back
    _canvas_extra: dict[str, Any]

    if TYPE_CHECKING:

        def touch(self, what: str = "changed") -> None: ...

        def has_node(self, node_id: str) -> bool: ...

    def _init_canvas_items(self, raw: Any) -> None:
        """Read the ``wireflowNb`` field of a file (leniently: a bad entry is left out)."""
        self._groups, self._notes, self._bypassed, self._canvas_extra = [], [], set(), {}
        self._form_inputs = []
        if not isinstance(raw, Mapping):
            return
        taken: set[str] = set()
        groups = raw.get("groups")
        for item in groups if isinstance(groups, list) else ():
            group = _group_from_wire(item, taken)
            if group is not None and not any(g.id == group.id for g in self._groups):
                self._groups.append(group)
        notes = raw.get("notes")
        for item in notes if isinstance(notes, list) else ():
            note = _note_from_wire(item)
            if note is not None and not any(n.id == note.id for n in self._notes):
                self._notes.append(note)
        bypassed = raw.get("bypassed")
        if isinstance(bypassed, list):
            self._bypassed = {n for n in bypassed if isinstance(n, str)}
        form = raw.get(FORM_KEY)
        if isinstance(form, list):
            self._form_inputs = list(dict.fromkeys(e for e in form if _form_entry(e) is not None))
        self._canvas_extra = {
            k: copy.deepcopy(v) for k, v in raw.items() if k not in ("groups", "notes", "bypassed", FORM_KEY)
        }

    def canvas_items_to_wire(self) -> dict[str, Any] | None:
        """The ``wireflowNb`` field (None when there is nothing to keep): bypassed ids in
        node order, then any id that names no node (kept as the file had it)."""
        out: dict[str, Any] = copy.deepcopy(self._canvas_extra)
        if self._groups:
            out["groups"] = [g.to_wire() for g in self._groups]
        if self._notes:
            out["notes"] = [n.to_wire() for n in self._notes]
        if self._bypassed:
            order = [n.id for n in self._nodes if n.id in self._bypassed]
            out["bypassed"] = list(dict.fromkeys(order + sorted(self._bypassed - set(order))))
        if self._form_inputs:
            out[FORM_KEY] = list(self._form_inputs)
        return out or None

    def _copy_canvas_items(self, other: CanvasItems) -> None:
        other._init_canvas_items(self.canvas_items_to_wire())

    def canvas_snapshot(self) -> dict[str, Any]:
        """Every group, note and bypass flag as JSON (what undo restores; the "In form"
        ticks are not undone, so they are not in it)."""
        snapshot = self.canvas_items_to_wire() or {}
        snapshot.pop(FORM_KEY, None)
        return snapshot

    def restore_canvas(self, snapshot: Mapping[str, Any], what: str = "canvas") -> None:
        """Put back the groups, notes and bypass flags of a ``canvas_snapshot`` (the
        "In form" ticks stay as they are, unless ``snapshot`` lists them)."""
        form = list(self._form_inputs)
        self._init_canvas_items(copy.deepcopy(dict(snapshot)))
        if FORM_KEY not in snapshot:
            self._form_inputs = form
        self.touch(what)

    # -- groups ----------------------------------------------------------------------------
    @property
    def groups(self) -> list[Group]:
        return list(self._groups)

    def get_group(self, group_id: str) -> Group:
        for g in self._groups:
            if g.id == group_id:
                return g
        raise KeyError(f"no group {group_id!r}; groups: {', '.join(g.id for g in self._groups) or '(none)'}")

    def group_of(self, node_id: str) -> Group | None:
        """The group ``node_id`` is in, if any (a node is in at most one group)."""
        return next((g for g in self._groups if node_id in g.nodes), None)

    def _replace_group(self, group: Group) -> None:
        self._groups = [group if g.id == group.id else g for g in self._groups]

    def _take_out(self, node_ids: set[str], keep: str | None = None) -> None:
        """Take ``node_ids`` out of every group but ``keep``; a group left empty goes."""
        groups = []
        for g in self._groups:
            if g.id != keep and node_ids & set(g.nodes):
                g = Group(g.id, g.title, g.color, tuple(n for n in g.nodes if n not in node_ids), g.extra)
                if not g.nodes:
                    continue
            groups.append(g)
        self._groups = groups

    def group(
        self,
        node_ids: Iterable[str],
        *,
        title: str = "Group",
        color: str | None = None,
        id: str | None = None,
    ) -> str:
        """Put ``node_ids`` in a new group (taking them out of any other); returns its id."""
        ids = list(dict.fromkeys(node_ids))
        if not ids:
            raise ValueError("a group needs at least one node; select nodes first")
        for node_id in ids:
            if not self.has_node(node_id):
                raise KeyError(f"cannot group: no node {node_id!r}")
        group_id = id or _free_id("group", (g.id for g in self._groups))
        if any(g.id == group_id for g in self._groups):
            raise ValueError(f"a group with id {group_id!r} already exists")
        self._take_out(set(ids))
        self._groups.append(Group(group_id, str(title), color or GROUP_COLORS[0], tuple(ids)))
        self.touch("group")
        return group_id

    def add_to_group(self, group_id: str, node_ids: Iterable[str]) -> None:
        """Put more nodes in an existing group (taking them out of any other)."""
        group = self.get_group(group_id)
        ids = [n for n in dict.fromkeys(node_ids) if n not in group.nodes]
        for node_id in ids:
            if not self.has_node(node_id):
                raise KeyError(f"cannot group: no node {node_id!r}")
        self._take_out(set(ids), keep=group_id)
        self._replace_group(Group(group.id, group.title, group.color, (*group.nodes, *ids), group.extra))
        self.touch("group")

    def ungroup(self, group_id: str) -> None:
        """Remove the group (its nodes stay where they are)."""
        self.get_group(group_id)
        self._groups = [g for g in self._groups if g.id != group_id]
        self.touch("ungroup")

    def set_group(self, group_id: str, *, title: str | None = None, color: str | None = None) -> None:
        """Rename or recolour a group."""
        g = self.get_group(group_id)
        self._replace_group(
            Group(g.id, g.title if title is None else str(title), color or g.color, g.nodes, g.extra)
        )
        self.touch("group_changed")

    # -- notes -----------------------------------------------------------------------------
    @property
    def notes(self) -> list[Note]:
        return list(self._notes)

    def note(self, note_id: str) -> Note:
        for n in self._notes:
            if n.id == note_id:
                return n
        raise KeyError(f"no note {note_id!r}; notes: {', '.join(n.id for n in self._notes) or '(none)'}")

    def add_note(
        self,
        text: str = "",
        *,
        x: float = 0.0,
        y: float = 0.0,
        width: float = NOTE_WIDTH,
        height: float = NOTE_HEIGHT,
        id: str | None = None,
    ) -> str:
        """Add a note (Markdown ``text``) on the canvas; returns its id. Notes never run."""
        note_id = id or _free_id("note", (n.id for n in self._notes))
        if any(n.id == note_id for n in self._notes):
            raise ValueError(f"a note with id {note_id!r} already exists")
        self._notes.append(_checked_note(Note(note_id, str(text), x, y, width, height)))
        self.touch("add_note")
        return note_id

    def edit_note(
        self,
        note_id: str,
        *,
        text: str | None = None,
        x: float | None = None,
        y: float | None = None,
        width: float | None = None,
        height: float | None = None,
    ) -> None:
        """Change a note's text, place or size (what is not given stays)."""
        n = self.note(note_id)
        new = Note(
            n.id,
            n.text if text is None else str(text),
            n.x if x is None else x,
            n.y if y is None else y,
            n.width if width is None else width,
            n.height if height is None else height,
            n.extra,
        )
        self._notes = [_checked_note(new) if m.id == note_id else m for m in self._notes]
        self.touch("note_changed")

    def remove_note(self, note_id: str) -> None:
        self.note(note_id)
        self._notes = [n for n in self._notes if n.id != note_id]
        self.touch("remove_note")

    # -- bypass ----------------------------------------------------------------------------
    @property
    def bypassed(self) -> list[str]:
        """The bypassed nodes, in node order."""
        return [n.id for n in self._nodes if n.id in self._bypassed]

    def is_bypassed(self, node_id: str) -> bool:
        return node_id in self._bypassed

    def set_bypass(self, node_id: str, on: bool = True) -> None:
        """Bypass a node (or stop): a run passes its input of its output's kind through
        (``wireflow_nb.bypass``); the editor draws it faded."""
        if not self.has_node(node_id):
            raise KeyError(f"cannot bypass: no node {node_id!r}")
        if on == (node_id in self._bypassed):
            return
        if on:
            self._bypassed.add(node_id)
        else:
            self._bypassed.discard(node_id)
        self.touch("bypass")

    # -- inputs ticked "In form" ------------------------------------------------------------
    @property
    def form_inputs(self) -> list[str]:
        """The inputs ticked "In form" (``node_id.field``), in the order they were ticked:
        what ``WorkflowApp.make_form()`` shows. Saved with the workflow."""
        return list(self._form_inputs)

    def in_form(self, node_id: str, field: str) -> bool:
        return f"{node_id}.{field}" in self._form_inputs

    def set_form_input(self, node_id: str, field: str, on: bool = True) -> None:
        """Tick input ``field`` of ``node_id`` "In form" (or untick it)."""
        if not self.has_node(node_id):
            raise KeyError(f"cannot put in the form: no node {node_id!r}")
        if not isinstance(field, str) or not field or "." in field:
            raise ValueError(f"a form input names one field of the node, like 'text', not {field!r}")
        entry = f"{node_id}.{field}"
        if on == (entry in self._form_inputs):
            return
        if on:
            self._form_inputs.append(entry)
        else:
            self._form_inputs.remove(entry)
        self.touch("form_inputs")

    def _forget_node(self, node_id: str) -> None:
        """A removed node leaves its group (an empty group goes), loses its flag and its
        inputs leave the form."""
        self._take_out({node_id})
        self._bypassed.discard(node_id)
        self._form_inputs = [e for e in self._form_inputs if (_form_entry(e) or ("",))[0] != node_id]


def _form_entry(entry: Any) -> tuple[str, str] | None:
    """``(node_id, field)`` of a ``node_id.field`` entry (the last dot splits: node ids
    may hold dots, field names do not); None for what is not one."""
    if not isinstance(entry, str):
        return None
    node_id, dot, name = entry.rpartition(".")
    return (node_id, name) if dot and node_id and name else None


def _checked_note(note: Note) -> Note:
    for name in ("x", "y", "width", "height"):
        value = getattr(note, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"a note's {name} must be a finite number, not {value!r}")
    if note.width < MIN_NOTE_SIZE or note.height < MIN_NOTE_SIZE:
        raise ValueError(f"a note is at least {MIN_NOTE_SIZE:g} x {MIN_NOTE_SIZE:g}")
    return note
