"""The editor's layers in a real JupyterLab: three ``<canvas>`` stacked by the page
(``widgets/_stack.py``), and a click on a node copies the live layer alone onto the page,
as a bare canvas does, with no offscreen composite of all the layers (which cost the
editor's click 2.7x the floor's in ``benchmarks/bench_browser.py``)."""

from __future__ import annotations

import pytest

from .conftest import open_notebook_on
from .lab import EditorHandle, run_editor

pytestmark = pytest.mark.e2e

# every drawImage in the page: [time, index of the editor's <canvas> it draws onto (-1:
# another visible canvas, -2: a canvas not in the page), source width]; `layers` selects
# the editor's <canvas> elements (``CanvasHandle.layers_selector``)
_COPIES_JS = """
(layers) => {
  window.__wfCopies = [];
  const proto = CanvasRenderingContext2D.prototype;
  const draw = proto.drawImage;
  proto.drawImage = function (...args) {
    const found = Array.from(document.querySelectorAll(layers));
    const c = this.canvas;
    const where = c.isConnected ? found.indexOf(c) : -2;
    window.__wfCopies.push([performance.now(), where, args[0] && args[0].width]);
    return draw.apply(this, args);
  };
}
"""
# painted pixels (alpha > 0, every 4th) of each of the editor's <canvas>, bottom to top
_PAINTED_JS = """
(layers) => Array.from(document.querySelectorAll(layers)).map(c => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 16) if (d[i] > 0) n++;
  return n;
})
"""


@pytest.fixture(scope="module")
def editor(module_page, jupyter_server) -> EditorHandle:
    nb = open_notebook_on(module_page, jupyter_server, "editor_test.ipynb")
    return run_editor(nb)


def _settle(editor: EditorHandle) -> None:
    editor.nb.kernel_sync()
    editor.canvas.wait_quiet(80.0)


def test_the_layers_are_three_canvases_in_one_place_the_top_one_under_the_mouse(editor: EditorHandle) -> None:
    x, y = editor.node_grab_point("resize")
    found = editor.nb.page.evaluate(
        """([selector, x, y]) => {
          const layers = Array.from(document.querySelectorAll(selector));
          const boxes = layers.map(c => { const b = c.getBoundingClientRect(); return [b.x, b.y, b.width, b.height]; });
          return {n: layers.length, boxes, sizes: layers.map(c => [c.width, c.height]),
                  hit: layers.indexOf(document.elementFromPoint(x, y))};
        }""",
        [editor.canvas.layers_selector, x, y],
    )
    assert found["n"] == 3, found
    first = found["boxes"][0]
    assert first[2] > 100 and first[3] > 50, found  # shown, not collapsed
    for box in found["boxes"][1:]:  # exactly over one another
        assert all(abs(a - b) < 0.5 for a, b in zip(box, first, strict=True)), found
    assert all(size == found["sizes"][0] for size in found["sizes"]), found
    assert found["hit"] == 2, found  # the top layer receives the mouse


def test_a_click_on_a_node_copies_the_live_layer_alone(editor: EditorHandle) -> None:
    nb, page, layers = editor.nb, editor.nb.page, editor.canvas.layers_selector
    editor.canvas.install_probe()
    page.evaluate(_COPIES_JS, layers)
    nb.execute("editor.selected_node_ids = []")
    x, y = editor.node_grab_point("resize")
    page.mouse.move(x, y)
    _settle(editor)
    before = page.evaluate(_PAINTED_JS, layers)
    t0 = editor.canvas.now()
    page.mouse.down()
    assert editor.canvas.wait_own_frame_after(t0) is not None
    _settle(editor)
    copies = page.evaluate("(t0) => window.__wfCopies.filter(c => c[0] > t0)", t0)
    after = page.evaluate(_PAINTED_JS, layers)
    page.mouse.up()
    _settle(editor)
    assert nb.eval_json("editor.selected_node_ids") == ["resize"]
    buffer = editor.canvas.size()[0]
    onto_editor = [c[1] for c in copies if c[1] >= 0]
    offscreen = [c for c in copies if c[1] == -2 and c[2] == buffer]
    # one copy, of the layer the press drew on (the selection outline), and no composite
    # of all the layers on an offscreen canvas first
    assert onto_editor == [2] and not offscreen, copies
    # nothing selected, the live layer was empty; the outline is on it now
    assert len(before) == 3 and before[2] == 0 and after[2] > 0, (before, after)
