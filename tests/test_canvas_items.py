"""Groups, notes and bypass flags of a ``Workflow``: building them, their change events,
copy and equality, and every way a workflow is saved, sent and read back
(``to_dict``/``from_dict``, ``save``/``load``, ``to_request``/``from_request``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wireflow_nb import ExecuteRequest, Workflow
from wireflow_nb.canvas_items import CANVAS_KEY, GROUP_COLORS

#: The top-level fields of the execute body the hosted API reads (executions-api.md).
SPEC_FIELDS = {"nodes", "edges", "targetNodeId", "triggerData", "iteratorConfigs"}


def annotated() -> Workflow:
    """Prompt -> image -> resize -> filter; resize bypassed, two groups, a note, a view."""
    wf = Workflow(id="extras")
    prompt = wf.add_node("input:text", text="a fox", position=(0, 0))
    image = wf.add_node("model:fal:text-to-image", width=64, height=64, seed=1, position=(300, 0))
    resize = wf.add_node("image:resize", width=16, height=16, position=(600, 0))
    flt = wf.add_node("image:filter", position=(900, 0))
    wf.connect(prompt, "text", image, "prompt")
    wf.connect(image, "images", resize, "image")
    wf.connect(resize, "images", flt, "image")
    wf.group([prompt, image], title="Make", color=GROUP_COLORS[1])
    wf.group([resize, flt], title="Post")
    wf.add_note("# Read me\n- first\n- second", x=10, y=200, width=300, height=160)
    wf.set_bypass(resize)
    wf.extra["viewport"] = {"x": -20, "y": 5, "zoom": 0.75}
    return wf


def test_group_puts_nodes_in_one_group_and_ungroup_removes_it() -> None:
    wf = annotated()
    make, post = wf.groups
    assert (make.id, make.title, make.color, make.nodes) == (
        "group-1",
        "Make",
        GROUP_COLORS[1],
        ("node-1", "node-2"),
    )
    assert wf.group_of("node-3") == post
    # a node is in at most one group: grouping it again takes it out of the old one
    third = wf.group(["node-2", "node-3"], title="Mid")
    assert wf.get_group("group-1").nodes == ("node-1",)
    assert wf.get_group("group-2").nodes == ("node-4",)
    assert wf.group_of("node-2") == wf.group_of("node-3") == wf.get_group(third)
    wf.set_group(third, title="Middle", color="#123456")
    assert (wf.get_group(third).title, wf.get_group(third).color) == ("Middle", "#123456")
    wf.ungroup(third)
    assert wf.group_of("node-2") is None
    assert [g.id for g in wf.groups] == ["group-1", "group-2"]
    with pytest.raises(KeyError, match="no node"):
        wf.group(["nope"])
    with pytest.raises(ValueError, match="at least one node"):
        wf.group([])
    with pytest.raises(KeyError, match="no group"):
        wf.ungroup("group-9")


def test_add_to_group_and_a_group_left_empty_goes() -> None:
    wf = annotated()
    wf.add_to_group("group-1", ["node-3"])
    assert wf.get_group("group-1").nodes == ("node-1", "node-2", "node-3")
    wf.add_to_group("group-1", ["node-4"])
    assert [g.id for g in wf.groups] == ["group-1"], "group-2 lost its last node"


def test_removing_a_node_removes_it_from_its_group_and_its_bypass_flag() -> None:
    wf = annotated()
    wf.remove_node("node-3")
    assert wf.get_group("group-2").nodes == ("node-4",)
    assert wf.bypassed == []
    wf.remove_node("node-4")
    assert [g.id for g in wf.groups] == ["group-1"]
    assert "node-3" not in json.dumps(wf.to_dict()[CANVAS_KEY])


def test_notes_add_edit_remove_and_refuse_bad_sizes() -> None:
    wf = Workflow()
    note = wf.add_note("hello", x=1, y=2)
    assert wf.note(note).text == "hello" and (wf.note(note).x, wf.note(note).y) == (1, 2)
    wf.edit_note(note, text="**bold**", width=400, height=90)
    n = wf.note(note)
    assert (n.text, n.x, n.width, n.height) == ("**bold**", 1, 400, 90)
    with pytest.raises(ValueError, match="at least"):
        wf.edit_note(note, width=5)
    with pytest.raises(ValueError, match="finite"):
        wf.add_note("x", x=float("nan"))
    wf.remove_note(note)
    assert wf.notes == []
    assert CANVAS_KEY not in wf.to_dict(), "nothing left: the field is not written"


def test_every_change_tells_the_observers() -> None:
    wf = Workflow()
    a = wf.add_node("image:resize")
    seen: list[str] = []
    wf.observe(lambda _wf, what: seen.append(what))
    g = wf.group([a])
    wf.set_group(g, title="T")
    wf.ungroup(g)
    note = wf.add_note("n")
    wf.edit_note(note, text="m")
    wf.remove_note(note)
    wf.set_bypass(a)
    wf.set_bypass(a)  # no change, no event
    wf.set_bypass(a, False)
    assert seen == [
        "group",
        "group_changed",
        "ungroup",
        "add_note",
        "note_changed",
        "remove_note",
        "bypass",
        "bypass",
    ]


def test_copy_and_equality_see_groups_notes_and_bypass() -> None:
    wf = annotated()
    twin = wf.copy()
    assert twin == wf
    twin.set_bypass("node-3", False)
    assert twin != wf
    twin = wf.copy()
    twin.set_group("group-2", title="Other")
    assert twin != wf and wf.get_group("group-2").title == "Post", "the copy is not shared"
    twin = wf.copy()
    twin.edit_note("note-1", text="changed")
    assert twin != wf and wf.note("note-1").text.startswith("# Read me")


def test_to_dict_from_dict_and_save_load_keep_everything(tmp_path: Path) -> None:
    wf = annotated()
    body = wf.to_dict()
    assert body[CANVAS_KEY] == {
        "groups": [
            {"id": "group-1", "title": "Make", "color": GROUP_COLORS[1], "nodes": ["node-1", "node-2"]},
            {"id": "group-2", "title": "Post", "color": GROUP_COLORS[0], "nodes": ["node-3", "node-4"]},
        ],
        "notes": [
            {
                "id": "note-1",
                "text": "# Read me\n- first\n- second",
                "position": {"x": 10, "y": 200},
                "width": 300,
                "height": 160,
            }
        ],
        "bypassed": ["node-3"],
    }
    assert body["viewport"] == {"x": -20, "y": 5, "zoom": 0.75}
    # notes and groups are never nodes; node data holds no flag (it would be an input)
    assert [n["id"] for n in body["nodes"]] == ["node-1", "node-2", "node-3", "node-4"]
    assert all("bypass" not in json.dumps(n) for n in body["nodes"])
    again = Workflow.from_dict(json.loads(json.dumps(body)))
    assert again == wf
    assert again.to_dict() == body
    loaded = Workflow.load(wf.save(tmp_path / "extras.json"))
    assert loaded == wf
    assert loaded.groups == wf.groups and loaded.notes == wf.notes and loaded.bypassed == ["node-3"]
    # saved again, the file is byte for byte the same
    first = (tmp_path / "extras.json").read_bytes()
    loaded.save(tmp_path / "extras.json")
    assert (tmp_path / "extras.json").read_bytes() == first


def test_unknown_fields_of_the_saved_items_are_kept() -> None:
    body = annotated().to_dict()
    body[CANVAS_KEY]["future"] = {"x": 1}
    body[CANVAS_KEY]["groups"][0]["collapsed"] = True
    body[CANVAS_KEY]["notes"][0]["fontSize"] = 14
    assert Workflow.from_dict(body).to_dict() == body


def test_a_broken_field_is_read_leniently() -> None:
    body = annotated().to_dict()
    body[CANVAS_KEY] = {
        "groups": [
            {"title": "no id"},
            {"id": "g", "nodes": ["node-1", 7, "node-1"]},
            {"id": "h", "nodes": ["node-1", "node-2"]},
        ],
        "notes": [{"id": "n", "position": {"x": "left"}, "width": 1e309}, "junk"],
        "bypassed": ["node-2", None],
    }
    wf = Workflow.from_dict(body)
    assert [(g.id, g.nodes) for g in wf.groups] == [("g", ("node-1",)), ("h", ("node-2",))]
    (note,) = wf.notes
    assert (note.x, note.width) == (0.0, 240.0)
    assert wf.bypassed == ["node-2"]


def request_wire(wf: Workflow, **options: Any) -> dict[str, Any]:
    return json.loads(json.dumps(wf.to_request(**options).to_wire()))


def test_to_request_from_request_keep_groups_notes_bypass_and_view() -> None:
    wf = annotated()
    for request in (wf.to_request(), request_wire(wf)):
        back = Workflow.from_request(request, id="extras")
        assert back == wf
        assert back.bypassed == ["node-3"] and back.groups == wf.groups and back.notes == wf.notes
        assert back.extra["viewport"] == {"x": -20, "y": 5, "zoom": 0.75}


def test_the_request_is_valid_for_the_hosted_api() -> None:
    wf = annotated()
    wire = request_wire(wf, trigger_data={"a": 1})
    # the spec's fields, plus two it does not read (as a saved workflow's viewport)
    assert set(wire) == SPEC_FIELDS - {"targetNodeId", "iteratorConfigs"} | {CANVAS_KEY, "viewport"}
    ids = [n["id"] for n in wire["nodes"]]
    assert ids == ["node-1", "node-2", "node-4"], "no note, no group, no bypassed node is a node"
    assert all(
        n["data"]["nodeType"] in ("input:text", "model:fal:text-to-image", "image:filter")
        for n in wire["nodes"]
    )
    assert all(e["source"] in ids and e["target"] in ids for e in wire["edges"])
    # the wire models parse it, and the graph it holds is sound for every validator
    parsed = ExecuteRequest.model_validate(wire)
    assert Workflow.from_dict({"nodes": wire["nodes"], "edges": wire["edges"]}).problems() == []
    assert [n.id for n in parsed.nodes] == ids


def test_a_request_of_a_plain_workflow_has_no_extra_fields() -> None:
    wf = Workflow(id="plain")
    wf.add_node("input:text", text="x")
    assert set(request_wire(wf)) == {"nodes", "edges"}


def test_a_request_with_only_a_view_or_notes_runs_on_the_local_server_shape() -> None:
    from wireflow_nb.engine import LocalEngine

    wf = Workflow(id="noted")
    wf.add_node("input:text", text="x")
    wf.add_note("not a node")
    engine = LocalEngine(":memory:", model_latency=0)
    try:
        (result,) = engine.run("noted", request_wire(wf))
        assert str(result.state) == "COMPLETED"
        assert [r.node_id for r in result.node_runs] == ["node-1"]
    finally:
        engine.close()


def test_a_field_of_the_same_name_but_another_shape_is_kept_as_it_is() -> None:
    body = {"id": "x", CANVAS_KEY: "someone else's", "nodes": [], "edges": []}
    wf = Workflow.from_dict(body)
    assert wf.groups == [] and wf.to_dict() == body


@pytest.mark.parametrize("bypassed", [True, False], ids=["bypassed", "plain"])
@pytest.mark.parametrize("shape", ["workflow", "request", "wire"])
def test_a_run_keeps_groups_notes_bypass_and_view_in_its_snapshot(bypassed: bool, shape: str) -> None:
    """History restores the workflow the user ran, frames and notes included: the
    engine's snapshot keeps ``wireflowNb`` and ``viewport`` (a ``Workflow`` without
    bypass takes the engine's no-copy path, which must keep them too)."""
    from wireflow_nb.engine import LocalEngine

    wf = annotated()
    if not bypassed:
        wf.set_bypass("node-3", False)
    given = {"workflow": wf, "request": wf.to_request(), "wire": request_wire(wf)}[shape]
    engine = LocalEngine(":memory:", model_latency=0)
    try:
        response = engine.execute("extras", given)
        assert str(engine.wait(response.execution_id).state) == "COMPLETED"
        snapshot = engine.get_execution(response.execution_id).workflow_snapshot
        assert snapshot is not None
        back = Workflow.from_dict(snapshot, id="extras")
        assert back == wf
        assert back.groups == wf.groups and back.notes == wf.notes
        assert back.bypassed == (["node-3"] if bypassed else [])
        assert back.extra["viewport"] == {"x": -20, "y": 5, "zoom": 0.75}
    finally:
        engine.close()


def test_a_snapshot_keeps_only_the_editors_fields_and_none_json_cannot_hold() -> None:
    from wireflow_nb.engine import LocalEngine

    wire = request_wire(annotated())
    wire["viewport"] = {"x": float("nan"), "y": 0, "zoom": 1}
    wire["somethingElse"] = {"big": "x" * 100}
    engine = LocalEngine(":memory:", model_latency=0)
    try:
        response = engine.execute("extras", ExecuteRequest.model_validate(wire))
        engine.wait(response.execution_id)
        snapshot = engine.get_execution(response.execution_id).workflow_snapshot
        assert snapshot is not None
        assert set(snapshot) == {"nodes", "edges", CANVAS_KEY}
    finally:
        engine.close()
def test_form_inputs_are_saved_sent_and_read_back(tmp_path: Path) -> None:
    wf = annotated()
    seen: list[str] = []
    wf.observe(lambda _wf, what: seen.append(what))
    wf.set_form_input("node-1", "text")
    wf.set_form_input("node-2", "seed")
    wf.set_form_input("node-1", "text")  # already ticked: nothing changes
    assert wf.form_inputs == ["node-1.text", "node-2.seed"] and seen == ["form_inputs", "form_inputs"]
    assert wf.in_form("node-2", "seed") and not wf.in_form("node-2", "width")
    body = wf.to_dict()
    assert body[CANVAS_KEY]["form_inputs"] == ["node-1.text", "node-2.seed"]
    assert Workflow.from_dict(json.loads(json.dumps(body))).form_inputs == ["node-1.text", "node-2.seed"]
    assert Workflow.load(wf.save(tmp_path / "form.json")).form_inputs == ["node-1.text", "node-2.seed"]
    request = wf.to_request()
    assert request.to_wire()[CANVAS_KEY]["form_inputs"] == ["node-1.text", "node-2.seed"]
    assert Workflow.from_request(request).form_inputs == ["node-1.text", "node-2.seed"]
    assert wf.copy().form_inputs == ["node-1.text", "node-2.seed"]
    wf.set_form_input("node-1", "text", False)
    assert wf.form_inputs == ["node-2.seed"] and wf != Workflow.from_dict(body)
    # a removed node's inputs leave the form
    wf.remove_node("node-2")
    assert wf.form_inputs == [] and CANVAS_KEY not in Workflow("x").to_dict()


def test_form_inputs_refuse_bad_names_and_read_leniently() -> None:
    wf = annotated()
    with pytest.raises(KeyError, match="no node 'ghost'"):
        wf.set_form_input("ghost", "text")
    with pytest.raises(ValueError, match="one field of the node"):
        wf.set_form_input("node-1", "a.b")
    body = wf.to_dict()
    body[CANVAS_KEY]["form_inputs"] = ["node-1.text", 3, "nodot", "node-1.text", "a.b.c"]
    # node ids may hold dots: the last dot splits
    assert Workflow.from_dict(body).form_inputs == ["node-1.text", "a.b.c"]
    dotted = Workflow("d")
    dotted.add_node("input:text", id="a.b", text="x")
    dotted.add_node("input:text", id="a", text="y")
    dotted.set_form_input("a.b", "text")
    dotted.set_form_input("a", "text")
    dotted.remove_node("a")
    assert dotted.form_inputs == ["a.b.text"]


def test_undo_of_a_canvas_change_keeps_the_form_ticks() -> None:
    wf = annotated()
    before = wf.canvas_snapshot()
    wf.set_form_input("node-1", "text")
    assert "form_inputs" not in wf.canvas_snapshot()
    wf.restore_canvas(before)  # what undo of an earlier group/note/bypass edit does
    assert wf.form_inputs == ["node-1.text"]
