"""Batches: iteratorConfigs zipped, repeat, runIndexInBatch / inputIndex, one batchId."""

from __future__ import annotations

from _engine_helpers import text_to_image_workflow

from wireflow_nb import Workflow
from wireflow_nb.engine import LocalEngine


def test_a_batch_is_one_execution_per_value_sharing_a_batch_id(engine: LocalEngine) -> None:
    wf = Workflow("w")
    wf.add_node("input:text", id="subject", text="?")
    wf.add_node("input:text", id="style", text="?")
    wf.add_node("text:template", id="t", template="{{a}} in {{b}}")
    wf.connect("subject", "text", "t", "a")
    wf.connect("style", "text", "t", "b")
    configs = [
        {"nodeId": "subject", "field": "text", "values": ["a cat", "a dog"]},
        {"nodeId": "style", "field": "text", "values": ["ink", "oil"]},
    ]
    response = engine.execute("w", wf, iterator_configs=configs)
    runs = response.execution_runs
    assert len(runs) == 2
    assert {r.batch_id for r in runs} == {response.batch_id}
    assert [(r.run_index_in_batch, r.input_index) for r in runs] == [(0, 0), (1, 1)]
    texts = [engine.wait(r.id).node_run("t").text for r in runs]
    assert texts == ["a cat in ink", "a dog in oil"]
    snapshot = engine.get_execution(runs[1].id).workflow_snapshot
    subject = next(n for n in snapshot["nodes"] if n["id"] == "subject")
    assert subject["data"]["text"] == "a dog"
    assert engine.get_execution(runs[1].id).model_extra["batchId"] == response.batch_id


def test_repeat_gives_variations_not_copies(engine: LocalEngine) -> None:
    wf = text_to_image_workflow()
    configs = [{"nodeId": "prompt", "field": "text", "values": ["a fox", "an owl"], "repeat": 2}]
    response = engine.execute("w", wf, iterator_configs=configs)
    runs = response.execution_runs
    assert [(r.run_index_in_batch, r.input_index) for r in runs] == [(0, 0), (1, 0), (2, 1), (3, 1)]
    polls = [engine.wait(r.id) for r in runs]
    seeds = [p.node_run("image").output["seed"] for p in polls]
    assert len(set(seeds)) == 4
    assert engine.credits_balance() == 960
    # running the same batch again is all cache hits
    again = engine.execute("w", wf, iterator_configs=configs)
    assert [engine.wait(r.id).node_run("image").output["seed"] for r in again.execution_runs] == seeds
    assert engine.credits_balance() == 960


def test_iterator_values_reach_nodes_of_every_shape(engine: LocalEngine) -> None:
    body = {
        "nodes": [
            {
                "id": "p",
                "type": "basedNode",
                "data": {"nodeType": "input:text", "config": {"text": "?"}, "params": {"text": "?"}},
            },
        ],
        "edges": [],
    }
    response = engine.execute(
        "w", body, iterator_configs=[{"nodeId": "p", "field": "text", "values": ["x", "y"]}]
    )
    assert [engine.wait(i).node_run("p").text for i in response.execution_ids] == ["x", "y"]
    node = engine.get_execution(response.execution_ids[1]).workflow_snapshot["nodes"][0]
    assert node["data"]["params"]["text"] == "y" and node["data"]["config"]["text"] == "y"
    assert "text" not in {k for k in node["data"] if k not in ("nodeType", "config", "params")}
