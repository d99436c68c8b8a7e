"""The graph editor in a real JupyterLab, driven by the real mouse and keyboard.

The notebook ``notebooks/editor_test.ipynb`` builds three nodes at known positions
(``prompt`` -> ``image``, and ``resize``) and shows ``editor = GraphEditor(workflow)``.
Every gesture is checked on the Python side (``editor.workflow``).

The gesture tests share one open notebook (``module_page``) and reset the editor from
Python before each (``editor.workflow = build_workflow()``): a fresh page and kernel
cost 6-20 s here. The reload test and the speed figures open their own.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

import pytest

from .conftest import VIEWPORT, open_notebook_on
from .lab import VOILA_NOISE, EditorHandle, console_errors, run_editor, wait_until

EDITOR_MODULE = Path(__file__).resolve().parents[2] / "wireflow_nb" / "widgets" / "editor.py"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not EDITOR_MODULE.exists(), reason="wireflow_nb/widgets/editor.py not written yet"),
]


RESIZE_POSITION = "[editor.workflow.node('resize').position.x, editor.workflow.node('resize').position.y]"


def _open_editor(nb) -> EditorHandle:
    return run_editor(nb)


@pytest.fixture(scope="module")
def shared_editor(module_page, jupyter_server) -> EditorHandle:
    return _open_editor(open_notebook_on(module_page, jupyter_server, "editor_test.ipynb"))


@pytest.fixture
def editor(shared_editor: EditorHandle) -> EditorHandle:
    """The shared editor, back to the notebook's three nodes, nothing selected, no
    history, the view fitted."""
    shared_editor.nb.page.mouse.up()  # a test that failed mid-drag
    shared_editor.nb.page.keyboard.press("Escape")
    shared_editor.nb.execute(
        "editor.workflow = build_workflow()\neditor.set_mode('select')\nif editor.snap: editor.toggle_snap()"
    )
    shared_editor.canvas.wait_nonblank()
    shared_editor.nb.assert_no_errors()
    return shared_editor


def test_editor_draws_without_errors(editor: EditorHandle) -> None:
    stats = editor.canvas.pixel_stats()
    assert stats["fraction"] > 0.01, stats
    assert editor.nb.eval_json("sorted(n.id for n in editor.workflow.nodes)") == ["image", "prompt", "resize"]
    for name in ("undo", "redo", "fit", "zoom-in", "zoom-out", "delete"):
        assert editor.nb.widget(f"wf-btn-{name}").is_visible(), name
    assert editor.nb.widget("wf-palette-search").is_visible()
    assert not console_errors(editor.nb.page), console_errors(editor.nb.page)


def test_add_node_from_palette(editor: EditorHandle) -> None:
    before = editor.node_ids()
    editor.nb.widget("wf-palette-model-fal-text-to-image").click()
    after = editor.nb.wait_python(
        "[n.id for n in editor.workflow.nodes]", lambda ids: len(ids) == len(before) + 1
    )
    (new,) = set(after) - set(before)
    assert editor.nb.eval_json(f"editor.workflow.node({new!r}).data['nodeType']") == "model:fal:text-to-image"
    # placed where it can be seen
    x, y, w, h = editor.bounds(new)
    cw, ch = editor.canvas.size()
    assert 0 <= x <= cw - w / 2 and 0 <= y <= ch - h / 2, (x, y, w, h)
    editor.nb.assert_no_errors()


def test_drag_node_moves_it(editor: EditorHandle) -> None:
    x0, y0 = editor.positions()["resize"]
    scale = editor.page_to_world_scale()  # world units per page px (zoom, CSS stretch)
    dx, dy = 120.0, 60.0  # page px
    start = editor.node_grab_point("resize")
    editor.drag(start, (start[0] + dx, start[1] + dy), steps=10)
    pos = editor.nb.wait_python(RESIZE_POSITION, lambda p: p != [x0, y0])
    grid = 20.0 if editor.nb.eval_json("editor.snap") else 0.0
    tol = grid / 2 + 2.0 * scale + 0.5  # the snap, and a page pixel of rounding
    want = (x0 + dx * scale, y0 + dy * scale)
    assert abs(pos[0] - want[0]) <= tol and abs(pos[1] - want[1]) <= tol, (pos, want, tol)
    # the other nodes stayed where they were
    assert editor.positions()["image"] == [360, 40]


def test_toolbar_buttons_snap_undo_zoom(editor: EditorHandle) -> None:
    page = editor.nb.page
    editor.nb.widget("wf-btn-snap").click()
    editor.nb.wait_python("editor.snap", lambda on: on is True)
    x0, y0 = editor.positions()["resize"]
    start = editor.node_grab_point("resize")
    editor.drag(start, (start[0] + 47, start[1] + 33), steps=8)
    pos = editor.nb.wait_python(RESIZE_POSITION, lambda p: p != [x0, y0])
    assert pos[0] % 20 == 0 and pos[1] % 20 == 0, pos  # on the grid
    editor.nb.widget("wf-btn-undo").click()
    editor.nb.wait_python(RESIZE_POSITION, lambda p: p == [x0, y0])
    zoom = editor.zoom()
    editor.nb.widget("wf-btn-zoom-in").click()
    editor.nb.wait_python("editor.view.zoom", lambda z: z > zoom)
    editor.nb.widget("wf-btn-fit").click()
    editor.nb.wait_python("editor.view.zoom", lambda z: abs(z - zoom) < 1e-6)
    page.locator(".wf-btn-snap").first.click()
    editor.nb.wait_python("editor.snap", lambda on: on is False)
    editor.canvas.wait_nonblank()
    editor.nb.assert_no_errors()


def test_connect_output_port_to_input_port(editor: EditorHandle) -> None:
    assert not editor.edges_into("resize")
    src = editor.port_point("image", "images")
    dst = editor.port_point("resize", "image")
    editor.drag(src, dst, steps=12)
    edges = editor.nb.wait_python(
        "[[e.source, e.source_handle, e.target, e.target_handle] for e in editor.workflow.edges if e.target == 'resize']",
        lambda es: len(es) == 1,
    )
    assert edges == [["image", "images", "resize", "image"]]
    assert len(editor.nb.eval_json("editor.workflow.edges")) == 2


def test_delete_selected_node_then_undo(editor: EditorHandle) -> None:
    editor.click(editor.node_grab_point("image"))
    editor.nb.wait_python("sorted(editor.selected_node_ids)", lambda s: s == ["image"])
    editor.nb.page.keyboard.press("Delete")
    editor.nb.wait_python(
        "sorted(n.id for n in editor.workflow.nodes)", lambda ids: ids == ["prompt", "resize"]
    )
    assert editor.nb.eval_json("len(editor.workflow.edges)") == 0  # its edge went with it
    editor.nb.page.keyboard.press("Control+z")
    editor.nb.wait_python(
        "sorted(n.id for n in editor.workflow.nodes)", lambda ids: ids == ["image", "prompt", "resize"]
    )
    assert editor.nb.eval_json("[[e.source, e.target] for e in editor.workflow.edges]") == [
        ["prompt", "image"]
    ]
    assert editor.positions()["image"] == [360, 40]
    editor.nb.assert_no_errors()


def test_wheel_zooms_the_view(editor: EditorHandle) -> None:
    before = editor.zoom()
    w, h = editor.canvas.size()
    box = editor.canvas.stable_box()
    editor.nb.page.mouse.move(*editor.to_page(w / 2, h / 2))
    editor.nb.page.mouse.wheel(0, -240)
    after = editor.nb.wait_python("editor.view.zoom", lambda z: z != before)
    assert after > before  # wheel up zooms in
    assert editor.nb.page.locator(".wf-zoom").first.text_content() == f"{round(after * 100)}%"
    editor.nb.page.mouse.wheel(0, 240)
    editor.nb.wait_python("editor.view.zoom", lambda z: z < after)
    editor.canvas.wait_nonblank()
    assert editor.canvas.top.bounding_box() == box  # the wheel did not scroll the notebook


def test_keys_go_to_the_editor_not_to_jupyterlab(editor: EditorHandle) -> None:
    """With the canvas focused, JupyterLab's command-mode keys (a, b, x, d d, 0 0, arrows)
    must not touch the notebook; the editor gets them."""
    page = editor.nb.page

    def notebook_state() -> dict:
        return page.evaluate(
            """() => { const p = window.jupyterapp.shell.currentWidget;
               return {cells: p.content.widgets.length, active: p.content.activeCellIndex,
                       dialogs: document.querySelectorAll('.jp-Dialog').length}; }"""
        )

    before = notebook_state()
    editor.click(editor.node_grab_point("resize"))
    editor.nb.wait_python("editor.selected_node_ids", lambda s: s == ["resize"])
    y0 = editor.positions()["resize"][1]
    for key in ("a", "b", "x", "d", "d", "0", "0", "ArrowDown"):
        page.keyboard.press(key)
    editor.nb.wait_python("editor.workflow.node('resize').position.y", lambda y: y > y0)  # nudged down
    page.keyboard.press("h")
    editor.nb.wait_python("editor.mode", lambda m: m == "pan")
    page.keyboard.press("v")
    page.keyboard.press("Control+a")
    editor.nb.wait_python("sorted(editor.selected_node_ids)", lambda s: s == ["image", "prompt", "resize"])
    page.keyboard.press("Escape")
    editor.nb.wait_python("editor.selected_node_ids", lambda s: s == [])
    assert editor.nb.eval_json("editor.mode") == "select"
    assert notebook_state() == before
    assert len(editor.node_ids()) == 3


def test_inspector_edits_reach_the_node(editor: EditorHandle) -> None:
    """Typing in the inspector writes the node's data (one undo step); the keys stay in
    the field: Backspace deletes a character, not the selected node, and JupyterLab's
    command-mode letters (d d, x, 0 0) touch no cell."""
    page, nb = editor.nb.page, editor.nb
    cells = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets.length")
    editor.click(editor.node_grab_point("prompt"))
    field = nb.panel.locator(".wf-inspector .wf-field-text textarea")
    field.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("a blue fox d d x 0 0!")
    page.keyboard.press("Backspace")
    nb.wait_python("editor.workflow.node('prompt').data['text']", lambda t: t == "a blue fox d d x 0 0")
    assert len(editor.node_ids()) == 3
    assert page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets.length") == cells
    nb.widget("wf-btn-undo").click()  # the typing is one undoable edit
    nb.wait_python("editor.workflow.node('prompt').data['text']", lambda t: t == "a red fox")
    wait_until(lambda: field.input_value() == "a red fox", message="the field did not follow the undo")
    # a fed input says where from; a number field writes a number
    editor.click(editor.node_grab_point("image"))
    assert "from prompt.text" in nb.panel.locator(".wf-inspector .wf-fed-prompt").text_content()
    seed = nb.panel.locator(".wf-inspector .wf-field-seed input")
    seed.fill("7")
    seed.press("Enter")
    nb.wait_python("editor.workflow.node('image').data.get('seed')", lambda v: v == 7)
    nb.assert_no_errors()


def test_canvas_survives_second_view_and_reload(open_notebook, browser, jupyter_server) -> None:
    editor = _open_editor(open_notebook("editor_test.ipynb"))
    editor.nb.save()  # other pages show what the file holds: keep the widget's output in it
    # A second page on the same notebook attaches to the same kernel with new views.
    context = browser.new_context(viewport=VIEWPORT)
    try:
        second = EditorHandle(
            open_notebook_on(context.new_page(), jupyter_server, editor.nb.path, fresh=False)
        )
        second.canvas.wait_nonblank(min_fraction=0.01)
        second.nb.assert_no_errors()
        # a gesture in the second page redraws the first one too
        first_picture = editor.canvas.pixel_stats()
        second.click(second.node_grab_point("image"))
        second.nb.wait_python("editor.selected_node_ids", lambda s: s == ["image"])
        editor.canvas.wait_changed(first_picture)
        assert editor.canvas.pixel_stats()["fraction"] > 0.01
    finally:
        context.close()
    # A reload: a new browser-side model for the same kernel-side canvas.
    editor.nb.reload()
    editor.refresh()
    stats = editor.canvas.wait_nonblank(min_fraction=0.01)
    assert stats["fraction"] > 0.01
    editor.nb.assert_no_errors()
    assert not console_errors(editor.nb.page), console_errors(editor.nb.page)
    # and it still answers the mouse
    editor.click(editor.node_grab_point("prompt"))
    editor.nb.wait_python("sorted(editor.selected_node_ids)", lambda s: s == ["prompt"])


def test_editor_under_voila(open_voila, page) -> None:
    """As a standalone page: drawn (the views appear after the kernel drew: only the
    client-ready redraw fills them), no errors, and the palette answers."""
    view = open_voila("editor_test.ipynb")
    canvas = view.canvas("wf-canvas")
    picture = canvas.wait_nonblank(min_fraction=0.01)
    view.assert_no_errors()
    view.widget("wf-palette-image-resize").click()
    page.locator(".wf-status", has_text=re.compile("add", re.I)).wait_for()
    canvas.wait_changed(picture)  # the new node is drawn
    view.assert_no_errors()
    assert not console_errors(page, ignore=VOILA_NOISE), console_errors(page, ignore=VOILA_NOISE)


# -- figures (printed, never asserted) -----------------------------------------------
class KernelMessages:
    """Counts the kernel -> browser widget messages (``comm_msg``) on the websocket."""

    def __init__(self, page) -> None:
        self.frames: list[bytes] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._on_frame))

    def _on_frame(self, payload) -> None:
        data = payload if isinstance(payload, bytes) else payload.encode()
        i = data.find(b'"msg_type": "')
        if i >= 0 and data[i + 13 : i + 21] == b"comm_msg":
            self.frames.append(data)

    def mark(self) -> int:
        return len(self.frames)

    def since(self, mark: int) -> tuple[int, int]:
        """Messages and bytes received since ``mark``."""
        got = self.frames[mark:]
        return len(got), sum(len(f) for f in got)


def _round_trips(nb, canvas, point, before_press=None, repeat: int = 5) -> list[float]:
    """ms from the browser's mousedown at ``point`` to the next frame on the canvas."""
    out: list[float] = []
    page = nb.page
    for _ in range(repeat):
        if before_press:
            before_press()
        page.mouse.move(*point)
        nb.kernel_sync()  # the move's own frame (if any) is drawn before the press
        page.mouse.down()
        t0 = canvas.last_event_time("mousedown")
        frame = canvas.wait_frame_after(t0)
        page.mouse.up()
        if frame is not None:
            out.append(frame - t0)
    return out


def _drag_lockstep(nb, canvas, point, messages: KernelMessages, steps: int = 30) -> dict:
    """A drag from ``point``, each mousemove waiting for its frame: ms per step, kernel
    messages and bytes per step."""
    page = nb.page
    x, y = point
    page.mouse.move(x, y)
    page.mouse.down()
    times: list[float] = []
    missed = 0
    nb.kernel_sync()
    nb.execute("_move_ms.clear()")
    mark = messages.mark()
    for i in range(1, steps + 1):
        page.mouse.move(x + 6 * i, y + 3 * i)
        t0 = canvas.last_event_time("mousemove")
        frame = canvas.wait_frame_after(t0, timeout=3.0)
        if frame is None:
            missed += 1
        else:
            times.append(frame - t0)
    nb.kernel_sync()
    count, size = messages.since(mark)
    page.mouse.up()
    handler = [d for _, d in nb.eval_json("_move_ms")]
    return {
        "times": times,
        "missed": missed,
        "msgs": count / steps,
        "kb": size / steps / 1024,
        "handler": handler,
    }


def _drag_burst(nb, canvas, point, steps: int = 30) -> dict:
    """``steps`` mousemoves fired at once during a drag from ``point``: ms the kernel
    took to handle them all, and ms until the browser drew the last frame (the kernel
    answers a request sent after them only once the browser has processed their frames,
    as JupyterLab handles a kernel's messages in order)."""
    page = nb.page
    x, y = point
    page.mouse.move(x, y)
    page.mouse.down()
    nb.kernel_sync()
    nb.execute("_move_ms.clear()")
    t0 = canvas.now()
    canvas.dispatch_moves([(x - 6 * i, y - 3 * i) for i in range(1, steps + 1)])
    nb.kernel_sync()
    page.mouse.up()
    frames = page.evaluate("(t0) => window.__wfProbe.frames.filter(t => t > t0)", t0)
    calls = nb.eval_json("_move_ms")
    span = calls[-1][0] + calls[-1][1] - calls[0][0] if calls else float("nan")
    return {"kernel": span, "last_frame": (frames[-1] - t0) if frames else float("nan")}


_TIME_MOVES = """
import time as _time
_move_ms = []     # (start, duration) of each mouse_move callback, ms
def _timed(callback):
    def run(*args):
        t = _time.perf_counter()
        callback(*args)
        _move_ms.append((t * 1000, (_time.perf_counter() - t) * 1000))
    return run
_top = {canvas}   # the (top layer) canvas that receives the events
_top._mouse_move_callbacks.callbacks = [_timed(c) for c in _top._mouse_move_callbacks.callbacks]
"""


def _measure(nb, canvas, point, messages, before_press=None) -> dict:
    trips = _round_trips(nb, canvas, point, before_press)
    drag = _drag_lockstep(nb, canvas, point, messages)
    burst = _drag_burst(nb, canvas, point)
    return {"trips": trips, **drag, **burst}


def _baseline(open_notebook, messages) -> dict:
    """The same gestures on a plain 600x300 ipycanvas whose handlers redraw 3 shapes:
    the floor set by ipycanvas, JupyterLab, the server and the browser on this machine."""
    nb = open_notebook("smoke_widgets.ipynb")
    nb.run_all()
    canvas = nb.canvas("wf-smoke-canvas")
    canvas.wait_nonblank()
    canvas.install_probe()
    nb.execute("clicks.clear()\ncanvas.on_mouse_move(lambda x, y: draw())")
    nb.execute(_TIME_MOVES.format(canvas="canvas"))
    return _measure(nb, canvas, canvas.to_page(100, 100), messages)


def _fmt(values: list[float]) -> str:
    if not values:
        return "n/a"
    p90 = statistics.quantiles(values, n=10, method="inclusive")[8] if len(values) >= 2 else values[0]
    return f"{statistics.median(values):6.1f} {p90:6.1f} {max(values):6.1f}"


def test_print_speed_figures(open_notebook, jupyter_server, page, capsys, request) -> None:
    messages = KernelMessages(page)
    kernels_before = jupyter_server.kernel_ids()
    rows = [("plain canvas", float("nan"), _baseline(open_notebook, messages))]
    page.goto("about:blank")
    jupyter_server.shutdown_kernels(keep=kernels_before)
    for total in (50, 200):
        nb = open_notebook("editor_test.ipynb", parameters={"N_EXTRA": total - 3})
        editor = _open_editor(nb)
        assert nb.eval_json("len(editor.workflow.nodes)") == total
        editor.canvas.install_probe()
        nb.execute(_TIME_MOVES.format(canvas="editor.canvas[-1]"))  # the kernel's handler
        empty = editor.to_page(*editor.empty_point())

        def clear_selection(editor=editor, empty=empty) -> None:  # so that the press redraws
            editor.click(empty)
            editor.nb.wait_python("len(editor.selected_node_ids)", lambda n: n == 0)

        point = editor.node_grab_point("resize")
        figures = _measure(nb, editor.canvas, point, messages, clear_selection)
        rows.append((f"{total} nodes", editor.zoom(), figures))
        page.goto("about:blank")
        jupyter_server.shutdown_kernels(keep=kernels_before)
    lines = [
        "",
        "GraphEditor in JupyterLab 4 + headless Chromium, real mouse (ms: median / p90 / max)",
        f"{'':>12} {'zoom':>5}  {'mousedown -> frame':>20}  {'drag step: move -> frame':>24}"
        f"  {'kernel handler/move':>20}  {'msgs/step':>9}  {'KB/step':>7}  {'burst of 30: kernel / last frame':>32}",
    ]
    for name, zoom, f in rows:
        lines.append(
            f"{name:>12} {zoom:>5.2f}  {_fmt(f['trips']):>20}  {_fmt(f['times']):>24}"
            f"  {_fmt(f['handler']):>20}  {f['msgs']:>9.2f}  {f['kb']:>7.1f}"
            f"  {f['kernel']:>16.0f} / {f['last_frame']:>13.0f}"
            + (f"  ({f['missed']} steps drew no frame)" if f["missed"] else "")
        )
    lines += [
        "mousedown/move -> frame: from the browser event to the next canvas frame (the whole round trip)",
        "drag step: a 30-step drag with the real mouse, each step waiting for its frame",
        "kernel handler: the mouse_move callback in the kernel, drawing and sending included",
        "msgs, KB: kernel -> browser comm messages per drag step",
        "burst of 30: 30 mousemoves fired at once; kernel: first callback's start to the last one's end;"
        " last frame: from firing them to the last frame drawn (page clock)",
        "plain canvas: a bare 600x300 ipycanvas redrawing 3 shapes per event (the floor of the set-up)",
    ]
    table = "\n".join(lines)
    with capsys.disabled():
        print(table)
    out = Path(request.config.rootpath) / "test-artifacts" / "e2e"
    out.mkdir(parents=True, exist_ok=True)
    (out / "editor-speed.txt").write_text(table + "\n")
