"""The GraphEditor widget driven with the browser's own messages (EditorDriver)."""

from __future__ import annotations

import json

import ipywidgets as widgets
import pytest
from ipycanvas.canvas import COMMANDS

from wireflow_nb import Workflow
from wireflow_nb.testing import EditorDriver, count_messages
from wireflow_nb.widgets import GraphEditor
from wireflow_nb.widgets._layers import LAYERS

from .conftest import three_nodes

SWITCH = COMMANDS["switchCanvas"]


def forget_current_layer(editor: GraphEditor) -> None:
    """Make the next batch name its layer (the canvas manager omits the switch command
    while the same layer stays current)."""
    editor.canvas._canvas_manager._current_canvas = None


def layers_drawn(editor: GraphEditor, log) -> set[str]:
    """Names of the layers the logged canvas messages drew on (call
    ``forget_current_layer`` before logging)."""
    ids = {f"IPY_MODEL_{editor.layers[name].model_id}": name for name in LAYERS}
    return {ids[c[1][0]] for c in log.canvas_commands() if c[0] == SWITCH and c[1][0] in ids}


def classes(widget) -> list[str]:
    return list(widget._dom_classes)


def find(root, css: str):
    stack = [root]
    while stack:
        w = stack.pop()
        if css in getattr(w, "_dom_classes", ()):
            return w
        stack.extend(getattr(w, "children", ()))
    return None


def positions(wf: Workflow) -> dict[str, tuple[float, float]]:
    return {n.id: (n.position.x, n.position.y) for n in wf.nodes}


# -- the widget ----------------------------------------------------------------------
def test_high_dpi_buffer_and_css_size():
    e = GraphEditor(three_nodes(), width=800, height=500)
    assert (e.canvas.width, e.canvas.height) == (1600, 1000)
    # CSS: the row's width left by the palette (and the inspector beside), at most 800 px
    assert e.canvas.layout.max_width == "min(800px, 100%)" and e.canvas.layout.flex == "1 1 0%"
    assert all(layer.width == 1600 for layer in e.canvas.canvases)
    one = GraphEditor(three_nodes(), pixel_ratio=1)
    assert one.canvas.width == 960


def test_css_classes_for_tests_and_styling(editor):
    assert "wf-canvas" in classes(editor.canvas) and "wf-editor" in classes(editor)
    for name in (
        "undo",
        "redo",
        "fit",
        "zoom-in",
        "zoom-out",
        "layout",
        "mode",
        "snap",
        "save",
        "load",
        "delete",
    ):
        assert isinstance(find(editor, f"wf-btn-{name}"), widgets.Button), name
    assert isinstance(find(editor, "wf-palette-search"), widgets.Text)
    assert isinstance(find(editor, "wf-palette-model-fal-text-to-image"), widgets.Button)
    assert find(editor, "wf-inspector") is editor.inspector
    assert find(editor.toolbar, "wf-btn-undo") is editor.buttons["undo"]


def test_geometry_is_in_event_coordinates(editor):
    assert editor.node_bounds("prompt") == (80, 80, 440, 204)
    assert editor.port_position("prompt", "text") == (520, 202)
    assert editor.port_position("image", "prompt") == (720, 202)
    assert editor.port_position("image", "in-prompt") == (720, 202)
    editor.view = {"x": 100, "y": -20, "zoom": 0.5}
    x, y, w, h = editor.node_bounds("resize")
    assert (x, y, w, h) == (2 * (100 + 180), 2 * (-20 + 160), 220, 80)
    with pytest.raises(KeyError, match="no port 'nope'"):
        editor.port_position("resize", "nope")
    with pytest.raises(KeyError):
        editor.node_bounds("ghost")


# -- gestures through the driver ------------------------------------------------------
def test_drag_a_node(driver, editor):
    driver.drag_node("resize", 200, 80)
    assert positions(editor.workflow)["resize"] == (460, 360)
    assert editor.selected_node_ids == ["resize"]
    driver.key("z", ctrl=True)
    assert positions(editor.workflow)["resize"] == (360, 320)
    driver.key("Z", ctrl=True, shift=True)
    assert positions(editor.workflow)["resize"] == (460, 360)


@pytest.mark.parametrize("ratio", [1.0, 2.0, 1.5])
def test_drag_in_zoomed_and_panned_views(ratio):
    e = GraphEditor(three_nodes(), pixel_ratio=ratio)
    e.view = (-55, 33, 1.6)
    d = EditorDriver(e)
    d.drag_node("resize", 160 * ratio, -80 * ratio)
    x, y = positions(e.workflow)["resize"]
    assert (x, y) == pytest.approx((360 + 100, 320 - 50))


def test_connect_and_refuse(driver, editor):
    driver.connect("image", "images", "resize", "image")
    assert [(e.source, e.source_handle, e.target, e.target_handle) for e in editor.workflow.edges][-1] == (
        "image",
        "images",
        "resize",
        "image",
    )
    assert editor.status.value.startswith("connected")
    driver.connect("prompt", "text", "resize", "image")
    assert editor.status.value.startswith("refused:")
    assert len(editor.workflow.edges) == 2
    driver.key("z", ctrl=True)
    assert len(editor.workflow.edges) == 1
    driver.key("y", ctrl=True)
    assert len(editor.workflow.edges) == 2


def test_connect_drop_on_empty_space_cancels(driver, editor):
    start = editor.port_position("image", "images")
    driver.drag(start, driver.empty_point())
    assert len(editor.workflow.edges) == 1


def test_select_delete_undo(driver, editor):
    driver.click_node("image")
    assert editor.selected_node_ids == ["image"]
    driver.key("Delete")
    assert [n.id for n in editor.workflow.nodes] == ["prompt", "resize"]
    assert editor.workflow.edges == []
    driver.key("z", ctrl=True)
    assert [n.id for n in editor.workflow.nodes] == ["prompt", "image", "resize"]
    assert [(e.source, e.target) for e in editor.workflow.edges] == [("prompt", "image")]
    assert positions(editor.workflow)["image"] == (360, 40)


def test_click_an_edge_then_delete(driver, editor):
    (ax, ay), (bx, _) = editor.port_position("prompt", "text"), editor.port_position("image", "prompt")
    driver.click((ax + bx) / 2, ay)
    assert editor.selected_edge_ids == ["e-prompt-text-image-prompt"]
    driver.key("Backspace")
    assert editor.workflow.edges == []


def test_box_select_select_all_and_escape(driver, editor):
    driver.drag((20, 20), (1300, 400))
    assert editor.selected_node_ids == ["prompt", "image"]
    driver.key("Escape")
    assert editor.selected_node_ids == []
    driver.key("a", ctrl=True)
    assert editor.selected_node_ids == ["prompt", "image", "resize"]


def test_pan_mode_and_wheel_zoom(driver, editor):
    editor.buttons["mode"].click()
    assert editor.mode == "pan" and editor.buttons["mode"].description == "Mode: Pan"
    driver.drag((1700, 1100), (1500, 1000))
    assert (editor.view.x, editor.view.y) == (-100, -50)
    before = editor.view
    driver.wheel(600, 400, -240)
    after = editor.view
    assert after.zoom > before.zoom
    # the world point under the pointer stayed put
    assert before.to_world(300, 200) == pytest.approx(after.to_world(300, 200))
    assert editor.zoom_label.value == f"{round(after.zoom * 100)}%"
    driver.key("v")
    assert editor.mode == "select"


def test_copy_paste_duplicate_through_keys(driver, editor):
    driver.click_node("prompt")
    driver.key("c", ctrl=True)
    driver.key("v", ctrl=True)
    driver.key("d", ctrl=True)
    assert len(editor.workflow.nodes) == 5
    driver.key("z", ctrl=True)
    driver.key("z", ctrl=True)
    assert len(editor.workflow.nodes) == 3


def test_toolbar_buttons(editor, tmp_path):
    editor.select(["resize"])
    editor.buttons["delete"].click()
    assert not editor.workflow.has_node("resize")
    editor.buttons["undo"].click()
    assert editor.workflow.has_node("resize")
    editor.buttons["redo"].click()
    assert not editor.workflow.has_node("resize")
    z = editor.view.zoom
    editor.buttons["zoom-in"].click()
    assert editor.view.zoom == pytest.approx(z * 1.2)
    editor.buttons["zoom-out"].click()
    assert editor.view.zoom == pytest.approx(z)
    editor.buttons["snap"].click()
    assert editor.snap and editor.buttons["snap"].description == "Snap: on"
    editor.buttons["layout"].click()
    xs = positions(editor.workflow)
    assert xs["prompt"][0] < xs["image"][0]
    editor.view = (900, 900, 3)
    editor.buttons["fit"].click()
    x, y, w, h = editor.node_bounds("image")
    assert x >= 0 and x + w <= editor.canvas.width and y >= 0 and y + h <= editor.canvas.height
    editor.path.value = str(tmp_path / "out.json")
    editor.buttons["save"].click()
    assert json.loads((tmp_path / "out.json").read_text())["nodes"][0]["id"] == "prompt"
    editor.workflow.add_node("image:crop", id="crop")
    editor.buttons["load"].click()
    assert not editor.workflow.has_node("crop")
    editor.path.value = str(tmp_path / "missing.json")
    editor.buttons["load"].click()
    assert "no file" in editor.status.value


def test_palette_adds_in_view_and_search_filters(editor):
    button = find(editor, "wf-palette-image-crop")
    button.click()
    (new,) = [n.id for n in editor.workflow.nodes if n.node_type == "image:crop"]
    x, y, w, h = editor.node_bounds(new)
    assert 0 <= x <= editor.canvas.width - w / 2 and 0 <= y <= editor.canvas.height - h / 2
    assert editor.selected_node_ids == [new]
    editor.search.value = "video"
    shown = [c for c in editor._palette_list.children if isinstance(c, widgets.Button)]
    assert shown and all(
        "video" in (b.tooltip or "").lower() or "video" in b.description.lower() for b in shown
    )
    editor.search.value = "zzz-nothing"
    assert "no node type" in editor._palette_list.children[0].value
    editor.search.value = ""
    assert len([c for c in editor._palette_list.children if isinstance(c, widgets.Button)]) == len(
        editor.catalog
    )
    editor.undo()
    assert not editor.workflow.has_node(new)


def test_the_request_matches_the_drawing(driver, editor):
    driver.drag_node("resize", 100, 50)
    driver.connect("image", "images", "resize", "image")
    driver.click(*driver.empty_point())
    find(editor, "wf-palette-input-number").click()
    request = editor.workflow.to_request()
    for node in request.nodes:
        box = editor.state.boxes[node.id]
        assert (node.position.x, node.position.y) == pytest.approx((box.x, box.y))
    drawn = {(e.source, e.target) for _, e in editor.state.edges}
    assert drawn == {(e.source, e.target) for e in request.edges}
    for edge in request.edges:
        start, end = editor.state.edge_points(edge)
        assert editor.port_position(edge.source, edge.source_handle, "out") == pytest.approx(
            tuple(2 * v for v in editor.state.view.to_screen(*start))
        )
        assert editor.port_position(edge.target, edge.target_handle, "in") == pytest.approx(
            tuple(2 * v for v in editor.state.view.to_screen(*end))
        )


# -- messages: at most one per mouse event, only what moves ----------------------------
def test_one_message_per_move_and_only_live_layers_while_dragging(driver, editor):
    x, y = driver.node_center("resize")
    driver.move(x, y)
    driver.down(x, y)
    driver.move(x + 20, y)  # starts the drag: static layers re-layered once
    forget_current_layer(editor)
    with count_messages() as log:
        for i in range(2, 12):
            driver.move(x + 20 * i, y + 3 * i)
            assert log.count <= i - 1
    assert log.count == 10
    assert layers_drawn(editor, log) == {"live"}  # one layer: one composite a move
    with count_messages() as log:
        driver.up(x + 220, y + 33)
    assert log.canvas_commands()  # the release settles everything back on the static layers


def commands_by_layer(editor: GraphEditor, log) -> dict[str, list[int]]:
    """The command codes of the logged canvas messages, per layer drawn on (call
    ``forget_current_layer`` before logging)."""
    ids = {f"IPY_MODEL_{editor.layers[name].model_id}": name for name in LAYERS}
    out: dict[str, list[int]] = {}
    layer = None
    for c in log.canvas_commands():
        if c[0] == SWITCH:
            layer = ids.get(c[1][0])
        elif layer is not None:
            out.setdefault(layer, []).append(c[0])
    return out


def test_the_dragged_edges_leave_the_live_layer_on_release(driver, editor):
    x, y = driver.node_center("image")  # it has an edge in
    driver.move(x, y)
    driver.down(x, y)
    driver.move(x + 40, y + 10)
    forget_current_layer(editor)
    with count_messages() as log:
        driver.move(x + 60, y + 20)
    live = commands_by_layer(editor, log)["live"]
    clear, edge = COMMANDS["clear"], COMMANDS["strokeStyledLineSegments"]
    assert edge in live and live.index(edge) > max(i for i, c in enumerate(live) if c == clear)  # kept
    forget_current_layer(editor)
    with count_messages() as log:
        driver.up(x + 60, y + 20)
    live = commands_by_layer(editor, log)["live"]
    assert clear in live and edge not in live  # cleared: the edge is back on its layer
    assert edge in commands_by_layer(editor, log)["edges"]


def test_a_connection_drag_redraws_the_outlines_and_its_preview_never_a_node(driver, editor):
    driver.click_node("resize")  # an outline on the live layer, under the preview
    start = editor.port_position("image", "images")
    driver.move(*start)
    driver.down(*start)
    for i in range(1, 6):
        forget_current_layer(editor)
        with count_messages() as log:
            driver.move(start[0] - 13 * i, start[1] + 9 * i)
        live = commands_by_layer(editor, log)["live"]
        assert live.count(COMMANDS["clear"]) == 1  # one clear for outlines and preview
        assert COMMANDS["strokePolygons"] in live and COMMANDS["strokeLines"] in live
        assert COMMANDS["fillStyledPolygons"] not in live  # no node body
    driver.up(start[0] - 13 * 5, start[1] + 9 * 5)


def test_the_grid_is_drawn_under_the_edges_on_their_layer(editor):
    forget_current_layer(editor)
    with count_messages() as log:
        editor.redraw()
    edges = commands_by_layer(editor, log)["edges"]
    grid, edge = COMMANDS["strokeLineSegments"], COMMANDS["strokeStyledLineSegments"]
    assert edges.count(COMMANDS["clear"]) == 1 and edges.index(grid) < edges.index(edge)


@pytest.mark.parametrize("gesture", ["connect", "box", "pan"])
def test_other_gestures_send_at_most_one_message_per_move(driver, editor, gesture):
    if gesture == "connect":
        start = editor.port_position("image", "images")
    else:
        start = driver.empty_point()
        if gesture == "pan":
            editor.set_mode("pan")
    driver.move(*start)
    driver.down(*start)
    for i in range(1, 15):
        forget_current_layer(editor)
        with count_messages() as log:
            driver.move(start[0] - 13 * i, start[1] + 9 * i)
        assert log.count <= 1, (gesture, i, [type(m.widget).__name__ for m in log.messages])
        if gesture in ("connect", "box") and log.count:
            assert layers_drawn(editor, log) == {"live"}  # the feedback over the outlines
    driver.up(start[0] - 13 * 14, start[1] + 9 * 14)


def test_hovering_sends_nothing(driver, editor):
    with count_messages() as log:
        for i in range(20):
            driver.move(100 + 30 * i, 300 + 5 * i)
    assert log.count == 0


def test_client_ready_redraws_every_layer_in_one_message(driver, editor):
    editor.canvas._canvas_manager._current_canvas = editor.layers["live"]
    with count_messages() as log:
        driver.client_ready()
    assert log.count == 1
    assert layers_drawn(editor, log) == set(LAYERS)
    texts = [c[1][0] for c in log.canvas_commands() if c[0] == COMMANDS["fillText"]]
    assert "Resize image" in texts and "a red fox" not in texts


def test_python_side_changes_redraw_the_canvas(editor):
    with count_messages() as log:
        editor.workflow.add_node("image:crop", id="crop", position=(700, 300))
    assert "crop" in editor.state.boxes
    assert "Crop image" in [c[1][0] for c in log.canvas_commands() if c[0] == COMMANDS["fillText"]]
    editor.workflow.remove_node("crop")
    assert "crop" not in editor.state.boxes


def test_redraw_survives_a_drawing_error(editor, monkeypatch):
    from ipycanvas.canvas import _CANVAS_MANAGER

    from wireflow_nb.widgets import _draw

    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(_draw, "draw_nodes", boom)
    with pytest.raises(RuntimeError):
        editor.redraw()
    assert _CANVAS_MANAGER._caching is False  # later draws still reach the browser


# -- hooks for apps ------------------------------------------------------------------
def test_status_badges_and_failed_outline(editor):
    forget_current_layer(editor)
    with count_messages() as log:
        editor.set_node_status("image", "RUNNING")
    assert log.count == 1 and layers_drawn(editor, log) == {"nodes"}
    assert "running" in [c[1][0] for c in log.canvas_commands() if c[0] == COMMANDS["fillText"]]
    with count_messages() as log:
        editor.set_node_status("image", "RUNNING")  # unchanged: nothing sent
    assert log.count == 0
    editor.set_node_status("image", "FAILED")
    assert editor.node_statuses == {"image": "FAILED"}
    editor.set_node_status("image", None)
    assert editor.node_statuses == {}
    with count_messages() as log, editor.batch():
        for n in ("prompt", "image", "resize"):
            editor.set_node_status(n, "COMPLETED")
        editor.highlight_nodes(["image"], "#ff00ff")
    assert log.count == 1
    editor.clear_node_statuses()
    editor.clear_highlights()
    assert editor.state.highlights == {}


def test_thumbnail_grows_the_node_and_draws_an_image(editor):
    from io import BytesIO

    from PIL import Image

    buf = BytesIO()
    Image.new("RGB", (800, 400), "orange").save(buf, format="PNG")
    h = editor.node_bounds("image")[3]
    with count_messages() as log:
        editor.set_node_thumbnail("image", buf.getvalue())
    assert editor.node_bounds("image")[3] > h
    assert any(c[0] == COMMANDS["drawImage"] for c in log.canvas_commands())
    image, size = editor._images["image"]
    assert size == (800, 400) and len(image.value) < len(buf.getvalue()) * 4
    editor.set_node_thumbnail("image", None)
    assert editor.node_bounds("image")[3] == h


def test_selection_hooks(driver, editor):
    seen = []
    unsubscribe = editor.on_selection_change(seen.append)
    driver.click_node("image")
    editor.selected_node_ids = ["prompt", "resize"]
    driver.key("Escape")
    assert seen == [["image"], ["prompt", "resize"], []]
    unsubscribe()
    driver.click_node("image")
    assert len(seen) == 3


def test_view_property_and_toolbar_extension(editor):
    editor.view = (10, 20, 1.5)
    v = editor.view
    assert (v.x, v.y, v.zoom) == (10, 20, 1.5)
    v.zoom = 3  # a copy: changes nothing
    assert editor.view.zoom == 1.5
    editor.toolbar.children = (*editor.toolbar.children, widgets.Button(description="Run"))
    assert editor.toolbar.children[-1].description == "Run"


def test_replacing_the_workflow(editor):
    seen = []
    editor.on_workflow_replaced(seen.append)
    old = editor.workflow
    new = Workflow(id="other")
    new.add_node("input:number", id="n", position=(0, 0))
    editor.workflow = new
    assert seen == [new] and list(editor.state.boxes) == ["n"]
    old.add_node("image:crop", id="late")  # the old one no longer drives the canvas
    assert "late" not in editor.state.boxes
    assert not editor.state.history.can_undo
    with pytest.raises(TypeError):
        editor.workflow = {"nodes": []}  # type: ignore[assignment]


def test_changes_in_a_running_kernel_redraw_once_after_the_cell(editor):
    import asyncio

    async def cell() -> tuple[int, bool]:
        with count_messages() as log:
            for i in range(30):
                editor.workflow.add_node("input:number", id=f"k{i}", position=(40 + 250 * i, 700))
            _x, _y, w, _h = editor.node_bounds("k29")  # geometry is current at once
            assert w > 0
            during = log.count
            await asyncio.sleep(0)  # the cell ends: the kernel's loop runs the redraw
            await asyncio.sleep(0)
            canvas_batches = [m for m in log.messages if m.canvas_commands()]
        return during, len(canvas_batches) == 1 and any(
            c[0] == COMMANDS["fillText"] for c in log.canvas_commands()
        )

    during, drawn = asyncio.run(cell())
    assert during == 0 and drawn


def test_pressing_a_node_sends_one_small_batch_and_the_inspector_follows_on_release(driver, editor):
    x, y = driver.node_center("resize")
    driver.move(x, y)
    forget_current_layer(editor)
    with count_messages() as log:
        driver.down(x, y)
    assert log.count == 1 and layers_drawn(editor, log) == {"live"}  # the outline only
    assert editor.inspector.node_id is None  # no widget built while the mouse is down
    driver.up(x, y)
    assert editor.inspector.node_id == "resize"


def test_driver_sends_the_browsers_own_messages(editor):
    seen: list[dict] = []
    editor.canvas[-1].on_msg(lambda _w, content, _b: seen.append(content))  # the top layer receives them
    d = EditorDriver(editor)
    d.wheel(10, 20, -120)
    d.key("z", ctrl=True, shift=True)
    d.click(5, 6)
    assert seen == [
        {"event": "mouse_move", "x": 10.0, "y": 20.0},
        {"event": "mouse_wheel", "x": 0.0, "y": -120.0},
        {"event": "key_down", "key": "Z", "shift_key": True, "ctrl_key": True, "meta_key": False},
        {"event": "mouse_move", "x": 5.0, "y": 6.0},
        {"event": "mouse_down", "x": 5.0, "y": 6.0},
        {"event": "mouse_up", "x": 5.0, "y": 6.0},
    ]


def test_node_at_and_mouse_out_ends_a_drag(driver, editor):
    x, y = driver.node_center("image")
    assert editor.node_at(x, y) == "image" and editor.node_at(*driver.empty_point()) is None
    driver.move(x, y)
    driver.down(x, y)
    driver.move(x + 40, y)
    driver.out(x + 60, y)  # left the canvas: no mouse_up will come
    assert editor.state.gesture is None and positions(editor.workflow)["image"] == (380, 40)
