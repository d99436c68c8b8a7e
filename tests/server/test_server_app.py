"""The ASGI app in process (Starlette's TestClient): what a loopback server cannot show,
such as a client from another address, or an engine that breaks."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from wireflow_nb.engine import LocalEngine
from wireflow_nb.server import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

#: TestClient's default host ("testserver") is no name the server answers to.
LOCAL = "http://127.0.0.1"

BODY = {
    "nodes": [
        {"id": "p", "type": "input", "data": {"nodeType": "input:text", "text": "a kite"}},
        {
            "id": "i",
            "type": "model",
            "data": {"nodeType": "model:fal:text-to-image", "width": 64, "height": 64},
        },
    ],
    "edges": [{"id": "e", "source": "p", "target": "i", "sourceHandle": "text", "targetHandle": "prompt"}],
}


@pytest.fixture
def engine() -> Iterator[LocalEngine]:
    with LocalEngine(":memory:", model_latency=0) as local:
        yield local


def test_without_a_key_other_addresses_are_refused(engine: LocalEngine) -> None:
    app = create_app(engine)
    with TestClient(app, base_url=LOCAL, client=("192.168.7.9", 50000)) as remote:
        response = remote.get("/api/v1/developer/usage")
        assert response.status_code == 401
        assert "loopback" in response.json()["error"]
        assert response.headers["X-Request-Id"]
        assert remote.get("/api/v1/openapi.json").status_code == 401
    with TestClient(app, base_url=LOCAL, client=("127.0.0.1", 50000)) as local:
        assert local.get("/api/v1/developer/usage").status_code == 200


def test_with_a_key_any_address_may_call(engine: LocalEngine) -> None:
    app = create_app(engine, api_key="sk-app-test-key-1")
    with TestClient(app, base_url=LOCAL, client=("192.168.7.9", 50000)) as remote:
        ok = remote.get("/api/v1/developer/usage", headers={"Authorization": "Bearer sk-app-test-key-1"})
        assert ok.status_code == 200


def test_output_urls_follow_the_first_request_without_public_url(engine: LocalEngine) -> None:
    app = create_app(engine)
    with TestClient(app, base_url="http://127.0.0.1:8123", client=("127.0.0.1", 1)) as client:
        run = client.post("/api/v1/workflows/w/execute", json=BODY).json()["executionRuns"][0]["id"]
        engine.wait(run, timeout=30)
        poll = client.get(f"/api/v1/workflows/executions/{run}/poll").json()
        url = next(r for r in poll["nodeResults"]["nodeRuns"] if r["nodeId"] == "i")["output"]["images"][0][
            "url"
        ]
        assert url.startswith("http://127.0.0.1:8123/api/v1/files/")
        assert client.get(url.removeprefix("http://127.0.0.1:8123")).status_code == 200


def test_public_url_wins(engine: LocalEngine) -> None:
    create_app(engine, public_url="http://wireflow.local:9000/")
    assert engine.artifact_base_url == "http://wireflow.local:9000/api/v1/files/"


class BrokenEngine:
    artifact_base_url = "http://x/api/v1/files/"

    def poll(self, execution_id: str) -> Any:
        raise RuntimeError("database is on fire: sk-app-test-key-1")

    def close(self) -> None:
        pass


def test_an_engine_crash_is_a_json_500_without_traceback_or_key() -> None:
    app = create_app(BrokenEngine(), api_key="sk-app-test-key-1")  # type: ignore[arg-type]
    with TestClient(app, base_url=LOCAL, raise_server_exceptions=False) as client:
        response = client.get(
            "/api/v1/workflows/executions/x/poll", headers={"Authorization": "Bearer sk-app-test-key-1"}
        )
    assert response.status_code == 500
    body = response.json()
    assert set(body) == {"error"}
    assert response.headers["X-Request-Id"] in body["error"]
    assert "fire" not in body["error"] and "sk-app-test-key-1" not in response.text
    assert response.headers["X-RateLimit-Limit"]
