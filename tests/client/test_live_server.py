"""Both clients against a real ``wireflow-nb serve`` on loopback: what the mock tests
assume about the server (shapes, headers, statuses) is checked here for real.

These use real time: the server really runs the workflow. Polling starts at 50 ms so the
module stays fast; no assertion depends on how long anything took.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _client_fakes import AsyncAdapter

from tests._servers import RunningServer, running_server
from wireflow_nb import (
    ExecutionCancelledError,
    ExecutionStatus,
    InsufficientCreditsError,
    NotFoundError,
    PollResponse,
    WaitTimeoutError,
    Workflow,
)
from wireflow_nb.client import AsyncWireflowClient, WireflowClient

REPO = Path(__file__).resolve().parents[2]
FAST = {"poll_initial": 0.05, "poll_factor": 1.5, "poll_max": 0.2}


def text_to_image(seed: int, size: int = 64) -> dict[str, Any]:
    body = json.loads((REPO / "examples" / "text-to-image.json").read_text(encoding="utf-8"))
    request = Workflow.from_dict(body).to_request().to_wire()
    for node in request["nodes"]:
        if node["id"] == "image":
            node["data"].update(width=size, height=size, seed=seed)
    return request


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("client-live"), credits=10_000) as running:
        yield running


@pytest.fixture
def live_client(kind: str) -> Iterator[Callable[..., Any]]:
    """``live_client(server, **options)``: a real client of either kind on that server."""
    made: list[Any] = []

    def make(running: RunningServer, **options: Any) -> Any:
        options = {**FAST, **options}
        client: Any
        if kind == "sync":
            client = WireflowClient(running.api_key, base_url=running.base_url, **options)
        else:
            client = AsyncAdapter(AsyncWireflowClient(running.api_key, base_url=running.base_url, **options))
        made.append(client)
        return client

    yield make
    for client in made:
        client.shutdown() if isinstance(client, AsyncAdapter) else client.close()


def test_run_a_batch_and_read_everything_back(server: RunningServer, live_client: Any, kind: str) -> None:
    client = live_client(server)
    workflow_id = f"wf-live-batch-{kind}"
    updates: list[PollResponse] = []
    results = client.run(
        workflow_id,
        # a seed per kind: the server caches, and a cached run costs nothing
        text_to_image(seed=5 if kind == "sync" else 6),
        iterator_configs=[{"nodeId": "prompt", "field": "text", "values": ["a fox", "an owl"]}],
        on_update=updates.append,
        timeout=60,
    )
    assert [r.state for r in results] == [ExecutionStatus.COMPLETED] * 2
    assert updates and updates[-1].state == ExecutionStatus.COMPLETED
    urls = [r.node_run("image").images[0].url for r in results]
    assert all(client.fetch_bytes(url)[:4] == b"\x89PNG" for url in urls)
    assert client.rate_limit is not None and client.rate_limit.limit
    rows = list(client.iter_executions(workflow_id, page_size=1))
    assert len(rows) == 2
    assert client.get_execution(rows[0].id).credits_used == 10
    assert client.credits_balance() is not None


def test_the_same_idempotency_key_starts_nothing_new(
    server: RunningServer, live_client: Any, kind: str
) -> None:
    client = live_client(server)
    body = text_to_image(seed=7 if kind == "sync" else 8)
    first = client.execute(f"wf-live-idem-{kind}", body, idempotency_key=f"key-{kind}-1")
    again = client.execute(f"wf-live-idem-{kind}", body, idempotency_key=f"key-{kind}-1")
    assert again.execution_ids == first.execution_ids
    client.wait(first.execution_id, timeout=60)


def test_errors_are_typed(server: RunningServer, live_client: Any) -> None:
    client = live_client(server)
    with pytest.raises(NotFoundError) as info:
        client.poll("exec_does_not_exist")
    assert info.value.request_id


def test_402_from_the_server_is_typed(tmp_path: Path, live_client: Any) -> None:
    with running_server(tmp_path, credits=3) as poor, pytest.raises(InsufficientCreditsError) as info:
        live_client(poor).execute("wf-live-402", text_to_image(seed=9))
    err = info.value
    assert (err.required_credits, err.available_credits) == (10, 3)
    assert [item.node_id for item in err.breakdown] == ["image"]


def test_wait_times_out_resumes_and_cancels(tmp_path: Path, live_client: Any) -> None:
    with running_server(tmp_path, model_latency=30) as slow:
        client = live_client(slow)
        started = client.execute("wf-live-slow", text_to_image(seed=11))
        with pytest.raises(WaitTimeoutError) as info:
            client.wait(started.execution_id, timeout=0.3)
        assert info.value.execution_id == started.execution_id
        client.cancel(started.execution_id)
        with pytest.raises(ExecutionCancelledError):
            client.wait(info.value.execution_id, timeout=30)  # resumed by id
