"""The editor's logic without any widget: geometry, hit tests, connection checks,
gestures, undo/redo, clipboard, layout."""

from __future__ import annotations

import pytest

from wireflow_nb import Workflow
from wireflow_nb.catalog import can_feed, default_catalog
from wireflow_nb.editing.commands import History, MoveNodes, SetNodeData
from wireflow_nb.editing.connections import check_connection
from wireflow_nb.editing.geometry import GRID, NODE_WIDTH, View
from wireflow_nb.editing.gestures import BoxSelect, Connect
from wireflow_nb.editing.layout import layered_layout
from wireflow_nb.editing.scene import Redraw
from wireflow_nb.editing.state import EditorState


def header(state: EditorState, node_id: str) -> tuple[float, float]:
    b = state.boxes[node_id]
    return state.view.to_screen(b.x + b.w / 2, b.y + 12)


def drag(state: EditorState, start, end, steps: int = 5) -> Redraw:
    flags = state.pointer_down(*start)
    for i in range(1, steps + 1):
        t = i / steps
        flags |= state.pointer_move(start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t)
    return flags | state.pointer_up(*end)


def positions(wf: Workflow) -> dict[str, tuple[float, float]]:
    return {n.id: (n.position.x, n.position.y) for n in wf.nodes}


# -- geometry ------------------------------------------------------------------------
def test_ports_of_known_types_follow_the_catalog(state):
    b = state.boxes["image"]
    assert [p.name for p in b.inputs] == ["prompt"]  # settings (width, seed...) are no ports
    assert [(p.name, p.kind) for p in b.outputs] == [("images", "image")]
    assert b.inputs[0].required and "prompt" in b.fed and not b.missing
    resize = state.boxes["resize"]
    assert resize.missing == {"image"}  # required, no edge, no value


def test_template_placeholders_are_input_ports():
    wf = Workflow()
    wf.add_node("text:template", id="t", template="{{subject}} by {{artist}} {{trigger.x}}")
    s = EditorState(wf, default_catalog())
    assert [p.name for p in s.boxes["t"].inputs] == ["subject", "artist"]
    wf.set_input("t", "template", "{{only}}")
    s.sync()
    assert [p.name for p in s.boxes["t"].inputs] == ["only"]


def test_hosted_nodes_get_ports_from_declared_lists_and_edges(hosted):
    wf = Workflow.from_dict(hosted)
    s = EditorState(wf, default_catalog())
    flux = s.boxes["flux"]
    assert not flux.known
    assert [(p.name, p.kind, p.text) for p in flux.inputs] == [
        ("prompt", "text", "Prompt"),
        ("image", "image", "Image"),
    ]
    assert [(p.name, p.kind) for p in flux.outputs] == [("image", "image")]
    kling = s.boxes["kling"]  # no port lists at all: its edges name its ports
    assert [p.name for p in kling.inputs] == ["start_image"]
    # prefixed handles name the same ports
    e1 = wf.edge("e1")
    assert s.edge_points(e1) == (s.boxes["txt"].port_point("out", "prompt"), flux.port_point("in", "prompt"))
    assert s.boxes["txt"].find_port("out", "out-prompt") == s.boxes["txt"].find_port("out", "prompt")


def test_node_height_grows_with_ports_and_thumbnail(state):
    small = state.boxes["image"].h
    state.thumbs.add("image")
    state.sync(force=True)
    assert state.boxes["image"].h > small + 100


def test_view_transform_round_trips_and_zooms_around_a_point():
    v = View(30, -20, 1.5)
    assert v.to_world(*v.to_screen(123.0, 45.0)) == pytest.approx((123.0, 45.0))
    before = v.to_world(400, 300)
    v.zoom_at(400, 300, 1.7)
    assert v.to_world(400, 300) == pytest.approx(before)
    v.zoom_at(0, 0, 1000)
    assert v.zoom == 4.0  # clamped
    v.zoom_at(0, 0, 1e-9)
    assert v.zoom == 0.1


def test_fit_shows_every_node(state):
    state.set_view(5000, 5000, 3)
    state.fit()
    for b in state.boxes.values():
        x0, y0 = state.view.to_screen(b.x, b.y)
        x1, y1 = state.view.to_screen(b.x + b.w, b.y + b.h)
        assert x0 >= 0 and x1 <= state.width and y0 >= 0 and y1 <= state.height
    assert state.view.zoom <= 1.0  # small graphs are not blown up


# -- hit testing ---------------------------------------------------------------------
def test_hit_finds_ports_nodes_edges_and_nothing(state):
    assert state.hit(260, 101).kind == "port"
    assert (state.hit(260, 101).node_id, state.hit(260, 101).side, state.hit(260, 101).port) == (
        "prompt",
        "out",
        "text",
    )
    assert state.hit(361, 101).port == "prompt" and state.hit(361, 101).side == "in"
    assert state.hit(*header(state, "resize")).node_id == "resize"
    assert state.hit(310, 101).kind == "edge"  # on the straight edge prompt.text -> image.prompt
    assert state.hit(800, 500).kind == "none"


def test_hit_testing_in_a_zoomed_and_panned_view(state):
    state.set_view(-100, 50, 2.0)
    sx, sy = state.view.to_screen(580, 101)  # image.images
    hit = state.hit(sx, sy)
    assert (hit.kind, hit.node_id, hit.port) == ("port", "image", "images")
    assert state.hit(*state.view.to_screen(470, 60)).node_id == "image"
    assert state.port_screen("image", "images") == pytest.approx((sx, sy))


# -- connection checks ---------------------------------------------------------------
def test_can_feed_table():
    assert can_feed("image", "image") and can_feed("any", "video") and can_feed("text", "any")
    assert can_feed("number", "text") and can_feed("json", "text") and can_feed("image", "json")
    assert not can_feed("text", "image") and not can_feed("video", "image")


def test_check_connection_refusals(state, wf):
    edges = wf.edges
    ok = check_connection(state.boxes, edges, "image", "images", "resize", "image")
    assert ok.ok
    kind = check_connection(state.boxes, edges, "prompt", "text", "resize", "image")
    assert (kind.ok, kind.code) == (False, "kind") and "text output prompt.text" in kind.reason
    wf.add_node("input:text", id="p2")
    state.sync()
    fed = check_connection(state.boxes, wf.edges, "p2", "text", "image", "prompt")
    assert fed.code == "fed" and "already fed by prompt.text" in fed.reason
    dup = check_connection(state.boxes, wf.edges, "prompt", "text", "image", "prompt")
    assert dup.code == "duplicate"
    itself = check_connection(state.boxes, wf.edges, "resize", "images", "resize", "image")
    assert itself.code == "self"


def test_cycle_refusal_names_the_path():
    wf = Workflow()
    for i in range(3):
        wf.add_node("image:resize", id=f"r{i}")
    wf.connect("r0", "images", "r1", "image")
    wf.connect("r1", "images", "r2", "image")
    s = EditorState(wf, default_catalog())
    check = check_connection(s.boxes, wf.edges, "r2", "images", "r0", "image")
    assert check.code == "cycle"
    assert "r0 -> r1 -> r2 -> r0" in check.reason


def test_multiple_inputs_take_several_edges():
    wf = Workflow()
    wf.add_node("input:image", id="a", image="x.png")
    wf.add_node("input:image", id="b", image="y.png")
    wf.add_node("image:grid", id="g")
    s = EditorState(wf, default_catalog())
    assert s.connect("a", "images", "g", "images") & Redraw.WORKFLOW
    assert s.connect("b", "images", "g", "images") & Redraw.WORKFLOW
    assert len(wf.edges) == 2
    s.connect("b", "images", "g", "images")
    assert len(wf.edges) == 2 and "already feeds" in s.message


# -- node drag -----------------------------------------------------------------------
def test_drag_moves_the_node_on_release_and_is_undoable(state, wf):
    start = header(state, "resize")
    state.pointer_down(*start)
    flags = state.pointer_move(start[0] + 50, start[1] + 20)
    assert flags & Redraw.STATIC and flags & Redraw.LIVE  # first step re-layers
    assert state.moving == {"resize"}
    assert state.pointer_move(start[0] + 100, start[1] + 40) == Redraw.LIVE  # then only what moves
    assert positions(wf)["resize"] == (360, 320)  # the workflow changes once, on release
    state.pointer_up(start[0] + 100, start[1] + 40)
    assert positions(wf)["resize"] == (460, 360)
    assert state.moving == set()
    state.undo()
    assert positions(wf)["resize"] == (360, 320)
    assert wf.node("resize").to_wire()["position"] == {"x": 360, "y": 320}
    state.redo()
    assert positions(wf)["resize"] == (460, 360)


def test_small_jitter_is_a_click_not_a_drag(state, wf):
    start = header(state, "resize")
    flags = drag(state, start, (start[0] + 1, start[1] + 1))
    assert not flags & Redraw.WORKFLOW
    assert positions(wf)["resize"] == (360, 320)
    assert state.selection == {"resize"}
    assert not state.history.can_undo


def test_drag_in_a_zoomed_view_moves_by_screen_distance_over_zoom(state, wf):
    state.set_view(37, -12, 2.0)
    start = header(state, "resize")
    drag(state, start, (start[0] + 100, start[1] - 60))
    assert positions(wf)["resize"] == (410, 290)


def test_dragging_a_selected_node_moves_the_whole_selection(state, wf):
    state.select(["prompt", "resize"])
    start = header(state, "resize")
    drag(state, start, (start[0] + 30, start[1] + 10))
    assert positions(wf)["prompt"] == (70, 50) and positions(wf)["resize"] == (390, 330)
    assert positions(wf)["image"] == (360, 40)
    state.undo()  # one gesture, one undo step
    assert positions(wf)["prompt"] == (40, 40) and positions(wf)["resize"] == (360, 320)


def test_click_on_a_node_of_a_multiple_selection_selects_it_alone(state):
    state.select(["prompt", "resize"])
    start = header(state, "resize")
    drag(state, start, start)
    assert state.selection == {"resize"}


def test_snap_to_grid(state, wf):
    state.toggle_snap(True)
    start = header(state, "resize")
    drag(state, start, (start[0] + 33, start[1] + 47))
    x, y = positions(wf)["resize"]
    assert x % GRID == 0 and y % GRID == 0
    assert (x, y) == (400, 360)


def test_escape_cancels_a_drag_and_mouse_out_ends_it(state, wf):
    start = header(state, "resize")
    state.pointer_down(*start)
    state.pointer_move(start[0] + 80, start[1])
    state.key("Escape")
    assert state.boxes["resize"].x == 360 and positions(wf)["resize"] == (360, 320)
    state.pointer_down(*start)
    state.pointer_move(start[0] + 80, start[1])
    state.pointer_out(start[0] + 80, start[1])  # the browser reports no release outside
    assert positions(wf)["resize"] == (440, 320)
    assert state.gesture is None


# -- connecting ----------------------------------------------------------------------
def test_connect_by_dragging_from_output_to_input(state, wf):
    flags = drag(state, (580, 101), (361, 381))
    assert flags & Redraw.WORKFLOW
    (edge,) = [e for e in wf.edges if e.target == "resize"]
    assert (edge.source, edge.source_handle, edge.target, edge.target_handle) == (
        "image",
        "images",
        "resize",
        "image",
    )
    assert state.message.startswith("connected image.images")
    state.undo()
    assert not [e for e in wf.edges if e.target == "resize"]


def test_connect_from_an_input_back_to_an_output(state, wf):
    drag(state, (360, 381), (581, 100))
    assert [(e.source, e.target) for e in wf.edges if e.target == "resize"] == [("image", "resize")]


def test_while_connecting_compatible_ports_light_up(state):
    state.pointer_down(580, 101)
    g = state.gesture
    assert isinstance(g, Connect)
    by_port = {(c[0], c[1]): c[4] for c in g.candidates}
    assert by_port[("resize", "image")].ok
    assert by_port[("image", "prompt")].code in ("self", "kind")
    state.pointer_move(362, 383)
    assert g.hover >= 0 and g.candidates[g.hover][1] == "image"


def test_refused_drops_say_why_and_change_nothing(state, wf):
    before = wf.to_dict()
    drag(state, (260, 101), (360, 381))  # text -> image input
    assert state.message.startswith("refused: kind mismatch")
    wf.add_node("input:text", id="p2", position=(40, 300))
    state.sync()
    b = state.boxes["p2"]
    drag(state, b.output_point(0), (360, 101))  # into an input already fed
    assert "already fed by prompt.text" in state.message
    assert [e.id for e in wf.edges] == [e["id"] for e in before["edges"]]


def test_refused_cycle_names_the_cycle():
    wf = Workflow()
    wf.add_node("image:resize", id="a", position=(0, 0))
    wf.add_node("image:resize", id="b", position=(400, 0))
    wf.connect("a", "images", "b", "image")
    s = EditorState(wf, default_catalog())
    s.set_view(0, 0, 1)
    s.pointer_down(*s.boxes["b"].output_point(0))
    g = s.gesture
    assert isinstance(g, Connect)
    assert {(c[0], c[1]): c[4].code for c in g.candidates}[("a", "image")] == "cycle"
    s.pointer_move(*s.boxes["a"].input_point(0))
    s.pointer_up(*s.boxes["a"].input_point(0))
    assert s.message == "refused: would make a cycle: a -> b -> a; connect the other way"
    assert len(wf.edges) == 1


def test_drop_on_empty_space_cancels(state, wf):
    n = len(wf.edges)
    flags = drag(state, (580, 101), (800, 550))
    assert len(wf.edges) == n and not flags & Redraw.WORKFLOW
    assert state.gesture is None


def test_drop_on_a_node_body_uses_its_first_accepting_input(state, wf):
    drag(state, (580, 101), header(state, "resize"))
    assert [(e.source, e.target_handle) for e in wf.edges if e.target == "resize"] == [("image", "image")]


def test_new_edges_follow_the_files_handle_prefixes(hosted):
    wf = Workflow.from_dict(hosted)
    s = EditorState(wf, default_catalog())
    s.connect("flux", "image", "m1", "prompt")  # image cannot feed a text prompt
    assert s.message.startswith("refused: kind mismatch")
    s.connect("txt", "text", "m1", "prompt")
    edge = wf.edges[-1]
    assert (edge.source_handle, edge.target_handle) == ("out-text", "in-prompt")


# -- selection -----------------------------------------------------------------------
def test_box_select_in_select_mode(state):
    flags = drag(state, (20, 20), (600, 200))
    assert flags & Redraw.SELECTION
    assert state.selection == {"prompt", "image"}


def test_box_preview_and_click_on_empty_clears(state):
    state.pointer_down(20, 20)
    state.pointer_move(300, 300)
    assert isinstance(state.gesture, BoxSelect) and state.gesture.preview == ["prompt"]
    state.pointer_up(300, 300)
    drag(state, (800, 550), (800, 550))
    assert state.selection == set()


def test_pan_mode_drags_the_view(state):
    state.set_mode("pan")
    flags = drag(state, (800, 550), (700, 500))
    assert flags & Redraw.VIEW
    assert (state.view.x, state.view.y) == (-100, -50)
    assert state.selection == set()


def test_click_an_edge_selects_it(state, wf):
    drag(state, (310, 101), (310, 101))
    assert state.edge_selection == {"e-prompt-text-image-prompt"} and state.selection == set()
    state.key("Delete")
    assert wf.edges == []
    state.key("z", ctrl=True)
    assert [e.id for e in wf.edges] == ["e-prompt-text-image-prompt"]


def test_keys_select_all_escape_delete_undo_redo(state, wf):
    state.key("a", ctrl=True)
    assert state.selection == {"prompt", "image", "resize"}
    state.key("Escape")
    assert state.selection == set()
    state.select(["image"])
    state.key("Backspace")
    assert [n.id for n in wf.nodes] == ["prompt", "resize"] and wf.edges == []
    state.key("z", meta=True)  # Cmd on a Mac
    assert [n.id for n in wf.nodes] == ["prompt", "image", "resize"] and len(wf.edges) == 1
    state.key("Z", ctrl=True, shift=True)
    assert [n.id for n in wf.nodes] == ["prompt", "resize"]
    state.key("z", ctrl=True)
    state.key("y", ctrl=True)
    assert [n.id for n in wf.nodes] == ["prompt", "resize"]


def test_delete_then_undo_restores_the_file_exactly(hosted):
    wf = Workflow.from_dict(hosted)
    original = wf.to_dict()
    s = EditorState(wf, default_catalog())
    s.select(["flux", "txt"])
    s.delete_selection()
    assert [n.id for n in wf.nodes] == ["kling", "m1"] and wf.edges == []
    s.undo()
    assert wf.to_dict() == original
    s.redo()
    s.undo()
    assert wf.to_dict() == original


# -- wheel and zoom ------------------------------------------------------------------
def test_wheel_zooms_around_the_last_pointer(state):
    state.pointer_move(470, 80)
    under = state.view.to_world(470, 80)
    flags = state.wheel(-120)
    assert flags & Redraw.VIEW and state.view.zoom > 1
    assert state.view.to_world(470, 80) == pytest.approx(under)
    z = state.view.zoom
    state.wheel(-3)  # line-mode deltas (Firefox) still zoom a notch
    assert state.view.zoom > z * 1.1


def test_zoom_keys_and_fit_key(state):
    state.key("+")
    assert state.view.zoom == pytest.approx(1.2)
    state.key("-")
    state.key("-")
    assert state.view.zoom == pytest.approx(1 / 1.2)
    state.key("f")
    assert state.view.zoom <= 1.0
    state.key("0")
    assert state.view.zoom == pytest.approx(1.0)


# -- clipboard -------------------------------------------------------------------------
def test_copy_paste_duplicate_keep_inner_edges(state, wf):
    state.select(["prompt", "image"])
    state.key("c", ctrl=True)
    state.key("v", ctrl=True)
    assert len(wf.nodes) == 5
    new = state.selected_ids
    assert len(new) == 2 and not {"prompt", "image"} & set(new)
    inner = [e for e in wf.edges if e.source in new]
    assert len(inner) == 1 and inner[0].target in new
    a = wf.node(new[0])
    assert (a.position.x, a.position.y) == (80, 80)
    assert a.data == wf.node("prompt").data
    state.key("d", ctrl=True)
    assert len(wf.nodes) == 7 and len(wf.edges) == 3
    state.undo()
    state.undo()
    assert [n.id for n in wf.nodes] == ["prompt", "image", "resize"] and len(wf.edges) == 1


def test_cut(state, wf):
    state.select(["resize"])
    state.key("x", ctrl=True)
    assert not wf.has_node("resize")
    state.key("v", ctrl=True)
    assert len(wf.nodes) == 3


# -- editing data ----------------------------------------------------------------------
def test_edit_data_is_undoable_and_consecutive_edits_of_a_field_merge(state, wf):
    state.edit_data("image", lambda n: n.set_input("seed", 2), "seed")
    state.edit_data("image", lambda n: n.set_input("seed", 23), "seed")
    assert wf.node("image").data["seed"] == 23
    state.undo()
    assert wf.node("image").data["seed"] == 1
    state.redo()
    state.history.seal()  # a new editing session of the same field
    state.edit_data("image", lambda n: n.set_input("seed", 7), "seed")
    state.undo()
    assert wf.node("image").data["seed"] == 23


def test_history_limit_and_redo_cleared_by_new_commands():
    wf = Workflow()
    wf.add_node("input:text", id="a")
    h = History(limit=3)
    for i in range(5):
        cmd = MoveNodes({"a": (wf.node("a").position, (i, i))})
        cmd.apply(wf)
        h.push(cmd)
    assert len(h.undo_stack) == 3
    h.redo_stack.append(SetNodeData("a", {}, {}))
    h.push(MoveNodes({"a": (wf.node("a").position, (9, 9))}))
    assert not h.can_redo


# -- adding and layout -------------------------------------------------------------------
def test_add_node_lands_in_view_without_overlap(state, wf):
    for _ in range(6):
        node_id, _flags = state.add_node("model:fal:text-to-image")
    rects = [(b.x, b.y, b.x + b.w, b.y + b.h) for b in state.boxes.values()]
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    b = state.boxes[node_id]
    assert wf.node(node_id).data == {
        "label": "Text to Image",
        "nodeType": "model:fal:text-to-image",
        "category": "model",
    }
    assert wf.node(node_id).type == "model"
    assert state.selection == {node_id}
    x0, y0, x1, y1 = state.visible_rect()
    assert x0 - NODE_WIDTH <= b.x <= x1 and y0 - 100 <= b.y <= y1


def test_layered_layout_goes_left_to_right_and_breaks_cycles():
    spots = layered_layout(
        ["a", "b", "c", "d", "e"],
        [("a", "b"), ("b", "c"), ("a", "c"), ("d", "c"), ("c", "a")],
        {n: 80.0 for n in "abcde"},
    )
    col = {n: round(x / (NODE_WIDTH + 100)) for n, (x, _) in spots.items()}
    assert col["a"] == 0 and col["b"] == 1 and col["c"] == 2 and col["d"] == 0
    ys = sorted(y for n, (x, y) in spots.items() if col[n] == 0)
    assert ys[1] - ys[0] >= 80 + 40  # stacked without overlap


def test_auto_layout_is_undoable(hosted):
    wf = Workflow.from_dict(hosted)
    for n in wf.nodes:
        n.position.x = n.position.y = 0
    s = EditorState(wf, default_catalog())
    before = positions(wf)
    s.auto_layout()
    xs = positions(wf)
    assert xs["txt"][0] < xs["flux"][0] < xs["kling"][0]
    assert len(set(xs.values())) == 4
    s.undo()
    assert positions(wf) == before


def test_arrow_keys_nudge_the_selection(state, wf):
    state.select(["resize"])
    state.key("ArrowRight")
    state.key("ArrowDown", shift=True)
    assert positions(wf)["resize"] == (370, 420)


def test_external_changes_are_picked_up(state, wf):
    wf.add_node("image:crop", id="crop", position=(700, 400))
    assert state.pointer_down(5, 5) & Redraw.SCENE
    assert "crop" in state.boxes


def test_edges_without_ids_can_be_selected_and_deleted():
    wf = Workflow.from_dict(
        {
            "nodes": [
                {"id": "a", "position": {"x": 0, "y": 0}, "data": {"nodeType": "image:resize"}},
                {"id": "b", "position": {"x": 400, "y": 0}, "data": {"nodeType": "image:resize"}},
            ],
            "edges": [{"source": "a", "target": "b", "sourceHandle": "images", "targetHandle": "image"}],
        }
    )
    s = EditorState(wf, default_catalog())
    s.set_view(0, 0, 1)
    (ax, ay), (bx, by) = s.edge_points(wf.edges[0])
    hit = s.hit((ax + bx) / 2, (ay + by) / 2)
    assert hit.kind == "edge" and hit.edge == "#0"
    s.select((), [hit.edge])
    s.delete_selection()
    assert wf.edges == []
    s.undo()
    assert wf.to_dict()["edges"] == [
        {"source": "a", "target": "b", "sourceHandle": "images", "targetHandle": "image"}
    ]


def test_dragging_a_fed_input_moves_the_end_of_its_edge(state, wf):
    wf.add_node("model:fal:text-to-video", id="vid", position=(360, 200))
    state.sync()
    target = state.boxes["vid"].input_point(0)
    state.pointer_down(361, 101)  # image.prompt, fed by prompt.text
    g = state.gesture
    assert isinstance(g, Connect) and g.replacing is not None and g.side == "out" and g.node_id == "prompt"
    assert state.hidden_edge == "e-prompt-text-image-prompt"
    assert {(c[0], c[1]): c[4].ok for c in g.candidates}[("image", "prompt")]  # may go back
    state.pointer_move(*target)
    state.pointer_up(*target)
    assert [(e.id, e.source, e.target, e.target_handle) for e in wf.edges] == [
        ("e-prompt-text-image-prompt", "prompt", "vid", "prompt")
    ]
    assert state.hidden_edge is None
    state.undo()  # one step
    assert [(e.source, e.target) for e in wf.edges] == [("prompt", "image")]


def test_a_picked_up_edge_end_dropped_on_empty_space_or_home_stays(state, wf):
    before = wf.to_dict()
    drag(state, (361, 101), (800, 560))
    assert wf.to_dict() == before
    drag(state, (361, 101), (362, 102))
    assert wf.to_dict() == before and not state.history.can_undo
