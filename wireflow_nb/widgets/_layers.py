"""The editor's canvas: three ipycanvas layers drawn from an ``EditorState``.

Owns the ``LayerStack`` (``_stack.py``: ipycanvas canvases stacked by the browser) and its layers, bottom to top ``edges`` (the grid, then group
frames and notes, then the edges), ``nodes`` (and the minimap in its corner), ``live``
(what moves, the selection outlines, and over them the gesture feedback: box-select
rectangle, connection preview, port highlights); which layers a ``Redraw`` flag redraws,
in one ``hold_canvas`` batch (one message); and the node thumbnails drawn on them; and
where things are in its event coordinates (canvas buffer pixels: CSS pixels times the
pixel ratio). The top layer receives the events. While nodes are dragged
they and their edges are drawn on the ``live`` layer alone (the edges over the still
nodes until the release); otherwise it holds the selection outlines, so selecting
redraws no node. One layer for what moves: a batch drawn on one layer copies that layer
alone onto the page, as a bare canvas does (``benchmarks/bench_browser.py``). Flags map
to layers: ``GRID`` or ``EDGES`` redraws the ``edges`` layer (grid and edges, one
clear), ``NODES`` the ``nodes`` layer, ``LIVE`` or ``OVERLAY`` the ``live`` layer (its
outlines or moving nodes and the gesture feedback, one clear).

The canvas's mouse and key events go to the state (``listen``), what they change is
drawn back (``draw``); the ``GraphEditor`` (``widgets/editor.py``) builds the panels
around it. Imports ipywidgets, ipycanvas, ``editing`` and ``widgets._draw``.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import ipywidgets as widgets
from ipycanvas import hold_canvas

from ..editing.scene import Redraw
from ..editing.state import EditorState
from . import _draw
from ._minimap import draw_minimap
from ._stack import LayerStack


def css_max_width(width: int) -> str:
    """The canvas's CSS max width: its own size (wider, its buffer would blur) and never
    more than the cell it is in (the quick-add stage, which shrinks with the page)."""
    return f"min({width}px, 100%)"


#: Layer order, bottom to top (the top one receives the events).
LAYERS = ("edges", "nodes", "live")


class EditorCanvas:
    """The layered canvas of one editor state (``width`` x ``height`` CSS px)."""

    def __init__(self, state: EditorState, width: int, height: int, pixel_ratio: float) -> None:
        self.state = state
        self.pixel_ratio = pr = pixel_ratio
        self.canvas = LayerStack(
            len(LAYERS),
            width=round(width * pr),
            height=round(height * pr),
            # the canvas takes the width its row leaves it (flex), up to its size (wider,
            # a buffer of width x ratio would blur), its height following the aspect
            # ratio; events stay in buffer pixels, so nothing breaks
            layout=widgets.Layout(
                width="auto", max_width=css_max_width(width), height="auto", min_width="0", flex="1 1 0%"
            ),
        )
        self.canvas.add_class("wf-canvas")
        self.layers = {name: self.canvas[i] for i, name in enumerate(LAYERS)}
        #: node id -> (image widget, natural size) of each thumbnail
        self.images: dict[str, tuple[widgets.Image, tuple[int, int]]] = {}

    def listen(self, handle: Callable[[Redraw], None], *, on_ready: Callable[[], None]) -> None:
        """Send the canvas's events to the state (in its screen coordinates: event
        coordinates over the pixel ratio) and the ``Redraw`` flags each answers to
        ``handle``; call ``on_ready`` when a new browser view starts (it must redraw all)."""
        s, pr, c = self.state, self.pixel_ratio, self.canvas
        c.on_mouse_down(lambda x, y: handle(s.pointer_down(x / pr, y / pr)))
        c.on_mouse_move(lambda x, y: handle(s.pointer_move(x / pr, y / pr)))
        c.on_mouse_up(lambda x, y: handle(s.pointer_up(x / pr, y / pr)))
        c.on_mouse_out(lambda x, y: handle(s.pointer_out(x / pr, y / pr)))
        # ipycanvas sends the wheel's deltaX/deltaY as "x"/"y", without a position
        c.on_mouse_wheel(lambda dx, dy: handle(s.wheel(dy)))
        c.on_key_down(lambda key, shift, ctrl, meta: handle(s.key(key, shift, ctrl, meta)))
        c.on_client_ready(lambda: self._client_ready(on_ready))

    def _client_ready(self, on_ready: Callable[[], None]) -> None:
        # A new browser view (page reload, Voila, a late front-end) starts blank and the
        # canvas manager may still think a layer is current: forget it, redraw all.
        manager = getattr(self.canvas, "_canvas_manager", None)
        if manager is not None:
            manager._current_canvas = None
        on_ready()

    def draw(self, flags: Redraw) -> None:
        """Redraw the layers ``flags`` name, as one batch."""
        s, pr, layers = self.state, self.pixel_ratio, self.layers
        if not flags & Redraw.SCENE:
            return
        error: BaseException | None = None
        with hold_canvas():
            # hold_canvas does not flush or restore on an exception: catch inside
            try:
                if flags & (Redraw.GRID | Redraw.EDGES):
                    # the grid under the edges: whatever redraws one redraws both
                    edges = layers["edges"]
                    _draw.draw_grid(edges, s, pr)
                    _draw.draw_edges(edges, s, pr, live=False, clear_first=False)
                if flags & Redraw.NODES:
                    _draw.draw_nodes(layers["nodes"], s, pr, images=self.images, outline_selected=False)
                    draw_minimap(layers["nodes"], s, pr)  # over the nodes, in its corner
                if flags & (Redraw.LIVE | Redraw.OVERLAY):
                    # the live layer: nodes being dragged over their edges, or else the
                    # selection outlines (each clears it first), then the gesture feedback
                    live = layers["live"]
                    if s.moving:
                        _draw.draw_edges(live, s, pr, live=True)
                        _draw.draw_nodes(live, s, pr, s.moving, images=self.images, clear_first=False)
                    else:
                        _draw.draw_selection(live, s, pr)
                    _draw.draw_overlay(live, s, pr, clear_first=False)
            except Exception as exc:
                error = exc
        if error is not None:
            raise error

    def resize(self, width: int, height: int) -> None:
        """A new size in CSS pixels (buffer: times the pixel ratio); redraw after."""
        pr = self.pixel_ratio
        self.canvas.width, self.canvas.height = round(width * pr), round(height * pr)
        self.canvas.layout.max_width = css_max_width(width)

    def set_thumbnail(self, node_id: str, png: bytes | None) -> bool:
        """Show ``png`` in a node (``None`` removes it); False when nothing changed."""
        if png is None:
            if node_id not in self.state.thumbs:
                return False
            self.state.thumbs.discard(node_id)
            self.images.pop(node_id, None)
        else:
            data, size, fmt = _thumbnail(png, self.pixel_ratio)
            image = widgets.Image(value=data, format=fmt)
            self.images[node_id] = (image, size)
            self.state.thumbs.add(node_id)
        return True

    # -- geometry for scripts and tests (event coordinates) ---------------------------------------------
    def node_bounds(self, node_id: str) -> tuple[float, float, float, float]:
        """``(x, y, w, h)`` of a node in event coordinates (canvas buffer pixels)."""
        self.state.sync()  # a change made in this very cell may not be drawn yet
        box = self.state.boxes.get(node_id)
        if box is None:
            raise KeyError(
                f"no node {node_id!r} in the editor; nodes: {', '.join(self.state.boxes) or '(none)'}"
            )
        pr, v = self.pixel_ratio, self.state.view
        sx, sy = v.to_screen(box.x, box.y)
        return (sx * pr, sy * pr, box.w * v.zoom * pr, box.h * v.zoom * pr)

    def port_position(self, node_id: str, handle: str, side: str | None = None) -> tuple[float, float]:
        """Centre of a port in event coordinates (see ``EditorState.port_screen``)."""
        self.state.sync()
        if node_id not in self.state.boxes:
            raise KeyError(f"no node {node_id!r} in the editor")
        sx, sy = self.state.port_screen(node_id, handle, side)
        return (sx * self.pixel_ratio, sy * self.pixel_ratio)

    def node_at(self, x: float, y: float) -> str | None:
        """The node under an event-coordinate point, if any."""
        self.state.sync()
        hit = self.state.hit(x / self.pixel_ratio, y / self.pixel_ratio)
        return hit.node_id or None


def _thumbnail(data: bytes, ratio: float) -> tuple[bytes, tuple[int, int], str]:
    """A small PNG of an image (so the widget state stays light) and its size."""
    try:
        from PIL import Image as PILImage

        with PILImage.open(io.BytesIO(data)) as im:
            im.load()
            size = im.size
            limit = (int(204 * ratio), int(124 * ratio))
            if im.width > limit[0] or im.height > limit[1]:
                im.thumbnail(limit)
                out = io.BytesIO()
                im.convert("RGBA" if im.mode in ("RGBA", "LA", "P") else "RGB").save(out, format="PNG")
                return out.getvalue(), size, "png"
            fmt = (im.format or "png").lower()
            return data, size, fmt
    except Exception:
        return data, (0, 0), "png"
