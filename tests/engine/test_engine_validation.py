"""Invalid requests are refused before anything runs, every problem listed at once (400)."""

from __future__ import annotations

import pytest

from wireflow_nb import BadRequestError, Workflow
from wireflow_nb.engine import LocalEngine


def codes(exc: BadRequestError) -> list[str]:
    return [d["code"] for d in exc.details]


def test_unknown_node_type_is_a_400_naming_it_and_saying_where_it_runs(engine: LocalEngine) -> None:
    wf = Workflow("w")
    wf.add_node("generate:flux_2", id="gen", prompt="a cat")
    with pytest.raises(BadRequestError) as info:
        engine.execute("w", wf)
    exc = info.value
    assert exc.status_code == 400
    [detail] = exc.details
    assert detail["nodeId"] == "gen"
    assert detail["code"] == "unknown_node_type"
    assert "generate:flux_2" in detail["message"]
    assert "hosted service" in detail["message"]
    assert "@wireflow_nb.node_type" in detail["message"]
    assert exc.body["error"].startswith("Invalid workflow")
    assert engine.list_executions("w") == []


def test_every_problem_is_listed_at_once(engine: LocalEngine) -> None:
    wf = Workflow("w")
    wf.add_node("input:text", id="a", text="x")
    wf.add_node("image:resize", id="r")  # required image missing
    wf.add_node("image:filter", id="f", filter="sepia")  # not a choice; image missing too
    wf.add_node("nope:type", id="n")
    wf.connect("a", "no-such-output", "r", "image")
    wf.connect("a", "text", "f", "no-such-input")
    with pytest.raises(BadRequestError) as info:
        engine.execute("w", wf)
    found = codes(info.value)
    assert found.count("unknown_handle") == 2
    assert "unknown_node_type" in found
    assert "invalid_input" in found
    assert "missing_input" in found  # f's image
    fields = {(d.get("nodeId"), d.get("field")) for d in info.value.details}
    assert ("f", "image") in fields
    assert ("f", "filter") in fields
    assert "problems" in str(info.value)


def test_structural_problems_come_from_workflow_problems(engine: LocalEngine) -> None:
    body = {
        "nodes": [
            {"id": "a", "data": {"nodeType": "input:text", "text": "x"}},
            {"id": "a", "data": {"nodeType": "input:text", "text": "y"}},
            {"id": "b", "data": {"nodeType": "text:template", "template": "{{v}}"}},
            {"id": "c", "data": {"nodeType": "text:template", "template": "{{v}}"}},
        ],
        "edges": [
            {"id": "e1", "source": "b", "target": "c", "sourceHandle": "text", "targetHandle": "v"},
            {"id": "e2", "source": "c", "target": "b", "sourceHandle": "text", "targetHandle": "v"},
            {"id": "e3", "source": "ghost", "target": "c", "sourceHandle": "text", "targetHandle": "v"},
        ],
    }
    with pytest.raises(BadRequestError) as info:
        engine.execute("w", body, target_node_id="zzz")
    found = codes(info.value)
    assert "duplicate_node_id" in found
    assert "cycle" in found
    assert "unknown_source" in found
    assert "unknown_target_node" in found
    cycle = next(d for d in info.value.details if d["code"] == "cycle")
    assert "b -> c -> b" in cycle["message"] or "c -> b -> c" in cycle["message"]


def test_a_connected_required_input_is_not_missing(engine: LocalEngine) -> None:
    wf = Workflow("w")
    wf.add_node("input:text", id="p", text="a cat")
    wf.add_node("model:fal:text-to-image", id="i", width=64, height=64)  # prompt comes by edge
    wf.connect("p", "text", "i", "prompt")
    assert engine.problems(wf) == []
    unconnected = Workflow("w")
    unconnected.add_node("model:fal:text-to-image", id="i")
    [problem] = engine.problems(unconnected)
    assert (problem.code, problem.node_id, problem.field) == ("missing_input", "i", "prompt")


def test_a_single_input_fed_by_two_edges_is_refused(engine: LocalEngine) -> None:
    wf = Workflow("w")
    wf.add_node("input:text", id="a", text="x")
    wf.add_node("input:text", id="b", text="y")
    wf.add_node("model:fal:text-to-image", id="i")
    wf.connect("a", "text", "i", "prompt")
    wf.connect("b", "text", "i", "prompt")
    assert [p.code for p in engine.problems(wf)] == ["too_many_edges"]


def test_out_of_range_number_is_refused(engine: LocalEngine) -> None:
    wf = Workflow("w")
    wf.add_node("model:fal:text-to-image", id="i", prompt="x", width=99999)
    [problem] = engine.problems(wf)
    assert problem.code == "invalid_input" and problem.field == "width"
    assert "2048" in problem.message


def test_iterator_configs_must_zip(engine: LocalEngine) -> None:
    wf = Workflow("w")
    wf.add_node("input:text", id="a", text="x")
    wf.add_node("input:text", id="b", text="y")
    configs = [
        {"nodeId": "a", "field": "text", "values": [1, 2, 3]},
        {"nodeId": "b", "field": "text", "values": [1, 2]},
        {"nodeId": "ghost", "field": "text", "values": [1, 2]},
    ]
    with pytest.raises(BadRequestError) as info:
        engine.execute("w", wf, iterator_configs=configs)
    found = codes(info.value)
    assert "iterator_lengths" in found
    assert "unknown_iterator_node" in found
    assert engine.list_executions("w") == []


def test_a_malformed_body_is_a_400_not_a_crash(engine: LocalEngine) -> None:
    with pytest.raises(BadRequestError) as info:
        engine.execute("w", {"nodes": "not a list"})
    assert info.value.details[0]["field"].startswith("nodes")


def test_unrelated_hosted_nodes_do_not_block_a_targeted_run(engine: LocalEngine) -> None:
    wf = Workflow("w")
    wf.add_node("input:text", id="a", text="x")
    wf.add_node("generate:nano_banana_2", id="hosted")
    assert engine.problems(wf, target_node_id="a") == []
    [poll] = engine.run("w", wf, target_node_id="a")
    assert [r.node_id for r in poll.node_runs] == ["a"]
    assert [p.code for p in engine.problems(wf)] == ["unknown_node_type"]


def test_ten_thousand_nodes_validate_and_run(engine: LocalEngine) -> None:
    """The engine's own limits allow 10,000 nodes (the hosted 100 is the client's check)."""
    n = 10_000
    wf = Workflow(
        "big",
        nodes=[
            {"id": f"n{i}", "data": {"nodeType": "text:template", "template": "{{v}}."}} for i in range(n)
        ],
        edges=[
            {
                "id": f"e{i}",
                "source": f"n{i - 1}",
                "target": f"n{i}",
                "sourceHandle": "text",
                "targetHandle": "v",
            }
            for i in range(1, n)
        ],
    )
    assert engine.problems(wf) == []
    [poll] = engine.run("big", wf, timeout=120)
    assert len(poll.node_runs) == n
    assert poll.node_runs[-1].text == "." * n
