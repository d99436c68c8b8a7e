"""The Backend surface of LocalEngine: the same methods, models and errors as the client."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import pytest
from _engine_helpers import text_to_image_workflow

from wireflow_nb import (
    Backend,
    BadRequestError,
    ExecuteResponse,
    Execution,
    ExecutionSummary,
    NotFoundError,
    PollResponse,
    WaitTimeoutError,
    Workflow,
    node_type,
)
from wireflow_nb.catalog import Catalog
from wireflow_nb.engine import EngineEvent, LocalEngine


def test_it_is_a_backend_with_the_models_of_the_spec(engine: LocalEngine) -> None:
    assert isinstance(engine, Backend)
    response = engine.execute("w", text_to_image_workflow())
    assert isinstance(response, ExecuteResponse)
    assert isinstance(engine.wait(response.execution_id), PollResponse)
    assert isinstance(engine.poll(response.execution_id), PollResponse)
    assert isinstance(engine.get_execution(response.execution_id), Execution)
    assert all(isinstance(s, ExecutionSummary) for s in engine.list_executions("w"))
    assert set(f.name for f in dataclasses.fields(EngineEvent)) == {
        "kind",
        "execution_id",
        "workflow_id",
        "node_id",
        "status",
        "output",
        "error",
        "cached",
        "timestamp",
    }


def test_poll_body_is_the_reference_shape(engine: LocalEngine) -> None:
    response = engine.execute("w", text_to_image_workflow())
    body = engine.wait(response.execution_id).to_wire()
    assert set(body) == {"status", "nodeResults"}
    assert body["status"] == "COMPLETED"
    for run in body["nodeResults"]["nodeRuns"]:
        assert {"nodeId", "status", "output"} <= set(run)


def test_unknown_ids_are_404(engine: LocalEngine) -> None:
    for call in (engine.poll, engine.get_execution, engine.wait, engine.cancel):
        with pytest.raises(NotFoundError) as info:
            call("exec_nope")
        assert info.value.status_code == 404 and "exec_nope" in info.value.body["error"]


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (101, 0), (10, -1), (True, 0)])
def test_history_paging_is_checked(engine: LocalEngine, limit: Any, offset: Any) -> None:
    with pytest.raises(BadRequestError) as info:
        engine.list_executions("w", limit=limit, offset=offset)
    assert info.value.details


def test_wait_times_out_and_can_be_resumed(catalog: Catalog, make_engine: Any) -> None:
    release = threading.Event()

    @node_type("t:gate", inputs={"text": str}, outputs={"text": str}, catalog=catalog)
    def gate(text: str) -> str:
        release.wait(20)
        return text

    engine = make_engine()
    wf = Workflow("w")
    wf.add_node("t:gate", id="g", text="x")
    response = engine.execute("w", wf)
    with pytest.raises(WaitTimeoutError) as info:
        engine.wait(response.execution_id, timeout=0.05)
    assert info.value.execution_id == response.execution_id
    assert info.value.last is not None and info.value.last.status == "RUNNING"
    release.set()
    assert engine.wait(response.execution_id, timeout=20).status == "COMPLETED"


def test_wait_reports_updates(catalog: Catalog, make_engine: Any) -> None:
    release = threading.Event()

    @node_type("t:gate", inputs={"text": str}, outputs={"text": str}, catalog=catalog)
    def gate(text: str) -> str:
        release.wait(20)
        return text

    engine = make_engine()
    wf = Workflow("w")
    wf.add_node("t:gate", id="g", text="x")
    updates: list[PollResponse] = []

    def on_update(poll: PollResponse) -> None:
        updates.append(poll)
        if poll.node_run("g") is not None and poll.node_run("g").status == "RUNNING":
            release.set()

    [final] = engine.run("w", wf, on_update=on_update, timeout=20)
    assert final.status == "COMPLETED"
    assert updates[-1].to_wire() == final.to_wire()
    assert any(u.node_run("g").status == "RUNNING" for u in updates)


def test_run_waits_for_every_run_of_a_batch(engine: LocalEngine) -> None:
    polls = engine.run(
        "w",
        text_to_image_workflow(),
        iterator_configs=[{"nodeId": "prompt", "field": "text", "values": ["a", "b"]}],
    )
    assert [p.node_run("prompt").text for p in polls] == ["a", "b"]


def test_output_urls_follow_artifact_base_url(engine: LocalEngine) -> None:
    [poll] = engine.run("w", text_to_image_workflow())
    url = poll.node_run("image").images[0].url
    assert url.startswith("file://")
    name = url.rsplit("/", 1)[1]
    execution_id = engine.list_executions("w")[0].id
    engine.artifact_base_url = "http://127.0.0.1:8123/api/v1/files/"
    served = engine.poll(execution_id).node_run("image").images[0].url
    assert served == f"http://127.0.0.1:8123/api/v1/files/{name}"
    # an old server's URL (another port) still finds the file
    assert engine.fetch_bytes(f"http://127.0.0.1:9999/api/v1/files/{name}")[:4] == b"\x89PNG"
    assert engine.artifact_path(served) == engine.artifact_path(name) == engine.artifact_path(url)


@pytest.mark.parametrize(
    "bad",
    [
        "../wireflow_nb.sqlite3",
        "/etc/passwd",
        "file:///etc/passwd",
        "a" * 64 + ".png",
        "..%2F..%2Fetc%2Fpasswd",
        "",
    ],
)
def test_artifact_path_refuses_anything_outside_the_store(engine: LocalEngine, bad: str) -> None:
    with pytest.raises(NotFoundError):
        engine.artifact_path(bad)


def test_fetch_bytes_reads_data_urls_and_refuses_missing_outputs(engine: LocalEngine) -> None:
    assert engine.fetch_bytes("data:text/plain,hi%21") == b"hi!"
    with pytest.raises(NotFoundError):
        engine.fetch_bytes("file:///no/such/file.png")


def test_a_closed_engine_says_so(make_engine: Any) -> None:
    engine = make_engine()
    engine.close()
    engine.close()  # twice is fine
    with pytest.raises(RuntimeError, match="closed"):
        engine.execute("w", text_to_image_workflow())
    with LocalEngine(":memory:", model_latency=0) as other:
        assert other.run("w", text_to_image_workflow())[0].status == "COMPLETED"
    assert other.closed
