"""WorkflowApp on a WireflowClient talking to a real ``wireflow-nb serve`` on loopback:
the same behaviours as on the LocalEngine, through HTTP and polling (no engine events)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests._servers import RunningServer, running_server, wait_until
from wireflow_nb import Workflow
from wireflow_nb.widgets._runner import PollPolicy
from wireflow_nb.widgets.app import WorkflowApp

from ._helpers import RecordingEditor, image_workflow, select

FAST = PollPolicy(initial=0.05, factor=1.5, maximum=0.3)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("app-serve"), model_latency=0.02) as running:
        yield running


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("app-serve-slow"), model_latency=30) as running:
        yield running


def make_app(server: RunningServer, workflow: Workflow, workflow_id: str) -> Any:
    client = server.client()
    return WorkflowApp(client, editor=RecordingEditor(workflow), workflow_id=workflow_id, poll_policy=FAST)


def status_of(app: Any) -> str:
    value: str = app.status_label.value
    return value.split('data-status="', 1)[1].split('"', 1)[0]


def test_run_through_the_api(server: RunningServer) -> None:
    app = make_app(server, image_workflow(size=80), "srv-run")
    assert app.wait_idle(10)
    assert "WireflowClient" in app.backend_label.value and server.base_url in app.backend_label.value
    assert "Balance: <b>1,000</b> credits" in app.credits_label.value
    assert "<b>10 credits</b> (from the server)" in app.estimate_label.value
    app.run(wait=True)
    assert app.wait_idle(10)
    assert status_of(app) == "COMPLETED"
    assert app.node_badges == {"prompt": "COMPLETED", "image": "COMPLETED"}
    [image] = app.outputs.image_widgets
    with Image.open(io.BytesIO(image.value)) as png:
        assert png.format == "PNG" and png.size == (80, 80)
    assert app.editor.thumbnails["image"]
    assert len(app.history.rows) == 1
    assert server.base_url in app.export_curl.value


def test_run_selected_batch_and_restore(server: RunningServer) -> None:
    wf = image_workflow("first")
    wf.add_node("image:filter", id="gray")
    wf.connect("image", "images", "gray", "image")
    app = make_app(server, wf, "srv-batch")
    select(app, "image")
    app.run_selected(wait=True)
    assert set(app.node_badges) == {"prompt", "image"}
    [poll] = app.results
    assert sorted(r.node_id for r in poll.node_runs) == ["image", "prompt"]

    select(app)
    app.workflow.set_input("prompt", "text", "second")
    app.set_batch("image", "seed", [1, 2])
    app.run(wait=True)
    assert app.wait_idle(10)
    assert status_of(app) == "COMPLETED"
    assert len(app.outputs.groups) == 2 and len(app.outputs.image_widgets) == 2
    assert (app.progress.value, app.progress.max) == (6, 6)

    app.history.refresh()
    oldest = app.history.rows[-1]
    app.history.select(oldest.id)
    app.history.restore_selected()
    assert app.workflow.node("prompt").inputs["text"] == "first"


def test_402_from_the_server(server: RunningServer) -> None:
    app = make_app(server, image_workflow(), "srv-402")
    app.set_batch("image", "seed", list(range(150)))  # 1500 credits > the balance
    app.run(wait=True, check_credits=False)  # sent: the server's own 402
    assert status_of(app) == "ERROR"
    assert "wf-app-credits-table" in app.message.value
    assert "Nothing ran" in app.message.value
    assert app.history.rows == []


def test_failing_node_and_server_side_validation(server: RunningServer, tmp_path: Path) -> None:
    wf = Workflow("x")
    wf.add_node("input:image", id="img", image="data:text/plain,not-a-picture")
    wf.add_node("image:filter", id="f")
    wf.connect("img", "images", "f", "image")
    wf.add_node("input:text", id="ok", text="fine")
    app = make_app(server, wf, "srv-fail")
    app.run(wait=True)
    assert status_of(app) == "FAILED"
    assert app.node_badges == {"img": "FAILED", "f": "SKIPPED", "ok": "COMPLETED"}
    assert app.editor.highlighted == (["img"], "#c62828")
    select(app, "img")
    assert "not an image Pillow can read" in app.node_detail.value

    # a required input missing: the client cannot tell, the server's 400 lists it
    bad = Workflow("y")
    bad.add_node("image:filter", id="lonely")
    app.workflow = bad
    app.run(wait=True)
    assert status_of(app) == "ERROR"
    assert "wf-app-problems" in app.message.value and "lonely" in app.message.value
    assert app.editor.highlighted[0] == ["lonely"]


def test_cancel_through_the_api(slow_server: RunningServer) -> None:
    app = make_app(slow_server, image_workflow(), "srv-cancel")
    app.run()
    wait_until(lambda: app.node_badges.get("image") == "RUNNING", timeout=20, message="image RUNNING")
    assert app.run() is None and "already going" in app.message.value
    app.cancel()
    state = app.wait(20)
    assert state is not None and state.status == "CANCELLED"
    assert app.node_badges["image"] == "SKIPPED"


def test_connection_problems_say_what_to_check() -> None:
    from tests._servers import free_port
    from wireflow_nb.client import WireflowClient

    client = WireflowClient(
        api_key="sk-test-0000", base_url=f"http://127.0.0.1:{free_port()}/api/v1", max_retries=0
    )
    app = WorkflowApp(client, editor=RecordingEditor(image_workflow()), workflow_id="down", poll_policy=FAST)
    app.run(wait=True)
    assert status_of(app) == "ERROR"
    # the advice comes from the one home (wireflow_nb._advice), said once
    assert app.message.value.count("is the server running (`wireflow-nb serve`") == 1
    assert app.wait_idle(10)
    assert "unavailable, cannot reach the server" in app.credits_label.value
    # offline: the catalog's prices, labelled, and why in the tooltip
    assert "<b>\u224810 credits</b> (catalog prices)" in app.estimate_label.value
    assert "estimate failed: cannot reach the server" in app.estimate_label.value
    assert "Could not load the history" in app.history.message.value


def test_async_client_backend(server: RunningServer) -> None:
    import asyncio

    client = server.async_client()
    app = WorkflowApp(
        client, editor=RecordingEditor(image_workflow(size=72)), workflow_id="srv-async", poll_policy=FAST
    )
    assert app.wait_idle(10)
    assert "Balance: <b>" in app.credits_label.value
    assert "(from the server)" in app.estimate_label.value  # awaited on the background loop
    app.run(wait=True)
    assert app.wait_idle(10)
    assert status_of(app) == "COMPLETED"
    [image] = app.outputs.image_widgets
    assert Image.open(io.BytesIO(image.value)).size == (72, 72)
    assert len(app.history.rows) == 1

    async def in_a_notebook() -> None:
        app.workflow.set_input("prompt", "text", "again")
        run = app.run()
        # an async client always runs on the widgets' background loop, never this one
        assert run is not None and run.mode == "thread"
        state = await app.wait_async(20)
        assert state is not None and state.status == "COMPLETED"

    asyncio.run(in_a_notebook())
    assert len(app.history.rows) == 2


def test_restoring_a_run_through_the_api_keeps_its_groups_notes_and_bypass(server: RunningServer) -> None:
    wf = image_workflow("framed")
    wf.add_node("image:filter", id="gray")
    wf.connect("image", "images", "gray", "image")
    wf.group(["prompt", "image"], title="Make")
    wf.add_note("teacher's note", x=0, y=300)
    wf.set_bypass("gray")
    app = make_app(server, wf, "srv-framed")
    app.run(wait=True)
    assert app.wait_idle(10)
    assert status_of(app) == "COMPLETED"
    app.history.refresh()
    app.history.select(app.history.rows[0].id)
    app.workflow = Workflow(id="srv-framed")  # the user moved on
    restored = app.history.restore_selected()
    assert restored is not None and restored.to_dict()["nodes"] == wf.to_dict()["nodes"]
    assert [g.title for g in app.workflow.groups] == ["Make"]
    assert [n.text for n in app.workflow.notes] == ["teacher's note"]
    assert app.workflow.bypassed == ["gray"]
