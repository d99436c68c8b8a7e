"""An upload whose answer is lost (the fault proxy forwards it, the server stores the
file, the connection closes unanswered) is retried by the client with the same
``Idempotency-Key``, and the server keeps ONE media entry."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from tests._servers import RunningServer, running_server
from tests.reliability._proxy import FaultProxy
from wireflow_nb.client import AsyncWireflowClient, WireflowClient

PNG = b"\x89PNG\r\n\x1a\n" + b"\x02" * 256


class _DropFirstUpload(FaultProxy):
    """Drops the answer to the first upload only (``drop_after``); the rest pass."""

    def _choose(self, request: Any) -> str:
        if "/media/upload" in request.target and not any(
            e.path.endswith("/media/upload") for e in self.events
        ):
            return "drop_after"
        return "ok"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("upload-home")) as running:
        yield running


def _media_rows(server: RunningServer) -> int:
    with sqlite3.connect(server.home / "wireflow_nb.sqlite3") as db:
        return int(db.execute("SELECT COUNT(*) FROM media").fetchone()[0])


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_retried_upload_stores_one_media_entry(server: RunningServer, kind: str) -> None:
    before = _media_rows(server)
    with _DropFirstUpload(upstream=server.root_url, faults={}) as proxy:
        base_url = proxy.base_url + "/api/v1"
        # the retry goes out at once: the test waits on nothing but the answers
        if kind == "sync":
            with WireflowClient(server.api_key, base_url=base_url, sleep=lambda _s: None) as client:
                media = client.upload(PNG + kind.encode())
        else:

            async def no_wait(_seconds: float) -> None:
                return None

            async def go() -> Any:
                async with AsyncWireflowClient(server.api_key, base_url=base_url, sleep=no_wait) as client:
                    return await client.upload(PNG + kind.encode())

            media = anyio.run(go)
        uploads = [e for e in proxy.events if e.path.endswith("/media/upload")]
    assert [e.fault for e in uploads] == ["drop_after", "ok"]
    assert uploads[0].upstream_status == 201  # the server did store it the first time
    assert uploads[0].idempotency_key and uploads[0].idempotency_key == uploads[1].idempotency_key
    assert media.content_type == "image/png"
    assert _media_rows(server) == before + 1
