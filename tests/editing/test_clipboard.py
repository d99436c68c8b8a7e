"""Copy, cut, paste and duplicate keep the edges between the chosen nodes."""

from __future__ import annotations

from wireflow_nb.editing.clipboard import paste_items


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


def test_pasted_items_get_fresh_ids_moved_positions_and_renamed_edges():
    nodes = [
        {"id": "a", "position": {"x": 10, "y": 20.5}, "data": {"nodeType": "input:text"}},
        {"id": "b", "data": {"nodeType": "image:resize"}},  # no position: from the origin
    ]
    edges = [{"id": "e", "source": "a", "target": "b", "sourceHandle": "out-text", "targetHandle": "in-x"}]
    taken_edges = {"e-node-2-text-node-3-x"}
    new_nodes, new_edges, rename = paste_items(nodes, edges, {"a", "node-4"}, taken_edges, 40.0)
    assert rename == {"a": "node-3", "b": "node-5"}  # past the 2 nodes there, free ones
    assert [n["position"] for n in new_nodes] == [{"x": 50, "y": 60.5}, {"x": 40, "y": 40}]
    assert new_edges == [
        {
            "id": "e-node-3-text-node-5-x",
            "source": "node-3",
            "target": "node-5",
            "sourceHandle": "out-text",
            "targetHandle": "in-x",
        }
    ]
    assert nodes[0]["id"] == "a" and taken_edges == {"e-node-2-text-node-3-x"}  # inputs untouched
