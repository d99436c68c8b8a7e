"""``LocalEngine.close()`` with work in flight: it waits for the node workers (bounded)
before it removes anything, then gives up on the stuck ones; never an error."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from wireflow_nb import LocalEngine, Workflow, node_type
from wireflow_nb.catalog import Catalog, builtin_catalog
from wireflow_nb.engine import local as local_module


def busy_workflow(i: int) -> Workflow:
    wf = Workflow("busy")
    for n in range(6):
        wf.add_node("model:fal:text-to-image", id=f"img{n}", prompt=f"fox {i} {n}", width=96, height=96, seed=n)
        wf.add_node("image:resize", id=f"small{n}", width=48, height=48)
        wf.connect(f"img{n}", "images", f"small{n}", "image")
    return wf


def test_closing_in_memory_engines_with_runs_in_flight_never_fails() -> None:
    # the race: a worker still writing an artifact while close() removed the home
    # (OSError: Directory not empty: 'artifacts', 7 times in 200 closes before)
    homes: list[str] = []
    for i in range(200):
        engine = LocalEngine(home=":memory:", model_latency=0, max_concurrency=4)
        engine.execute("busy", busy_workflow(i))
        home = engine._tmpdir.name  # type: ignore[union-attr]
        homes.append(home)
        engine.close()  # must not raise
        assert engine.closed
        assert not os.path.exists(home), "the temporary home is removed"


def test_close_gives_up_on_a_stuck_worker_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    catalog: Catalog = builtin_catalog()
    read_end, write_end = os.pipe()
    entered = threading.Event()
    workers: list[threading.Thread] = []

    @node_type("close:stuck", inputs={"i": int}, outputs={"i": int}, catalog=catalog)
    def stuck(i: int, ctx: Any) -> int:
        ctx.sleep(0)  # (blocking: always on the thread pool)
        workers.append(threading.current_thread())
        entered.set()
        os.read(read_end, 1)  # nobody writes until the test ends
        return i

    monkeypatch.setattr(local_module, "CLOSE_TIMEOUT", 0.2)
    engine = LocalEngine(home=":memory:", catalog=catalog, model_latency=0)
    home = engine._tmpdir.name  # type: ignore[union-attr]
    try:
        wf = Workflow("stuck")
        wf.add_node("close:stuck", id="s", i=1)
        engine.execute("stuck", wf)
        assert entered.wait(30)
        with caplog.at_level(logging.WARNING, logger="wireflow_nb.engine"):
            engine.close()
        assert engine.closed
        assert not os.path.exists(home)
        assert any("abandoned" in r.getMessage() for r in caplog.records)
    finally:
        os.write(write_end, b"x")  # let the abandoned thread end
        os.close(write_end)
        for worker in workers:
            worker.join(30)
            assert not worker.is_alive()
        os.close(read_end)


def test_a_home_on_disk_keeps_every_finished_run_after_close(tmp_path: Path) -> None:
    engine = LocalEngine(tmp_path / "home", model_latency=0)
    started = engine.execute("busy", busy_workflow(0)).execution_runs[0].id
    engine.close()
    with LocalEngine(tmp_path / "home", model_latency=0) as again:
        status = str(again.poll(started).state)
        # what close() cancelled is CANCELLED, what finished is COMPLETED; nothing RUNNING
        assert status in ("COMPLETED", "CANCELLED"), status
