"""The canvas takes the width its slot reports (``widgets/_fit_width.py``): the probe's
``width`` set from Python as its front-end does; the canvas's buffer and CSS width
follow, clamped, at the same pixel ratio, with one drawing batch per new width, and the
view stays what a user expects. Without a report nothing changes."""

from __future__ import annotations

import json

import pytest

from wireflow_nb import Workflow
from wireflow_nb.testing import EditorDriver, count_messages
from wireflow_nb.widgets import GraphEditor
from wireflow_nb.widgets._fit_width import MAX_WIDTH, MIN_WIDTH, WidthProbe

from .test_editor import find, forget_current_layer
from .test_minimap import centre_world, wide_workflow


def report(editor: GraphEditor, width: int) -> None:
    """What the probe's front-end does when its slot has settled at ``width`` CSS px."""
    editor.fit_width.probe.width = width


def batches(log) -> int:
    """How many drawing batches (ipycanvas messages with commands) were sent."""
    return sum(1 for m in log.messages if m.canvas_commands())


def in_view(e: GraphEditor, node_id: str) -> bool:
    x, y, w, h = e.node_bounds(node_id)
    return x >= 0 and y >= 0 and x + w <= e.canvas.width and y + h <= e.canvas.height


def test_without_a_report_the_canvas_keeps_the_width_given(wf):
    e = GraphEditor(wf, width=800, height=500, pixel_ratio=1.5)
    assert e.fit_width.probe.width == 0 and e.fit_width.resizes == 0
    assert (e.width, e.canvas.width, e.canvas.height) == (800, 1200, 750)
    assert e.canvas.layout.max_width == "min(800px, 100%)"  # the CSS guard until a report


def test_the_canvas_takes_the_reported_width_sharp(wf):
    e = GraphEditor(wf, width=960, height=600, pixel_ratio=2)
    report(e, 1234)
    assert (e.width, e.height) == (1234, 600)
    assert (e.canvas.width, e.canvas.height) == (2468, 1200)  # buffer = CSS x pixel ratio
    assert all(layer.width == 2468 and layer.height == 1200 for layer in e.canvas.canvases)
    assert e.canvas.layout.max_width == "min(1234px, 100%)"
    assert e.pixel_ratio == 2.0
    assert (e.state.width, e.state.height) == (1234.0, 600.0)
    assert e.quick_add.size == (1234.0, 600.0)  # the quick-add box is placed in the new size
    report(e, 700)  # narrower again
    assert (e.width, e.canvas.width, e.canvas.layout.max_width) == (700, 1400, "min(700px, 100%)")
    report(e, 0)  # (a hidden view measures 0; its front-end says nothing) nothing changes
    assert (e.width, e.canvas.width, e.fit_width.resizes) == (700, 1400, 2)


@pytest.mark.parametrize(("reported", "width"), [(100, MIN_WIDTH), (MIN_WIDTH, MIN_WIDTH), (10**6, MAX_WIDTH)])
def test_the_width_is_clamped(wf, reported, width):
    e = GraphEditor(wf, pixel_ratio=2)
    report(e, reported)
    assert e.width == width and e.canvas.width == 2 * width


def test_one_drawing_batch_per_new_width_none_for_the_same(wf):
    e = GraphEditor(wf)
    forget_current_layer(e)
    with count_messages() as log:
        report(e, 1100)
    assert batches(log) == 1
    forget_current_layer(e)
    with count_messages() as log:
        report(e, 1101)
    assert batches(log) == 1
    with count_messages() as log:
        e.fit_width.apply(1101)  # the width it has: nothing to do
        report(e, 50)  # clamped to the minimum...
        report(e, 60)  # ...which it then has
    assert e.width == MIN_WIDTH and batches(log) == 1 and e.fit_width.resizes == 3


def test_a_workflow_opened_fitted_is_fitted_again():
    e = GraphEditor(wide_workflow())  # 3520 world px wide: fitted, zoomed out
    zoom = e.view.zoom
    report(e, 1500)
    fresh = GraphEditor(wide_workflow(), width=1500)  # what opening it at that width shows
    assert (e.view.x, e.view.y, e.view.zoom) == pytest.approx((fresh.view.x, fresh.view.y, fresh.view.zoom))
    assert e.view.zoom > zoom  # more room: larger
    assert all(in_view(e, n.id) for n in e.workflow.nodes)


def test_a_view_the_user_moved_keeps_its_centre(wf):
    e = GraphEditor(wf)
    e.view = (-120, 35, 1.4)  # as a pan or a zoom does (the setter is the user's view)
    centre, zoom = centre_world(e), e.view.zoom
    report(e, 1300)
    assert centre_world(e) == pytest.approx(centre) and e.view.zoom == zoom
    report(e, 500)
    assert centre_world(e) == pytest.approx(centre) and e.view.zoom == zoom
    driver = EditorDriver(e)
    driver.click_node("image")  # clicks still land on what is drawn there
    assert e.selected_node_ids == ["image"]


def test_a_saved_view_is_kept_and_the_file_left_as_it_was(tmp_path, wf):
    wf.extra["viewport"] = {"x": 15.0, "y": -8.0, "zoom": 0.75}
    path = tmp_path / "saved.json"
    wf.save(path)
    e = GraphEditor.load(path)
    before = json.loads(path.read_text())["viewport"]
    report(e, 1400)
    assert (e.view.x, e.view.y, e.view.zoom) == (15.0, -8.0, 0.75)
    e.save(path)
    assert json.loads(path.read_text())["viewport"] == before


def test_a_node_added_from_code_after_a_resize_is_brought_into_view(wf):
    e = GraphEditor(wf)
    report(e, 1300)
    e.workflow.add_node("text:template", id="far", position=(1200 + 900, 200))  # off a 960 view
    assert in_view(e, "far")
    report(e, 600)
    nid = e.add_node("text:template", position=(2500, 0))
    assert in_view(e, nid)


def test_the_probe_sits_over_the_canvas_in_its_slot(wf):
    e = GraphEditor(wf)
    slot = find(e, "wf-canvas-slot")
    assert slot is e.fit_width.slot
    assert list(slot.children) == [e.fit_width.probe, e.quick_add.stage]
    probe = find(e, "wf-width-probe")
    assert isinstance(probe, WidthProbe) and probe is e.fit_width.probe
    assert (probe.layout.width, probe.layout.height) == ("100%", "0px")
    assert slot.layout.flex == "1 1 0%" and slot.layout.min_width == "0"
    assert probe.debounce_ms == 100  # the front-end's delay, read from the model


def test_an_app_workflow_replaced_keeps_the_reported_width():
    e = GraphEditor(Workflow())
    report(e, 1111)
    e.workflow = wide_workflow()
    assert e.width == 1111 and e.canvas.width == 2222
    assert all(in_view(e, n.id) for n in e.workflow.nodes)  # opened fitted, in the new width
