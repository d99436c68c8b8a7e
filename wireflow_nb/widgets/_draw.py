"""Drawing an ``EditorState`` onto canvas-like objects (ipycanvas ``Canvas`` layers, or
any object with the same methods: tests use a recorder).

Each function draws one layer from scratch. Layers draw in world coordinates under a
transform ``scale(pixel_ratio * zoom) + pan`` so a high-DPI buffer stays sharp; the
overlay draws in screen coordinates. Items are drawn with ipycanvas' vectorized calls
(one call for all node bodies, one for all ports, one for all edges, ...), only what is
in view is sent, and text is left out or enlarged when it would be too small to read.

The model (``editing``) and the colours (``editing.style``) are pure; this module adds
the canvas calls. It imports numpy and ``editing``; it never imports ipycanvas (a layer
is any object with the canvas methods).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..editing.geometry import (
    GRID,
    HEADER_HEIGHT,
    PORT_RADIUS,
    NodeBox,
    View,
    bezier_points,
    curve_reach,
    thumb_rect,
)
from ..editing.gestures import BoxSelect, Connect
from ..editing.state import EditorState
from ..editing.style import (
    BACKGROUND,
    BORDER,
    CHAMFER,
    FAILED,
    GRID_MAJOR,
    GRID_MINOR,
    LABEL_FONT_PX,
    MIN_TEXT_PX,
    MISSING,
    MUTED,
    NODE_FILL,
    OK_GREEN,
    SELECTED,
    SMALL_FONT_PX,
    TEXT,
    UNKNOWN_FILL,
    badge_width,
    category_color,
    fit_text,
    kind_color,
    rgb,
    status_color,
)
from ._draw_items import draw_bypass_veils, draw_groups_and_notes


# -- transforms --------------------------------------------------------------------------
def apply_view(layer: Any, view: View, ratio: float) -> None:
    z = ratio * view.zoom
    layer.set_transform(z, 0, 0, z, ratio * view.x, ratio * view.y)


def clear(layer: Any, ratio: float, view: View | None = None) -> None:
    """Clear the whole layer (ipycanvas clears through the transform, so reset it first)."""
    layer.reset_transform()
    layer.clear()
    if view is not None:
        apply_view(layer, view, ratio)
    else:
        layer.set_transform(ratio, 0, 0, ratio, 0, 0)


def _visible(box: NodeBox, rect: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = rect
    return box.x <= x1 and box.x + box.w >= x0 and box.y <= y1 and box.y + box.h >= y0


# -- grid ---------------------------------------------------------------------------------
def draw_grid(layer: Any, state: EditorState, ratio: float) -> None:
    view = state.view
    layer.reset_transform()
    layer.clear()
    layer.fill_style = BACKGROUND
    layer.fill_rect(0, 0, state.width * ratio, state.height * ratio)
    apply_view(layer, view, ratio)
    spacing = GRID
    while spacing * view.zoom < 12:
        spacing *= 5
    x0, y0, x1, y1 = state.visible_rect()
    major = spacing * 5
    xs = np.arange(math.floor(x0 / spacing) * spacing, x1 + spacing, spacing)
    ys = np.arange(math.floor(y0 / spacing) * spacing, y1 + spacing, spacing)
    layer.line_width = 1.0 / view.zoom
    for color, pick in ((GRID_MINOR, False), (GRID_MAJOR, True)):
        vx = xs[np.isclose(np.mod(xs, major), 0) | np.isclose(np.mod(xs, major), major)] if pick else xs
        vy = ys[np.isclose(np.mod(ys, major), 0) | np.isclose(np.mod(ys, major), major)] if pick else ys
        segs = []
        if len(vx):
            segs.append(
                np.stack(
                    [np.stack([vx, np.full_like(vx, y0)], 1), np.stack([vx, np.full_like(vx, y1)], 1)], 1
                )
            )
        if len(vy):
            segs.append(
                np.stack(
                    [np.stack([np.full_like(vy, x0), vy], 1), np.stack([np.full_like(vy, x1), vy], 1)], 1
                )
            )
        if segs:
            layer.stroke_style = color
            layer.stroke_line_segments(np.concatenate(segs).astype(np.float32))


# -- edges --------------------------------------------------------------------------------
def edge_geometry(
    state: EditorState, *, live: bool | None = None, cull: bool = True
) -> tuple[list[str], np.ndarray, list[str]]:
    """Keys, sampled curves (n, k, 2) and kinds of the edges to draw.

    ``live``: True for edges touching moving nodes, False for the others, None for all.
    """
    rect = state.visible_rect(margin=40.0)
    keys: list[str] = []
    p0: list[tuple[float, float]] = []
    p3: list[tuple[float, float]] = []
    kinds: list[str] = []
    moving = state.moving
    hidden = state.hidden_edge
    for key, edge in state.edges:
        if live is not None and ((edge.source in moving or edge.target in moving) != live):
            continue
        if key == hidden:
            continue
        ends = state.edge_points(edge)
        if ends is None:
            continue
        (ax, ay), (bx, by) = ends
        if cull:
            d = curve_reach(ax, bx)
            if (
                max(ax, bx) + d < rect[0]
                or min(ax, bx) - d > rect[2]
                or max(ay, by) < rect[1]
                or min(ay, by) > rect[3]
            ):
                continue
        keys.append(key)
        p0.append((ax, ay))
        p3.append((bx, by))
        kinds.append(state.edge_kind(edge))
    if not keys:
        return [], np.zeros((0, 2, 2)), []
    return keys, bezier_points(np.array(p0), np.array(p3)), kinds


def draw_edges(
    layer: Any,
    state: EditorState,
    ratio: float,
    *,
    live: bool | None = False,
    cull: bool = True,
    clear_first: bool = True,
) -> None:
    """The edges (of the moving nodes: ``live``; all: ``None``), over the group frames
    and notes; ``clear_first=False`` draws over what the layer holds (the grid)."""
    if clear_first:
        clear(layer, ratio, state.view)
    else:
        apply_view(layer, state.view, ratio)
    if live is not None:  # group frames (of the dragged nodes: live) and notes under the edges
        draw_groups_and_notes(layer, state, live=live)
    keys, pts, kinds = edge_geometry(state, live=live, cull=cull)
    if not keys:
        return
    z = state.view.zoom
    pts32 = pts.astype(np.float32)
    layer.line_width = max(2.0, 1.2 / z)
    colors = np.array([rgb(kind_color(k)) for k in kinds], dtype=np.uint8)
    layer.stroke_styled_line_segments(pts32, colors, 0.9)
    chosen = [i for i, k in enumerate(keys) if k in state.edge_selection]
    if chosen:
        layer.line_width = max(4.0, 2.5 / z)
        layer.stroke_style = SELECTED
        layer.stroke_line_segments(pts32[chosen])


# -- nodes --------------------------------------------------------------------------------
def _body(b: NodeBox) -> list[tuple[float, float]]:
    x, y, w, h, c = b.x, b.y, b.w, b.h, CHAMFER
    return [
        (x + c, y),
        (x + w - c, y),
        (x + w, y + c),
        (x + w, y + h - c),
        (x + w - c, y + h),
        (x + c, y + h),
        (x, y + h - c),
        (x, y + c),
    ]


def _header(b: NodeBox) -> list[tuple[float, float]]:
    x, y, w, c = b.x, b.y, b.w, CHAMFER
    return [
        (x + c, y),
        (x + w - c, y),
        (x + w, y + c),
        (x + w, y + HEADER_HEIGHT),
        (x, y + HEADER_HEIGHT),
        (x, y + c),
    ]


def overlap_batches(boxes: Sequence[NodeBox]) -> list[list[NodeBox]]:
    """Split boxes (in draw order) into runs where no box overlaps an earlier one of its
    run, so each run can be drawn with vectorized calls and still stack correctly."""
    if len(boxes) <= 1:
        return [list(boxes)] if boxes else []
    r = np.array([(b.x, b.y, b.x + b.w, b.y + b.h) for b in boxes], dtype=np.float64)
    if len(boxes) <= 3000:
        # the usual case, no overlap at all, in one vectorized test
        hits = (
            (r[:, None, 0] < r[None, :, 2])
            & (r[None, :, 0] < r[:, None, 2])
            & (r[:, None, 1] < r[None, :, 3])
            & (r[None, :, 1] < r[:, None, 3])
        )
        np.fill_diagonal(hits, False)
        if not hits.any():
            return [list(boxes)]
    batches: list[list[NodeBox]] = []
    start = 0
    current: list[NodeBox] = []
    for i, b in enumerate(boxes):
        if current:
            prev = r[start:i]
            hit = (
                (prev[:, 0] < r[i, 2])
                & (r[i, 0] < prev[:, 2])
                & (prev[:, 1] < r[i, 3])
                & (r[i, 1] < prev[:, 3])
            )
            if hit.any():
                batches.append(current)
                current, start = [], i
        current.append(b)
    batches.append(current)
    return batches


def draw_nodes(
    layer: Any,
    state: EditorState,
    ratio: float,
    ids: Iterable[str] | None = None,
    *,
    images: Mapping[str, tuple[Any, tuple[int, int]]] | None = None,
    cull: bool = True,
    clear_first: bool = True,
    outline_selected: bool = True,
) -> None:
    """Draw nodes ``ids`` (default: all but the moving ones) in workflow order.

    ``outline_selected=False`` leaves the selection outline to ``draw_selection`` (the
    static layer then need not be redrawn when the selection changes)."""
    if clear_first:
        clear(layer, ratio, state.view)
    if ids is None:
        boxes = [b for b in state.boxes.values() if b.id not in state.moving]
    else:
        wanted = set(ids)
        boxes = [b for b in state.boxes.values() if b.id in wanted]
    if cull:
        rect = state.visible_rect(margin=20.0)
        boxes = [b for b in boxes if _visible(b, rect)]
    for batch in overlap_batches(boxes):
        _draw_batch(layer, state, batch, images or {}, outline_selected)


def _draw_batch(
    layer: Any,
    state: EditorState,
    boxes: list[NodeBox],
    images: Mapping[str, tuple[Any, tuple[int, int]]],
    outline_selected: bool = True,
) -> None:
    if not boxes:
        return
    z = state.view.zoom
    bodies = np.array([_body(b) for b in boxes], dtype=np.float32)
    layer.fill_styled_polygons(
        bodies, np.array([rgb(NODE_FILL if b.known else UNKNOWN_FILL) for b in boxes], dtype=np.uint8), 1
    )
    layer.fill_styled_polygons(
        np.array([_header(b) for b in boxes], dtype=np.float32),
        np.array([rgb(category_color(b.category, b.known)) for b in boxes], dtype=np.uint8),
        1,
    )
    # outlines: thin for plain nodes, thick and coloured for selected/highlighted/failed
    thick: list[int] = []
    thick_colors: list[tuple[int, int, int]] = []
    for i, b in enumerate(boxes):
        color = None
        if outline_selected and b.id in state.selection:
            color = SELECTED
        elif b.id in state.highlights:
            color = state.highlights[b.id]
        elif state.statuses.get(b.id, "").strip().lower().startswith(("failed", "timeout")):
            color = FAILED
        if color is not None:
            thick.append(i)
            thick_colors.append(rgb(color))
    layer.line_width = max(1.0, 1.0 / z)
    layer.stroke_style = BORDER
    layer.stroke_polygons(bodies)
    if thick:
        layer.line_width = max(2.5, 2.0 / z)
        layer.stroke_styled_polygons(bodies[thick], np.array(thick_colors, dtype=np.uint8), 1)
    # ports: filled by kind; inputs without an edge get a white core
    detail = z * LABEL_FONT_PX >= MIN_TEXT_PX
    if z * PORT_RADIUS * 2 >= 2.0:
        px: list[float] = []
        py: list[float] = []
        pc: list[tuple[int, int, int]] = []
        hx: list[float] = []
        hy: list[float] = []
        for b in boxes:
            for i, p in enumerate(b.inputs):
                x, y = b.input_point(i)
                px.append(x)
                py.append(y)
                pc.append(rgb(kind_color(p.kind)))
                if p.name not in b.fed:
                    hx.append(x)
                    hy.append(y)
            for i, p in enumerate(b.outputs):
                x, y = b.output_point(i)
                px.append(x)
                py.append(y)
                pc.append(rgb(kind_color(p.kind)))
        if px:
            layer.fill_styled_circles(
                np.array(px, dtype=np.float32),
                np.array(py, dtype=np.float32),
                PORT_RADIUS,
                np.array(pc, dtype=np.uint8),
                1,
            )
        if hx and detail:
            layer.fill_style = NODE_FILL
            layer.fill_circles(
                np.array(hx, dtype=np.float32), np.array(hy, dtype=np.float32), PORT_RADIUS * 0.45
            )
    # thumbnails
    for b in boxes:
        picture = images.get(b.id) if b.thumb else None
        if picture is not None:
            widget, size = picture
            x, y, w, h = thumb_rect(b, size)
            layer.draw_image(widget, x, y, w, h)
    _draw_texts(layer, state, boxes, detail)
    draw_bypass_veils(layer, state, boxes, bodies)


def _draw_texts(layer: Any, state: EditorState, boxes: list[NodeBox], detail: bool) -> None:
    z = state.view.zoom
    layer.text_baseline = "alphabetic"
    layer.text_align = "left"
    if not detail:
        # far out: the label alone, drawn larger so it stays readable on screen
        px = 11.0 / z
        if px > 220:
            return
        layer.font = f"600 {px:.1f}px sans-serif"
        layer.fill_style = TEXT
        for b in boxes:
            text = fit_text(b.label, b.w - 8, px)
            if text:
                layer.fill_text(text, b.x + 4, b.y + min(b.h - 4, px + 4))
        return
    badges = [(b, state.statuses[b.id]) for b in boxes if state.statuses.get(b.id)]
    badge_w = {b.id: badge_width(s) for b, s in badges}
    layer.font = f"600 {LABEL_FONT_PX:.0f}px sans-serif"
    layer.fill_style = TEXT
    for b in boxes:
        room = b.w - 20 - badge_w.get(b.id, 0)
        layer.fill_text(fit_text(b.label, room, LABEL_FONT_PX * 1.04), b.x + 10, b.y + 18)
    layer.font = f"{SMALL_FONT_PX:.0f}px sans-serif"
    layer.fill_style = MUTED
    for b in boxes:
        kind = b.node_type if b.known else f"{b.node_type} (not in catalog)"
        layer.fill_text(fit_text(kind, b.w - 20, SMALL_FONT_PX), b.x + 10, b.y + 34)
    # port names: inputs on the left, outputs right-aligned; missing required in red
    plain: list[tuple[str, float, float]] = []
    missing: list[tuple[str, float, float]] = []
    right: list[tuple[str, float, float]] = []
    for b in boxes:
        half = b.w / 2 - 14
        for i, p in enumerate(b.inputs):
            item = (fit_text(p.text, half, SMALL_FONT_PX), b.x + 12, b.port_y(i) + 4)
            (missing if p.name in b.missing else plain).append(item)
        for i, p in enumerate(b.outputs):
            right.append((fit_text(p.text, half, SMALL_FONT_PX), b.x + b.w - 12, b.port_y(i) + 4))
    layer.fill_style = "#374151"
    for text, x, y in plain:
        layer.fill_text(text, x, y)
    if missing:
        layer.fill_style = MISSING
        for text, x, y in missing:
            layer.fill_text(text, x, y)
    layer.text_align = "right"
    layer.fill_style = "#374151"
    for text, x, y in right:
        layer.fill_text(text, x, y)
    if badges:
        pills = []
        colors = []
        for b, s in badges:
            w = badge_w[b.id]
            x1, y0 = b.x + b.w - 8, b.y + 7
            x0, y1 = x1 - w, y0 + 16
            pills.append(
                [
                    (x0 + 4, y0),
                    (x1 - 4, y0),
                    (x1, y0 + 4),
                    (x1, y1 - 4),
                    (x1 - 4, y1),
                    (x0 + 4, y1),
                    (x0, y1 - 4),
                    (x0, y0 + 4),
                ]
            )
            colors.append(rgb(status_color(s)))
        layer.fill_styled_polygons(np.array(pills, dtype=np.float32), np.array(colors, dtype=np.uint8), 1)
        layer.font = "600 10px sans-serif"
        layer.text_align = "center"
        layer.fill_style = "#ffffff"
        for b, s in badges:
            layer.fill_text(s.lower(), b.x + b.w - 8 - badge_w[b.id] / 2, b.y + 19)
    layer.text_align = "left"


def draw_selection(layer: Any, state: EditorState, ratio: float) -> None:
    """Outlines of the selected nodes (those not being dragged), alone on their layer so
    that selecting costs a few commands, not a redraw of every node."""
    clear(layer, ratio, state.view)
    rect = state.visible_rect(margin=20.0)
    boxes = [
        b
        for b in state.boxes.values()
        if b.id in state.selection and b.id not in state.moving and _visible(b, rect)
    ]
    if not boxes:
        return
    layer.line_width = max(2.5, 2.0 / state.view.zoom)
    layer.stroke_style = SELECTED
    layer.stroke_polygons(np.array([_body(b) for b in boxes], dtype=np.float32))


# -- overlay ------------------------------------------------------------------------------
def draw_overlay(layer: Any, state: EditorState, ratio: float, *, clear_first: bool = True) -> None:
    """Gesture feedback in screen coordinates: the selection box, or a connection being
    drawn with the ports that accept it (green) and the one under the pointer.

    ``clear_first=False`` draws over what the layer holds (the live layer's outlines or
    moving nodes), and sends nothing when there is no feedback to show."""
    g = state.gesture
    shown = (isinstance(g, BoxSelect) and g.moved) or isinstance(g, Connect)
    if clear_first:
        clear(layer, ratio)
    elif shown:
        layer.set_transform(ratio, 0, 0, ratio, 0, 0)
    if isinstance(g, BoxSelect) and g.moved:
        (ax, ay), (bx, by) = g.start, g.end
        x, y, w, h = min(ax, bx), min(ay, by), abs(bx - ax), abs(by - ay)
        layer.fill_style = "rgba(37, 99, 235, 0.08)"
        layer.fill_rect(x, y, w, h)
        layer.line_width = 1
        layer.stroke_style = SELECTED
        layer.stroke_rect(x, y, w, h)
        if g.preview:
            z = state.view.zoom
            bs = [state.boxes[n] for n in g.preview if n in state.boxes]
            xs = np.array([b.x * z + state.view.x - 2 for b in bs], dtype=np.float32)
            ys = np.array([b.y * z + state.view.y - 2 for b in bs], dtype=np.float32)
            ws = np.array([b.w * z + 4 for b in bs], dtype=np.float32)
            hs = np.array([b.h * z + 4 for b in bs], dtype=np.float32)
            layer.line_width = 2
            layer.stroke_rects(xs, ys, ws, hs)
        return
    if not isinstance(g, Connect):
        return
    view = state.view
    if len(g.xy):
        sxy = g.xy * view.zoom + np.array([view.x, view.y])
        ok = np.array([c[4].ok for c in g.candidates], dtype=bool)
        inside = (
            (sxy[:, 0] >= -10)
            & (sxy[:, 0] <= state.width + 10)
            & (sxy[:, 1] >= -10)
            & (sxy[:, 1] <= state.height + 10)
        )
        good = sxy[ok & inside].astype(np.float32)
        if len(good):
            layer.line_width = 2
            layer.stroke_style = OK_GREEN
            layer.stroke_circles(good[:, 0], good[:, 1], 9.0)
    start = view.to_screen(*g.origin)
    end = g.pointer
    hover = g.candidates[g.hover] if g.hover >= 0 else None
    color = SELECTED
    if hover is not None:
        end = view.to_screen(hover[2], hover[3])
        color = OK_GREEN if hover[4].ok else FAILED
    a, b = (start, end) if g.side == "out" else (end, start)
    curve = bezier_points(np.array([a]), np.array([b]))[0].astype(np.float32)
    layer.line_width = 2.5
    layer.stroke_style = color
    layer.set_line_dash([7, 5])
    layer.stroke_lines(curve)
    layer.set_line_dash([])
    if hover is not None:
        layer.line_width = 3
        layer.stroke_circle(end[0], end[1], 11.0)
        if not hover[4].ok:
            layer.font = "12px sans-serif"
            layer.text_align = "left"
            layer.text_baseline = "alphabetic"
            text = fit_text(hover[4].reason, state.width - end[0] - 20, 12) or fit_text(
                hover[4].reason, 300, 12
            )
            tx = (
                end[0] + 16
                if end[0] + 16 + 7.2 * len(text) < state.width
                else max(4.0, end[0] - 16 - 7.2 * len(text))
            )
            layer.fill_style = "rgba(255, 255, 255, 0.9)"
            layer.fill_rect(tx - 4, end[1] - 24, 7.2 * len(text) + 8, 18)
            layer.fill_style = FAILED
            layer.fill_text(text, tx, end[1] - 11)


# -- the whole scene on one canvas (the naive editor of the benchmark, pictures) ----------
def draw_scene(
    canvas: Any,
    state: EditorState,
    ratio: float,
    *,
    images: Mapping[str, tuple[Any, tuple[int, int]]] | None = None,
    cull: bool = True,
) -> None:
    """Grid, every edge and every node on a single canvas."""
    draw_grid(canvas, state, ratio)
    apply_view(canvas, state.view, ratio)
    draw_groups_and_notes(canvas, state, live=None)
    keys, pts, kinds = edge_geometry(state, live=None, cull=cull)
    if keys:
        canvas.line_width = max(2.0, 1.2 / state.view.zoom)
        colors = np.array([rgb(kind_color(k)) for k in kinds], dtype=np.uint8)
        canvas.stroke_styled_line_segments(pts.astype(np.float32), colors, 0.9)
    draw_nodes(canvas, state, ratio, list(state.boxes), images=images, cull=cull, clear_first=False)
