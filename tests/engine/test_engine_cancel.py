"""Cancel: running nodes stop, nodes not started are SKIPPED, the run is CANCELLED."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from _engine_helpers import statuses, text_to_image_workflow

from wireflow_nb import ExecutionCancelledError, NotFoundError, Workflow, node_type
from wireflow_nb.catalog import Catalog
from wireflow_nb.engine import EngineEvent, LocalEngine


def _started(engine: LocalEngine, node_id: str) -> threading.Event:
    seen = threading.Event()
    engine.subscribe(lambda e: seen.set() if e.kind == "node_started" and e.node_id == node_id else None)
    return seen


def test_cancel_stops_a_sleeping_sync_node_and_skips_the_rest(catalog: Catalog, make_engine: Any) -> None:
    entered = threading.Event()
    stopped = threading.Event()

    @node_type("t:slow", inputs={"text": str}, outputs={"text": str}, catalog=catalog, price=5)
    def slow(text: str, ctx: Any) -> str:
        entered.set()
        try:
            ctx.sleep(30)
        finally:
            stopped.set()
        return text

    engine = make_engine()
    wf = Workflow("w")
    wf.add_node("input:text", id="a", text="x")
    wf.add_node("t:slow", id="slow")
    wf.add_node("text:template", id="after", template="{{v}}")
    wf.connect("a", "text", "slow", "text")
    wf.connect("slow", "text", "after", "v")
    response = engine.execute("w", wf)
    assert entered.wait(10)  # (node_started may come before the pool thread calls it)
    poll = engine.cancel(response.execution_id)
    assert poll.status == "CANCELLED"
    assert statuses(poll) == {"a": "COMPLETED", "slow": "CANCELLED", "after": "SKIPPED"}
    assert stopped.wait(5)  # ctx.sleep returned at once
    with pytest.raises(ExecutionCancelledError):
        engine.wait(response.execution_id)
    execution = engine.get_execution(response.execution_id)
    assert execution.status == "CANCELLED" and execution.completed_at is not None
    assert execution.credits_used == 0 and engine.credits_balance() == 1000


def test_cancel_stops_model_latency(make_engine: Any) -> None:
    engine = make_engine(model_latency=30)
    started = _started(engine, "image")
    response = engine.execute("w", text_to_image_workflow())
    assert started.wait(10)
    poll = engine.cancel(response.execution_id)
    assert statuses(poll) == {"prompt": "COMPLETED", "image": "CANCELLED"}
    assert engine.credits_balance() == 1000
    assert engine.credits_used() == 0


def test_cancel_stops_an_async_node(catalog: Catalog, make_engine: Any) -> None:
    @node_type("t:async-slow", inputs={"text": str}, outputs={"text": str}, catalog=catalog)
    async def async_slow(text: str, ctx: Any) -> str:
        await ctx.asleep(30)
        return text

    engine = make_engine()
    wf = Workflow("w")
    wf.add_node("t:async-slow", id="s", text="x")
    started = _started(engine, "s")
    response = engine.execute("w", wf)
    assert started.wait(10)
    assert statuses(engine.cancel(response.execution_id)) == {"s": "CANCELLED"}


def test_cancel_of_a_finished_run_changes_nothing(engine: LocalEngine) -> None:
    engine.run("w", text_to_image_workflow())
    response = engine.list_executions("w")[0]
    assert engine.cancel(response.id).to_wire() == engine.poll(response.id).to_wire()
    assert engine.poll(response.id).status == "COMPLETED"
    with pytest.raises(NotFoundError):
        engine.cancel("exec_nope")


def test_close_cancels_what_runs(catalog: Catalog, make_engine: Any, tmp_path: Any) -> None:
    engine = make_engine(tmp_path, model_latency=30)
    started = _started(engine, "image")
    response = engine.execute("w", text_to_image_workflow())
    assert started.wait(10)
    engine.close()
    reopened = make_engine(tmp_path)
    assert reopened.get_execution(response.execution_id).status == "CANCELLED"


def test_cancel_events(catalog: Catalog, make_engine: Any) -> None:
    engine = make_engine(model_latency=30)
    seen: list[EngineEvent] = []
    engine.subscribe(seen.append)
    started = _started(engine, "image")
    response = engine.execute("w", text_to_image_workflow())
    assert started.wait(10)
    engine.cancel(response.execution_id)
    last = seen[-2:]
    assert (last[0].kind, last[0].node_id, last[0].status) == ("node_skipped", "image", "CANCELLED")
    assert (last[1].kind, last[1].status) == ("run_finished", "CANCELLED")
