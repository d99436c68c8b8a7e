"""Drawing functions on a recording canvas: transforms for high-DPI, culling, level of
detail, stacking of overlapping nodes, gesture feedback."""

from __future__ import annotations

import numpy as np
import pytest

from wireflow_nb import Workflow
from wireflow_nb.catalog import default_catalog
from wireflow_nb.editing.state import EditorState
from wireflow_nb.widgets import _draw

from .conftest import RecordingCanvas


def test_layers_clear_without_the_transform_then_apply_pan_zoom_and_pixel_ratio(state, recorder):
    state.set_view(10, 20, 1.5)
    _draw.draw_nodes(recorder, state, 2.0)
    assert recorder.calls[:3] == [
        ("reset_transform", ()),
        ("clear", ()),
        ("set_transform", (3.0, 0, 0, 3.0, 20.0, 40.0)),
    ]


def test_grid_fills_the_whole_buffer(state, recorder):
    _draw.draw_grid(recorder, state, 2.0)
    assert ("fill_rect", (0, 0, 1920.0, 1200.0)) in recorder.calls
    assert "stroke_line_segments" in recorder.names()


def test_nodes_are_drawn_with_vectorized_calls(state, recorder):
    _draw.draw_nodes(recorder, state, 2.0)
    names = recorder.names()
    assert names.count("fill_styled_polygons") == 2  # bodies, headers: one call each for all nodes
    assert names.count("fill_styled_circles") == 1  # every port
    texts = recorder.texts()
    assert {"Text", "Text to Image", "Resize image", "input:text", "images", "prompt"} <= set(texts)


def test_only_nodes_in_view_are_sent(state, recorder):
    state.set_view(-300, 0, 1)  # world x 300..1260 in view: prompt (40..260) is out
    _draw.draw_nodes(recorder, state, 1.0)
    assert "Text" not in recorder.texts() and "Resize image" in recorder.texts()
    everything = RecordingCanvas()
    _draw.draw_nodes(everything, state, 1.0, cull=False)
    assert "Text" in everything.texts()


def test_far_out_only_labels_remain_and_they_stay_readable(state, recorder):
    state.set_view(0, 0, 0.2)
    _draw.draw_nodes(recorder, state, 2.0)
    assert "images" not in recorder.texts() and "input:text" not in recorder.texts()
    fonts = [a[0] for n, a in recorder.calls if n == "set:font"]
    size = float(fonts[-1].split()[1].removesuffix("px"))
    assert size * 0.2 == pytest.approx(11, abs=0.1)  # 11 px on screen


def test_moving_nodes_leave_the_static_layers(state, recorder):
    state.moving = {"image"}
    _draw.draw_nodes(recorder, state, 1.0)
    assert "Text to Image" not in recorder.texts()
    edges = RecordingCanvas()
    _draw.draw_edges(edges, state, 1.0, live=False)
    assert "stroke_styled_line_segments" not in edges.names()  # its only edge moves with it
    live = RecordingCanvas()
    _draw.draw_edges(live, state, 1.0, live=True)
    assert "stroke_styled_line_segments" in live.names()


def test_overlapping_nodes_are_drawn_in_separate_batches_in_order():
    wf = Workflow()
    wf.add_node("image:resize", id="a", position=(0, 0))
    wf.add_node("image:resize", id="b", position=(500, 0))
    wf.add_node("image:resize", id="c", position=(100, 30))  # over a
    wf.add_node("image:resize", id="d", position=(900, 0))
    s = EditorState(wf, default_catalog())
    batches = _draw.overlap_batches(list(s.boxes.values()))
    assert [[b.id for b in batch] for batch in batches] == [["a", "b"], ["c", "d"]]
    apart = Workflow()
    for i in range(4):
        apart.add_node("image:resize", id=f"n{i}", position=(300 * i, 0))
    s2 = EditorState(apart, default_catalog())
    assert len(_draw.overlap_batches(list(s2.boxes.values()))) == 1


def test_selected_edges_and_nodes_are_outlined(state, recorder):
    state.select(["image"], ["e-prompt-text-image-prompt"])
    _draw.draw_nodes(recorder, state, 1.0)
    styled = [a for n, a in recorder.calls if n == "stroke_styled_polygons"]
    assert len(styled) == 1 and styled[0][0].shape[0] == 1
    assert tuple(styled[0][1][0]) == _draw.rgb(_draw.SELECTED)
    edges = RecordingCanvas()
    _draw.draw_edges(edges, state, 1.0)
    assert ("set:stroke_style", (_draw.SELECTED,)) in edges.calls


def test_status_badges_and_missing_inputs(state, recorder):
    state.statuses["image"] = "COMPLETED"
    state.statuses["resize"] = "FAILED"
    _draw.draw_nodes(recorder, state, 1.0)
    assert {"completed", "failed"} <= set(recorder.texts())
    # resize's required image input has no edge: its name is written in red
    calls = recorder.calls
    i = calls.index(("set:fill_style", (_draw.MISSING,)))
    assert calls[i + 1] == ("fill_text", ("image", 372.0, 385.0))
    # a failed node gets a red outline
    styled = [a for n, a in calls if n == "stroke_styled_polygons"]
    assert tuple(styled[0][1][0]) == _draw.rgb(_draw.FAILED)


def test_connect_feedback_on_the_overlay(state, recorder):
    state.pointer_down(580, 101)
    state.pointer_move(361, 381)
    _draw.draw_overlay(recorder, state, 2.0)
    assert ("set_transform", (2.0, 0, 0, 2.0, 0, 0)) in recorder.calls  # screen space
    assert ("set:stroke_style", (_draw.OK_GREEN,)) in recorder.calls
    rings = [a for n, a in recorder.calls if n == "stroke_circles"]
    assert len(rings) == 1 and list(np.round(rings[0][0])) == [360]
    bad = RecordingCanvas()
    state.pointer_move(0, 0)
    state.pointer_up(0, 0)
    state.pointer_down(260, 101)  # a text output hovering an image input
    state.pointer_move(361, 381)
    _draw.draw_overlay(bad, state, 1.0)
    assert any("kind mismatch" in t for t in bad.texts())


def test_box_select_feedback(state, recorder):
    state.pointer_down(10, 10)
    state.pointer_move(400, 300)
    _draw.draw_overlay(recorder, state, 1.0)
    assert ("stroke_rect", (10, 10, 390, 290)) in recorder.calls
    assert "stroke_rects" in recorder.names()  # nodes about to be selected


def test_fit_text():
    assert _draw.fit_text("short", 200, 10) == "short"
    cut = _draw.fit_text("a very long label that does not fit", 60, 10)
    assert cut.endswith("\u2026") and len(cut) == 10
    assert _draw.fit_text("x", 1, 10) == ""


def test_whole_scene_on_one_canvas(state, recorder):
    _draw.draw_scene(recorder, state, 1.0, cull=False)
    assert "fill_rect" in recorder.names() and "stroke_styled_line_segments" in recorder.names()
    assert "Resize image" in recorder.texts()


def test_selection_outlines_are_drawn_apart_from_the_nodes(state, recorder):
    state.select(["image", "resize"])
    _draw.draw_nodes(recorder, state, 1.0, outline_selected=False)
    assert "stroke_styled_polygons" not in recorder.names()
    marks = RecordingCanvas()
    _draw.draw_selection(marks, state, 1.0)
    (outlines,) = [a for n, a in marks.calls if n == "stroke_polygons"]
    assert outlines[0].shape == (2, 8, 2)
    state.moving = {"image"}  # dragged nodes carry their own outline on the live layer
    marks = RecordingCanvas()
    _draw.draw_selection(marks, state, 1.0)
    (outlines,) = [a for n, a in marks.calls if n == "stroke_polygons"]
    assert outlines[0].shape == (1, 8, 2)
