"""The editor fits its place, and its minimap answers the real mouse (JupyterLab, Voila).

In a 1400 px wide window the editor takes the output area's width without a horizontal
scrollbar, the inspector beside the canvas; in a 900 px one the inspector goes below.
A click on the minimap moves the kernel's view. Uses ``notebooks/editor_test.ipynb``
(three nodes, ``editor = GraphEditor(...)``).
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import open_notebook_on
from .lab import EditorHandle, wait_until

pytestmark = pytest.mark.e2e

WIDE = {"width": 1400, "height": 1000}
NARROW = {"width": 900, "height": 1000}

# The boxes (page px) of the editor's parts and of the output area holding it, and
# whether that output area scrolls sideways.
_LAYOUT_JS = """
(root) => {
  const q = (css) => { const el = root.querySelector(css); return el && el.getBoundingClientRect(); };
  const area = root.closest('.jp-OutputArea-output') || root.parentElement;
  const box = (r) => r && {x: r.x, y: r.y, w: r.width, h: r.height, right: r.right, bottom: r.bottom};
  const canvas = root.querySelector('canvas.wf-canvas') || root.querySelector('.wf-canvas canvas')
    || root.querySelector('.wf-canvas');
  return {
    area: box(area.getBoundingClientRect()),
    areaScroll: [area.scrollWidth, area.clientWidth],
    canvas: box(canvas.getBoundingClientRect()),
    buffer: [canvas.width, canvas.height],
    palette: box(q('.wf-palette')),
    inspector: box(q('.wf-inspector')),
  };
}
"""


def layout(nb: Any, root_selector: str = ".wf-editor") -> dict[str, Any]:
    root = (
        nb.panel.locator(root_selector).first
        if hasattr(nb, "panel")
        else nb.page.locator(root_selector).first
    )
    return root.evaluate(_LAYOUT_JS)


def settled_layout(nb: Any) -> dict[str, Any]:
    """The layout once two reads agree (JupyterLab re-lays out after a resize)."""
    last: list[Any] = [None]

    def same() -> dict[str, Any] | None:
        now = layout(nb)
        ok = now == last[0]
        last[0] = now
        return now if ok else None

    return wait_until(same, timeout=10, interval=0.15, message=lambda: f"layout never settled: {last[0]}")


@pytest.fixture(scope="module")
def shared(module_page, jupyter_server) -> EditorHandle:
    module_page.set_viewport_size(WIDE)
    nb = open_notebook_on(module_page, jupyter_server, "editor_test.ipynb")
    nb.run_all()
    handle = EditorHandle(nb, "editor")
    handle.canvas.wait_nonblank()
    nb.assert_no_errors()
    return handle


@pytest.fixture
def editor(shared: EditorHandle) -> EditorHandle:
    shared.nb.page.mouse.up()
    shared.nb.page.set_viewport_size(WIDE)
    shared.nb.execute("editor.workflow = build_workflow()\neditor.minimap_enabled = True")
    shared.canvas.wait_nonblank()
    return shared


def test_wide_window_the_editor_fills_the_output_area_inspector_beside(editor: EditorHandle) -> None:
    got = settled_layout(editor.nb)
    area, canvas, palette, inspector = got["area"], got["canvas"], got["palette"], got["inspector"]
    print(
        f"\n1400 px window: output area {area['w']:.0f} px, canvas {canvas['w']:.0f} x {canvas['h']:.0f} px"
    )
    scroll_w, client_w = got["areaScroll"]
    assert scroll_w <= client_w, got  # no horizontal scrollbar
    # one row: palette | canvas | inspector, reaching the output area's right edge
    assert abs(canvas["x"] - palette["right"]) < 12, got
    assert inspector["x"] >= canvas["right"] - 1 and abs(inspector["y"] - canvas["y"]) < 40, got
    assert inspector["right"] <= area["right"] + 1 and area["right"] - inspector["right"] < 24, got
    # drawn at its aspect ratio (not stretched), never wider than its buffer's CSS size
    bw, bh = got["buffer"]
    assert canvas["h"] / canvas["w"] == pytest.approx(bh / bw, rel=0.02), got
    assert canvas["w"] <= bw / editor.pixel_ratio + 1, got
    # the mouse lands where the kernel says a node is, at this size
    editor.click(editor.node_grab_point("resize"))
    editor.nb.wait_python("editor.selected_node_ids", lambda ids: ids == ["resize"])
    editor.nb.assert_no_errors()


def test_narrow_window_puts_the_inspector_below(editor: EditorHandle) -> None:
    editor.nb.page.set_viewport_size(NARROW)
    got = settled_layout(editor.nb)
    print(f"\n900 px window: output area {got['area']['w']:.0f} px, canvas {got['canvas']['w']:.0f} px")
    scroll_w, client_w = got["areaScroll"]
    assert scroll_w <= client_w, got
    assert got["inspector"]["y"] >= got["canvas"]["bottom"] - 1, got  # below the canvas
    assert got["canvas"]["right"] <= got["area"]["right"] + 1, got
    # the canvas, smaller on screen, still maps clicks right
    editor.click(editor.node_grab_point("image"))
    editor.nb.wait_python("editor.selected_node_ids", lambda ids: ids == ["image"])
    editor.nb.assert_no_errors()


def test_a_click_on_the_minimap_moves_the_view(editor: EditorHandle) -> None:
    nb = editor.nb
    nb.execute("editor.view = (0, 0, 2.5)")  # zoomed in: the graph is larger than the view
    assert nb.eval_json("editor.minimap_visible")
    x, y = nb.eval_json("editor.minimap_point(560, 400)")  # the world point (560, 400) on the map
    view_before = nb.eval_json("[editor.view.x, editor.view.y, editor.view.zoom]")
    editor.click(editor.to_page(x, y))
    centre = nb.wait_python(
        "list(editor.view.to_world(editor.width / 2, editor.height / 2))",
        lambda c: abs(c[0] - 560) < 8 and abs(c[1] - 400) < 8,
    )
    view_after = nb.eval_json("[editor.view.x, editor.view.y, editor.view.zoom]")
    assert view_after[:2] != view_before[:2] and view_after[2] == view_before[2], (view_before, view_after)
    assert centre
    # the toggle in the toolbar hides it (the picture changes: the minimap was drawn)
    picture = editor.canvas.pixel_stats()
    nb.widget("wf-minimap-toggle").click()
    nb.wait_python("editor.minimap_visible", lambda v: v is False)
    editor.canvas.wait_changed(picture)
    nb.assert_no_errors()


def test_under_voila_no_horizontal_overflow(open_voila, page) -> None:
    page.set_viewport_size(WIDE)
    view = open_voila("editor_test.ipynb")
    view.canvas("wf-canvas").wait_nonblank(min_fraction=0.01)
    widths = wait_until(
        lambda: page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        ),
        timeout=10,
    )
    assert widths[0] <= widths[1], widths
    got = layout(view)
    assert got["inspector"]["x"] >= got["canvas"]["right"] - 1, got  # beside: room enough
    view.assert_no_errors()


def test_a_node_added_from_code_is_brought_into_view(editor: EditorHandle) -> None:
    """In a kernel the editor redraws once after the cell (``loop.call_soon``): the
    node added there is in view, where the mouse can pick it."""
    nb = editor.nb
    zoom = editor.zoom()
    nb.execute("editor.workflow.add_node('text:template', id='far', position=(4000, 0))")
    inside = (
        "(lambda b: b[0] >= 0 and b[1] >= 0 and b[0] + b[2] <= editor.canvas.width"
        " and b[1] + b[3] <= editor.canvas.height)(editor.node_bounds('far'))"
    )
    nb.wait_python(inside, lambda ok: ok is True)
    assert editor.zoom() == zoom
    editor.click(editor.node_grab_point("far"))
    nb.wait_python("editor.selected_node_ids", lambda ids: ids == ["far"])
    nb.assert_no_errors()
