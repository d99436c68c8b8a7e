"""Limits, each refused with an error that says which limit and what to do: request body
size (413, also for a chunked body without Content-Length), node and edge count and
string length (the hosted limits, checked by the client before sending; the local
server's own, 400 naming the limit), batch size (400 naming the limit), and the history
``limit`` / ``offset`` (400 naming the parameter; the client refuses before sending)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests._servers import RunningServer, running_server
from wireflow_nb import WireflowClient, Workflow
from wireflow_nb._exceptions import APIStatusError, BadRequestError, WorkflowValidationError

MAX_BODY = 200_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(
        tmp_path_factory.mktemp("limits-home"), credits=10_000_000, max_body_bytes=MAX_BODY
    ) as running:
        yield running


def text_workflow(text: str = "hi", nodes: int = 1) -> dict[str, Any]:
    body = {
        "nodes": [
            {
                "id": f"t{i}",
                "type": "input",
                "position": {"x": 0, "y": 0},
                "data": {"nodeType": "input:text", "text": text},
            }
            for i in range(nodes)
        ],
        "edges": [],
    }
    return body


def test_body_over_the_limit_is_413_naming_it(server: RunningServer) -> None:
    big = text_workflow("x" * (MAX_BODY + 10))
    with server.http() as http:
        answer = http.post("/workflows/limits/execute", json=big)
        assert answer.status_code == 413
        assert f"the limit is {MAX_BODY} bytes" in answer.json()["error"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds as it streams
            raw = json.dumps(big).encode()
            for start in range(0, len(raw), 16_384):
                yield raw[start : start + 16_384]

        streamed = http.post(
            "/workflows/limits/execute", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert streamed.status_code == 413
        assert "too large" in streamed.json()["error"]
        assert http.get("/workflows/limits/executions").json() == []  # nothing started
    with server.client() as client, pytest.raises(APIStatusError) as caught:
        client.execute("limits", big)
    assert caught.value.status_code == 413
    assert "upload media and pass URLs" in str(caught.value)


def test_many_nodes_and_long_strings_are_bounded_by_the_body_limit(server: RunningServer) -> None:
    nodes = text_workflow(nodes=3000)  # ~ 300 kB
    assert len(json.dumps(nodes)) > MAX_BODY
    with server.http() as http:
        assert http.post("/workflows/limits/execute", json=nodes).status_code == 413
        fine = http.post("/workflows/limits/execute", json=text_workflow("y" * 100_000))
        assert fine.status_code == 201  # a long string under the limit is accepted


def test_hosted_limits_are_checked_before_sending() -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    client = WireflowClient(
        api_key="sk-test-limits-0000",
        base_url="https://www.wireflow.ai/api/v1",
        transport=httpx.MockTransport(record),
    )
    wf = Workflow("big")
    for i in range(101):
        wf.add_node("input:text", id=f"n{i}", text="x")
    with client, pytest.raises(WorkflowValidationError) as caught:
        client.execute("big", wf)
    assert "101 nodes" in str(caught.value) and "at most 100" in str(caught.value)
    assert not sent


def test_batch_over_the_limit_is_400_naming_it(server: RunningServer) -> None:
    from wireflow_nb.batches import MAX_BATCH_RUNS

    body = text_workflow()
    body["iteratorConfigs"] = [
        {"nodeId": "t0", "field": "text", "values": [str(i) for i in range(MAX_BATCH_RUNS + 1)]}
    ]
    with server.client() as client, pytest.raises(BadRequestError) as caught:
        client.execute("limits", body)
    assert str(MAX_BATCH_RUNS + 1) in str(caught.value) and str(MAX_BATCH_RUNS) in str(caught.value)
    body["iteratorConfigs"][0]["values"] = ["a", "b"]
    body["iteratorConfigs"][0]["repeat"] = MAX_BATCH_RUNS
    with server.client() as client, pytest.raises(BadRequestError) as repeated:
        client.execute("limits", body)
    assert str(MAX_BATCH_RUNS) in str(repeated.value)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "-5"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "1e3"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "x"}, "offset"),
        ({"limit": "9" * 400}, "limit"),
    ],
)
def test_history_paging_out_of_range_is_400_naming_it(
    server: RunningServer, query: dict[str, str], named: str
) -> None:
    with server.http() as http:
        answer = http.get("/workflows/limits/executions", params=query)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert f"'{named}'" in body["error"]
    assert [d["field"] for d in body["details"]] == [named]


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (101, 0), (10, -1)])
def test_client_refuses_bad_paging_before_sending(limit: int, offset: int) -> None:
    client = WireflowClient(
        api_key="sk-x-0000",
        base_url="http://127.0.0.1:9/api/v1",
        transport=httpx.MockTransport(lambda r: httpx.Response(500)),
    )
    with client, pytest.raises(ValueError, match=r"limit|offset"):
        client.list_executions("w", limit=limit, offset=offset)


def test_node_count_and_string_length_have_limits_of_their_own(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from wireflow_nb.server.routes import MAX_NODES, MAX_STRING_CHARS

    with (
        running_server(tmp_path_factory.mktemp("size-home"), credits=1000) as big_server,
        big_server.http() as http,
    ):
        many = http.post("/workflows/size/execute", json=text_workflow(nodes=MAX_NODES + 1))
        assert many.status_code == 400
        detail = many.json()["details"][0]
        assert detail["code"] == "too_many_nodes" and f"at most {MAX_NODES}" in detail["message"]
        long = http.post("/workflows/size/execute", json=text_workflow("z" * (MAX_STRING_CHARS + 1)))
        assert long.status_code == 400
        detail = long.json()["details"][0]
        assert detail["code"] == "string_too_long" and detail["field"] == "nodes.0.data.text"
        assert http.get("/workflows/size/executions").json() == []  # nothing started
        at_limit = http.post("/workflows/size/execute", json=text_workflow(nodes=MAX_NODES))
        assert at_limit.status_code == 201
