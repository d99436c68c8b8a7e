"""Events: subscribers hear every run and node event, in order, as it happens."""

from __future__ import annotations

import re
from typing import Any

import pytest
from _engine_helpers import text_to_image_workflow

from wireflow_nb import ExecutionFailedError, Workflow, node_type
from wireflow_nb.catalog import Catalog
from wireflow_nb.engine import EVENT_KINDS, EngineEvent, LocalEngine


def test_events_of_a_chain_in_order(engine: LocalEngine, events: list[EngineEvent]) -> None:
    response = engine.execute("w", text_to_image_workflow())
    engine.wait(response.execution_id)
    assert [(e.kind, e.node_id) for e in events] == [
        ("run_started", None),
        ("node_started", "prompt"),
        ("node_finished", "prompt"),
        ("node_started", "image"),
        ("node_finished", "image"),
        ("run_finished", None),
    ]
    assert all(e.execution_id == response.execution_id and e.workflow_id == "w" for e in events)
    assert all(e.kind in EVENT_KINDS for e in events)
    assert all(re.match(r"^\d{4}-.*\.\d{3}Z$", e.timestamp) for e in events)
    finished = events[4]
    assert finished.status == "COMPLETED" and finished.output["images"][0]["url"].startswith("file://")
    assert events[-1].status == "COMPLETED"


def test_failed_and_skipped_events(catalog: Catalog, make_engine: Any) -> None:
    @node_type("t:boom", inputs={"text": str}, outputs={"text": str}, catalog=catalog)
    def boom(text: str) -> str:
        raise ValueError("nope")

    engine = make_engine()
    seen: list[EngineEvent] = []
    engine.subscribe(seen.append)
    wf = Workflow("w")
    wf.add_node("t:boom", id="b", text="x")
    wf.add_node("text:template", id="after", template="{{v}}")
    wf.connect("b", "text", "after", "v")
    response = engine.execute("w", wf)
    with pytest.raises(ExecutionFailedError):
        engine.wait(response.execution_id)
    assert [(e.kind, e.node_id, e.status) for e in seen] == [
        ("run_started", None, "RUNNING"),
        ("node_started", "b", "RUNNING"),
        ("node_failed", "b", "FAILED"),
        ("node_skipped", "after", "SKIPPED"),
        ("run_finished", None, "FAILED"),
    ]
    assert "nope" in (seen[2].error or "")
    assert "b" in (seen[-1].error or "")


def test_a_broken_subscriber_does_not_break_the_run_and_unsubscribe_works(engine: LocalEngine) -> None:
    calls: list[str] = []

    def broken(event: EngineEvent) -> None:
        calls.append(event.kind)
        raise RuntimeError("subscriber bug")

    unsubscribe = engine.subscribe(broken)
    [poll] = engine.run("w", text_to_image_workflow())
    assert poll.status == "COMPLETED"
    assert calls and calls[-1] == "run_finished"
    unsubscribe()
    calls.clear()
    engine.run("w", text_to_image_workflow("another"))
    assert calls == []


def test_events_come_before_wait_returns(engine: LocalEngine, events: list[EngineEvent]) -> None:
    """The live view needs no polling: run_finished is heard by the time wait returns."""
    response = engine.execute("w", text_to_image_workflow())
    engine.wait(response.execution_id)
    assert events[-1].kind == "run_finished"
