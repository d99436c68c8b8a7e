"""The editor fits its place, and its minimap answers the real mouse (JupyterLab, Voila).

In a 1400 px wide window the editor takes the output area's width without a horizontal
scrollbar, the inspector beside the canvas; in a 900 px one the inspector goes below.
The canvas takes its slot's width (``widgets/_fit_width.py``: the width probe reports it,
the kernel resizes the buffer), following the window, once per settled size, never on
a mouse move. A click on the minimap moves the kernel's view. Uses
``notebooks/editor_test.ipynb`` (three nodes, ``editor = GraphEditor(...)``).
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import open_notebook_on
from .lab import EditorHandle, run_editor, wait_until

pytestmark = pytest.mark.e2e

WIDE = {"width": 1400, "height": 1000}
WIDER = {"width": 1800, "height": 1000}
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
    slot: box(q('.wf-canvas-slot')),
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


def fills_its_slot(got: dict[str, Any], ratio: float = 2.0) -> bool:
    """The canvas as wide as its slot (a few px of rounding), its buffer that width times
    the pixel ratio (the kernel resized it: drawn sharp, not stretched)."""
    canvas, slot, (buffer_w, _) = got["canvas"], got["slot"], got["buffer"]
    return abs(canvas["w"] - slot["w"]) <= 3 and abs(buffer_w - canvas["w"] * ratio) <= 2 * ratio


def fitted_layout(nb: Any, ratio: float = 2.0) -> dict[str, Any]:
    """The settled layout once the canvas fills its slot and the kernel knows its width."""
    got = wait_until(
        lambda: (lambda g: g if fills_its_slot(g, ratio) else None)(settled_layout(nb)),
        timeout=20,
        message=lambda: f"the canvas never took its slot's width: {layout(nb)}",
    )
    if hasattr(nb, "eval_json"):
        assert nb.eval_json("editor.width") == round(got["buffer"][0] / ratio), got
    return got


@pytest.fixture(scope="module")
def shared(module_page, jupyter_server) -> EditorHandle:
    module_page.set_viewport_size(WIDE)
    nb = open_notebook_on(module_page, jupyter_server, "editor_test.ipynb")
    return run_editor(nb)


@pytest.fixture
def editor(shared: EditorHandle) -> EditorHandle:
    shared.nb.page.mouse.up()
    shared.nb.page.set_viewport_size(WIDE)
    shared.nb.execute("editor.workflow = build_workflow()\neditor.minimap_enabled = True")
    shared.canvas.wait_nonblank()
    return shared


def test_wide_window_the_editor_fills_the_output_area_inspector_beside(editor: EditorHandle) -> None:
    got = fitted_layout(editor.nb)
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
    # the canvas takes the width its slot leaves beside palette and inspector (was 960
    # px wide or its cell's, whichever was less)
    assert abs(canvas["x"] - got["slot"]["x"]) <= 3 and abs(canvas["right"] - got["slot"]["right"]) <= 3, got
    # the mouse lands where the kernel says a node is, at this size
    editor.click(editor.node_grab_point("resize"))
    editor.nb.wait_python("editor.selected_node_ids", lambda ids: ids == ["resize"])
    editor.nb.assert_no_errors()


def test_narrow_window_puts_the_inspector_below(editor: EditorHandle) -> None:
    editor.nb.page.set_viewport_size(NARROW)
    got = fitted_layout(editor.nb)
    print(f"\n900 px window: output area {got['area']['w']:.0f} px, canvas {got['canvas']['w']:.0f} px")
    scroll_w, client_w = got["areaScroll"]
    assert scroll_w <= client_w, got
    assert got["inspector"]["y"] >= got["canvas"]["bottom"] - 1, got  # below the canvas
    assert got["canvas"]["right"] <= got["area"]["right"] + 1, got
    # the canvas, in its own row, takes it beside the palette
    assert got["area"]["right"] - got["canvas"]["right"] < 24, got
    # the canvas, smaller, still maps clicks right
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
    got = fitted_layout(view)  # the canvas fills its slot, its buffer resized by the kernel
    print(f"\nVoila, 1400 px window: canvas {got['canvas']['w']:.0f} px, buffer {got['buffer'][0]} px")
    assert got["inspector"]["x"] >= got["canvas"]["right"] - 1, got  # beside: room enough
    # palette | canvas | inspector reach the page's right edge: the canvas took the rest
    assert got["area"]["right"] - got["inspector"]["right"] < 24, got
    assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    view.assert_no_errors()


def test_a_node_added_from_code_is_brought_into_view(editor: EditorHandle) -> None:
    """In a kernel the editor redraws once after the cell (``loop.call_soon``): the
    node added there is in view, where the mouse can pick it."""
    nb = editor.nb
    nb.page.set_viewport_size({"width": 1150, "height": 1000})  # after a resize by the probe
    fitted_layout(nb)
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


def test_the_canvas_follows_the_window(editor: EditorHandle) -> None:
    nb = editor.nb
    widths = {}
    for size, beside in ((WIDER, True), ({"width": 1000, "height": 1000}, False), (WIDE, True)):
        nb.page.set_viewport_size(size)
        got = fitted_layout(nb)
        widths[size["width"]] = got["canvas"]["w"]
        scroll_w, client_w = got["areaScroll"]
        assert scroll_w <= client_w, got
        if beside:
            assert got["inspector"]["x"] >= got["canvas"]["right"] - 1, got
        else:  # no room for palette, a 480 px canvas and the inspector: it goes below
            assert got["inspector"]["y"] >= got["canvas"]["bottom"] - 1, got
        assert got["area"]["right"] - max(got["canvas"]["right"], got["inspector"]["right"]) < 24, got
        # the view follows: the nodes it showed fitted are still all in view
        inside = nb.eval_json(
            "all((lambda b: b[0] >= 0 and b[0] + b[2] <= editor.canvas.width)(editor.node_bounds(n))"
            " for n in ('prompt', 'image', 'resize'))"
        )
        assert inside, (size, got)
    print(f"\ncanvas width by window width: {widths}")
    assert widths[1800] > 960 and widths[1800] > widths[1400] > widths[1000], widths
    editor.click(editor.node_grab_point("image"))
    nb.wait_python("editor.selected_node_ids", lambda ids: ids == ["image"])
    nb.assert_no_errors()


# The editor's root narrowed in steps 15 ms apart (as a dragged window edge does), then
# let go: the page time when it stopped.
_SQUEEZE_JS = """
async (root) => {
  for (let i = 0; i < 12; i++) {
    root.style.maxWidth = (1100 - 30 * i) + 'px';
    await new Promise(r => setTimeout(r, 15));
  }
  return performance.now();
}
"""


def test_the_probe_reports_once_per_settled_size_and_never_on_a_mouse_move(editor: EditorHandle) -> None:
    nb = editor.nb
    fitted_layout(nb)
    nb.execute(
        "reports = []\n"
        "def note_report(change):\n    reports.append(change['new'])\n"
        "editor.fit_width.probe.observe(note_report, names='width')\n"
        "resizes0 = editor.fit_width.resizes"
    )
    # a fast hand over the canvas: mouse moves go to the canvas; the probe says nothing
    box = editor.canvas.stable_box()
    points = [(box["x"] + 20 + 5 * i, box["y"] + 40 + 2 * i) for i in range(120)]
    editor.canvas.dispatch_moves(points)
    nb.kernel_sync()
    assert nb.eval_json("reports") == []
    # twelve widths in 180 ms, then still: one report (of the last), one resize
    root = nb.panel.locator(".wf-editor").first
    try:
        root.evaluate(_SQUEEZE_JS)
        got = fitted_layout(nb)
        reports = nb.eval_json("reports")
        print(f"\n12 widths 15 ms apart: {len(reports)} report(s) {reports}")
        assert 1 <= len(reports) <= 2, reports
        assert reports[-1] == round(got["slot"]["w"]), (reports, got)
        assert nb.eval_json("editor.fit_width.resizes - resizes0") == len(reports)
    finally:
        root.evaluate("(root) => { root.style.maxWidth = ''; }")
    fitted_layout(nb)
    nb.execute("editor.fit_width.probe.unobserve(note_report, names='width')")
    nb.assert_no_errors()
