"""The run rules of DECISIONS.md: targetNodeId, triggerData, failures, statuses, times."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from _engine_helpers import statuses, text_to_image_workflow

from wireflow_nb import ExecutionFailedError, Workflow, node_type
from wireflow_nb.catalog import Catalog
from wireflow_nb.engine import LocalEngine

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_execute_returns_at_once_with_the_runs(catalog: Catalog, make_engine: Any) -> None:
    release = threading.Event()

    @node_type("t:gate", inputs={"text": str}, outputs={"text": str}, catalog=catalog)
    def gate(text: str) -> str:
        release.wait(10)
        return text

    engine = make_engine()
    wf = Workflow("w")
    wf.add_node("t:gate", id="g", text="x")
    response = engine.execute("w", wf)
    assert response.workflow_id == "w"
    [run] = response.execution_runs
    assert run.status == "RUNNING" and run.end_time is None and ISO_MS.match(run.start_time or "")
    assert run.batch_id == response.batch_id and run.run_index_in_batch == 0 and run.input_index == 0
    assert [r.node_id for r in run.node_runs] == ["g"]
    release.set()
    poll = engine.wait(run.id, timeout=10)
    assert poll.status == "COMPLETED"
    assert poll.node_runs[0].output == {"text": "x"}


def test_target_node_runs_only_it_and_its_ancestors(engine: LocalEngine) -> None:
    wf = Workflow("w")
    wf.add_node("input:text", id="a", text="one")
    wf.add_node("text:template", id="b", template="<{{v}}>")
    wf.add_node("text:template", id="c", template="[{{v}}]")
    wf.add_node("input:text", id="unrelated", text="two")
    wf.connect("a", "text", "b", "v")
    wf.connect("b", "text", "c", "v")
    response = engine.execute("w", wf, target_node_id="b")
    poll = engine.wait(response.execution_id)
    assert [r.node_id for r in poll.node_runs] == ["a", "b"]
    assert poll.node_run("b").text == "<one>"
    execution = engine.get_execution(response.execution_id)
    assert [r.node_id for r in execution.node_runs] == ["a", "b"]
    assert execution.model_extra["targetNodeId"] == "b"


def test_trigger_data_feeds_the_trigger_node_and_placeholders(engine: LocalEngine) -> None:
    wf = Workflow("w")
    wf.add_node("trigger", id="t")
    wf.add_node("text:template", id="by-edge", template="city={{c}}")
    wf.add_node(
        "input:text", id="by-ref", text="Hello {{trigger.user.name}} from {{trigger.city}}{{trigger.missing}}"
    )
    wf.connect("t", "city", "by-edge", "c")
    response = engine.execute("w", wf, trigger_data={"city": "Paris", "user": {"name": "Ada"}})
    poll = engine.wait(response.execution_id)
    assert poll.node_run("t").output["city"] == "Paris"
    assert poll.node_run("by-edge").text == "city=Paris"
    assert poll.node_run("by-ref").text == "Hello Ada from Paris"
    execution = engine.get_execution(response.execution_id)
    assert execution.triggered_by == "trigger"
    assert execution.trigger_data == {"city": "Paris", "user": {"name": "Ada"}}


def test_triggered_by_is_manual_without_trigger_data(engine: LocalEngine) -> None:
    wf = Workflow("w")
    wf.add_node("input:text", id="a", text="x")
    for trigger_data in (None, {}):
        response = engine.execute("w", wf, trigger_data=trigger_data)
        engine.wait(response.execution_id)
        execution = engine.get_execution(response.execution_id)
        assert execution.triggered_by == "manual"
        assert execution.trigger_data == {}


def test_a_failing_node_fails_the_run_skips_dependants_and_lets_other_branches_finish(
    catalog: Catalog, make_engine: Any
) -> None:
    @node_type("t:boom", inputs={"text": str}, outputs={"text": str}, catalog=catalog)
    def boom(text: str) -> str:
        raise RuntimeError("provider returned 500")

    engine = make_engine()
    wf = Workflow("w")
    wf.add_node("input:text", id="a", text="x")
    wf.add_node("t:boom", id="bad", label="Flaky model")
    wf.add_node("text:template", id="after", template="{{v}}")
    wf.add_node("text:template", id="after-after", template="{{v}}")
    wf.add_node("text:template", id="other", template="{{v}}!")
    wf.connect("a", "text", "bad", "text")
    wf.connect("bad", "text", "after", "v")
    wf.connect("after", "text", "after-after", "v")
    wf.connect("a", "text", "other", "v")
    response = engine.execute("w", wf)
    with pytest.raises(ExecutionFailedError) as info:
        engine.wait(response.execution_id)
    poll = info.value.poll
    assert statuses(poll) == {
        "a": "COMPLETED",
        "bad": "FAILED",
        "after": "SKIPPED",
        "after-after": "SKIPPED",
        "other": "COMPLETED",
    }
    assert poll.node_run("other").text == "x!"
    assert "provider returned 500" in poll.node_run("bad").error_message
    assert [r.node_id for r in info.value.failed_node_runs] == ["bad"]
    execution = engine.get_execution(response.execution_id)
    assert execution.status == "FAILED"
    assert execution.error_node == "bad"
    assert (
        "Flaky model" in execution.error
        and "bad" in execution.error
        and "provider returned 500" in execution.error
    )
    assert "bad" in poll.node_run("after").error_message


def test_times_are_iso_utc_with_milliseconds_and_duration_in_ms(engine: LocalEngine) -> None:
    response = engine.execute("t2i", text_to_image_workflow())
    engine.wait(response.execution_id)
    execution = engine.get_execution(response.execution_id)
    assert ISO_MS.match(execution.started_at or "")
    assert ISO_MS.match(execution.completed_at or "")
    assert isinstance(execution.execution_time, int) and execution.execution_time >= 0
    assert execution.started_at <= execution.completed_at
    [summary] = engine.list_executions("t2i")
    assert summary.execution_time == execution.execution_time
    assert summary.completed_at == execution.completed_at


def test_execution_details_carry_every_spec_field(engine: LocalEngine) -> None:
    wf = text_to_image_workflow()
    response = engine.execute("t2i", wf)
    engine.wait(response.execution_id)
    body = engine.get_execution(response.execution_id).to_wire()
    for key in (
        "id",
        "workflowId",
        "status",
        "triggeredBy",
        "triggerData",
        "nodeResults",
        "currentNode",
        "output",
        "error",
        "errorNode",
        "executionTime",
        "creditsUsed",
        "startedAt",
        "completedAt",
        "workflowSnapshot",
    ):
        assert key in body
    assert body["workflowSnapshot"] == {
        "nodes": [n.to_wire() for n in wf.nodes],
        "edges": [e.to_wire() for e in wf.edges],
    }
    assert body["creditsUsed"] == 10


def test_generation_nodes_record_their_seed_and_provider(engine: LocalEngine) -> None:
    [poll] = engine.run("t2i", text_to_image_workflow())
    output = poll.node_run("image").output
    assert output["provider"] == "local-preview"
    assert isinstance(output["seed"], int)
    [again] = engine.run("t2i", text_to_image_workflow(seed=output["seed"]))
    image = again.node_run("image")
    assert image.output["seed"] == output["seed"]
    # the same picture (the files differ: each carries the workflow of its run, seed included)
    assert _pixels(engine, image.images[0].url) == _pixels(engine, poll.node_run("image").images[0].url)


def _pixels(engine: LocalEngine, url: str) -> bytes:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(engine.fetch_bytes(url))) as picture:
        return picture.tobytes()


def test_history_is_most_recent_first_and_pages(engine: LocalEngine) -> None:
    wf = Workflow("w")
    wf.add_node("input:text", id="a", text="x")
    ids = []
    for _ in range(5):
        response = engine.execute("w", wf)
        engine.wait(response.execution_id)
        ids.append(response.execution_id)
    listed = [s.id for s in engine.list_executions("w", limit=100)]
    assert listed == list(reversed(ids))
    assert [s.id for s in engine.list_executions("w", limit=2, offset=1)] == listed[1:3]
    assert [s.id for s in engine.iter_executions("w", page_size=2)] == listed
    assert engine.list_executions("another-workflow") == []
