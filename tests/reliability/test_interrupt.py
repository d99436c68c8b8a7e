"""KeyboardInterrupt during ``wait`` (what the notebook's stop button sends: SIGINT to the
kernel) leaves the run going on the server; ``wait(id)`` on the same client resumes and
returns the completed result. The same for the async client (its task cancelled) and for
the in-process ``LocalEngine``."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._servers import RunningServer, running_server
from tests._servers import wait_until as wait_for
from wireflow_nb.engine import LocalEngine
from wireflow_nb.models import PollResponse

from ._helpers import chain_workflow
from .conftest import Figures

LATENCY = 0.4
CHAIN = 5  # about 2 s of model work: long enough to interrupt, short enough to wait for


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("interrupt-home"), model_latency=LATENCY) as running:
        yield running


class _SigintWhenRunning:
    """Sends SIGINT to this process (as Jupyter's interrupt does to the kernel) from
    another thread, once ``on_update`` has seen the run RUNNING with a node done."""

    def __init__(self) -> None:
        self.running = threading.Event()
        self.sent_at: float | None = None
        self._thread = threading.Thread(target=self._send, daemon=True)
        self._thread.start()

    def on_update(self, poll: PollResponse) -> None:
        if poll.status == "RUNNING" and any(r.status == "COMPLETED" for r in poll.node_runs):
            self.running.set()

    def _send(self) -> None:
        if self.running.wait(30):
            self.sent_at = time.monotonic()
            os.kill(os.getpid(), signal.SIGINT)

    def join(self) -> None:
        self.running.set()
        self._thread.join(5)


@pytest.fixture
def default_sigint() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt in the main thread, as in a kernel."""
    assert threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_sync_wait_interrupted_then_resumed(
    server: RunningServer, default_sigint: None, caplog: pytest.LogCaptureFixture, figures: Figures
) -> None:
    caplog.set_level(logging.WARNING, logger="wireflow_nb.client")
    with server.client(poll_initial=0.05, poll_max=0.1) as client:
        [execution_id] = client.execute("interrupt", chain_workflow("sync interrupt", CHAIN)).execution_ids
        interrupter = _SigintWhenRunning()
        try:
            with pytest.raises(KeyboardInterrupt):
                client.wait(execution_id, timeout=60, on_update=interrupter.on_update)
        finally:
            interrupter.join()
        interrupted_at = time.monotonic()
        # the run goes on on the server
        status_after = client.poll(execution_id).status
        assert status_after == "RUNNING"
        assert any(
            "keeps running on the server" in r.getMessage()
            and f"client.wait({execution_id!r})" in r.getMessage()
            for r in caplog.records
        ), [r.getMessage() for r in caplog.records]
        # and the same client resumes waiting
        result = client.wait(execution_id, timeout=60)
        resumed_for = time.monotonic() - interrupted_at
        assert result.status == "COMPLETED"
        assert [r.status for r in result.node_runs] == ["COMPLETED"] * (CHAIN + 1)
        assert len(client.list_executions("interrupt", limit=100)) == 1  # nothing started twice
    figures(
        "KeyboardInterrupt during wait (sync client, real SIGINT)",
        {
            "status right after the interrupt": status_after,
            "wait(id) resumed and returned": f"{result.status} after {resumed_for:.1f} s more",
        },
    )


def test_async_wait_cancelled_then_resumed(server: RunningServer) -> None:
    async def scenario() -> tuple[str, str]:
        async with server.async_client(poll_initial=0.05, poll_max=0.1) as client:
            response = await client.execute("interrupt-async", chain_workflow("async interrupt", CHAIN))
            [execution_id] = response.execution_ids
            seen = asyncio.Event()

            def on_update(poll: PollResponse) -> None:
                if poll.status == "RUNNING" and any(r.status == "COMPLETED" for r in poll.node_runs):
                    seen.set()

            task = asyncio.create_task(client.wait(execution_id, timeout=60, on_update=on_update))
            await asyncio.wait_for(seen.wait(), 30)
            task.cancel()  # what interrupting a cell that awaits does to its task
            with pytest.raises(asyncio.CancelledError):
                await task
            after = (await client.poll(execution_id)).status
            result = await client.wait(execution_id, timeout=60)
            return after, str(result.status)

    after, final = asyncio.run(scenario())
    assert (after, final) == ("RUNNING", "COMPLETED")


def test_local_engine_wait_interrupted_then_resumed(tmp_path: Path, default_sigint: None) -> None:
    with LocalEngine(tmp_path / "home", model_latency=LATENCY) as engine:
        [execution_id] = engine.execute(
            "interrupt-local", chain_workflow("local interrupt", CHAIN)
        ).execution_ids
        interrupter = _SigintWhenRunning()
        try:
            with pytest.raises(KeyboardInterrupt):
                engine.wait(execution_id, timeout=60, on_update=interrupter.on_update)
        finally:
            interrupter.join()
        assert engine.poll(execution_id).status == "RUNNING"
        result = engine.wait(execution_id, timeout=60)
        assert result.status == "COMPLETED"
        wait_for(
            lambda: engine.list_executions("interrupt-local")[0].status == "COMPLETED",
            timeout=10,
            message="row",
        )
        assert len(engine.list_executions("interrupt-local")) == 1
