"""Pointer gestures: node drag, connect (and moving an edge's end), box select, pan, wheel."""

from __future__ import annotations

import pytest

from wireflow_nb import Workflow
from wireflow_nb.catalog import default_catalog
from wireflow_nb.editing.geometry import GRID
from wireflow_nb.editing.gestures import BoxSelect, Connect
from wireflow_nb.editing.scene import Redraw
from wireflow_nb.editing.state import EditorState

from .fixtures import drag, header, positions


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


def test_wheel_zooms_around_the_last_pointer(state):
    state.pointer_move(470, 80)
    under = state.view.to_world(470, 80)
    flags = state.wheel(-120)
    assert flags & Redraw.VIEW and state.view.zoom > 1
    assert state.view.to_world(470, 80) == pytest.approx(under)
    z = state.view.zoom
    state.wheel(-3)  # line-mode deltas (Firefox) still zoom a notch
    assert state.view.zoom > z * 1.1


def test_external_changes_are_picked_up(state, wf):
    wf.add_node("image:crop", id="crop", position=(700, 400))
    assert state.pointer_down(5, 5) & Redraw.SCENE
    assert "crop" in state.boxes


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
