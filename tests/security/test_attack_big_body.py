"""One big body must not stall the other clients (issue 10, point 6): while an execute
body is being parsed and validated (held there on purpose), another client's requests
complete, so that work runs off the event loop. Proven by order, not by timing; the
figures are ``benchmarks/bench_big_body.py``'s.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests._servers import wait_until
from wireflow_nb import Workflow


def _big_body(megabytes: int) -> bytes:
    wf = Workflow("big")
    for i in range(megabytes * 10):
        wf.add_node("input:text", id=f"t{i}", text="x" * 99_000)
    return json.dumps(wf.to_request().to_wire()).encode()


@pytest.fixture
def in_process_server() -> Iterator[tuple[str, Any]]:
    """The real app on a real uvicorn (this protocol, a loopback socket) in a thread of
    this process, so a test can hold a step of request handling; yields the API base
    URL and the routes module."""
    import uvicorn

    from wireflow_nb.engine import LocalEngine
    from wireflow_nb.server import create_app, routes
    from wireflow_nb.server.protocol import header_timeout_protocol
    from wireflow_nb.server.serve import bind_socket

    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    engine = LocalEngine(":memory:", model_latency=0)
    app = create_app(engine, public_url=f"http://127.0.0.1:{port}", close_engine=True)
    config = uvicorn.Config(app, http=header_timeout_protocol(5), log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        wait_until(lambda: uv.started, timeout=30, message="uvicorn to start")
        yield base, routes
    finally:
        uv.should_exit = True
        thread.join(timeout=30)
        sock.close()


def test_another_client_is_served_while_a_big_body_is_processed(
    in_process_server: tuple[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, routes = in_process_server
    entered, release = threading.Event(), threading.Event()
    real = routes.parse_execute_request

    def held(payload: Any) -> Any:
        entered.set()
        release.wait(60)  # held until the other client has been served (bounded)
        return real(payload)

    monkeypatch.setattr(routes, "parse_execute_request", held)
    big: dict[str, Any] = {}

    def post_big() -> None:
        big["answer"] = httpx.post(
            f"{base}/workflows/big/execute",
            content=_big_body(5),
            headers={"Content-Type": "application/json"},
            timeout=120,
        )

    poster = threading.Thread(target=post_big, daemon=True)
    poster.start()
    try:
        assert entered.wait(60), "the big request never reached validation"
        # the big body is being processed right now; the event loop must still serve
        for path in ("/developer/usage", "/workflows/big/executions", "/nodes"):
            assert httpx.get(base + path, timeout=10).status_code == 200, path
    finally:
        release.set()
        poster.join(timeout=120)
    assert big["answer"].status_code == 201, big["answer"].text[:300]
