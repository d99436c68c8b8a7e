"""``wireflow-nb serve`` through a real uvicorn on a free loopback port: driven by our
client (sync and async) and by raw httpx for status codes, bodies and headers."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._servers import TEST_API_KEY, RunningServer, running_server, serve_command, wait_until
from wireflow_nb import (
    AuthenticationError,
    BadRequestError,
    InsufficientCreditsError,
    NotFoundError,
    RateLimitError,
    UnprocessableEntityError,
    Workflow,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
ISO_MS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def example(name: str) -> dict[str, Any]:
    """The execute body of ``examples/<name>.json`` (its iteratorConfigs included)."""
    body = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    request = Workflow.from_dict(body).to_request().to_wire()
    if "iteratorConfigs" in body:
        request["iteratorConfigs"] = body["iteratorConfigs"]
    return request


def text_to_image(prompt: str = "a lighthouse at dusk", *, seed: int = 3, size: int = 64) -> dict[str, Any]:
    body = example("text-to-image")
    for node in body["nodes"]:
        if node["id"] == "prompt":
            node["data"]["text"] = prompt
        if node["id"] == "image":
            node["data"].update(width=size, height=size, seed=seed)
    return body


def assert_common_headers(response: httpx.Response) -> None:
    assert response.headers["X-Request-Id"].startswith("req_")
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert response.headers[name].isdigit(), name


def run_to_end(http: httpx.Client, execution_id: str, *, timeout: float = 60) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        body = http.get(f"/workflows/executions/{execution_id}/poll").json()
        return body if body["status"] in ("COMPLETED", "FAILED", "CANCELLED") else None

    result: dict[str, Any] = wait_until(
        done, timeout=timeout, interval=0.05, message=f"{execution_id} to end"
    )
    return result


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("api-home"), credits=100_000) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with server.http() as client:
        yield client


# -- the async pattern, end to end ------------------------------------------------------------


def test_execute_returns_201_location_and_the_spec_shape(server: RunningServer, http: httpx.Client) -> None:
    response = http.post("/workflows/wf-shape/execute", json=text_to_image())
    assert response.status_code == 201, response.text
    assert_common_headers(response)
    body = response.json()
    assert body["workflowId"] == "wf-shape"
    assert isinstance(body["batchId"], str) and body["batchId"]
    (run,) = body["executionRuns"]
    for key in (
        "id",
        "startTime",
        "endTime",
        "status",
        "error",
        "nodeRuns",
        "batchId",
        "runIndexInBatch",
        "inputIndex",
    ):
        assert key in run, key
    assert run["runIndexInBatch"] == 0 and run["inputIndex"] == 0
    assert ISO_MS_Z.match(run["startTime"])
    assert response.headers["Location"] == f"{server.base_url}/workflows/executions/{run['id']}/poll"

    # the Location is the poll URL: follow it to the end
    final = run_to_end(http, run["id"])
    assert final["status"] == "COMPLETED", final
    image_run = next(r for r in final["nodeResults"]["nodeRuns"] if r["nodeId"] == "image")
    (image,) = image_run["output"]["images"]
    assert image["url"].startswith(f"{server.base_url}/files/")
    assert (image["width"], image["height"], image["contentType"]) == (64, 64, "image/png")

    # the URL is served by the server itself, without a key, as a real PNG
    picture = httpx.get(image["url"])
    assert picture.status_code == 200
    assert picture.headers["content-type"] == "image/png"
    assert_common_headers(picture)
    from PIL import Image

    with Image.open(io.BytesIO(picture.content)) as opened:
        assert opened.size == (64, 64)
    head = httpx.head(image["url"])
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(picture.content)
    part = httpx.get(image["url"], headers={"Range": "bytes=0-7"})  # browsers seek videos so
    assert part.status_code == 206 and part.content == picture.content[:8]


def test_execution_details_and_history(http: httpx.Client) -> None:
    ids = []
    for seed in (11, 12, 13):
        response = http.post("/workflows/wf-history/execute", json=text_to_image(seed=seed))
        assert response.status_code == 201
        ids.append(response.json()["executionRuns"][0]["id"])
        run_to_end(http, ids[-1])

    details = http.get(f"/workflows/executions/{ids[0]}")
    assert details.status_code == 200
    assert_common_headers(details)
    record = details.json()
    for key in (
        "id", "workflowId", "status", "triggeredBy", "triggerData", "nodeResults", "currentNode", "output",
        "error", "errorNode", "executionTime", "creditsUsed", "startedAt", "completedAt", "workflowSnapshot",
    ):  # fmt: skip
        assert key in record, key
    assert record["workflowId"] == "wf-history" and record["status"] == "COMPLETED"
    assert record["triggeredBy"] == "manual"
    assert record["creditsUsed"] == 10
    assert isinstance(record["executionTime"], int)
    assert ISO_MS_Z.match(record["startedAt"]) and ISO_MS_Z.match(record["completedAt"])
    assert {n["id"] for n in record["workflowSnapshot"]["nodes"]} == {"prompt", "image"}

    page = http.get("/workflows/wf-history/executions", params={"limit": 2})
    assert page.status_code == 200
    assert_common_headers(page)
    rows = page.json()
    assert [r["id"] for r in rows] == [ids[2], ids[1]]  # most recent first
    for key in (
        "id",
        "workflowId",
        "status",
        "triggeredBy",
        "executionTime",
        "creditsUsed",
        "startedAt",
        "completedAt",
        "error",
    ):
        assert key in rows[0], key
    rest = http.get("/workflows/wf-history/executions", params={"limit": 2, "offset": 2}).json()
    assert [r["id"] for r in rest] == [ids[0]]
    assert len(http.get("/workflows/wf-history/executions").json()) == 3  # default limit 10


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"limit": 0}, {"limit"}),
        ({"limit": 101}, {"limit"}),
        ({"limit": "ten"}, {"limit"}),
        ({"offset": -1}, {"offset"}),
        ({"limit": -5, "offset": "x"}, {"limit", "offset"}),
        ({"limit": "1_0"}, {"limit"}),
        ({"limit": "\u0663"}, {"limit"}),  # a digit, but not 0-9
        ({"offset": "-" + "9" * 5000}, {"offset"}),
    ],
)
def test_history_paging_out_of_range_is_400_with_details(
    http: httpx.Client, query: dict[str, Any], fields: set[str]
) -> None:
    response = http.get("/workflows/wf-history/executions", params=query)
    assert response.status_code == 400
    assert_common_headers(response)
    body = response.json()
    assert isinstance(body["error"], str)
    assert {d["field"] for d in body["details"]} == fields


def test_history_offset_past_any_history_is_empty(http: httpx.Client) -> None:
    for offset in (2**63, 10**30, "9" * 5000):
        response = http.get("/workflows/wf-history/executions", params={"offset": offset})
        assert response.status_code == 200 and response.json() == []


def test_history_limit_100_is_fine(http: httpx.Client) -> None:
    response = http.get("/workflows/wf-never-run/executions", params={"limit": 100})
    assert response.status_code == 200 and response.json() == []


def test_batch_with_iterator_configs(http: httpx.Client) -> None:
    response = http.post("/workflows/wf-batch/execute", json=example("batch"))
    assert response.status_code == 201
    body = response.json()
    runs = body["executionRuns"]
    assert [r["runIndexInBatch"] for r in runs] == [0, 1, 2]
    assert [r["inputIndex"] for r in runs] == [0, 1, 2]
    assert {r["batchId"] for r in runs} == {body["batchId"]}
    urls = set()
    for run in runs:
        final = run_to_end(http, run["id"])
        assert final["status"] == "COMPLETED"
        image = next(r for r in final["nodeResults"]["nodeRuns"] if r["nodeId"] == "image")
        urls.add(image["output"]["images"][0]["url"])
    assert len(urls) == 3  # one picture per prompt


# -- our client, sync and async ---------------------------------------------------------------


def test_sync_client_runs_and_fetches_outputs(server: RunningServer) -> None:
    from PIL import Image

    with server.client(poll_initial=0.05, poll_max=0.2) as client:
        before = client.credits_balance()
        (result,) = client.run("wf-client", text_to_image("a fox", seed=21))
        assert result.status == "COMPLETED"
        image = result.node_run("image").images[0]
        with Image.open(io.BytesIO(client.fetch_bytes(image.url))) as picture:
            assert picture.size == (64, 64)
        assert client.credits_balance() == before - 10
        execution = client.get_execution(client.list_executions("wf-client", limit=1)[0].id)
        assert execution.credits_used == 10
        assert [row.id for row in client.iter_executions("wf-client", page_size=1)] == [execution.id]


@pytest.mark.anyio
async def test_async_client_runs_and_fetches_outputs(server: RunningServer) -> None:
    from PIL import Image

    async with server.async_client(poll_initial=0.05, poll_max=0.2) as client:
        response = await client.execute("wf-async", text_to_image("an owl", seed=22))
        final = await client.wait(response.execution_id, timeout=60)
        assert final.status == "COMPLETED"
        data = await client.fetch_bytes(final.node_run("image").images[0].url)
        with Image.open(io.BytesIO(data)) as picture:
            assert picture.size == (64, 64)
        rows = await client.list_executions("wf-async")
        assert [row.id for row in rows] == [response.execution_id]
        assert (await client.get_execution(response.execution_id)).credits_used == 10
        with pytest.raises(NotFoundError):
            await client.poll("exec_does_not_exist")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- errors: bodies and headers -----------------------------------------------------------------


def test_400_invalid_graph_lists_every_problem(http: httpx.Client) -> None:
    body = {
        "nodes": [
            {"id": "a", "type": "model", "data": {"nodeType": "model:fal:text-to-image", "prompt": "x"}},
            {"id": "b", "type": "model", "data": {"nodeType": "model:fal:image-to-image", "prompt": "y"}},
            {"id": "c", "type": "model", "data": {"nodeType": "no:such-type"}},
        ],
        "edges": [
            {"id": "ab", "source": "a", "target": "b", "sourceHandle": "images", "targetHandle": "image"},
            {"id": "ba", "source": "b", "target": "a", "sourceHandle": "images", "targetHandle": "prompt"},
        ],
    }
    response = http.post("/workflows/wf-bad/execute", json=body)
    assert response.status_code == 400, response.text
    assert_common_headers(response)
    error = response.json()
    assert isinstance(error["error"], str)
    assert error["details"] and all("message" in d for d in error["details"])
    named = {d.get("nodeId") for d in error["details"]}
    assert "c" in named  # the unknown node type is named
    assert "no:such-type" in json.dumps(error)
    assert "cycle" in json.dumps(error).lower()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "empty"),
        (b"[1, 2]", "JSON object"),
        (b'{"nodes": []}', "edges"),
        (b'{"nodes": [{"data": {}}], "edges": []}', "nodes.0.id"),
    ],
)
def test_400_malformed_body(http: httpx.Client, content: bytes, fragment: str) -> None:
    response = http.post(
        "/workflows/wf-bad/execute", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert_common_headers(response)
    body = response.json()
    assert fragment in json.dumps(body)
    assert isinstance(body["details"], list)


def test_400_from_our_client_is_a_bad_request_error_with_details(server: RunningServer) -> None:
    with server.client() as client, pytest.raises(BadRequestError) as caught:
        client.execute("wf-bad", {"nodes": [{"id": "x", "data": {"nodeType": "no:such-type"}}], "edges": []})
    assert caught.value.details
    assert caught.value.request_id and caught.value.request_id.startswith("req_")


def test_401_without_a_key_and_with_a_wrong_key(server: RunningServer) -> None:
    url = f"{server.base_url}/workflows/executions/anything/poll"
    missing = httpx.get(url)
    assert missing.status_code == 401
    assert_common_headers(missing)
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization" in missing.json()["error"]

    wrong_key = "sk-wrong-0123456789-secret"
    wrong = httpx.get(url, headers={"Authorization": f"Bearer {wrong_key}"})
    assert wrong.status_code == 401
    assert_common_headers(wrong)
    assert set(wrong.json()) == {"error"}
    for response in (missing, wrong):
        text = response.text + json.dumps(dict(response.headers))
        assert wrong_key not in text and TEST_API_KEY not in text

    # a near miss (the right key plus a character) is still wrong
    near = httpx.get(url, headers={"Authorization": f"Bearer {TEST_API_KEY}x"})
    assert near.status_code == 401 and TEST_API_KEY not in near.text

    from wireflow_nb.client import WireflowClient

    with (
        WireflowClient(api_key=wrong_key, base_url=server.base_url) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.poll("anything")
    assert wrong_key not in str(caught.value)


def test_404_unknown_execution_route_and_file(server: RunningServer, http: httpx.Client) -> None:
    for method, path in [
        ("GET", "/workflows/executions/exec_nope/poll"),
        ("GET", "/workflows/executions/exec_nope"),
        ("POST", "/workflows/executions/exec_nope/cancel"),
        ("GET", "/no/such/route"),
        ("GET", "/files/0123456789abcdef.png"),
        ("GET", "/files/..%2F..%2Fstore.sqlite"),
        ("GET", "/files/%2E%2E"),
    ]:
        response = http.request(method, path)
        assert response.status_code == 404, (method, path, response.text)
        assert_common_headers(response)
        assert isinstance(response.json()["error"], str)
    with server.client() as client, pytest.raises(NotFoundError):
        client.get_execution("exec_nope")


def test_405_wrong_method(http: httpx.Client) -> None:
    response = http.delete("/workflows/executions/exec_nope/poll")
    assert response.status_code == 405
    assert_common_headers(response)
    assert "GET" in response.headers["Allow"]


def test_422_idempotency_key_reused_with_another_body(server: RunningServer, http: httpx.Client) -> None:
    key = "idem-422-test"
    first = http.post(
        "/workflows/wf-idem/execute", json=text_to_image(seed=31), headers={"Idempotency-Key": key}
    )
    assert first.status_code == 201
    other = http.post(
        "/workflows/wf-idem/execute", json=text_to_image(seed=32), headers={"Idempotency-Key": key}
    )
    assert other.status_code == 422
    assert_common_headers(other)
    assert isinstance(other.json()["error"], str)
    with server.client() as client, pytest.raises(UnprocessableEntityError):
        client.execute("wf-idem", text_to_image(seed=33), idempotency_key=key)


def test_idempotent_replay_returns_the_original_status_body_and_headers(http: httpx.Client) -> None:
    key = "idem-replay-test"
    body = text_to_image(seed=41)
    first = http.post("/workflows/wf-replay/execute", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201
    run_to_end(http, first.json()["executionRuns"][0]["id"])
    again = http.post("/workflows/wf-replay/execute", json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["X-Original-Request-Id"] == first.headers["X-Request-Id"]
    assert again.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    assert len(http.get("/workflows/wf-replay/executions").json()) == 1  # nothing new started


def test_usage_and_nodes(http: httpx.Client) -> None:
    usage = http.get("/developer/usage")
    assert usage.status_code == 200
    assert_common_headers(usage)
    numbers = usage.json()
    assert set(numbers) >= {"creditsBalance", "creditsUsed"}
    response = http.post("/workflows/wf-usage/execute", json=text_to_image(seed=51))
    run_to_end(http, response.json()["executionRuns"][0]["id"])
    after = http.get("/developer/usage").json()
    assert after["creditsBalance"] == numbers["creditsBalance"] - 10
    assert after["creditsUsed"] == numbers["creditsUsed"] + 10

    nodes = http.get("/nodes")
    assert nodes.status_code == 200
    by_type = {n["nodeType"]: n for n in nodes.json()["nodes"]}
    assert by_type["model:fal:text-to-image"]["price"] == 10
    assert by_type["model:fal:image-to-video"]["price"] == 50
    assert "prompt" in {i["name"] for i in by_type["model:fal:text-to-image"]["inputs"]}
    assert by_type["input:text"]["price"] == 0


def test_openapi_is_public_and_covers_every_route(server: RunningServer) -> None:
    response = httpx.get(f"{server.base_url}/openapi.json")
    assert response.status_code == 200
    assert_common_headers(response)
    document = response.json()
    assert document["servers"] == [{"url": server.base_url}]
    assert set(document["paths"]) == {
        "/workflows/{id}/execute",
        "/workflows/executions/{executionId}/poll",
        "/workflows/executions/{executionId}",
        "/workflows/executions/{executionId}/cancel",
        "/workflows/{id}/executions",
        "/developer/usage",
        "/files/{name}",
        "/nodes",
        "/openapi.json",
        "/workflows",
        "/workflows/{id}",
        "/workflows/{id}/run",
        "/workflows/{id}/estimate",
        "/workflows/{id}/webhooks",
        "/workflow/{webhookId}/trigger",
        "/media/upload",
    }


def test_request_ids_are_unique(http: httpx.Client) -> None:
    ids = {http.get("/developer/usage").headers["X-Request-Id"] for _ in range(5)}
    assert len(ids) == 5


def test_banner_names_the_url_and_never_the_key(server: RunningServer) -> None:
    assert f"{server.base_url}" in server.log
    assert TEST_API_KEY not in server.log
    assert "fingerprint" in server.log


# -- servers with other settings ----------------------------------------------------------------


def test_402_exact_body_and_nothing_charged(tmp_path: Path) -> None:
    with running_server(tmp_path, credits=5, key_via="arg") as server, server.http() as http:
        assert TEST_API_KEY not in server.log
        response = http.post("/workflows/wf-poor/execute", json=example("text-to-image"))
        assert response.status_code == 402
        assert_common_headers(response)
        assert response.json() == {
            "error": "Insufficient credits. Required: 10, Available: 5",
            "insufficientCredits": True,
            "requiredCredits": 10,
            "availableCredits": 5,
            "breakdown": [{"nodeId": "image", "nodeLabel": "Text to Image", "credits": 10}],
        }
        assert http.get("/developer/usage").json()["creditsBalance"] == 5
        assert http.get("/workflows/wf-poor/executions").json() == []  # nothing ran
        with server.client() as client, pytest.raises(InsufficientCreditsError) as caught:
            client.execute("wf-poor", example("text-to-image"))
        assert (caught.value.required_credits, caught.value.available_credits) == (10, 5)


def test_413_body_too_large(tmp_path: Path) -> None:
    with running_server(tmp_path, max_body_bytes=4096) as server, server.http() as http:
        big = text_to_image("x" * 10_000)
        response = http.post("/workflows/wf-big/execute", json=big)
        assert response.status_code == 413
        assert_common_headers(response)
        assert "4096" in response.json()["error"]

        # a streamed body without Content-Length is cut off too
        def chunks() -> Iterator[bytes]:
            for _ in range(10):
                yield b" " * 1000

        streamed = http.post(
            "/workflows/wf-big/execute", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert streamed.status_code == 413
        assert_common_headers(streamed)
        # and a body under the limit still works
        assert http.post("/workflows/wf-big/execute", json=text_to_image()).status_code == 201


def test_429_with_retry_after_and_rate_limit_headers(tmp_path: Path) -> None:
    with running_server(tmp_path, rate_limit=3) as server, server.http() as http:
        remaining = []
        for _ in range(3):
            response = http.get("/developer/usage")
            assert response.status_code == 200
            assert response.headers["X-RateLimit-Limit"] == "3"
            remaining.append(int(response.headers["X-RateLimit-Remaining"]))
        assert remaining == [2, 1, 0]
        limited = http.get("/developer/usage")
        assert limited.status_code == 429
        assert_common_headers(limited)
        retry_after = int(limited.headers["Retry-After"])
        assert 1 <= retry_after <= 60
        body = limited.json()
        assert set(body) == {"error", "retryAfter"}
        assert body["retryAfter"] == int(limited.headers["X-RateLimit-Reset"])
        assert limited.headers["X-RateLimit-Remaining"] == "0"

        from wireflow_nb.client import WireflowClient

        with WireflowClient(api_key=server.api_key, base_url=server.base_url, max_retries=0) as client:
            with pytest.raises(RateLimitError) as caught:
                client.poll("anything")
            assert caught.value.retry_after is not None and caught.value.retry_after > 0


def test_cancel_a_running_execution(tmp_path: Path) -> None:
    with running_server(tmp_path, model_latency=30) as server, server.http() as http:
        started = http.post("/workflows/wf-cancel/execute", json=text_to_image(seed=61))
        execution_id = started.json()["executionRuns"][0]["id"]
        running = http.get(f"/workflows/executions/{execution_id}/poll").json()
        assert running["status"] in ("PENDING", "RUNNING")
        cancelled = http.post(f"/workflows/executions/{execution_id}/cancel")
        assert cancelled.status_code == 200
        assert_common_headers(cancelled)
        final = run_to_end(http, execution_id, timeout=20)
        assert final["status"] == "CANCELLED"
        assert http.get(f"/workflows/executions/{execution_id}").json()["creditsUsed"] in (0, None)


def test_no_key_serves_loopback_without_auth_and_warns(tmp_path: Path) -> None:
    with running_server(tmp_path, api_key=None) as server:
        assert "warning" in server.log.lower() and "loopback" in server.log
        response = httpx.post(f"{server.base_url}/workflows/wf-open/execute", json=text_to_image())
        assert response.status_code == 201
        assert_common_headers(response)
        # a key shown anyway scopes idempotency keys: two callers, one key, two executions
        body = text_to_image(seed=71)
        a = httpx.post(
            f"{server.base_url}/workflows/wf-open/execute",
            json=body,
            headers={"Authorization": "Bearer caller-a", "Idempotency-Key": "shared"},
        )
        b = httpx.post(
            f"{server.base_url}/workflows/wf-open/execute",
            json=body,
            headers={"Authorization": "Bearer caller-b", "Idempotency-Key": "shared"},
        )
        assert a.status_code == b.status_code == 201
        assert a.json()["executionRuns"][0]["id"] != b.json()["executionRuns"][0]["id"]


def test_refuses_a_non_loopback_address_without_a_key(tmp_path: Path) -> None:
    env = {k: v for k, v in __import__("os").environ.items() if k != "WIREFLOW_API_KEY"}
    done = subprocess.run(
        [*serve_command(), "serve", "--host", "0.0.0.0", "--port", "0", "--home", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 2
    assert "API key" in done.stderr


def test_restart_on_another_port_keeps_output_urls_valid(tmp_path: Path) -> None:
    with running_server(tmp_path) as first, first.http() as http:
        response = http.post("/workflows/wf-restart/execute", json=text_to_image(seed=81))
        execution_id = response.json()["executionRuns"][0]["id"]
        old = run_to_end(http, execution_id)
        old_url = next(r for r in old["nodeResults"]["nodeRuns"] if r["nodeId"] == "image")["output"][
            "images"
        ][0]["url"]
    with running_server(tmp_path) as second, second.http() as http:
        assert second.port != first.port or second.root_url == first.root_url
        record = http.get(f"/workflows/executions/{execution_id}").json()
        runs = record["nodeResults"]["nodeRuns"]
        new_url = next(r for r in runs if r["nodeId"] == "image")["output"]["images"][0]["url"]
        assert new_url.startswith(f"{second.base_url}/files/")
        assert new_url.rsplit("/", 1)[1] == old_url.rsplit("/", 1)[1]
        assert httpx.get(new_url).status_code == 200


def test_serve_command_prints_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "wireflow_nb.cli", "serve", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0
    for option in ("--host", "--port", "--api-key", "--home", "--credits", "--model-latency", "--rate-limit"):
        assert option in done.stdout


def test_the_shared_fixtures_serve(wireflow_server: RunningServer, open_server: RunningServer) -> None:
    with wireflow_server.client() as client:
        assert client.credits_balance() == 1000
    assert httpx.get(f"{wireflow_server.base_url}/developer/usage").status_code == 401
    assert httpx.get(f"{open_server.base_url}/developer/usage").json()["creditsBalance"] == 1000
    assert wireflow_server.port != open_server.port


def test_sigterm_writes_runs_in_flight_down(tmp_path: Path) -> None:
    with running_server(tmp_path, model_latency=30) as first, first.http() as http:
        started = http.post("/workflows/wf-term/execute", json=text_to_image(seed=91))
        execution_id = started.json()["executionRuns"][0]["id"]
        assert http.get(f"/workflows/executions/{execution_id}/poll").json()["status"] in (
            "PENDING",
            "RUNNING",
        )
    # leaving the block sent SIGTERM: the engine was closed during shutdown
    assert "Traceback" not in first.log
    with running_server(tmp_path) as second, second.http() as http:
        record = http.get(f"/workflows/executions/{execution_id}").json()
        assert record["status"] == "CANCELLED", record
