"""The editor's canvas takes the width of its place in the output area.

The kernel cannot see the page: ipywidgets and ipycanvas report no element size, and the
canvas's events carry buffer pixels only. ``WidthProbe`` is a tiny ``anywidget`` (its
front-end ships in anywidget's wheel: JupyterLab, Notebook, Voila, VS Code) placed above
the canvas in the canvas's own slot of the editor's row (100% wide, 0 high): a
``ResizeObserver`` on it sends the slot's width (CSS px, rounded) when it has settled
(``DEBOUNCE_MS`` after the last change, only when it differs), never on a mouse move.

``FitWidth`` resizes the editor's canvas to that width (between ``MIN_WIDTH`` and
``MAX_WIDTH``): CSS size and buffer (width x pixel ratio, so drawing stays sharp), one
redraw per reported width. The view: still the fitted one (the user did not pan or zoom,
no saved view) is fitted again; a saved view not moved yet is kept as it is (the file
keeps its viewport); a view the user moved keeps its centre. Until a front-end reports (or
without one: nbconvert, a plain script, VS Code without anywidget's extension) the canvas
keeps the ``width=`` it was given, and CSS (``_layers.css_max_width``) shrinks it to its
cell.

CSS classes: ``wf-canvas-slot`` (the probe and the canvas's stage), ``wf-width-probe``.
"""

from __future__ import annotations

from typing import Any, Protocol

import anywidget
import ipywidgets as widgets
import traitlets

from ..editing.scene import Redraw
from ..editing.state import EditorState

#: the narrowest canvas (CSS px); a narrower slot shrinks it with CSS (max-width: 100%)
MIN_WIDTH = 320
#: the widest canvas (CSS px): its buffer (times the pixel ratio) stays within what
#: browsers draw
MAX_WIDTH = 4096
#: how long the slot's width must stay still before it is sent (ms)
DEBOUNCE_MS = 100

_ESM = """
export default {
  render({ model, el }) {
    let timer = null;
    let sent = model.get("width");
    const send = () => {
      timer = null;
      const width = Math.round(el.getBoundingClientRect().width);
      // a hidden view (a collapsed output, a background tab) measures 0: say nothing
      if (width > 0 && width !== sent) {
        sent = width;
        model.set("width", width);
        model.save_changes();
      }
    };
    const observer = new ResizeObserver(() => {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(send, model.get("debounce_ms"));
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      if (timer !== null) clearTimeout(timer);
    };
  },
};
"""


class WidthProbe(anywidget.AnyWidget):  # type: ignore[misc]
    """Reports the width (CSS px) of the place it is shown in; 0 until a front-end does."""

    _esm = _ESM
    width = traitlets.Int(0).tag(sync=True)
    debounce_ms = traitlets.Int(DEBOUNCE_MS).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        layout = widgets.Layout(width="100%", height="0px", margin="0", min_width="0", overflow="hidden")
        super().__init__(layout=layout, **kwargs)
        self.add_class("wf-width-probe")


class _Editor(Protocol):
    """What ``FitWidth`` uses of a ``GraphEditor``."""

    state: EditorState
    width: int
    _view_dirty: bool
    _loaded_view: tuple[float, float, float] | None

    def batch(self) -> Any: ...

    def resize(self, width: int, height: int | None = None) -> None: ...

    def _render(self, flags: Redraw) -> None: ...


class FitWidth:
    """Keeps one editor's canvas as wide as its slot (see the module docstring)."""

    def __init__(self, editor: _Editor, stage: widgets.Widget) -> None:
        self.editor = editor
        self.probe = WidthProbe()
        #: the probe over the canvas's stage: this takes the editor row's width left
        #: beside the palette, and the probe measures it
        self.slot = widgets.VBox(
            [self.probe, stage],
            layout=widgets.Layout(flex="1 1 0%", min_width="0", width="auto"),
        )
        self.slot.add_class("wf-canvas-slot")
        #: how many reported widths resized the canvas
        self.resizes = 0
        self.probe.observe(self._reported, names="width")

    def _reported(self, change: dict[str, Any]) -> None:
        reported = int(change["new"])
        if reported > 0:
            self.apply(reported)

    def apply(self, available: int) -> bool:
        """Size the canvas for a slot ``available`` CSS px wide; False when it already is."""
        ed, s = self.editor, self.editor.state
        width = max(MIN_WIDTH, min(MAX_WIDTH, int(available)))
        if width == ed.width:
            return False
        before = ed.width
        fitted = not ed._view_dirty and ed._loaded_view is None
        with ed.batch():  # one redraw for the new size and the view
            ed.resize(width)
            if fitted:
                s.fit()
            elif ed._view_dirty:  # the user's view keeps its centre
                s.view.x += (width - before) / 2
            ed._render(Redraw.SCENE | Redraw.VIEW)
        self.resizes += 1
        return True
