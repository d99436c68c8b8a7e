"""Drawing what a workflow holds besides nodes and edges: group frames (a coloured,
titled frame under the nodes), notes (their Markdown as wrapped lines,
``editing.style.note_lines``) and the veil that fades a bypassed node.

Called by ``_draw`` (the static edges layer draws frames and notes first, so edges and
nodes stay on top; each node batch ends with the veils). Like ``_draw``, it imports
numpy and ``editing``, never ipycanvas: a layer is any object with the canvas methods.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..editing.canvas_edits import GROUP_TITLE_HEIGHT
from ..editing.geometry import NodeBox
from ..editing.state import EditorState
from ..editing.style import (
    BACKGROUND,
    BYPASS_VEIL,
    LABEL_FONT_PX,
    MIN_TEXT_PX,
    MUTED,
    NOTE_BORDER,
    NOTE_FILL,
    SELECTED,
    TEXT,
    fit_text,
    note_lines,
    rgb,
)

__all__ = ["draw_bypass_veils", "draw_groups_and_notes"]

NOTE_PAD = 10.0
NOTE_LINE = 1.35  # line height, in font sizes


def _overlaps(rect: tuple[float, float, float, float], view: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = rect
    v0, w0, v1, w1 = view
    return x0 <= v1 and x1 >= v0 and y0 <= w1 and y1 >= w0


def draw_groups_and_notes(layer: Any, state: EditorState, *, live: bool | None = False) -> None:
    """Group frames, then notes, in world coordinates (the layer's transform is the view).

    ``live``: True for the frames of groups whose nodes are being dragged (the live
    layer; no notes), False for the others and the notes, None for all."""
    view = state.visible_rect(margin=20.0)
    z = state.view.zoom
    detail = z * LABEL_FONT_PX >= MIN_TEXT_PX
    for group, rect in state.group_frames():
        if live is not None and bool(state.moving.intersection(group.nodes)) != live:
            continue
        if not _overlaps(rect, view):
            continue
        x0, y0, x1, y1 = rect
        r, g, b = rgb(group.color)
        layer.fill_style = f"rgba({r}, {g}, {b}, 0.10)"
        layer.fill_rect(x0, y0, x1 - x0, y1 - y0)
        layer.fill_style = f"rgba({r}, {g}, {b}, 0.85)"
        layer.fill_rect(x0, y0, x1 - x0, GROUP_TITLE_HEIGHT)
        picked = state.picked_group == group.id
        layer.line_width = max(2.5, 2.0 / z) if picked else max(1.0, 1.0 / z)
        layer.stroke_style = SELECTED if picked else group.color
        layer.stroke_rect(x0, y0, x1 - x0, y1 - y0)
        if detail:
            layer.font = f"bold {LABEL_FONT_PX:g}px sans-serif"
            layer.text_align = "left"
            layer.text_baseline = "middle"
            layer.fill_style = "#ffffff"
            layer.fill_text(
                fit_text(group.title, x1 - x0 - 20, LABEL_FONT_PX), x0 + 10, y0 + GROUP_TITLE_HEIGHT / 2
            )
    for note in state.workflow.notes if live is not True else ():
        rect = state.note_rect(note)
        if not _overlaps(rect, view):
            continue
        x0, y0, x1, y1 = rect
        layer.fill_style = NOTE_FILL
        layer.fill_rect(x0, y0, x1 - x0, y1 - y0)
        picked = state.picked_note == note.id
        layer.line_width = max(2.5, 2.0 / z) if picked else max(1.0, 1.0 / z)
        layer.stroke_style = SELECTED if picked else NOTE_BORDER
        layer.stroke_rect(x0, y0, x1 - x0, y1 - y0)
        # the resize corner
        layer.stroke_style = MUTED
        layer.stroke_line(x1 - 10, y1 - 3, x1 - 3, y1 - 10)
        if not detail:
            continue
        font = LABEL_FONT_PX
        layer.text_align = "left"
        layer.text_baseline = "top"
        y = y0 + NOTE_PAD
        for text, bold in note_lines(note.text, x1 - x0 - 2 * NOTE_PAD, font):
            if y + font > y1 - NOTE_PAD / 2:
                break
            layer.font = f"{'bold ' if bold else ''}{font:g}px sans-serif"
            layer.fill_style = TEXT
            layer.fill_text(text, x0 + NOTE_PAD, y)
            y += font * NOTE_LINE


def draw_bypass_veils(layer: Any, state: EditorState, boxes: list[NodeBox], bodies: np.ndarray) -> None:
    """Fade the bypassed nodes of a batch (drawn over them, in one call)."""
    wf = state.workflow
    chosen = [i for i, b in enumerate(boxes) if wf.is_bypassed(b.id)]
    if not chosen:
        return
    layer.fill_styled_polygons(
        bodies[chosen], np.array([rgb(BACKGROUND)] * len(chosen), dtype=np.uint8), BYPASS_VEIL
    )
    if state.view.zoom * LABEL_FONT_PX >= MIN_TEXT_PX:
        layer.font = f"italic {LABEL_FONT_PX:g}px sans-serif"
        layer.text_align = "right"
        layer.text_baseline = "alphabetic"
        layer.fill_style = MUTED
        for i in chosen:
            b = boxes[i]
            layer.fill_text("bypassed", b.x + b.w - 8, b.y + b.h - 6)
        layer.text_align = "left"
