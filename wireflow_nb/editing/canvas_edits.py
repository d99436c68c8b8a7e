"""Groups, notes and bypass in the editor: their geometry (a group's frame around its
nodes' boxes, with a title bar; a note's box and its resize corner), their hit tests, the
group or note the user picked, and the editing actions (group, ungroup, rename and
recolour, add/edit/remove a note, toggle bypass), each one undoable step
(``commands.EditCanvas``).

The model's rules (a node in at most one group, ...) are ``Workflow``'s
(``canvas_items``). Imports ``editing`` modules; never a widget library.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..canvas_items import GROUP_COLORS, MIN_NOTE_SIZE, NOTE_HEIGHT, NOTE_WIDTH, Group, Note
from .commands import EditCanvas
from .edits import Edits
from .scene import Redraw

if TYPE_CHECKING:
    from ..workflow import Workflow

__all__ = ["GROUP_PAD", "GROUP_TITLE_HEIGHT", "MIN_NOTE_SIZE", "NOTE_CORNER", "CanvasEdits", "CanvasHit"]

#: world units between a group's nodes and its frame
GROUP_PAD = 20.0
#: the title bar above a group's nodes (dragging it moves the group)
GROUP_TITLE_HEIGHT = 30.0
#: screen pixels of a note's bottom-right corner that resize it
NOTE_CORNER = 14.0

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 (world)


@dataclass(frozen=True)
class CanvasHit:
    """A group's title bar, a note, or a note's resize corner under a point."""

    kind: str  # "group" | "note" | "note-corner"
    id: str


class CanvasEdits(Edits):
    """The scene's groups and notes, and the actions on them and on bypass flags."""

    #: the group or note last picked (the inspector edits it); None when nodes were
    picked_group: str | None = None
    picked_note: str | None = None
    #: a note being moved or resized: its rectangle meanwhile (drawn instead of its own)
    note_preview: tuple[str, Rect] | None = None

    # -- geometry ---------------------------------------------------------------------------
    def group_frame(self, group: Group) -> Rect | None:
        """The frame of a group in world units (title bar included); None when none of
        its nodes is drawn."""
        box = self.bounds(group.nodes)
        if box is None:
            return None
        x0, y0, x1, y1 = box
        return (x0 - GROUP_PAD, y0 - GROUP_PAD - GROUP_TITLE_HEIGHT, x1 + GROUP_PAD, y1 + GROUP_PAD)

    def group_frames(self) -> list[tuple[Group, Rect]]:
        return [(g, r) for g in self.workflow.groups if (r := self.group_frame(g)) is not None]

    def note_rect(self, note: Note) -> Rect:
        if self.note_preview is not None and self.note_preview[0] == note.id:
            return self.note_preview[1]
        return (note.x, note.y, note.x + note.width, note.y + note.height)

    def hit_canvas_item(self, sx: float, sy: float) -> CanvasHit | None:
        """A note (its corner first) or a group's title bar under a screen point; notes
        are drawn above groups, the last one on top."""
        wx, wy = self.view.to_world(sx, sy)
        corner = NOTE_CORNER / self.view.zoom
        for note in reversed(self.workflow.notes):
            x0, y0, x1, y1 = self.note_rect(note)
            if x1 - corner <= wx <= x1 and y1 - corner <= wy <= y1:
                return CanvasHit("note-corner", note.id)
            if x0 <= wx <= x1 and y0 <= wy <= y1:
                return CanvasHit("note", note.id)
        for group, (x0, y0, x1, _y1) in reversed(self.group_frames()):
            if x0 <= wx <= x1 and y0 <= wy <= y0 + GROUP_TITLE_HEIGHT:
                return CanvasHit("group", group.id)
        return None

    # -- picking ----------------------------------------------------------------------------
    def sync(self, *, force: bool = False) -> bool:
        changed = super().sync(force=force)
        wf = self.workflow
        if self.picked_group is not None and not any(g.id == self.picked_group for g in wf.groups):
            self.picked_group = None
        if self.picked_note is not None and not any(n.id == self.picked_note for n in wf.notes):
            self.picked_note = None
        return changed

    def set_workflow(self, workflow: Workflow) -> None:
        self.picked_group = self.picked_note = None
        self.note_preview = None
        super().set_workflow(workflow)

    def select(self, node_ids: Iterable[str] = (), edge_keys: Iterable[str] = ()) -> Redraw:
        flags = super().select(node_ids, edge_keys)
        if self.picked_group is not None or self.picked_note is not None:
            self.picked_group = self.picked_note = None
            flags |= Redraw.SELECTION | Redraw.STATIC
        return flags

    def pick_group(self, group_id: str) -> Redraw:
        """Select a group's nodes and pick the group (its title and colour edit)."""
        flags = self.select(self.workflow.get_group(group_id).nodes)
        self.picked_group = group_id
        return flags | Redraw.SELECTION | Redraw.STATIC

    def pick_note(self, note_id: str) -> Redraw:
        self.workflow.note(note_id)
        flags = self.select()
        self.picked_note = note_id
        return flags | Redraw.SELECTION | Redraw.STATIC

    # -- actions ----------------------------------------------------------------------------
    def _canvas(self, change: EditCanvas, message: str) -> Redraw:
        flags = self.execute(change)
        self.message = message
        return flags | Redraw.STATUS

    def group_selection(self, title: str = "Group", color: str | None = None) -> Redraw:
        """Ctrl+G: put the selected nodes in a new group (one undo step) and pick it."""
        ids = self.selected_ids
        if not ids:
            self.message = "select nodes to group first"
            return Redraw.STATUS
        made: list[str] = []
        flags = self._canvas(
            EditCanvas(lambda wf: made.append(wf.group(ids, title=title, color=color)), label="group"),
            f"grouped {len(ids)} node{'s' if len(ids) != 1 else ''}",
        )
        return flags | self.pick_group(made[0])

    def ungroup(self, group_id: str | None = None) -> Redraw:
        """Ctrl+Shift+G: remove the picked group (or the one the selected nodes are in)."""
        gid = group_id or self.picked_group or self._selection_group()
        if gid is None:
            self.message = "no group to ungroup"
            return Redraw.STATUS
        flags = self._canvas(EditCanvas(lambda wf: wf.ungroup(gid), label="ungroup"), f"ungrouped {gid}")
        self.picked_group = None
        return flags | Redraw.SELECTION

    def _selection_group(self) -> str | None:
        groups = {g.id for n in self.selected_ids if (g := self.workflow.group_of(n)) is not None}
        return groups.pop() if len(groups) == 1 else None

    def edit_group(self, group_id: str, *, title: str | None = None, color: str | None = None) -> Redraw:
        g = self.workflow.get_group(group_id)
        if (title is None or title == g.title) and (color is None or color == g.color):
            return Redraw.NONE
        return self._canvas(
            EditCanvas(lambda wf: wf.set_group(group_id, title=title, color=color), label="edit group"),
            f"group {group_id} changed",
        )

    def next_group_color(self) -> str:
        used = [g.color for g in self.workflow.groups]
        return min(GROUP_COLORS, key=lambda c: (used.count(c), GROUP_COLORS.index(c)))

    def add_note(self, text: str = "", *, position: tuple[float, float] | None = None) -> tuple[str, Redraw]:
        """Add a note at ``position`` (world) or a free spot in view; picks it."""
        x, y = position if position is not None else self.free_spot(NOTE_WIDTH, NOTE_HEIGHT)
        made: list[str] = []
        flags = self._canvas(
            EditCanvas(lambda wf: made.append(wf.add_note(text, x=x, y=y)), label="add note"), "added a note"
        )
        return made[0], flags | self.pick_note(made[0])

    def edit_note(
        self,
        note_id: str,
        *,
        text: str | None = None,
        rect: Rect | None = None,
        label: str = "edit note",
    ) -> Redraw:
        """Change a note's text, or its place and size (``rect``, world), as one step."""
        n = self.workflow.note(note_id)
        place: dict[str, float] = {}
        if rect is not None:
            x0, y0, x1, y1 = rect
            place = {
                "x": round(x0, 2),
                "y": round(y0, 2),
                "width": round(max(MIN_NOTE_SIZE, x1 - x0), 2),
                "height": round(max(MIN_NOTE_SIZE, y1 - y0), 2),
            }
        if (text is None or text == n.text) and all(getattr(n, k) == v for k, v in place.items()):
            return Redraw.NONE
        return self._canvas(
            EditCanvas(lambda wf: wf.edit_note(note_id, text=text, **place), label=label), label
        )

    def remove_note(self, note_id: str) -> Redraw:
        flags = self._canvas(
            EditCanvas(lambda wf: wf.remove_note(note_id), label="delete note"), "deleted a note"
        )
        if self.picked_note == note_id:
            self.picked_note = None
        return flags | Redraw.SELECTION

    def set_bypass(self, node_ids: Iterable[str], on: bool) -> Redraw:
        ids = [n for n in node_ids if self.workflow.is_bypassed(n) != on]
        if not ids:
            return Redraw.NONE

        def change(wf: Workflow) -> None:
            for n in ids:
                wf.set_bypass(n, on)

        label = "bypass" if on else "un-bypass"
        return self._canvas(EditCanvas(change, label=label), f"{label}ed {', '.join(ids)}")

    def toggle_bypass(self) -> Redraw:
        """Ctrl+B: bypass the selected nodes (un-bypass them when all are), one step."""
        ids = self.selected_ids
        if not ids:
            self.message = "select nodes to bypass first"
            return Redraw.STATUS
        return self.set_bypass(ids, not all(self.workflow.is_bypassed(n) for n in ids))
