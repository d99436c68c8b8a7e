"""Bypass: ``Workflow.to_request`` passes a bypassed node's input of its output's kind
through (simple, chain, fan-out), refuses with a problem naming the node where it cannot,
and every backend and export gets the rewritten graph."""

from __future__ import annotations

import json
from typing import Any

import pytest

from wireflow_nb import Workflow, WorkflowValidationError
from wireflow_nb.export import to_curl, to_python


def pipeline() -> Workflow:
    """prompt -> image (64 px) -> resize (16 px) -> filter"""
    wf = Workflow(id="bp")
    wf.add_node("input:text", id="prompt", text="a fox")
    wf.add_node("model:fal:text-to-image", id="image", width=64, height=64, seed=1)
    wf.add_node("image:resize", id="resize", width=16, height=16, mode="stretch")
    wf.add_node("image:filter", id="filter")
    wf.connect("prompt", "text", "image", "prompt")
    wf.connect("image", "images", "resize", "image")
    wf.connect("resize", "images", "filter", "image")
    return wf


def pairs(request: Any) -> list[tuple[str, str | None, str, str | None]]:
    return [(e.source, e.source_handle, e.target, e.target_handle) for e in request.edges]


def test_a_bypassed_node_passes_its_input_of_the_same_kind_through() -> None:
    wf = pipeline()
    wf.set_bypass("resize")
    request = wf.to_request()
    assert [n.id for n in request.nodes] == ["prompt", "image", "filter"]
    assert pairs(request) == [("prompt", "text", "image", "prompt"), ("image", "images", "filter", "image")]
    assert wf.problems() == []
    # the workflow itself is untouched
    assert [n.id for n in wf.nodes] == ["prompt", "image", "resize", "filter"] and len(wf.edges) == 3


def test_a_chain_of_bypassed_nodes_resolves_to_the_first_that_runs() -> None:
    wf = pipeline()
    wf.add_node("image:crop", id="crop")
    wf.remove_edge("e-resize-images-filter-image")
    wf.connect("resize", "images", "crop", "image")
    wf.connect("crop", "images", "filter", "image")
    wf.set_bypass("resize")
    wf.set_bypass("crop")
    request = wf.to_request()
    assert [n.id for n in request.nodes] == ["prompt", "image", "filter"]
    assert ("image", "images", "filter", "image") in pairs(request)
    assert Workflow.from_request(request, id="bp") == wf


def test_fan_out_rewires_every_edge_out_of_the_bypassed_node() -> None:
    wf = pipeline()
    wf.add_node("image:caption", id="caption", text="hi")
    wf.add_node("image:grid", id="grid")
    wf.connect("resize", "images", "caption", "image")
    wf.connect("resize", "images", "grid", "images")
    wf.connect("caption", "images", "grid", "images")
    wf.set_bypass("resize")
    got = pairs(wf.to_request())
    assert ("image", "images", "filter", "image") in got
    assert ("image", "images", "caption", "image") in got
    assert ("image", "images", "grid", "images") in got
    assert not any("resize" in (s, t) for s, _, t, _ in got)


def test_no_input_of_the_output_kind_is_a_problem_naming_the_node() -> None:
    wf = pipeline()
    wf.set_bypass("prompt")  # a text input node has no text input to pass through
    (problem,) = wf.problems()
    assert problem.code == "bypass_no_input" and problem.node_id == "prompt"
    assert "'Text' (prompt)" in problem.message and "un-bypass" in problem.message
    with pytest.raises(WorkflowValidationError) as caught:
        wf.to_request()
    assert caught.value.problems == [problem]
    with pytest.raises(WorkflowValidationError, match="un-bypass"):
        wf.validate()


def test_an_unconnected_pass_through_is_a_problem_only_when_a_node_needs_it() -> None:
    wf = pipeline()
    wf.remove_edge("e-image-images-resize-image")
    wf.set_bypass("resize")
    (problem,) = wf.problems()
    assert (problem.code, problem.node_id, problem.field) == ("bypass_input_unconnected", "resize", "image")
    assert "connect a image input" in problem.message and "'Resize image' (resize)" in problem.message
    wf.remove_edge("e-resize-images-filter-image")  # nothing needs its output now
    assert wf.problems() == []
    assert [n.id for n in wf.to_request().nodes] == ["prompt", "image", "filter"]


def test_a_bypassed_leaf_is_left_out_but_still_needs_a_pass_through() -> None:
    wf = pipeline()
    wf.set_bypass("filter")
    request = wf.to_request()
    assert [n.id for n in request.nodes] == ["prompt", "image", "resize"]
    assert len(request.edges) == 2
    # a leaf still needs an input of its output's kind (a run would pass nothing)
    wf.add_node("input:text", id="lonely", text="x")
    wf.set_bypass("lonely")
    assert [(p.code, p.node_id) for p in wf.problems()] == [("bypass_no_input", "lonely")]


def test_target_node_id_and_iterators_may_not_name_a_bypassed_node() -> None:
    wf = pipeline()
    wf.set_bypass("resize")
    with pytest.raises(WorkflowValidationError) as caught:
        wf.to_request(target_node_id="resize")
    assert [(p.code, p.field) for p in caught.value.problems] == [("bypass_target", "targetNodeId")]
    assert [p.code for p in wf.problems(target_node_id="resize")] == ["bypass_target"]
    with pytest.raises(WorkflowValidationError, match="iteratorConfigs sets node 'Resize image'"):
        wf.to_request(iterator_configs=[{"nodeId": "resize", "field": "width", "values": [1, 2]}])
    assert wf.to_request(target_node_id="filter").target_node_id == "filter"


def test_the_python_and_curl_exports_carry_the_rewritten_graph() -> None:
    wf = pipeline()
    wf.set_bypass("resize")
    command = to_curl(wf)
    body = json.loads(command.split("-d '", 1)[1].rsplit("'", 1)[0])
    assert [n["id"] for n in body["nodes"]] == ["prompt", "image", "filter"]
    assert not any("resize" in (e["source"], e["target"]) for e in body["edges"])
    code = to_python(wf)
    assert "wf.set_bypass(resize)" in code
    scope: dict[str, Any] = {}
    exec(code, scope)
    rebuilt = scope["wf"]
    assert rebuilt == wf
    assert rebuilt.to_request() == wf.to_request()


def test_the_python_export_rebuilds_groups_and_notes() -> None:
    wf = pipeline()
    wf.group(["prompt", "image"], title="Make", color="#2e9d6a")
    wf.group(["filter"], id="post")
    wf.add_note("# hi", x=5, y=-7, width=200, height=100)
    scope: dict[str, Any] = {}
    exec(to_python(wf), scope)
    assert scope["wf"] == wf
    body = wf.to_dict()
    body["wireflowNb"]["groups"][0]["odd"] = 1  # no builder call keeps it: the JSON is written
    odd = Workflow.from_dict(body)
    scope = {}
    exec(to_python(odd), scope)
    assert scope["wf"] == odd and scope["wf"].to_dict() == body


def test_a_local_engine_run_skips_the_bypassed_resize() -> None:
    from wireflow_nb.engine import LocalEngine

    engine = LocalEngine(":memory:", model_latency=0)
    try:
        wf = pipeline()
        (plain,) = engine.run("bp", wf)
        assert (plain.node_run("filter").images[0].width) == 16  # type: ignore[union-attr]
        wf.set_bypass("resize")
        (result,) = engine.run("bp", wf)
        assert str(result.state) == "COMPLETED", result
        assert [r.node_id for r in result.node_runs] == ["prompt", "image", "filter"]
        picture = result.node_run("filter").images[0]  # type: ignore[union-attr]
        assert (picture.width, picture.height) == (64, 64)
        wf.set_bypass("prompt")
        with pytest.raises(WorkflowValidationError, match="'Text' \\(prompt\\)"):
            engine.run("bp", wf)
    finally:
        engine.close()


def test_the_client_sends_the_rewritten_graph() -> None:
    import httpx

    from wireflow_nb.client import WireflowClient

    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(201, json={"workflowId": "bp", "batchId": "b", "executionRuns": []})

    wf = pipeline()
    wf.set_bypass("resize")
    with WireflowClient(
        "sk-test", base_url="http://127.0.0.1:9/api/v1", transport=httpx.MockTransport(handler)
    ) as client:
        client.execute("bp", wf, target_node_id="filter")
        with pytest.raises(WorkflowValidationError, match="'Resize image' \\(resize\\) is bypassed"):
            client.execute("bp", wf, target_node_id="resize")
    (body,) = sent
    assert [n["id"] for n in body["nodes"]] == ["prompt", "image", "filter"]
    assert body["targetNodeId"] == "filter"
    assert [body["edges"][1]["source"], body["edges"][1]["target"]] == ["image", "filter"]


def test_the_local_server_runs_the_request_and_keeps_a_saved_workflow_whole() -> None:
    import warnings

    from wireflow_nb.engine import LocalEngine
    from wireflow_nb.server import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    wf = pipeline()
    wf.set_bypass("resize")
    wf.group(["prompt", "image"], title="Make")
    wf.add_note("# not a node")
    wf.extra["viewport"] = {"x": 0, "y": 0, "zoom": 1}
    with (
        LocalEngine(":memory:", model_latency=0) as engine,
        TestClient(create_app(engine), base_url="http://127.0.0.1", client=("127.0.0.1", 5000)) as http,
    ):
        answer = http.post("/api/v1/workflows/bp/execute", json=wf.to_request().to_wire())
        assert answer.status_code == 201, answer.text
        run_id = answer.json()["executionRuns"][0]["id"]
        done = engine.wait(run_id)
        assert str(done.state) == "COMPLETED"
        assert sorted(r.node_id for r in done.node_runs) == ["filter", "image", "prompt"]
        saved = http.post("/api/v1/workflows", json={"name": "bp", "workflow": wf.to_dict()})
        assert saved.status_code == 201, saved.text
        again = http.get(f"/api/v1/workflows/{saved.json()['id']}").json()["workflow"]
    restored = Workflow.from_dict(again)
    assert restored == wf
    assert restored.bypassed == ["resize"] and [g.title for g in restored.groups] == ["Make"]
    assert [n.text for n in restored.notes] == ["# not a node"]


def test_saving_to_a_server_keeps_bypassed_nodes_and_their_media_in_place(tmp_path) -> None:
    """A saved workflow is the workflow (``to_dict``), bypassed nodes included: the save
    plan of local media must not read the (rewritten) execute request."""
    from PIL import Image

    from wireflow_nb.client._uploads import SavePlan

    photo = tmp_path / "photo.png"
    Image.new("RGB", (4, 4), "red").save(photo)
    wf = Workflow(id="saved")
    wf.add_node("input:text", id="prompt", text="x")
    wf.add_node("input:image", id="photo", image=photo)
    wf.set_bypass("prompt")  # cannot pass anything through: a run is refused, a save is not
    plan = SavePlan(wf)
    body = plan.apply({media.sha256: "https://cdn.test/m1" for media, _, _ in plan.media})
    assert [n["id"] for n in body["nodes"]] == ["prompt", "photo"]
    assert body["nodes"][1]["data"]["image"] == "https://cdn.test/m1"
    assert body["nodes"][0] == wf.to_dict()["nodes"][0]
    assert body["wireflowNb"]["bypassed"] == ["prompt"]


def test_the_exports_of_a_workflow_holding_bytes_keep_the_bypass() -> None:
    """The exports read ``as_saved()`` (bytes as data: URLs): its copy keeps the flags."""
    wf = pipeline()
    wf.set_bypass("resize")
    wf.add_node("input:image", id="raw", image=b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    saved = wf.as_saved()
    assert saved.bypassed == ["resize"] and saved.groups == wf.groups
    body = json.loads(to_curl(wf).split("-d '", 1)[1].rsplit("'", 1)[0])
    assert "resize" not in [n["id"] for n in body["nodes"]]
    assert "wf.set_bypass(resize)" in to_python(wf)
