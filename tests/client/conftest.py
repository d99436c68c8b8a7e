"""Fixtures of the client tests: ``make_client`` is parametrized so that every test body
runs once against ``WireflowClient`` and once against ``AsyncWireflowClient``, both on a
``httpx.MockTransport`` and a fake clock (no test ever waits)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from _client_fakes import HOSTED, KEY, AsyncAdapter, FakeTime, Handler, Recorder

from wireflow_nb.client import AsyncWireflowClient, WireflowClient


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_client(kind: str, fake_time: FakeTime) -> Iterator[Callable[..., Any]]:
    """``make_client(handler, **options)`` -> a client on a MockTransport (sync or async,
    with the same methods). Pass a ``Recorder`` to see the requests it sent."""
    made: list[Any] = []

    def make(handler: Handler, *, api_key: str | None = KEY, base_url: str = HOSTED, **options: Any) -> Any:
        recorder = handler if isinstance(handler, Recorder) else Recorder(handler)
        transport = httpx.MockTransport(recorder)
        common: dict[str, Any] = {"base_url": base_url, "clock": fake_time.clock, **options}
        client: Any
        if kind == "sync":
            client = WireflowClient(api_key, transport=transport, sleep=fake_time.sleep, **common)
        else:
            client = AsyncAdapter(
                AsyncWireflowClient(api_key, transport=transport, sleep=fake_time.async_sleep, **common)
            )
        made.append(client)
        return client

    yield make
    for client in made:
        if isinstance(client, AsyncAdapter):
            client.shutdown()
        else:
            client.close()


@pytest.fixture
def connect(kind: str) -> Iterator[Callable[..., Any]]:
    """``connect(base_url, api_key, **options)``: a real client of either kind (polling
    fast), for tests against a real ``wireflow-nb serve``."""
    made: list[Any] = []

    def make(base_url: str, api_key: str | None, **options: Any) -> Any:
        options = {"poll_initial": 0.05, "poll_factor": 1.5, "poll_max": 0.2, **options}
        client: Any
        if kind == "sync":
            client = WireflowClient(api_key, base_url=base_url, **options)
        else:
            client = AsyncAdapter(AsyncWireflowClient(api_key, base_url=base_url, **options))
        made.append(client)
        return client

    yield make
    for client in made:
        client.shutdown() if isinstance(client, AsyncAdapter) else client.close()


@pytest.fixture
def request_body() -> dict[str, Any]:
    return {
        "nodes": [
            {
                "id": "node-1",
                "type": "model",
                "position": {"x": 0, "y": 0},
                "data": {"label": "Text to Image", "nodeType": "model:fal:text-to-image", "prompt": "a fox"},
            }
        ],
        "edges": [],
    }
