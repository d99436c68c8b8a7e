"""Copy, cut, paste and duplicate keep the edges between the chosen nodes."""

from __future__ import annotations


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
