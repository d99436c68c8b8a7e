"""``LayerStack``: ipycanvas ``Canvas`` layers stacked in one CSS grid cell.

What ipycanvas' ``MultiCanvas`` does, but composited by the browser: a ``MultiCanvas``
view is one ``<canvas>``, and for every batch that draws on a layer its model clears an
offscreen canvas, copies every layer onto it and then copies that onto the view, all on
the page's main thread before the frame shows (in a headless Chromium without a GPU, 6 to
30 ms for three 1920 x 1200 layers: the whole gap between a click on the editor and on a
bare canvas, ``benchmarks/bench_browser.py --split``). Here each layer is a ``<canvas>``
of its own, the layers lie in one grid cell (later ones above), and a batch drawn on one
layer copies that layer alone, as a bare canvas does; the page composites them.

The same surface as a ``MultiCanvas`` where the editor uses one: ``stack[i]`` (bottom to
top), ``width`` / ``height`` (buffer pixels, set on every layer), the ``on_*`` event
registrations (the top layer receives the events; the others lie under it) and
``_canvas_manager``. The stack's own ``layout`` sizes it; each layer fills its width, its
height following the buffer's aspect ratio. Imports ipywidgets and ipycanvas only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
from ipycanvas import Canvas


class LayerStack(widgets.GridBox):
    """``n`` canvas layers of ``width`` x ``height`` buffer pixels, one over the other."""

    def __init__(self, n: int, *, width: int, height: int, layout: widgets.Layout | None = None) -> None:
        if n < 1:
            raise ValueError(f"a LayerStack needs at least one layer, not {n}")
        canvases = tuple(
            Canvas(
                width=width,
                height=height,
                # one cell for all; the canvas as wide as the cell, as high as its aspect
                layout=widgets.Layout(grid_area="1 / 1", width="100%", height="auto", min_width="0"),
            )
            for _ in range(n)
        )
        super().__init__(children=canvases, layout=layout or widgets.Layout())
        self.layout.grid_template_columns = "minmax(0, 1fr)"
        #: the layers, bottom to top (the last receives the events)
        self.canvases: tuple[Canvas, ...] = canvases

    def __getitem__(self, index: int) -> Canvas:
        return self.canvases[index]

    @property
    def top(self) -> Canvas:
        """The layer that receives the mouse and key events (and has the focus)."""
        return self.canvases[-1]

    # -- size (buffer pixels), the same on every layer ----------------------------------
    @property
    def width(self) -> int:
        return int(self.top.width)

    @width.setter
    def width(self, value: int) -> None:
        for layer in self.canvases:
            layer.width = value

    @property
    def height(self) -> int:
        return int(self.top.height)

    @height.setter
    def height(self, value: int) -> None:
        for layer in self.canvases:
            layer.height = value

    @property
    def _canvas_manager(self) -> Any:
        """ipycanvas' one canvas manager (which canvas its batches draw on)."""
        return self.top._canvas_manager

    # -- events: the top layer's --------------------------------------------------------
    def on_mouse_down(self, callback: Callable[..., Any], remove: bool = False) -> None:
        self.top.on_mouse_down(callback, remove=remove)

    def on_mouse_move(self, callback: Callable[..., Any], remove: bool = False) -> None:
        self.top.on_mouse_move(callback, remove=remove)

    def on_mouse_up(self, callback: Callable[..., Any], remove: bool = False) -> None:
        self.top.on_mouse_up(callback, remove=remove)

    def on_mouse_out(self, callback: Callable[..., Any], remove: bool = False) -> None:
        self.top.on_mouse_out(callback, remove=remove)

    def on_mouse_wheel(self, callback: Callable[..., Any], remove: bool = False) -> None:
        self.top.on_mouse_wheel(callback, remove=remove)

    def on_key_down(self, callback: Callable[..., Any], remove: bool = False) -> None:
        self.top.on_key_down(callback, remove=remove)

    def on_client_ready(self, callback: Callable[[], Any], remove: bool = False) -> None:
        """``callback()`` when a new browser view of the top layer starts (blank)."""
        self.top.on_client_ready(callback, remove=remove)
