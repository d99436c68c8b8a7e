"""An SVG picture of a ``Workflow``, for renderers without widgets (GitHub, nbviewer,
nbconvert HTML): ``Workflow._repr_svg_``, and the widgets' static fallback
(``widgets/_static.py``), which adds the run's status badges and output thumbnails.

Same geometry and colours as the canvas editor, from the editor's pure model
(``editing``: no widget imports, so this stays light); every text is XML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING

from .editing import style
from .editing.canvas_edits import GROUP_TITLE_HEIGHT
from .editing.geometry import HEADER_HEIGHT, PORT_RADIUS, NodeBox, curve_reach, thumb_rect
from .editing.state import EditorState

if TYPE_CHECKING:
    from .canvas_items import Group
    from .catalog import Catalog
    from .workflow import Workflow

__all__ = ["workflow_svg"]

#: Widest picture, in CSS px; bigger graphs are scaled down to it.
MAX_WIDTH = 960.0
PAD = 24.0
Rect = tuple[float, float, float, float]
#: a node's thumbnail: a ``data:image/...`` URL and the picture's size in pixels
Thumb = tuple[str, tuple[int, int]]


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def workflow_svg(
    workflow: Workflow,
    *,
    catalog: Catalog | None = None,
    max_width: float = MAX_WIDTH,
    statuses: Mapping[str, str] | None = None,
    thumbs: Mapping[str, Thumb] | None = None,
) -> str:
    """The workflow as an SVG document (nodes, ports and edges at their positions).

    ``statuses``: node id -> the badge drawn on the node, as the editor draws it;
    ``thumbs``: node id -> a thumbnail drawn below its ports (only ``data:image/`` URLs
    are drawn: the picture must stand alone, with no link to a file or a server).
    """
    if catalog is None:
        from .catalog import default_catalog

        catalog = default_catalog()
    state = EditorState(workflow, catalog)
    pictures = {k: v for k, v in (thumbs or {}).items() if v[0].startswith("data:image/")}
    if pictures:  # taller boxes, as on the canvas
        state.thumbs = set(pictures)
        state.sync(force=True)
    frames = state.group_frames()
    items = [r for _, r in frames] + [state.note_rect(n) for n in workflow.notes]
    bounds = state.bounds()
    if items:  # frames and notes are in the picture too
        corners = [*items, *([bounds] if bounds is not None else [])]
        bounds = (
            min(r[0] for r in corners),
            min(r[1] for r in corners),
            max(r[2] for r in corners),
            max(r[3] for r in corners),
        )
    title = _e(getattr(workflow, "id", "workflow"))
    if bounds is None:
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="48" viewBox="0 0 240 48" '
            'font-family="sans-serif">'
            f"<title>{title}</title>"
            f'<rect width="240" height="48" rx="6" fill="{style.BACKGROUND}" stroke="{style.BORDER}"/>'
            f'<text x="12" y="29" font-size="13" fill="{style.MUTED}">empty workflow {title}</text></svg>'
        )
    x0, y0, x1, y1 = bounds
    x0, y0, x1, y1 = x0 - PAD, y0 - PAD, x1 + PAD, y1 + PAD
    vw, vh = x1 - x0, y1 - y0
    scale = min(1.0, max_width / vw)
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{vw * scale:.0f}" height="{vh * scale:.0f}" '
        f'viewBox="{x0:.1f} {y0:.1f} {vw:.1f} {vh:.1f}" font-family="sans-serif">',
        f"<title>{title}: {len(state.boxes)} nodes, {len(state.edges)} edges</title>",
        f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{vw:.1f}" height="{vh:.1f}" fill="{style.BACKGROUND}"/>',
    ]
    out += _groups_and_notes(state, frames)
    for _, edge, ((ax, ay), (bx, by)) in state.edge_ends():
        d = curve_reach(ax, bx)
        color = style.kind_color(state.edge_kind(edge))
        out.append(
            f'<path d="M{ax:.1f},{ay:.1f} C{ax + d:.1f},{ay:.1f} {bx - d:.1f},{by:.1f} {bx:.1f},{by:.1f}" '
            f'fill="none" stroke="{color}" stroke-width="2" stroke-opacity="0.9">'
            f"<title>{_e(edge.source)}.{_e(edge.source_port)} \u2192 {_e(edge.target)}.{_e(edge.target_port)}</title>"
            "</path>"
        )
    for box in state.boxes.values():
        node = _node(box, (statuses or {}).get(box.id), pictures.get(box.id))
        if workflow.is_bypassed(box.id):  # faded, as the editor draws it
            node = node.replace("<g>", f'<g opacity="{1 - style.BYPASS_VEIL:.2f}">', 1)
        out.append(node)
    out.append("</svg>")
    return "".join(out)


def _groups_and_notes(state: EditorState, frames: list[tuple[Group, Rect]]) -> list[str]:
    out = []
    for group, (x0, y0, x1, y1) in frames:
        out.append(
            f'<g><title>group {_e(group.title)}</title><rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" '
            f'height="{y1 - y0:.1f}" fill="{_e(group.color)}" fill-opacity="0.1" stroke="{_e(group.color)}"/>'
            f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{GROUP_TITLE_HEIGHT:.1f}" '
            f'fill="{_e(group.color)}" fill-opacity="0.85"/>'
            f'<text x="{x0 + 10:.1f}" y="{y0 + GROUP_TITLE_HEIGHT / 2 + 5:.1f}" font-size="13" '
            f'font-weight="bold" fill="#ffffff">{_e(style.fit_text(group.title, x1 - x0 - 20, 13))}</text></g>'
        )
    for note in state.workflow.notes:
        x0, y0, x1, y1 = state.note_rect(note)
        parts = [
            f'<g><rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" '
            f'fill="{style.NOTE_FILL}" stroke="{style.NOTE_BORDER}"/>'
        ]
        y = y0 + 10 + 13
        for text, bold in style.note_lines(note.text, x1 - x0 - 20, 13):
            if y > y1 - 5:
                break
            weight = ' font-weight="bold"' if bold else ""
            parts.append(
                f'<text x="{x0 + 10:.1f}" y="{y:.1f}" font-size="13"{weight} fill="{style.TEXT}" xml:space="preserve">{_e(text)}</text>'
            )
            y += 13 * 1.35
        out.append("".join(parts) + "</g>")
    return out


def _badge(b: NodeBox, status: str) -> str:
    w = style.badge_width(status)
    x1, y0 = b.x + b.w - 8, b.y + 7
    return (
        f'<g class="wf-badge" data-status="{_e(status)}"><rect x="{x1 - w:.1f}" y="{y0:.1f}" width="{w:.1f}" '
        f'height="16" rx="4" fill="{style.status_color(status)}"/>'
        f'<text x="{x1 - w / 2:.1f}" y="{b.y + 19:.1f}" font-size="10" font-weight="600" '
        f'text-anchor="middle" fill="#ffffff">{_e(status.lower())}</text></g>'
    )


def _node(b: NodeBox, status: str | None = None, thumb: Thumb | None = None) -> str:
    fill = style.NODE_FILL if b.known else style.UNKNOWN_FILL
    header = style.category_color(b.category, b.known)
    r = 6.0
    x, y, w = b.x, b.y, b.w
    room = w - 20 - (style.badge_width(status) if status else 0.0)
    parts = [
        f"<g><title>{_e(b.label)} ({_e(b.node_type)}), id {_e(b.id)}</title>",
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{b.h:.1f}" rx="{r}" fill="{fill}" stroke="{style.BORDER}"/>',
        f'<path d="M{x:.1f},{y + HEADER_HEIGHT:.1f} V{y + r:.1f} Q{x:.1f},{y:.1f} {x + r:.1f},{y:.1f} '
        f'H{x + w - r:.1f} Q{x + w:.1f},{y:.1f} {x + w:.1f},{y + r:.1f} V{y + HEADER_HEIGHT:.1f} Z" fill="{header}"/>',
        f'<text x="{x + 10:.1f}" y="{y + 18:.1f}" font-size="13" font-weight="600" fill="{style.TEXT}">'
        f"{_e(style.fit_text(b.label, room, 13.5))}</text>",
        f'<text x="{x + 10:.1f}" y="{y + 34:.1f}" font-size="11" fill="{style.MUTED}">'
        f"{_e(style.fit_text(b.node_type if b.known else b.node_type + ' (not in catalog)', w - 20, 11))}</text>",
    ]
    half = w / 2 - 14
    for i, p in enumerate(b.inputs):
        px, py = b.input_point(i)
        color = style.kind_color(p.kind)
        core = (
            ""
            if p.name in b.fed
            else f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{PORT_RADIUS * 0.45:.1f}" fill="#fff"/>'
        )
        label_color = style.MISSING if p.name in b.missing else "#374151"
        parts.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{PORT_RADIUS}" fill="{color}"/>{core}'
            f'<text x="{px + 12:.1f}" y="{py + 4:.1f}" font-size="11" fill="{label_color}">{_e(style.fit_text(p.text, half, 11))}</text>'
        )
    for i, p in enumerate(b.outputs):
        px, py = b.output_point(i)
        parts.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{PORT_RADIUS}" fill="{style.kind_color(p.kind)}"/>'
            f'<text x="{px - 12:.1f}" y="{py + 4:.1f}" font-size="11" text-anchor="end" fill="#374151">'
            f"{_e(style.fit_text(p.text, half, 11))}</text>"
        )
    if status:
        parts.append(_badge(b, status))
    if thumb is not None:
        tx, ty, tw, th = thumb_rect(b, thumb[1])
        parts.append(
            f'<image class="wf-thumb" x="{tx:.1f}" y="{ty:.1f}" width="{tw:.1f}" height="{th:.1f}" '
            f'href="{_e(thumb[0])}"/>'
        )
    parts.append("</g>")
    return "".join(parts)
