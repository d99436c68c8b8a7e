"""Configuration, secrets, history paging, cancel, fetch_bytes, credits and logging.
Each test runs on both clients."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from _client_fakes import CANARY, HOSTED, KEY, LOCAL, Recorder, poll_body, sequence

from wireflow_nb import (
    APIStatusError,
    AsyncBackend,
    AuthenticationError,
    Backend,
    Execution,
    ExecutionStatus,
    ExecutionSummary,
    InsufficientCreditsError,
    NotFoundError,
)
from wireflow_nb.client import AsyncWireflowClient, WireflowClient

# -- configuration ----------------------------------------------------------------------


def test_key_and_base_url_from_the_environment(make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIREFLOW_API_KEY", "sk-from-env-123\n")
    monkeypatch.setenv("WIREFLOW_BASE_URL", "http://localhost:9000/api/v1/")
    server = Recorder(sequence(httpx.Response(200, json=poll_body("RUNNING"))))
    client = make_client(server, api_key=None, base_url=None)
    assert client.base_url == "http://localhost:9000/api/v1"
    client.poll("e")
    assert str(server.requests[0].url) == "http://localhost:9000/api/v1/workflows/executions/e/poll"
    assert server.requests[0].headers["Authorization"] == "Bearer sk-from-env-123"


def test_arguments_win_over_the_environment(make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIREFLOW_API_KEY", "sk-from-env-123")
    monkeypatch.setenv("WIREFLOW_BASE_URL", "http://localhost:9000/api/v1")
    server = Recorder(sequence(httpx.Response(200, json=poll_body("RUNNING"))))
    make_client(server, api_key="sk-given-456", base_url=LOCAL).poll("e")
    assert str(server.requests[0].url).startswith(LOCAL)
    assert server.requests[0].headers["Authorization"] == "Bearer sk-given-456"


def test_default_base_url_is_the_hosted_api() -> None:
    with WireflowClient("sk-x-1234") as client:
        assert client.base_url == HOSTED
        assert client.is_hosted


def test_no_key_for_the_hosted_api_fails_before_sending(make_client: Any) -> None:
    server = Recorder(sequence(httpx.Response(200, json=poll_body("RUNNING"))))
    client = make_client(server, api_key=None)
    with pytest.raises(AuthenticationError) as info:
        client.poll("e")
    assert server.requests == []
    assert "WIREFLOW_API_KEY" in str(info.value) and "api_key=" in str(info.value)


def test_no_key_for_a_local_server_sends_no_header(make_client: Any) -> None:
    server = Recorder(sequence(httpx.Response(200, json=poll_body("RUNNING"))))
    make_client(server, api_key=None, base_url=LOCAL).poll("e")
    assert "Authorization" not in server.requests[0].headers


@pytest.mark.parametrize("base_url", ["ftp://example.com/api", "not a url", "/api/v1"])
def test_bad_base_url_is_refused(base_url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        WireflowClient(KEY, base_url=base_url)


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError):
        WireflowClient(KEY, max_retries=-1)
    with pytest.raises(ValueError):
        WireflowClient(KEY, poll_factor=0.5)
    with pytest.raises(ValueError):
        WireflowClient(
            KEY, http_client=httpx.Client(), transport=httpx.MockTransport(lambda r: httpx.Response(200))
        )


def test_context_managers_close_what_they_own() -> None:
    with WireflowClient(KEY) as client:
        pass
    assert client._http.is_closed
    mine = httpx.Client()
    with WireflowClient(KEY, http_client=mine):
        pass
    assert not mine.is_closed  # the caller's client is the caller's to close
    mine.close()

    async def scenario() -> AsyncWireflowClient:
        async with AsyncWireflowClient(KEY) as aclient:
            pass
        return aclient

    import asyncio

    assert asyncio.run(scenario())._http.is_closed


def test_clients_satisfy_the_backend_protocols() -> None:
    with WireflowClient(KEY) as client:
        assert isinstance(client, Backend)
    assert isinstance(AsyncWireflowClient(KEY), AsyncBackend)


# -- secrets ----------------------------------------------------------------------------


def test_the_api_key_never_shows(
    make_client: Any, caplog: pytest.LogCaptureFixture, request_body: dict[str, Any]
) -> None:
    # a careless server echoing the key back must not make us print it either
    echo = {"error": f"Invalid API key {CANARY}", "key": CANARY, "details": [{"message": f"got {CANARY}"}]}
    server = Recorder(sequence(httpx.Response(401, json=echo, headers={"X-Request-Id": "req-401"})))
    client = make_client(server, api_key=CANARY)
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationError) as info:
        client.execute("wf", request_body)
    err = info.value
    assert server.requests[0].headers["Authorization"] == f"Bearer {CANARY}"  # it was sent...
    for shown in (str(err), repr(err), repr(client), str(err.body), caplog.text, repr(err.args)):
        assert CANARY not in shown  # ...and never shown
        assert "XYZ123" not in shown
    assert "req-401" in str(err)
    assert repr(client).endswith(f"WireflowClient(base_url='{HOSTED}', api_key='sk-***')")


def test_the_key_is_not_in_402_or_5xx_messages(make_client: Any, request_body: dict[str, Any]) -> None:
    body = {
        "error": f"Insufficient credits for {CANARY}",
        "requiredCredits": 5,
        "availableCredits": 1,
        "breakdown": [],
    }
    client = make_client(Recorder(sequence(httpx.Response(402, json=body))), api_key=CANARY)
    with pytest.raises(InsufficientCreditsError) as info:
        client.execute("wf", request_body)
    assert CANARY not in str(info.value) and CANARY not in repr(info.value)


def test_the_key_is_not_in_connection_errors(make_client: Any) -> None:
    client = make_client(Recorder(sequence(httpx.ConnectError(f"refused for {CANARY}"))), api_key=CANARY)
    with pytest.raises(Exception) as info:
        client.poll("e")
    assert CANARY not in str(info.value)


def test_debug_logs_name_request_and_status_only(make_client: Any, caplog: pytest.LogCaptureFixture) -> None:
    server = Recorder(
        sequence(httpx.Response(200, json=poll_body("RUNNING"), headers={"X-Request-Id": "req-77"}))
    )
    client = make_client(server, api_key=CANARY)
    with caplog.at_level(logging.DEBUG, logger="wireflow_nb.client"):
        client.poll("exec_1")
    [record] = [r for r in caplog.records if r.name == "wireflow_nb.client"]
    assert record.getMessage() == "GET /api/v1/workflows/executions/exec_1/poll -> 200 (request id req-77)"
    assert "Bearer" not in caplog.text


# -- history ----------------------------------------------------------------------------


def test_get_execution_parses_the_spec_example(make_client: Any, spec_dir: Path) -> None:
    body = json.loads((spec_dir / "examples" / "execution-details.json").read_text())
    server = Recorder(sequence(httpx.Response(200, json=body)))
    execution = make_client(server).get_execution("exec_456")
    assert isinstance(execution, Execution)
    assert server.paths() == ["/api/v1/workflows/executions/exec_456"]
    assert execution.to_wire() == body


def test_get_execution_unwraps_hosted_envelope(make_client: Any) -> None:
    body = {"data": {"id": "e1", "status": "completed", "creditsUsed": 3}}
    execution = make_client(Recorder(sequence(httpx.Response(200, json=body)))).get_execution("e1")
    assert execution.state == ExecutionStatus.COMPLETED and execution.credits_used == 3


def test_list_executions(make_client: Any, spec_dir: Path) -> None:
    body = json.loads((spec_dir / "examples" / "executions-list.json").read_text())
    server = Recorder(sequence(httpx.Response(200, json=body)))
    rows = make_client(server).list_executions("cm1abc123", limit=5, offset=10)
    assert all(isinstance(r, ExecutionSummary) for r in rows)
    assert [r.to_wire() for r in rows] == body
    assert server.requests[0].url.path == "/api/v1/workflows/cm1abc123/executions"
    assert dict(server.requests[0].url.params) == {"limit": "5", "offset": "10"}


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (101, 0), (10, -1)])
def test_list_executions_checks_paging(make_client: Any, limit: int, offset: int) -> None:
    server = Recorder(sequence(httpx.Response(200, json=[])))
    with pytest.raises(ValueError):
        make_client(server).list_executions("wf", limit=limit, offset=offset)
    assert server.requests == []


def _history(n: int) -> list[dict[str, Any]]:
    return [{"id": f"exec_{i}", "workflowId": "wf", "status": "COMPLETED"} for i in range(n)]


def test_iter_executions_walks_every_page(make_client: Any) -> None:
    rows = _history(7)

    def handler(request: httpx.Request) -> httpx.Response:
        limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
        return httpx.Response(200, json=rows[offset : offset + limit])

    server = Recorder(handler)
    got = list(make_client(server).iter_executions("wf", page_size=3))
    assert [r.id for r in got] == [r["id"] for r in rows]
    assert [dict(r.url.params) for r in server.requests] == [
        {"limit": "3", "offset": "0"},
        {"limit": "3", "offset": "3"},
        {"limit": "3", "offset": "6"},
    ]


def test_iter_executions_exact_multiple_ends_on_an_empty_page(make_client: Any) -> None:
    rows = _history(4)

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        return httpx.Response(200, json={"data": rows[offset : offset + 2]})  # hosted envelope

    server = Recorder(handler)
    assert len(list(make_client(server).iter_executions("wf", page_size=2))) == 4
    assert len(server.requests) == 3


def test_iter_executions_stops_when_the_server_ignores_offset(make_client: Any) -> None:
    server = Recorder(sequence(httpx.Response(200, json=_history(3))))
    got = list(make_client(server).iter_executions("wf", page_size=3))
    assert len(got) == 3
    assert len(server.requests) == 2  # the repeated page added nothing: stop, don't loop


# -- cancel -----------------------------------------------------------------------------


def test_cancel_on_a_local_server(make_client: Any) -> None:
    server = Recorder(sequence(httpx.Response(200, json=poll_body("CANCELLED"))))
    result = make_client(server, base_url=LOCAL).cancel("exec_1")
    assert result.state == ExecutionStatus.CANCELLED
    assert server.requests[0].method == "POST"
    assert server.paths() == ["/api/v1/workflows/executions/exec_1/cancel"]


def test_cancel_on_the_hosted_api_says_it_has_none(make_client: Any) -> None:
    server = Recorder(sequence(httpx.Response(404, json={"error": "Not found"})))
    with pytest.raises(NotFoundError) as info:
        make_client(server).cancel("exec_1")
    assert "hosted Wireflow API has none" in str(info.value) and "keeps running" in str(info.value)


def test_cancel_405_says_the_server_has_none(make_client: Any) -> None:
    server = Recorder(sequence(httpx.Response(405, json={"error": "Method not allowed"})))
    with pytest.raises(APIStatusError) as info:
        make_client(server, base_url=LOCAL).cancel("exec_1")
    assert info.value.status_code == 405 and "no cancel endpoint" in str(info.value)


def test_cancel_unknown_execution_on_a_local_server(make_client: Any) -> None:
    server = Recorder(sequence(httpx.Response(404, json={"error": "Unknown execution exec_9"})))
    with pytest.raises(NotFoundError) as info:
        make_client(server, base_url=LOCAL).cancel("exec_9")
    assert "Unknown execution exec_9" in str(info.value)


# -- fetch_bytes ------------------------------------------------------------------------


def test_fetch_bytes_sends_the_key_only_to_the_api_origin(make_client: Any) -> None:
    server = Recorder(lambda request: httpx.Response(200, content=b"PNG:" + request.url.path.encode()))
    client = make_client(server)
    assert client.fetch_bytes(f"{HOSTED}/files/a.png") == b"PNG:/api/v1/files/a.png"
    assert client.fetch_bytes("/api/v1/files/b.png") == b"PNG:/api/v1/files/b.png"  # relative to the origin
    assert client.fetch_bytes("https://cdn.atomu.ai/x.png?token=s3cr3t") == b"PNG:/x.png"
    assert client.fetch_bytes("http://www.wireflow.ai/api/v1/files/c.png") == b"PNG:/api/v1/files/c.png"
    auth = [r.headers.get("Authorization") for r in server.requests]
    assert auth == [f"Bearer {KEY}", f"Bearer {KEY}", None, None]  # not to a CDN, not over http


def test_fetch_bytes_does_not_carry_the_key_through_a_redirect(make_client: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "www.wireflow.ai":
            return httpx.Response(302, headers={"Location": "https://cdn.example/out.png"})
        return httpx.Response(200, content=b"bytes")

    server = Recorder(handler)
    assert make_client(server).fetch_bytes(f"{HOSTED}/files/out.png") == b"bytes"
    assert [r.url.host for r in server.requests] == ["www.wireflow.ai", "cdn.example"]
    assert "Authorization" not in server.requests[1].headers


def test_fetch_bytes_reads_data_urls_without_a_request(make_client: Any) -> None:
    server = Recorder(sequence(httpx.Response(500)))
    client = make_client(server)
    assert client.fetch_bytes("data:image/png;base64,iVBORw0KGgo=") == b"\x89PNG\r\n\x1a\n"
    assert server.requests == []


def test_fetch_bytes_errors_hide_signed_query(make_client: Any) -> None:
    server = Recorder(sequence(httpx.Response(403, text="AccessDenied")))
    with pytest.raises(APIStatusError) as info:
        make_client(server).fetch_bytes("https://cdn.example/x.png?X-Amz-Signature=s3cr3t")
    assert "https://cdn.example/x.png" in str(info.value) and "s3cr3t" not in str(info.value)


def test_fetch_bytes_refuses_file_urls(make_client: Any) -> None:
    with pytest.raises(ValueError, match="file"):
        make_client(Recorder(sequence(httpx.Response(200)))).fetch_bytes("file:///etc/passwd")


# -- credits ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"creditsBalance": 120, "creditsUsed": 30}, 120.0),
        ({"credits": 7.5}, 7.5),
        ({"balance": "42"}, 42.0),
        ({"data": {"creditsBalance": 9}}, 9.0),
        ({"plan": "free"}, None),
    ],
)
def test_credits_balance(make_client: Any, body: dict[str, Any], expected: float | None) -> None:
    server = Recorder(sequence(httpx.Response(200, json=body)))
    assert make_client(server).credits_balance() == expected
    assert server.paths() == ["/api/v1/developer/usage"]


def test_credits_balance_is_none_where_not_offered(make_client: Any) -> None:
    assert (
        make_client(Recorder(sequence(httpx.Response(404, json={"error": "no"})))).credits_balance() is None
    )


# -- answers of an unexpected shape ------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "body", "model"),
    [
        (
            lambda c: c.poll("e"),
            {"status": "RUNNING", "nodeResults": {"nodeRuns": [{"status": 3}]}},
            "PollResponse",
        ),
        (lambda c: c.get_execution("e"), {"id": ["not", "a", "string"], "status": "RUNNING"}, "Execution"),
        (lambda c: c.list_executions("wf"), [{"status": "COMPLETED"}], "ExecutionSummary"),
    ],
    ids=["poll", "execution", "history"],
)
def test_a_body_of_another_shape_is_an_api_error(make_client: Any, call: Any, body: Any, model: str) -> None:
    from pydantic import ValidationError

    from wireflow_nb import APIError

    server = Recorder(sequence(httpx.Response(200, json=body)))
    with pytest.raises(APIError) as info:
        call(make_client(server, base_url=LOCAL))
    assert not isinstance(info.value, ValidationError)
    assert f"cannot read as {model}" in str(info.value) and "base_url" in str(info.value)
