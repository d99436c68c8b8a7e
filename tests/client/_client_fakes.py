"""Fakes shared by the client tests: a fake clock and sleep, a recording handler for
``httpx.MockTransport``, canned answers, and an adapter that drives the async client
from sync test code (one test body for both clients)."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from wireflow_nb.client import AsyncWireflowClient

HOSTED = "https://www.wireflow.ai/api/v1"
LOCAL = "http://127.0.0.1:8765/api/v1"
KEY = "sk-test-0123456789"
CANARY = "sk-canary-XYZ123"
START = 1_700_000_000.0  # a fake "now" that is a real Unix time (headers carry epochs)

Handler = Callable[[httpx.Request], httpx.Response]


class FakeTime:
    """A clock that moves only when the client sleeps; every sleep is recorded."""

    def __init__(self, start: float = START) -> None:
        self.now = start
        self.sleeps: list[float] = []
        #: called with the delay before each sleep; may raise (KeyboardInterrupt ...)
        self.on_sleep: Callable[[float], None] | None = None

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if self.on_sleep is not None:
            self.on_sleep(seconds)
        assert seconds >= 0, f"negative sleep {seconds}"
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


class Recorder:
    """Wraps a handler and keeps every request it saw (with its JSON body)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.handler(request)

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


def sequence(*responses: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]) -> Handler:
    """A handler answering with the given responses in turn (the last one repeats);
    an exception instance is raised, a callable is called."""
    items = list(responses)
    state = {"i": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        item = items[min(state["i"], len(items) - 1)]
        state["i"] += 1
        if isinstance(item, Exception):
            raise item
        if isinstance(item, httpx.Response):
            # a fresh copy: a Response object can be sent only once
            return httpx.Response(item.status_code, headers=item.headers, content=item.content)
        return item(request)

    return handler


def poll_body(status: str, **extra: Any) -> dict[str, Any]:
    return {"status": status, "nodeResults": {"nodeRuns": extra.pop("node_runs", [])}, **extra}


class AsyncAdapter:
    """Drives an ``AsyncWireflowClient`` from sync test code on one private event loop,
    so one test body serves both clients."""

    def __init__(self, client: AsyncWireflowClient) -> None:
        self._client = client
        self._loop = asyncio.new_event_loop()

    @property
    def wrapped(self) -> AsyncWireflowClient:
        return self._client

    def _run(self, awaitable: Any) -> Any:
        return self._loop.run_until_complete(awaitable)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name == "iter_executions":

            def collect(*args: Any, **kwargs: Any) -> Iterator[Any]:
                async def gather() -> list[Any]:
                    return [row async for row in attr(*args, **kwargs)]

                return iter(self._run(gather()))

            return collect
        if inspect.iscoroutinefunction(attr):
            return lambda *args, **kwargs: self._run(attr(*args, **kwargs))
        return attr

    def __repr__(self) -> str:
        return repr(self._client)

    def shutdown(self) -> None:
        self._run(self._client.close())
        self._loop.close()
