"""The account resources against every shape the hosted service may answer with (on a
``httpx.MockTransport``, both twins): bare and ``{"data": ...}`` bodies, flat and nested
error bodies, the stale-version 409 that is never retried, upload requests, the
function built from an input schema, and webhook triggers that never send a key."""

from __future__ import annotations

import inspect
import json
from typing import Any

import httpx
import pytest
from _client_fakes import HOSTED, AsyncAdapter

import wireflow_nb
from wireflow_nb import APIStatusError, NotFoundError, VersionConflictError
from wireflow_nb.account import saved_info, workflow_function
from wireflow_nb.models import PollResponse, WorkflowInputs

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 32
SAVED = {
    "id": "wf_1",
    "name": "Fox",
    "version": 4,
    "createdAt": "2025-03-20T12:01:00.000Z",
    "updatedAt": "2025-03-21T12:01:00.000Z",
    "nodeCount": 1,
    "workflow": {
        "nodes": [
            {
                "id": "n",
                "type": "input",
                "position": {"x": 0, "y": 0},
                "data": {"nodeType": "input:text", "text": "hi"},
            }
        ],
        "edges": [],
    },
}
SCHEMA = {
    "workflowId": "wf_1",
    "inputs": [{"nodeId": "n", "field": "text", "name": "prompt", "type": "TEXT", "required": True}],
    "outputs": [],
}
CATALOG = {
    "nodes": [
        {
            "nodeType": "generate:flux_2",
            "label": "Flux 2",
            "category": "generate",
            "inputs": [
                {"id": "in-prompt", "label": "Prompt", "type": "TEXT"},
                {"id": "image", "type": "IMAGE"},
            ],
            "outputs": [{"id": "out-image", "label": "Image", "type": "IMAGE"}],
            "price": 12,
        }
    ]
}


def wf(client: Any, method: str, /, *args: Any, **kwargs: Any) -> Any:
    """``client.workflows.<name>(...)`` on either twin."""
    if isinstance(client, AsyncAdapter):
        result = getattr(client.wrapped.workflows, method)(*args, **kwargs)
        if inspect.isasyncgen(result):

            async def gather() -> list[Any]:
                return [row async for row in result]

            return client._run(gather())
        return client._run(result)
    result = getattr(client.workflows, method)(*args, **kwargs)
    return list(result) if inspect.isgenerator(result) else result


def answer(body: Any, wrapped: bool, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"data": body} if wrapped else body)


@pytest.mark.parametrize("wrapped", [False, True], ids=["bare", "data"])
def test_every_answer_reads_bare_or_wrapped(make_client: Any, wrapped: bool) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1")
        if path == "/workflows" and request.method == "GET":
            return answer([{k: v for k, v in SAVED.items() if k != "workflow"}], wrapped)
        if path == "/workflows/wf_1":
            return answer(SAVED, wrapped)
        if path == "/workflows/wf_1/run":
            return answer(SCHEMA, wrapped)
        if path == "/developer/usage":
            return answer({"creditsBalance": 70, "creditsUsed": 30}, wrapped)
        if path == "/workflows/wf_1/estimate":
            return answer({"totalCredits": 12, "breakdown": [{"nodeId": "n", "credits": 12}]}, wrapped)
        if path == "/media/upload":
            return answer(
                {"id": "m1", "url": "https://cdn.example/m1.png", "contentType": "image/png"}, wrapped, 201
            )
        if path == "/nodes":
            return answer(CATALOG, wrapped)
        return httpx.Response(404, json={"error": "no route"})

    client = make_client(handler)
    assert [row.id for row in wf(client, "list")] == ["wf_1"]
    read = wf(client, "get", "wf_1")
    assert read.to_dict() == SAVED["workflow"]
    assert saved_info(read) is not None and saved_info(read).version == 4  # type: ignore[union-attr]
    assert wf(client, "inputs", "wf_1").inputs[0].name == "prompt"
    assert (client.usage().credits_balance, client.usage().credits_used) == (70, 30)
    assert client.estimate("wf_1").total_credits == 12
    assert client.upload(PNG).url == "https://cdn.example/m1.png"
    flux = client.nodes()["generate:flux_2"]
    assert (flux.price, flux.input("prompt").kind, flux.output("image").kind) == (12, "text", "image")


@pytest.mark.parametrize(
    "body",
    [
        {"error": "Workflow not found"},
        {"error": {"type": "not_found", "message": "Workflow not found", "code": "not_found"}},
    ],
    ids=["flat", "nested"],
)
def test_errors_read_flat_or_nested(make_client: Any, body: dict[str, Any]) -> None:
    client = make_client(lambda request: httpx.Response(404, json=body))
    with pytest.raises(NotFoundError, match="Workflow not found"):
        wf(client, "get", "wf_missing")


@pytest.mark.parametrize(
    "body",
    [
        {"error": "stale", "code": "version_conflict", "currentVersion": 5, "sentVersion": 4},
        {
            "error": {"type": "conflict", "message": "stale", "code": "version_conflict"},
            "currentVersion": 5,
            "sentVersion": 4,
        },
    ],
    ids=["flat", "nested"],
)
def test_a_stale_version_raises_at_once(make_client: Any, body: dict[str, Any]) -> None:
    client = make_client(lambda request: httpx.Response(409, json=body))
    with pytest.raises(VersionConflictError) as caught:
        wf(client, "update", "wf_1", SAVED["workflow"], version=4)
    assert (caught.value.current_version, caught.value.sent_version) == (5, 4)
    assert len(client_requests(client)) == 1
    sent = json.loads(client_requests(client)[0].content)
    assert sent == {"workflow": SAVED["workflow"], "version": 4}


def test_other_conflicts_are_still_retried(make_client: Any) -> None:
    client = make_client(lambda request: httpx.Response(409, json={"error": "busy"}), max_retries=2)
    with pytest.raises(APIStatusError) as caught:
        wf(client, "update", "wf_1", SAVED["workflow"], version=4)
    assert not isinstance(caught.value, VersionConflictError)
    keys = {r.headers["Idempotency-Key"] for r in client_requests(client)}
    assert len(client_requests(client)) == 3 and len(keys) == 1


def test_upload_is_multipart_typed_by_its_bytes_with_one_key(make_client: Any) -> None:
    replies = iter(
        [httpx.Response(503), httpx.Response(201, json={"id": "m", "url": "https://cdn.example/m"})]
    )
    client = make_client(lambda request: next(replies))
    client.upload(PNG, filename="photo.txt")
    first, second = client_requests(client)
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert first.headers["Content-Type"].startswith("multipart/form-data")
    assert b'filename="photo.txt"' in first.content and b"Content-Type: image/png" in first.content
    assert first.headers["Authorization"].startswith("Bearer ")


def test_json_requests_say_so(make_client: Any) -> None:
    client = make_client(lambda request: httpx.Response(201, json=SAVED))
    wf(client, "create", SAVED["workflow"], name="Fox")
    (request,) = client_requests(client)
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {"name": "Fox", "workflow": SAVED["workflow"]}


def client_requests(client: Any) -> list[httpx.Request]:
    http = client.wrapped._http if isinstance(client, AsyncAdapter) else client._http
    return list(http._transport.handler.requests)  # the Recorder behind the MockTransport


# -- the function of a schema ----------------------------------------------------------------


def test_function_signature_from_a_schema() -> None:
    schema = WorkflowInputs.model_validate(
        {
            "workflowId": "wf_9",
            "name": "Poster maker",
            "inputs": [
                {
                    "nodeId": "a",
                    "field": "text",
                    "name": "title",
                    "type": "TEXT",
                    "required": True,
                    "description": "the headline",
                },
                {
                    "nodeId": "b",
                    "field": "value",
                    "name": "count",
                    "type": "NUMBER",
                    "required": False,
                    "default": 2,
                },
                {
                    "nodeId": "c",
                    "field": "image",
                    "name": "photo",
                    "type": "IMAGE",
                    "required": False,
                    "default": "https://x/y.png",
                },
                {
                    "nodeId": "d",
                    "field": "value",
                    "name": "loud",
                    "type": "BOOLEAN",
                    "required": False,
                    "default": False,
                },
            ],
            "outputs": [{"nodeId": "z", "name": "poster"}],
        }
    )
    seen: list[dict[str, Any]] = []

    def run(inputs: dict[str, Any]) -> PollResponse:
        seen.append(inputs)
        return PollResponse.model_validate(
            {
                "status": "COMPLETED",
                "nodeResults": {
                    "nodeRuns": [{"nodeId": "z", "status": "COMPLETED", "output": {"text": "ok"}}]
                },
            }
        )

    function = workflow_function(schema, run)
    signature = inspect.signature(function)
    params = signature.parameters
    assert list(params) == ["title", "count", "photo", "loud"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())
    assert params["title"].default is inspect.Parameter.empty and params["title"].annotation is str
    assert (params["count"].default, params["count"].annotation) == (2, float)
    assert (params["photo"].annotation, params["loud"].annotation) == (str, bool)
    assert function.__name__ == "poster_maker"
    doc = function.__doc__ or ""
    assert "title (TEXT, required): the headline (node a, field text)" in doc
    assert "count (NUMBER, default 2)" in doc and "poster" in doc
    assert function(title="Hi", loud=True) == {"poster": {"text": "ok"}}
    assert seen == [{"a": "Hi", "d": True}]  # only what was given is sent
    with pytest.raises(TypeError):
        function(count=3)  # title is required
    with pytest.raises(TypeError):
        function(title="x", colour="red")


def test_webhook_triggers_never_send_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIREFLOW_API_KEY", "sk-never-sent-0123456789")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            202, json={"workflowId": "wf_1", "executionRuns": [{"id": "e1", "status": "RUNNING"}]}
        )

    started = wireflow_nb.trigger_webhook(
        f"{HOSTED}/workflow/abc/trigger", {"x": 1}, transport=httpx.MockTransport(handler)
    )
    assert started.execution_ids == ["e1"]
    assert "authorization" not in seen[0].headers and json.loads(seen[0].content) == {"x": 1}
