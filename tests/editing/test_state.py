"""``EditorState``: keyboard shortcuts and the editing actions they reach."""

from __future__ import annotations

import pytest

from wireflow_nb import Workflow
from wireflow_nb.catalog import default_catalog
from wireflow_nb.editing.geometry import NODE_WIDTH
from wireflow_nb.editing.state import EditorState

from .fixtures import positions


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


def test_arrow_keys_nudge_the_selection(state, wf):
    state.select(["resize"])
    state.key("ArrowRight")
    state.key("ArrowDown", shift=True)
    assert positions(wf)["resize"] == (370, 420)


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
