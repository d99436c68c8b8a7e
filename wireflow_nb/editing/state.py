"""``EditorState``: the editor's pure model, with no widget imports.

Ties the scene (boxes, view, selection, hit tests, undo/redo: ``scene``), the editing
actions (``edits``), the pointer gestures (``gestures``; the minimap's first:
``minimap_gestures``), quick add (``quickadd``) and, here, the keyboard
shortcuts. The ``Workflow`` stays the source of truth for nodes, edges, data and
positions; every method returns ``Redraw`` flags that name what must be redrawn, so the
widget shell draws only that (one ``hold_canvas`` batch per event).

Imports ``editing`` modules only; never a widget library.
"""

from __future__ import annotations

from .geometry import GRID, ZOOM_STEP
from .minimap_gestures import MinimapGestures
from .quickadd import QuickAdd
from .scene import Redraw


class EditorState(QuickAdd, MinimapGestures):
    """Everything the editor knows besides the workflow, and every gesture's logic.

    Screen coordinates here are CSS pixels of the canvas; the widget divides the
    browser's event coordinates (canvas buffer pixels) by the pixel ratio first.
    """

    # keys -------------------------------------------------------------------------------------
    def key(self, key: str, shift: bool = False, ctrl: bool = False, meta: bool = False) -> Redraw:
        """A key press (the browser reports no key-up: no hold-to-pan)."""
        if self.quick_add is not None:  # the open quick-add box takes every key
            return self.quick_add_key(key, ctrl, meta)
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
            if k == "g":
                return self.ungroup() if shift else self.group_selection(color=self.next_group_color())
            if k == "b":
                return self.toggle_bypass()
            return Redraw.NONE
        if key in ("Delete", "Backspace"):
            if self.picked_note is not None and not self.selection:
                return self.remove_note(self.picked_note)
            return self.delete_selection()
        if key == "Escape":
            if self.gesture is not None or self.minimap_drag is not None:
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
