"""History in SQLite: everything survives a restart; runs cut short by a dead process are
marked FAILED on the next open, never left RUNNING."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from _engine_helpers import statuses, text_to_image_workflow

from wireflow_nb import Workflow
from wireflow_nb.engine import LocalEngine

DB = "wireflow_nb.sqlite3"


def test_history_outputs_and_credits_survive_a_restart(tmp_path: Path, make_engine: Any) -> None:
    wf = text_to_image_workflow()
    first = make_engine(tmp_path, credits=100)
    response = first.execute("w", wf)
    poll = first.wait(response.execution_id)
    url = poll.node_run("image").images[0].url
    first.close()

    assert (tmp_path / DB).is_file()
    with sqlite3.connect(tmp_path / DB) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    second = make_engine(tmp_path, credits=100)
    [summary] = second.list_executions("w")
    assert summary.id == response.execution_id and summary.status == "COMPLETED"
    execution = second.get_execution(response.execution_id)
    assert statuses(execution) == {"prompt": "COMPLETED", "image": "COMPLETED"}
    assert execution.workflow_snapshot == {
        "nodes": [n.to_wire() for n in wf.nodes],
        "edges": [e.to_wire() for e in wf.edges],
    }
    assert execution.credits_used == 10
    assert second.poll(response.execution_id).to_wire() == poll.to_wire()
    assert second.fetch_bytes(url)[:8] == b"\x89PNG\r\n\x1a\n"
    assert second.credits_balance() == 90  # the balance of the home, not the constructor's


def test_a_run_left_running_by_a_dead_process_is_failed_on_open(tmp_path: Path, make_engine: Any) -> None:
    engine = make_engine(tmp_path)
    engine.run("w", text_to_image_workflow())
    engine.close()
    # write a RUNNING run owned by a process that no longer exists
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    with sqlite3.connect(tmp_path / DB) as conn:
        conn.execute(
            "INSERT INTO executions (id, workflow_id, status, started_at, owner, node_ids) VALUES (?, ?, ?, ?, ?, ?)",
            (
                "exec_crashed",
                "w",
                "RUNNING",
                "2025-01-01T00:00:00.000Z",
                f"{dead_pid}:x",
                json.dumps(["a", "b", "c"]),
            ),
        )
        conn.execute(
            "INSERT INTO node_runs (execution_id, position, node_id, status, output) VALUES (?, ?, ?, ?, ?)",
            ("exec_crashed", 0, "a", "COMPLETED", json.dumps({"text": "x"})),
        )
        conn.execute(
            "INSERT INTO node_runs (execution_id, position, node_id, status) VALUES (?, ?, ?, ?)",
            ("exec_crashed", 1, "b", "RUNNING"),
        )
    reopened = make_engine(tmp_path)
    execution = reopened.get_execution("exec_crashed")
    assert execution.status == "FAILED"
    assert "process stopped" in execution.error and "Run the workflow again" in execution.error
    assert execution.completed_at is not None
    assert statuses(execution) == {"a": "COMPLETED", "b": "FAILED", "c": "SKIPPED"}
    assert reopened.poll("exec_crashed").status == "FAILED"
    assert reopened.get_execution(reopened.list_executions("w")[1].id).status == "COMPLETED"


def test_runs_of_a_live_engine_are_not_touched_by_a_second_one(tmp_path: Path, make_engine: Any) -> None:
    first = make_engine(tmp_path, model_latency=30)
    response = first.execute("w", text_to_image_workflow())
    second = make_engine(tmp_path)
    assert second.poll(response.execution_id).status == "RUNNING"
    first.cancel(response.execution_id)
    assert second.poll(response.execution_id).status == "CANCELLED"


def test_a_killed_process_leaves_no_run_running(tmp_path: Path, make_engine: Any) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from wireflow_nb import Workflow
        from wireflow_nb.engine import LocalEngine
        engine = LocalEngine({str(tmp_path)!r}, model_latency=60)
        wf = Workflow("w")
        wf.add_node("input:text", id="p", text="a fox")
        wf.add_node("model:fal:text-to-image", id="i", width=64, height=64)
        wf.connect("p", "text", "i", "prompt")
        response = engine.execute("w", wf)
        engine.subscribe(lambda e: print("started", flush=True) if e.kind == "node_started" and e.node_id == "i" else None)
        print(response.execution_id, flush=True)
        engine.wait(response.execution_id)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        assert proc.stdout is not None
        # the node may start (and print "started") before the id is printed
        execution_id = next((line.strip() for line in proc.stdout if line.startswith("exec_")), "")
        assert execution_id.startswith("exec_"), "the child process printed no execution id"
        # the flush interval writes the running node down; wait until it is in the file
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with sqlite3.connect(tmp_path / DB) as conn:
                row = conn.execute(
                    "SELECT status FROM node_runs WHERE execution_id = ? AND node_id = 'i'", (execution_id,)
                ).fetchone()
            if row and row[0] == "RUNNING":
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the running node never reached the store")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    engine = make_engine(tmp_path)
    execution = engine.get_execution(execution_id)
    assert execution.status == "FAILED"
    assert statuses(execution) == {"p": "COMPLETED", "i": "FAILED"}
    assert engine.poll(execution_id).node_run("p").text == "a fox"
    assert engine.credits_balance() == 1000


def test_default_home_comes_from_the_environment(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("WIREFLOW_NB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WIREFLOW_NB_MODEL_LATENCY", "0.25")
    with LocalEngine() as engine:
        assert engine.home == tmp_path / "home"
        assert engine.model_latency == 0.25
        wf = Workflow("w")
        wf.add_node("input:text", id="a", text="x")
        engine.run("w", wf)
    assert (tmp_path / "home" / DB).is_file()
    monkeypatch.delenv("WIREFLOW_NB_MODEL_LATENCY")
    with LocalEngine(":memory:") as engine:
        assert engine.home is None and engine.model_latency == 0.5
        assert not list((tmp_path / "home").glob("*.tmp"))
