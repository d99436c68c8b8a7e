"""The output cache: ComfyUI-style keys, reruns that redo only what changed."""

from __future__ import annotations

from typing import Any

from _engine_helpers import text_to_image_workflow

from wireflow_nb import Workflow
from wireflow_nb.engine import EngineEvent, LocalEngine


def _chain() -> Workflow:
    """prompt -> image -> caption; prompt -> other (a second branch)."""
    wf = text_to_image_workflow("a lighthouse")
    wf.add_node("image:caption", id="caption", text="hello")
    wf.connect("image", "images", "caption", "image")
    wf.add_node("text:template", id="other", template="[{{v}}]")
    wf.connect("prompt", "text", "other", "v")
    return wf


def _executed(events: list[EngineEvent], execution_id: str) -> list[str]:
    return [
        e.node_id for e in events if e.kind == "node_started" and e.execution_id == execution_id if e.node_id
    ]


def test_an_unchanged_rerun_executes_nothing_and_charges_nothing(
    engine: LocalEngine, events: list[EngineEvent]
) -> None:
    wf = _chain()
    first = engine.execute("w", wf)
    engine.wait(first.execution_id)
    assert sorted(_executed(events, first.execution_id)) == ["caption", "image", "other", "prompt"]
    balance = engine.credits_balance()
    assert engine.estimate_cost(wf)[0] == 0
    second = engine.execute("w", wf)
    poll = engine.wait(second.execution_id)
    assert _executed(events, second.execution_id) == []
    assert all(run.cached and run.status == "COMPLETED" for run in poll.node_runs)
    assert engine.get_execution(second.execution_id).credits_used == 0
    assert engine.credits_balance() == balance
    assert poll.node_run("caption").output == engine.poll(first.execution_id).node_run("caption").output
    assert all(
        e.cached for e in events if e.execution_id == second.execution_id and e.kind == "node_finished"
    )


def test_changing_one_node_reruns_it_and_its_dependants_only(
    engine: LocalEngine, events: list[EngineEvent]
) -> None:
    wf = _chain()
    engine.wait(engine.execute("w", wf).execution_id)
    wf.set_input("image", "width", 96)
    response = engine.execute("w", wf)
    poll = engine.wait(response.execution_id)
    assert sorted(_executed(events, response.execution_id)) == ["caption", "image"]
    assert poll.node_run("prompt").cached and poll.node_run("other").cached
    assert poll.node_run("image").images[0].width == 96
    assert engine.get_execution(response.execution_id).credits_used == 10


def test_cache_false_opts_a_node_out(engine: LocalEngine, events: list[EngineEvent]) -> None:
    wf = _chain()
    wf.set_input("image", "cache", False)
    engine.wait(engine.execute("w", wf).execution_id)
    response = engine.execute("w", wf)
    poll = engine.wait(response.execution_id)
    # the node reruns (with a fresh seed) and so do the nodes it feeds
    assert sorted(_executed(events, response.execution_id)) == ["caption", "image"]
    assert not poll.node_run("image").cached
    assert engine.get_execution(response.execution_id).credits_used == 10


def test_seedless_generation_is_reproducible_and_cached(engine: LocalEngine) -> None:
    [first] = engine.run("w", text_to_image_workflow("a cat"))
    [second] = engine.run("w", text_to_image_workflow("a cat"))
    assert second.node_run("image").cached
    assert first.node_run("image").output["seed"] == second.node_run("image").output["seed"]
    [other] = engine.run("w", text_to_image_workflow("a dog"))
    assert other.node_run("image").output["seed"] != first.node_run("image").output["seed"]


def test_a_deleted_output_file_is_a_cache_miss(engine: LocalEngine, events: list[EngineEvent]) -> None:
    wf = text_to_image_workflow()
    [poll] = engine.run("w", wf)
    engine.artifact_path(poll.node_run("image").images[0].url).unlink()
    response = engine.execute("w", wf)
    again = engine.wait(response.execution_id)
    assert _executed(events, response.execution_id) == ["image"]
    assert engine.fetch_bytes(again.node_run("image").images[0].url)[:4] == b"\x89PNG"


def test_the_cache_survives_a_restart(tmp_path: Any, make_engine: Any) -> None:
    wf = _chain()
    first = make_engine(tmp_path)
    first.run("w", wf)
    first.close()
    second = make_engine(tmp_path)
    seen: list[EngineEvent] = []
    second.subscribe(seen.append)
    [poll] = second.run("w", wf)
    assert all(run.cached for run in poll.node_runs)
    assert not [e for e in seen if e.kind == "node_started"]


def test_identical_work_in_one_batch_runs_once(engine: LocalEngine, events: list[EngineEvent]) -> None:
    wf = text_to_image_workflow()
    configs = [{"nodeId": "prompt", "field": "text", "values": ["same", "same", "same"]}]
    assert engine.estimate_cost(wf, iterator_configs=configs)[0] == 10
    response = engine.execute("w", wf, iterator_configs=configs)
    polls = [engine.wait(i) for i in response.execution_ids]
    ran = [e for e in events if e.kind == "node_started" and e.node_id == "image"]
    assert len(ran) == 1
    assert sum(not p.node_run("image").cached for p in polls) == 1
    assert engine.credits_balance() == 990
