"""execute and the request machinery: headers, idempotency keys, retries, Retry-After,
and every error status mapped to its typed exception. Each test runs on both clients."""

from __future__ import annotations

import email.utils
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from _client_fakes import HOSTED, KEY, LOCAL, START, FakeTime, Recorder, sequence

from wireflow_nb import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CreditsBreakdownItem,
    ExecuteResponse,
    InsufficientCreditsError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    Workflow,
    WorkflowValidationError,
)

CREATED = {
    "workflowId": "wf-1",
    "batchId": "b-1",
    "executionRuns": [{"id": "exec_1", "status": "RUNNING", "nodeRuns": [], "runIndexInBatch": 0}],
}


def created(**headers: str) -> httpx.Response:
    return httpx.Response(
        201, json=CREATED, headers={"Location": f"{HOSTED}/workflows/executions/exec_1/poll", **headers}
    )


def error(status: int, body: Any = None, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, json=body if body is not None else {"error": f"status {status}"}, headers=headers
    )


# -- execute --------------------------------------------------------------------------


def test_execute_sends_the_request_with_key_and_idempotency_key(
    make_client: Any, request_body: dict[str, Any]
) -> None:
    server = Recorder(sequence(created()))
    client = make_client(server)
    response = client.execute("wf-1", request_body, target_node_id="node-1", trigger_data={"x": 1})
    assert isinstance(response, ExecuteResponse)
    assert response.execution_id == "exec_1"
    [sent] = server.requests
    assert sent.method == "POST"
    assert str(sent.url) == f"{HOSTED}/workflows/wf-1/execute"
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert uuid.UUID(sent.headers["Idempotency-Key"]).version == 4
    assert server.bodies()[0] == {**request_body, "targetNodeId": "node-1", "triggerData": {"x": 1}}


def test_execute_accepts_a_workflow_and_a_given_idempotency_key(make_client: Any) -> None:
    server = Recorder(sequence(created()))
    wf = Workflow(id="wf-1")
    prompt = wf.add_node("input:text", id="p", text="a fox")
    image = wf.add_node("model:fal:text-to-image", id="img")
    wf.connect(prompt, "text", image, "prompt")
    make_client(server).execute("wf-1", wf, idempotency_key="my-key-1")
    assert server.requests[0].headers["Idempotency-Key"] == "my-key-1"
    body = server.bodies()[0]
    assert [n["id"] for n in body["nodes"]] == ["p", "img"]
    assert body["edges"][0]["sourceHandle"] == "text"


def test_each_execute_gets_a_new_idempotency_key(make_client: Any, request_body: dict[str, Any]) -> None:
    server = Recorder(sequence(created()))
    client = make_client(server)
    client.execute("wf-1", request_body)
    client.execute("wf-1", request_body)
    keys = {r.headers["Idempotency-Key"] for r in server.requests}
    assert len(keys) == 2


def test_retried_post_keeps_its_idempotency_key(
    make_client: Any, fake_time: FakeTime, request_body: dict[str, Any]
) -> None:
    server = Recorder(sequence(error(503), httpx.ConnectError("connection reset"), created()))
    response = make_client(server).execute("wf-1", request_body)
    assert response.execution_id == "exec_1"
    assert len(server.requests) == 3
    assert len({r.headers["Idempotency-Key"] for r in server.requests}) == 1
    assert len({r.content for r in server.requests}) == 1
    # jittered exponential backoff: 0.5 s then 1 s, each shortened by at most 25 %
    assert len(fake_time.sleeps) == 2
    assert 0.375 <= fake_time.sleeps[0] <= 0.5
    assert 0.75 <= fake_time.sleeps[1] <= 1.0


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried(make_client: Any, request_body: dict[str, Any], status: int) -> None:
    server = Recorder(sequence(error(status), created()))
    assert make_client(server).execute("wf-1", request_body).execution_id == "exec_1"
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("status", "exc_type"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (402, InsufficientCreditsError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (413, APIStatusError),
        (422, UnprocessableEntityError),
    ],
)
def test_client_errors_are_never_retried(
    make_client: Any,
    fake_time: FakeTime,
    request_body: dict[str, Any],
    status: int,
    exc_type: type[Exception],
) -> None:
    server = Recorder(sequence(error(status, request_id="x"), created()))
    with pytest.raises(exc_type) as info:
        make_client(server).execute("wf-1", request_body)
    assert len(server.requests) == 1
    assert fake_time.sleeps == []
    assert isinstance(info.value, APIStatusError)
    assert info.value.status_code == status


def test_retries_stop_after_max_retries(
    make_client: Any, fake_time: FakeTime, request_body: dict[str, Any]
) -> None:
    server = Recorder(sequence(error(500, {"error": "boom"}, **{"X-Request-Id": "req-9"})))
    with pytest.raises(InternalServerError) as info:
        make_client(server, max_retries=3).execute("wf-1", request_body)
    assert len(server.requests) == 4
    assert len(fake_time.sleeps) == 3
    text = str(info.value)
    assert "boom" in text and "req-9" in text and "after 3 retries" in text and "Try again later" in text
    assert info.value.request_id == "req-9"


def test_max_retries_zero_sends_once(make_client: Any, request_body: dict[str, Any]) -> None:
    server = Recorder(sequence(error(503)))
    with pytest.raises(InternalServerError):
        make_client(server, max_retries=0).execute("wf-1", request_body)
    assert len(server.requests) == 1


def test_timeouts_are_retried_then_raised(make_client: Any, request_body: dict[str, Any]) -> None:
    server = Recorder(sequence(httpx.ReadTimeout("read timed out")))
    with pytest.raises(APITimeoutError) as info:
        make_client(server).execute("wf-1", request_body)
    assert len(server.requests) == 3
    assert "timed out" in str(info.value) and "timeout=" in str(info.value)
    assert isinstance(info.value, APIConnectionError)


def test_connection_errors_say_where(make_client: Any, request_body: dict[str, Any]) -> None:
    server = Recorder(sequence(httpx.ConnectError("connection refused")))
    with pytest.raises(APIConnectionError) as info:
        make_client(server, base_url=LOCAL).execute("wf-1", request_body)
    assert not isinstance(info.value, APITimeoutError)
    assert "127.0.0.1:8765" in str(info.value) and "connection refused" in str(info.value)


# -- Retry-After ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"Retry-After": "3"}, {"error": "Too many requests"}, 3.0),
        ({"Retry-After": email.utils.formatdate(START + 5, usegmt=True)}, {"error": "slow"}, 5.0),
        ({}, {"error": "Rate limit exceeded", "retryAfter": int(START) + 7}, 7.0),
        ({"X-RateLimit-Reset": str(int(START) + 11), "X-RateLimit-Remaining": "0"}, {"error": "slow"}, 11.0),
    ],
    ids=["seconds", "http-date", "body-retryAfter", "ratelimit-reset"],
)
def test_retry_after_is_obeyed(
    make_client: Any,
    fake_time: FakeTime,
    request_body: dict[str, Any],
    headers: dict[str, str],
    body: dict[str, Any],
    expected: float,
) -> None:
    server = Recorder(sequence(error(429, body, **headers), created()))
    make_client(server).execute("wf-1", request_body)
    assert fake_time.sleeps == [pytest.approx(expected)]
    assert len(server.requests) == 2


def test_retry_after_on_503_is_obeyed(
    make_client: Any, fake_time: FakeTime, request_body: dict[str, Any]
) -> None:
    server = Recorder(sequence(error(503, **{"Retry-After": "4"}), created()))
    make_client(server).execute("wf-1", request_body)
    assert fake_time.sleeps == [4.0]


def test_rate_limit_error_carries_retry_after(make_client: Any, request_body: dict[str, Any]) -> None:
    # an hour away (a quota): raising beats freezing the notebook for an hour
    server = Recorder(
        sequence(error(429, {"error": "Daily execution limit reached"}, **{"Retry-After": "3600"}))
    )
    with pytest.raises(RateLimitError) as info:
        make_client(server).execute("wf-1", request_body)
    assert len(server.requests) == 1
    assert info.value.retry_after == 3600
    assert "Daily execution limit reached" in str(info.value) and "3600 s" in str(info.value)


# -- typed errors -----------------------------------------------------------------------


def test_402_is_typed_with_its_breakdown(
    make_client: Any, spec_dir: Path, request_body: dict[str, Any]
) -> None:
    body = json.loads((spec_dir / "examples" / "insufficient-credits-402.json").read_text())
    server = Recorder(sequence(httpx.Response(402, json=body, headers={"X-Request-Id": "req-402"})))
    with pytest.raises(InsufficientCreditsError) as info:
        make_client(server).execute("wf-1", request_body)
    err = info.value
    assert (err.required_credits, err.available_credits) == (10, 3)
    assert err.breakdown == [CreditsBreakdownItem(node_id="node-1", node_label="Text to Image", credits=10)]
    assert err.body == body and err.request_id == "req-402"
    text = str(err)
    assert "Required: 10, Available: 3" in text  # the server's words
    assert "Text to Image (node-1): 10" in text  # the breakdown
    assert "Top up" in text and "req-402" in text


def test_401_names_the_fix(make_client: Any, request_body: dict[str, Any]) -> None:
    server = Recorder(sequence(error(401, {"error": "API key has expired"}, **{"X-Request-Id": "req-1"})))
    with pytest.raises(AuthenticationError) as info:
        make_client(server).execute("wf-1", request_body)
    text = str(info.value)
    assert text.startswith("API key has expired.")
    assert "WIREFLOW_API_KEY" in text and "request id: req-1" in text


def test_nested_error_bodies_are_read(make_client: Any, request_body: dict[str, Any]) -> None:
    body = {
        "error": {"type": "permission_error", "message": "Key lacks workflows:execute", "code": "forbidden"}
    }
    server = Recorder(sequence(httpx.Response(403, json=body)))
    with pytest.raises(PermissionDeniedError) as info:
        make_client(server).execute("wf-1", request_body)
    assert str(info.value).startswith("Key lacks workflows:execute.")
    assert "scope" in str(info.value)
    assert info.value.body == body


def test_422_violations_are_listed(make_client: Any, request_body: dict[str, Any]) -> None:
    body = {
        "error": {"type": "invalid_request", "message": "Workflow graph is invalid", "code": "invalid_graph"},
        "violations": [
            {"rule": "no_cycles", "message": "Cycle a -> b -> a", "fix": "Remove an edge", "nodeId": "a"},
            {"rule": "edge_target", "message": "Unknown handle", "edgeId": "e-3"},
        ],
    }
    server = Recorder(sequence(httpx.Response(422, json=body)))
    with pytest.raises(UnprocessableEntityError) as info:
        make_client(server).execute("wf-1", request_body)
    err = info.value
    assert [v["rule"] for v in err.violations] == ["no_cycles", "edge_target"]
    text = str(err)
    assert "Workflow graph is invalid" in text
    assert "a: [no_cycles] Cycle a -> b -> a (fix: Remove an edge)" in text
    assert "e-3: [edge_target] Unknown handle" in text


def test_422_idempotency_reuse_says_what_to_do(make_client: Any, request_body: dict[str, Any]) -> None:
    server = Recorder(sequence(error(422, {"error": "Idempotency-Key reused with a different body"})))
    with pytest.raises(UnprocessableEntityError) as info:
        make_client(server).execute("wf-1", request_body, idempotency_key="k")
    assert "use a new key" in str(info.value)


def test_400_details_are_listed(make_client: Any, request_body: dict[str, Any]) -> None:
    body = {
        "error": "Invalid workflow",
        "details": [
            {"nodeId": "node-1", "field": "prompt", "message": "prompt is required"},
            {"message": "x"},
        ],
    }
    server = Recorder(sequence(httpx.Response(400, json=body)))
    with pytest.raises(BadRequestError) as info:
        make_client(server).execute("wf-1", request_body)
    assert info.value.details == body["details"]
    assert "node-1.prompt: prompt is required" in str(info.value)


def test_non_json_error_bodies(make_client: Any, request_body: dict[str, Any]) -> None:
    html = httpx.Response(502, text="<html><body>Bad gateway</body></html>", headers={"X-Request-Id": "r-5"})
    server = Recorder(sequence(html))
    with pytest.raises(InternalServerError) as info:
        make_client(server, max_retries=0).execute("wf-1", request_body)
    assert str(info.value).startswith("HTTP 502.")
    assert "<html>" not in str(info.value)


# -- hosted limits and hosted response shapes ------------------------------------------


def _big_request(nodes: int, edges: int) -> dict[str, Any]:
    return {
        "nodes": [{"id": f"n{i}", "type": "utility", "data": {}} for i in range(nodes)],
        "edges": [{"id": f"e{i}", "source": "n0", "target": "n1"} for i in range(edges)],
    }


@pytest.mark.parametrize(("nodes", "edges", "words"), [(101, 0, "101 nodes"), (2, 501, "501 edges")])
def test_hosted_limits_are_checked_before_sending(
    make_client: Any, nodes: int, edges: int, words: str
) -> None:
    server = Recorder(sequence(created()))
    with pytest.raises(WorkflowValidationError) as info:
        make_client(server).execute("wf-1", _big_request(nodes, edges))
    assert server.requests == []
    assert words in str(info.value) and "hosted API" in str(info.value)


def test_hosted_limits_do_not_apply_to_a_local_server(make_client: Any) -> None:
    server = Recorder(sequence(created()))
    make_client(server, base_url=LOCAL).execute("wf-1", _big_request(150, 0))
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(201, json={"data": CREATED}),
        httpx.Response(202, json={"executionId": "exec_1", "status": "queued"}),
        httpx.Response(201, json={}, headers={"Location": f"{HOSTED}/workflows/executions/exec_1/poll"}),
    ],
    ids=["wrapped", "execution-id-only", "location-only"],
)
def test_hosted_execute_variants_parse(
    make_client: Any, request_body: dict[str, Any], answer: httpx.Response
) -> None:
    response = make_client(Recorder(sequence(answer))).execute("wf-1", request_body)
    assert response.execution_id == "exec_1"
    assert response.workflow_id == "wf-1"


def test_ids_are_one_path_segment(make_client: Any) -> None:
    server = Recorder(sequence(httpx.Response(200, json={"status": "RUNNING"})))
    make_client(server).poll("../../workflows/x")
    assert (
        server.requests[0].url.raw_path.decode()
        == "/api/v1/workflows/executions/..%2F..%2Fworkflows%2Fx/poll"
    )


def test_a_redirect_loop_is_a_connection_error(make_client: Any) -> None:
    loop = Recorder(lambda request: httpx.Response(302, headers={"Location": str(request.url)}))
    with pytest.raises(APIConnectionError) as info:
        make_client(loop).poll("exec_1")
    assert "redirect" in str(info.value).lower()
    assert len(loop.requests) == 21  # httpx's own limit, not retried on top
