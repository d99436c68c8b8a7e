"""Node boxes and their ports, the view transform, fitting and hit tests."""

from __future__ import annotations

import pytest

from wireflow_nb import Workflow
from wireflow_nb.catalog import default_catalog
from wireflow_nb.editing.geometry import View
from wireflow_nb.editing.state import EditorState

from .fixtures import header


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
