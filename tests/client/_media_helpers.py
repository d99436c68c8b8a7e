"""Helpers of the local media tests (``test_local_media``, ``test_saved_media``): the
workflow and picture they send, the server's count of uploads, a proxy that records
every byte a server was sent, and ``client.workflows`` driven for either client."""

from __future__ import annotations

import sqlite3
from typing import Any

from _client_fakes import AsyncAdapter
from PIL import Image

from tests._servers import RunningServer
from tests.reliability._proxy import FaultProxy
from wireflow_nb import Workflow

RED = (220, 20, 30)


def media_rows(server: RunningServer) -> int:
    with sqlite3.connect(server.home / "wireflow_nb.sqlite3") as db:
        return int(db.execute("SELECT COUNT(*) FROM media").fetchone()[0])


def resize_flow(value: Any) -> Workflow:
    wf = Workflow("media")
    source = wf.add_node("input:image", id="photo", image=value)
    resize = wf.add_node("image:resize", id="small", width=17, height=13, mode="stretch")
    wf.connect(source, "images", resize, "image")
    return wf


def red_picture(width: int = 40, height: int = 30) -> Image.Image:
    return Image.new("RGB", (width, height), RED)


class RecordingProxy(FaultProxy):
    """Forwards everything and keeps every request the server was sent (target + body)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.seen: list[bytes] = []

    def _choose(self, request: Any) -> str:
        self.seen.append(
            request.target.encode() + b"\n" + repr(request.headers).encode() + b"\n" + request.body
        )
        return "ok"


def workflows_of(client: Any) -> Any:
    """``client.workflows``, its coroutines driven on the adapter's loop for the async client."""
    if not isinstance(client, AsyncAdapter):
        return client.workflows
    resource = client.wrapped.workflows

    class Driven:
        def __getattr__(self, name: str) -> Any:
            method = getattr(resource, name)
            return lambda *args, **kwargs: client._run(method(*args, **kwargs))

    return Driven()
