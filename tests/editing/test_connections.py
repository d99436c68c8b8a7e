"""Connection rules: which edges the editor refuses, and why."""

from __future__ import annotations

from wireflow_nb import Workflow
from wireflow_nb.catalog import can_feed, carried_kind, default_catalog
from wireflow_nb.editing.connections import check_connection
from wireflow_nb.editing.gestures import Connect
from wireflow_nb.editing.scene import Redraw
from wireflow_nb.editing.state import EditorState


def test_can_feed_table():
    assert can_feed("image", "image") and can_feed("any", "video") and can_feed("text", "any")
    assert can_feed("number", "text") and can_feed("json", "text") and can_feed("image", "json")
    assert not can_feed("text", "image") and not can_feed("video", "image")


def test_an_edge_carries_its_outputs_kind_unless_that_is_any(state, wf):
    assert carried_kind("image", "json") == "image" and carried_kind("any", "text") == "text"
    assert carried_kind(None, "video") == "video" and carried_kind("any", None) == "any"
    assert state.edge_kind(wf.edges[0]) == "text"  # prompt.text -> image.prompt


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


def test_new_edges_follow_the_files_handle_prefixes(hosted):
    wf = Workflow.from_dict(hosted)
    s = EditorState(wf, default_catalog())
    s.connect("flux", "image", "m1", "prompt")  # image cannot feed a text prompt
    assert s.message.startswith("refused: kind mismatch")
    s.connect("txt", "text", "m1", "prompt")
    edge = wf.edges[-1]
    assert (edge.source_handle, edge.target_handle) == ("out-text", "in-prompt")


def test_a_path_through_a_missing_node_makes_no_cycle():
    """Edges to or from no node (a broken file) close no cycle, for the editor's drop,
    its drag candidates and ``Workflow.validate`` alike."""
    wf = Workflow.from_dict(
        {
            "nodes": [
                {"id": "a", "position": {"x": 0, "y": 0}, "data": {"nodeType": "image:resize"}},
                {"id": "b", "position": {"x": 400, "y": 0}, "data": {"nodeType": "image:resize"}},
            ],
            "edges": [
                {"id": "in", "source": "b", "target": "ghost", "sourceHandle": "images", "targetHandle": "x"},
                {"id": "out", "source": "ghost", "target": "a", "sourceHandle": "y", "targetHandle": "image"},
            ],
        }
    )
    assert not [p for p in wf.problems() if p.code == "cycle"]
    s = EditorState(wf, default_catalog())
    s.set_view(0, 0, 1)
    assert check_connection(s.boxes, wf.edges, "a", "images", "b", "image").ok
    s.pointer_down(*s.boxes["a"].output_point(0))
    g = s.gesture
    assert isinstance(g, Connect)
    assert {(c[0], c[1]): c[4] for c in g.candidates}[("b", "image")].ok
