"""Kill -9 the server in the middle of runs and restart it on the same home: completed
executions are still listed with their outputs, interrupted ones are FAILED with a clear
error, the SQLite file passes ``PRAGMA integrity_check``, credits add up, and a client
that was waiting either resumes (and reads FAILED) or fails with a typed error."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from tests._servers import running_server
from tests._servers import wait_until as wait_for
from wireflow_nb import WireflowClient
from wireflow_nb._exceptions import APIConnectionError, ExecutionFailedError

from ._helpers import IMAGE_PRICE, all_executions, chain_workflow, image_workflow, usage
from .conftest import Figures

LATENCY = 0.3
CHAIN = 12
CREDITS = 100_000
DB_NAME = "wireflow_nb.sqlite3"


def integrity(db: Path) -> str:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def test_kill_9_mid_run_then_restart_on_the_same_home(tmp_path: Path, figures: Figures) -> None:
    home = tmp_path / "home"
    waiter_outcome: dict[str, Any] = {}

    with running_server(home, credits=CREDITS, model_latency=LATENCY) as first:
        port = first.port
        with first.client(poll_initial=0.05, poll_max=0.2) as client:
            for i in range(3):
                [done] = client.run("done", image_workflow(f"finished {i}"))
                assert done.status == "COMPLETED"
            completed = {row.id for row in client.list_executions("done", limit=100)}
            assert len(completed) == 3
            before_outputs = {
                eid: client.get_execution(eid).node_results.node_runs for eid in sorted(completed)
            }
            interrupted = [
                client.execute("slow", chain_workflow(f"slow {k}", CHAIN)).execution_ids[0] for k in range(2)
            ]

            def mid_run() -> bool:
                # a third of the chain done: the first nodes ended well over the engine's
                # flush interval (0.5 s) ago, so they must be on disk when the kill comes
                polls = [client.poll(eid) for eid in interrupted]
                return all(
                    p.status == "RUNNING"
                    and sum(r.status == "COMPLETED" and r.node_id != "prompt" for r in p.node_runs)
                    >= CHAIN // 3
                    for p in polls
                )

            wait_for(mid_run, timeout=30, message="both slow runs to be mid-way")

        # a client waits on one interrupted run while the server dies and comes back
        waiting_client = WireflowClient(
            api_key=first.api_key,
            base_url=first.base_url,
            max_retries=6,
            timeout=5,
            poll_initial=0.1,
            poll_max=0.3,
        )
        waiter_started = threading.Event()

        def wait_through_the_crash() -> None:
            waiter_started.set()
            try:
                waiting_client.wait(interrupted[0], timeout=60)
                waiter_outcome["result"] = "COMPLETED"
            except Exception as exc:
                waiter_outcome["error"] = exc

        waiter = threading.Thread(target=wait_through_the_crash, daemon=True)
        waiter.start()
        waiter_started.wait(5)

        first.process.kill()  # SIGKILL: no cleanup, no flush, no lifespan shutdown
        first.process.wait(timeout=15)
        killed_at = time.monotonic()
        assert first.process.returncode == -9

    db = home / DB_NAME
    after_kill = integrity(db)

    with running_server(home, model_latency=LATENCY, extra_args=["--port", str(port)]) as second:
        restart_seconds = time.monotonic() - killed_at
        assert second.port == port
        with second.client(poll_initial=0.05, poll_max=0.2) as client, second.http() as http:
            waiter.join(timeout=90)
            assert not waiter.is_alive(), "the waiting client neither resumed nor failed"

            # completed executions: listed, COMPLETED, their outputs still served
            done_rows = {row.id: row for row in client.list_executions("done", limit=100)}
            assert set(done_rows) == completed
            fetched = 0
            for eid in sorted(completed):
                execution = client.get_execution(eid)
                assert execution.status == "COMPLETED"
                runs = execution.node_results.node_runs
                assert [(r.node_id, r.status) for r in runs] == [
                    (r.node_id, r.status) for r in before_outputs[eid]
                ]
                [image] = next(r for r in execution.node_runs if r.node_id == "image").images
                data = client.fetch_bytes(image.url)
                assert data.startswith(b"\x89PNG")
                assert f":{port}/" in image.url
                fetched += 1

            # interrupted executions: FAILED, saying what happened and what to do
            slow_rows = {row["id"]: row for row in all_executions(http, "slow")}
            assert set(slow_rows) == set(interrupted)
            node_statuses: dict[str, int] = {}
            for eid in interrupted:
                execution = client.get_execution(eid)
                assert execution.status == "FAILED"
                assert execution.error is not None
                assert "stopped while this run was in flight" in execution.error
                assert "Run the workflow again" in execution.error
                assert execution.completed_at is not None
                for run in execution.node_results.node_runs:
                    node_statuses[run.status] = node_statuses.get(run.status, 0) + 1
                    assert run.status in ("COMPLETED", "FAILED", "SKIPPED"), run
                    if run.status == "COMPLETED" and run.node_id != "prompt":
                        [image] = run.images
                        assert client.fetch_bytes(image.url).startswith(b"\x89PNG")
                # wait() on it now ends at once, with the clear error
                try:
                    client.wait(eid, timeout=10)
                except ExecutionFailedError as exc:
                    assert "stopped while this run was in flight" in str(exc)
                else:
                    raise AssertionError(f"wait({eid!r}) returned for a run that died with its server")
            assert node_statuses.get("SKIPPED", 0) > 0
            assert node_statuses.get("COMPLETED", 0) > 0

            # the client that was waiting through the crash: resumed (and saw FAILED) or
            # gave up with a typed connection error; never a hang, never a raw exception
            error = waiter_outcome.get("error")
            assert "result" not in waiter_outcome
            assert isinstance(error, (ExecutionFailedError, APIConnectionError)), repr(error)
            if isinstance(error, ExecutionFailedError):
                assert "stopped while this run was in flight" in str(error)
            waiting_client.close()

            # credits: what was charged is what the executions say they used
            spent = usage(http)
            rows = list(done_rows.values())
            charged = sum(float(r.credits_used or 0) for r in rows) + sum(
                float(r["creditsUsed"] or 0) for r in slow_rows.values()
            )
            assert float(spent["creditsBalance"]) + float(spent["creditsUsed"]) == CREDITS
            assert float(spent["creditsUsed"]) == charged, (spent, charged)
            assert sum(float(r.credits_used or 0) for r in rows) == 3 * IMAGE_PRICE

            # the restarted server works
            [again] = client.run("after", image_workflow("after the crash"))
            assert again.status == "COMPLETED"
            during = integrity(db)

    final = integrity(db)
    figures(
        "kill -9 mid-run, restart on the same home",
        {
            "completed before kill": f"{len(completed)} (listed with outputs after restart: {fetched})",
            "interrupted": f"{len(interrupted)} -> FAILED with the recovery error",
            "node runs of interrupted": dict(sorted(node_statuses.items())),
            "waiting client": type(waiter_outcome.get("error")).__name__,
            "restart (kill -> serving)": f"{restart_seconds:.1f} s",
            "integrity_check": f"after kill {after_kill}, while serving {during}, after stop {final}",
            "credits used / charged": f"{spent['creditsUsed']} / {charged}",
        },
    )
    assert after_kill == during == final == "ok"


def test_integrity_check_reads_a_real_answer(tmp_path: Path) -> None:
    """The integrity helper tells a broken file from a good one (so 'ok' means something)."""
    db = tmp_path / "x.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)")
        conn.executemany("INSERT INTO t (b) VALUES (?)", [("x" * 500,) for _ in range(200)])
    conn.close()
    assert integrity(db) == "ok"
    raw = bytearray(db.read_bytes())
    raw[4096:8192] = b"\xff" * 4096  # scribble over the second page (a b-tree page of t)
    db.write_bytes(bytes(raw))
    try:
        result = integrity(db)
    except sqlite3.DatabaseError as exc:
        result = str(exc)
    assert result != "ok"
