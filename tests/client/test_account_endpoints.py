"""The account endpoints end to end: both clients against a real ``wireflow-nb serve``
on loopback (saved workflows with versions, input schema, run with inputs, functions,
the node catalogue, usage, estimates, uploads, webhooks), and ``LocalEngine`` in
process giving the same answers for the same calls."""

from __future__ import annotations

import asyncio
import inspect
import os
import sqlite3
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import wireflow_nb
from tests._servers import RunningServer, running_server
from wireflow_nb import LocalEngine, NotFoundError, VersionConflictError, Workflow
from wireflow_nb.account import saved_info
from wireflow_nb.catalog import spec_to_hosted
from wireflow_nb.client import AsyncWireflowClient, WireflowClient

FAST = {"poll_initial": 0.05, "poll_factor": 1.5, "poll_max": 0.2}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

CUSTOM_NODES = textwrap.dedent(
    """
    import wireflow_nb

    @wireflow_nb.node_type("custom:shout", inputs={"text": str}, outputs={"text": str}, label="Shout")
    def shout(text: str) -> str:
        return text.upper()
    """
)


def fox_workflow() -> Workflow:
    wf = Workflow(id="fox")
    prompt = wf.add_node("input:text", label="Prompt", text="a red fox")
    image = wf.add_node("model:fal:text-to-image", seed=3, width=64, height=64)
    wf.connect(prompt, "text", image, "prompt")
    return wf


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    modules = tmp_path_factory.mktemp("nodes-module")
    (modules / "account_test_nodes.py").write_text(CUSTOM_NODES, encoding="utf-8")
    path = os.pathsep.join(p for p in (str(modules), os.environ.get("PYTHONPATH", "")) if p)
    with running_server(
        tmp_path_factory.mktemp("account-home"),
        extra_args=["--nodes", "account_test_nodes"],
        env={"PYTHONPATH": path},
    ) as running:
        yield running


class _Twin:
    """Drives an async object (the client, or ``client.workflows``) from sync test code."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._target = target
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if name == "workflows":
            return _Twin(attr, self._loop)
        if inspect.isasyncgenfunction(attr):

            async def gather(*args: Any, **kwargs: Any) -> list[Any]:
                return [row async for row in attr(*args, **kwargs)]

            return lambda *a, **k: iter(self._loop.run_until_complete(gather(*a, **k)))
        if inspect.iscoroutinefunction(attr):

            def call(*args: Any, **kwargs: Any) -> Any:
                result = self._loop.run_until_complete(attr(*args, **kwargs))
                if inspect.iscoroutinefunction(result):  # workflows.function: an async function
                    function = result

                    def blocking(*a: Any, **k: Any) -> Any:
                        return self._loop.run_until_complete(function(*a, **k))

                    blocking.__signature__ = inspect.signature(function)  # type: ignore[attr-defined]
                    blocking.__doc__ = function.__doc__
                    blocking.is_async = True  # type: ignore[attr-defined]
                    return blocking
                return result

            return call
        return attr


@pytest.fixture(params=["sync", "async"])
def client(request: pytest.FixtureRequest, server: RunningServer) -> Iterator[Any]:
    """A client of the served engine (each test runs on both twins); ``client.sent``
    lists the (method, path) of every request it sent."""
    sent: list[tuple[str, str]] = []
    if request.param == "sync":
        http = httpx.Client(event_hooks={"request": [lambda r: sent.append((r.method, r.url.path))]})
        sync = WireflowClient(api_key=server.api_key, base_url=server.base_url, http_client=http, **FAST)
        sync.sent = sent  # type: ignore[attr-defined]
        yield sync
        http.close()
        return

    async def note(r: httpx.Request) -> None:
        sent.append((r.method, r.url.path))

    loop = asyncio.new_event_loop()
    ahttp = httpx.AsyncClient(event_hooks={"request": [note]})
    twin = _Twin(
        AsyncWireflowClient(api_key=server.api_key, base_url=server.base_url, http_client=ahttp, **FAST), loop
    )
    twin.sent = sent  # type: ignore[attr-defined]
    yield twin
    loop.run_until_complete(ahttp.aclose())
    loop.close()


# -- saved workflows -----------------------------------------------------------------------


def test_saved_workflows_round_trip_with_versions(client: Any) -> None:
    wf = fox_workflow()
    saved = client.workflows.create(wf, name="Fox")
    assert (saved.version, saved.name, saved.node_count) == (1, "Fox", 2)
    assert saved.created_at and saved.created_at == saved.updated_at and saved.created_at.endswith("Z")

    read = client.workflows.get(saved.id)
    assert isinstance(read, Workflow)
    assert read.to_dict() == wf.to_dict()  # the user's JSON, unchanged
    info = saved_info(read)
    assert info is not None and (info.id, info.version) == (saved.id, 1)

    read.node("node-1").set_input("text", "a blue fox")
    updated = client.workflows.update(saved.id, read)  # the version read comes along
    assert updated.version == 2
    assert client.workflows.get_saved(saved.id).workflow["nodes"][0]["data"]["text"] == "a blue fox"

    client.sent.clear()
    with pytest.raises(VersionConflictError) as caught:
        client.workflows.update(saved.id, wf, version=1)
    assert (caught.value.current_version, caught.value.sent_version) == (2, 1)
    assert "version 2" in str(caught.value) and "version 1" in str(caught.value)
    assert client.sent == [("PUT", f"/api/v1/workflows/{saved.id}")]  # never retried
    with pytest.raises(ValueError, match="version="):
        client.workflows.update(saved.id, fox_workflow())  # no version known: refused, not overwritten

    client.workflows.delete(saved.id)
    with pytest.raises(NotFoundError):
        client.workflows.get(saved.id)


def test_list_iterates_every_page(client: Any) -> None:
    made = {client.workflows.create(fox_workflow(), name=f"Page {i}").id for i in range(5)}
    client.sent.clear()
    listed = [row.id for row in client.workflows.list(page_size=2)]
    assert made <= set(listed)
    assert len(listed) == len(set(listed))
    assert sum(1 for method, path in client.sent if path.endswith("/workflows")) >= 3


# -- inputs, run, function -------------------------------------------------------------------


def test_inputs_run_and_function(client: Any) -> None:
    saved = client.workflows.create(fox_workflow(), name="Fox runner")
    schema = client.workflows.inputs(saved.id)
    assert [(i.node_id, i.field, i.name, i.type, i.required, i.default) for i in schema.inputs] == [
        ("node-1", "text", "prompt", "TEXT", False, "a red fox")
    ]
    assert [o.node_id for o in schema.outputs] == ["node-2"]

    started = client.workflows.run(saved.id, inputs={"node-1": "a green fox"})
    poll = client.wait(started.execution_ids[0], timeout=60)
    assert poll.node_run("node-2").output["prompt"] == "a green fox"
    assert client.get_execution(started.execution_ids[0]).workflow_id == saved.id

    function = client.workflows.function(saved.id)
    signature = inspect.signature(function)
    assert str(signature) == "(*, prompt: str = 'a red fox') -> dict[str, typing.Any]"
    assert "prompt (TEXT, default 'a red fox')" in (function.__doc__ or "")
    outputs = function(prompt="a grey fox")
    assert outputs["text_to_image"]["prompt"] == "a grey fox"
    assert outputs["text_to_image"]["images"][0]["url"].startswith("http://127.0.0.1")

    with pytest.raises(wireflow_nb.BadRequestError, match="nope"):
        client.workflows.run(saved.id, inputs={"nope": 1})


# -- catalogue, usage, estimate ----------------------------------------------------------------


def test_nodes_are_the_served_catalogue_with_typed_ports(client: Any) -> None:
    catalog = client.nodes()
    image = catalog["model:fal:text-to-image"]
    assert image.price == 10 and image.input("prompt").kind == "text"
    assert image.output("images").kind == "image"
    assert "custom:shout" in catalog  # from serve --nodes
    assert catalog["custom:shout"].label == "Shout"
    with LocalEngine(":memory:") as engine:
        local = engine.nodes()
        assert "custom:shout" not in local  # the served catalogue differs from the built-ins
        for spec in local:
            assert spec_to_hosted(catalog[spec.node_type]) == spec_to_hosted(spec)


def test_estimate_is_what_the_run_charges(client: Any) -> None:
    wf = fox_workflow()
    wf.node("node-2").set_input("seed", uuid.uuid4().int % 10**9)  # not in the cache
    before = client.usage()
    estimate = client.estimate(wf, workflow_id="estimated")
    assert estimate.total_credits == 10
    assert [(b.node_id, b.credits) for b in estimate.breakdown] == [("node-2", 10)]
    client.run("estimated", wf, timeout=60)
    after = client.usage()
    assert before.credits_balance - after.credits_balance == estimate.total_credits
    assert after.credits_used - before.credits_used == estimate.total_credits


# -- uploads and webhooks --------------------------------------------------------------------


def test_upload_types_from_bytes_and_serves_the_file(
    client: Any, server: RunningServer, tmp_path: Path
) -> None:
    path = tmp_path / "picture.txt"  # the name lies; the bytes say PNG
    path.write_bytes(PNG)
    media = client.upload(path)
    assert media.content_type == "image/png" and media.size == len(PNG) and media.filename == "picture.txt"
    assert media.url.startswith(server.base_url + "/files/")
    assert client.fetch_bytes(media.url) == PNG
    assert client.upload(PNG).content_type == "image/png"

    client.sent.clear()
    with pytest.raises(ValueError, match="25 MB"):
        client.upload(b"\0" * (25 * 1024 * 1024 + 1))
    assert client.sent == []  # checked before sending


def test_webhook_starts_a_run_without_a_key(client: Any, server: RunningServer) -> None:
    saved = client.workflows.create(fox_workflow(), name="Hooked")
    hook = client.workflows.create_webhook(saved.id)
    assert len(hook.id) >= 32 and hook.url == f"{server.base_url}/workflow/{hook.id}/trigger"
    started = wireflow_nb.trigger_webhook(hook.url, {"source": "test"})
    execution = client.get_execution(started.execution_ids[0])
    assert execution.trigger_data == {"source": "test"}
    assert execution.workflow_id == saved.id
    with pytest.raises(NotFoundError) as missing:
        wireflow_nb.trigger_webhook(f"{server.base_url}/workflow/not-a-hook/trigger", {})
    assert "not-a-hook" not in str(missing.value)


def test_the_served_home_holds_what_was_saved(server: RunningServer) -> None:
    # the tables live in the server's SQLite home (real SQLite, not memory)
    with sqlite3.connect(server.home / "wireflow_nb.sqlite3") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"saved_workflows", "media", "webhooks"} <= tables


# -- LocalEngine in process answers alike ------------------------------------------------------


def test_local_engine_answers_as_the_served_engine(client: Any) -> None:
    wf = fox_workflow()
    wf.node("node-2").set_input("seed", uuid.uuid4().int % 10**9)  # in neither cache
    with LocalEngine(":memory:", model_latency=0) as engine:
        local = engine.workflows.create(wf, name="Fox")
        remote = client.workflows.create(wf, name="Fox")
        assert (local.version, local.node_count, local.workflow) == (
            remote.version,
            remote.node_count,
            remote.workflow,
        )
        assert engine.workflows.get(local.id).to_dict() == client.workflows.get(remote.id).to_dict()
        local_schema = engine.workflows.inputs(local.id).to_wire()
        remote_schema = client.workflows.inputs(remote.id).to_wire()
        assert {**local_schema, "workflowId": ""} == {**remote_schema, "workflowId": ""}
        assert str(inspect.signature(engine.workflows.function(local.id))) == str(
            inspect.signature(client.workflows.function(remote.id))
        )
        assert engine.estimate(wf).total_credits == client.estimate(wf).total_credits
        assert engine.estimate(local.id).breakdown == client.estimate(remote.id).breakdown
        assert engine.upload(PNG).content_type == client.upload(PNG).content_type
        outputs = engine.workflows.function(local.id)(prompt="x")
        assert (
            outputs["text_to_image"]["prompt"]
            == client.workflows.function(remote.id)(prompt="x")["text_to_image"]["prompt"]
        )
        engine.workflows.update(local.id, wf, version=1)
        with pytest.raises(VersionConflictError) as caught:
            engine.workflows.update(local.id, wf, version=1)
        assert (caught.value.current_version, caught.value.sent_version) == (2, 1)
        assert set(engine.usage().to_wire()) == set(client.usage().to_wire())
