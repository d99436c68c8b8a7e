"""Attacks on the engine's home on disk, with real processes, real SQLite files and a real
``wireflow-nb serve`` on 127.0.0.1:

- a crashed engine's PID now belongs to another live process: recovery still fails its
  runs (owners are proved alive by an ``flock``, not by a PID), while the runs of an
  engine that really runs in another process are left alone;
- a home the engine creates is private (folders 0700, files 0600, the SQLite -wal/-shm
  and every artifact included) whatever the umask, and an existing home others can read
  gets a warning naming the ``chmod`` that fixes it, in the log and on the server's stderr;
- a home that holds rows an older version wrote with NaN/Infinity, or rows that are not
  valid JSON, still lists, polls and shows every execution (never a 500).
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests._servers import running_server, wait_until
from wireflow_nb import Workflow
from wireflow_nb.engine import LocalEngine

DB = "wireflow_nb.sqlite3"
RECOVERED = "stopped while this run was in flight"
REPO = Path(__file__).resolve().parents[2]


def image_workflow(prompt: str = "a fox") -> Workflow:
    wf = Workflow("home")
    wf.add_node("input:text", id="prompt", text=prompt)
    wf.add_node("model:fal:text-to-image", id="image", seed=1, width=64, height=64)
    wf.connect("prompt", "text", "image", "prompt")
    return wf


@contextmanager
def child_process(code: str) -> Iterator[subprocess.Popen[str]]:
    """A Python child (of this repository) that prints lines on stdout; always stopped."""
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=15)
        if process.stdout is not None:
            process.stdout.close()


def insert_run(home: Path, execution_id: str, owner: str, *, started_at: str, workflow_id: str = "w") -> None:
    """A RUNNING run as an engine writes it, with one running node run."""
    with sqlite3.connect(home / DB) as conn:
        conn.execute(
            "INSERT INTO executions (id, workflow_id, status, started_at, owner, node_ids) "
            "VALUES (?, ?, 'RUNNING', ?, ?, ?)",
            (execution_id, workflow_id, started_at, owner, json.dumps(["prompt", "image"])),
        )
        conn.execute(
            "INSERT INTO node_runs (execution_id, position, node_id, status) VALUES (?, 1, 'image', 'RUNNING')",
            (execution_id,),
        )
    conn.close()


def status_of(home: Path, execution_id: str) -> tuple[str, str | None]:
    with sqlite3.connect(f"file:{home / DB}?mode=ro", uri=True) as conn:
        status, error = conn.execute(
            "SELECT status, error FROM executions WHERE id = ?", (execution_id,)
        ).fetchone()
    conn.close()
    return status, error


# -- 9. recovery cannot be fooled by a reused PID ---------------------------------------------------


def test_a_reused_pid_does_not_keep_a_crashed_run_running(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with LocalEngine(home, model_latency=0):
        pass
    # the crashed owner's PID now names an unrelated live process (our child)
    with child_process("import time; print('up', flush=True); time.sleep(120)") as squatter:
        assert squatter.stdout is not None and squatter.stdout.readline().strip() == "up"
        pid = squatter.pid
        token = uuid.uuid4().hex
        # a crashed engine leaves its lock file behind; nobody holds the lock any more
        (home / "owners").mkdir(mode=0o700, exist_ok=True)
        (home / "owners" / f"{token}.lock").write_text(f"{pid}\n")
        insert_run(home, "exec_flock", f"{pid}:{token}:flock", started_at="2025-01-01T00:00:00.000Z")
        # rows of older versions: the PID runs, but its process started after the run did
        insert_run(home, "exec_legacy", f"{pid}:{uuid.uuid4().hex}", started_at="2025-01-01T00:00:00.000Z")
        insert_run(home, "exec_bare_pid", str(pid), started_at="2025-01-01T00:00:00.000Z")

        with running_server(home) as server, server.client() as client:
            for execution_id in ("exec_flock", "exec_legacy", "exec_bare_pid"):
                execution = client.get_execution(execution_id)
                assert execution.status == "FAILED", (execution_id, execution.status)
                assert RECOVERED in (execution.error or "")
                assert {r.node_id: r.status for r in execution.node_results.node_runs} == {
                    "prompt": "SKIPPED",
                    "image": "FAILED",
                }
        assert squatter.poll() is None  # recovery touched the runs, not the process
    assert not (home / "owners" / f"{token}.lock").exists()  # the dead owner's lock file is swept


def test_the_runs_of_an_engine_alive_in_another_process_are_not_touched(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with running_server(home, model_latency=60) as owner, owner.client() as client:
        execution_id = client.execute("w", image_workflow()).execution_ids[0]
        wait_until(lambda: client.poll(execution_id).status == "RUNNING", message="the run to start")
        assert status_of(home, execution_id)[0] == "RUNNING"
        with sqlite3.connect(home / DB) as conn:
            [owner_column] = conn.execute("SELECT owner FROM executions").fetchone()
        conn.close()
        assert owner_column.endswith(":flock") and owner_column.startswith(f"{owner.process.pid}:")

        # a second engine process opens the same home and recovers: the run is not its to fail
        code = (
            "from wireflow_nb.engine import LocalEngine\n"
            f"engine = LocalEngine({str(home)!r})\n"
            f"print(engine.poll({execution_id!r}).status, flush=True)\n"
            "engine.close()\n"
        )
        with child_process(code) as second:
            assert second.stdout is not None
            assert second.stdout.readline().strip() == "RUNNING"
            assert second.wait(timeout=60) == 0
        # and one in this process too
        with LocalEngine(home) as third:
            assert third.poll(execution_id).status == "RUNNING"
        assert client.poll(execution_id).status == "RUNNING"

        owner.process.kill()  # SIGKILL: the lock dies with the process, its file stays
        owner.process.wait(timeout=15)

    with LocalEngine(home) as after:
        execution = after.get_execution(execution_id)
        assert execution.status == "FAILED"
        assert RECOVERED in (execution.error or "")
    assert list((home / "owners").glob("*.lock")) == []


def test_a_legacy_owner_that_really_runs_is_kept_where_its_start_time_proves_it(tmp_path: Path) -> None:
    """An old home's row owned by a bare PID: alive only if that process started before
    the run did (Linux /proc); anywhere the start time cannot be read, it counts as gone."""
    home = tmp_path / "home"
    with LocalEngine(home, model_latency=0):
        pass
    with child_process("import time; print('up', flush=True); time.sleep(120)") as old_engine:
        assert old_engine.stdout is not None and old_engine.stdout.readline().strip() == "up"
        from wireflow_nb.engine.runs import utc_now_iso

        insert_run(home, "exec_old", str(old_engine.pid), started_at=utc_now_iso())
        with LocalEngine(home) as engine:
            verifiable = Path("/proc/self/stat").exists()
            assert engine.poll("exec_old").status == ("RUNNING" if verifiable else "FAILED")
        old_engine.kill()
        old_engine.wait(timeout=15)
        with LocalEngine(home) as engine:
            assert engine.poll("exec_old").status == "FAILED"


# -- 10. a home is private ---------------------------------------------------------------------------


def modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def assert_private(home: Path) -> dict[str, int]:
    found = modes(home)
    wrong = {
        name: f"{mode:04o}"
        for name, mode in found.items()
        if mode != (0o700 if (home / name).is_dir() else 0o600)
    }
    assert not wrong, f"not private: {wrong}"
    return found


@contextmanager
def umask(value: int) -> Iterator[None]:
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.parametrize("mask", [0o022, 0o000], ids=["umask-022", "umask-000"])
def test_a_home_the_engine_creates_is_private_whatever_the_umask(tmp_path: Path, mask: int) -> None:
    home = tmp_path / "new" / "home"
    with umask(mask), LocalEngine(home, model_latency=0) as engine:
        [result] = engine.run("w", image_workflow("private"))
        assert result.status == "COMPLETED"
        assert (home / f"{DB}-wal").exists() and (home / f"{DB}-shm").exists()
        found = assert_private(home)
        assert any(name.startswith("artifacts/") and name.endswith(".png") for name in found)
        assert any(name.startswith("owners/") for name in found)
        assert engine.home_warning is None
    assert_private(home)


def test_a_home_created_by_the_server_is_private(tmp_path: Path) -> None:
    home = tmp_path / "fresh"  # running_server makes the folder it is given; this one is the server's
    with umask(0o000), running_server(tmp_path / "unused", extra_args=["--home", str(home)]) as server:
        with server.client() as client:
            [result] = client.run("w", image_workflow("served"))
            assert result.status == "COMPLETED"
            assert client.fetch_bytes(result.node_run("image").images[0].url).startswith(b"\x89PNG")
        assert (home / f"{DB}-wal").exists()
        assert_private(home)
        assert "go-rwx" not in server.log


def test_an_existing_home_others_can_read_gets_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = tmp_path / "shared"
    home.mkdir()
    home.chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="wireflow_nb.engine"), LocalEngine(home) as engine:
        assert engine.home_warning is not None
    [message] = [r.getMessage() for r in caplog.records if "other local users" in r.getMessage()]
    assert str(home) in message and "0755" in message
    assert f"chmod -R go-rwx '{home}'" in message
    assert stat.S_IMODE(home.stat().st_mode) == 0o755  # warned, never changed behind the user's back

    # the fix it names works: no warning afterwards
    subprocess.run(["chmod", "-R", "go-rwx", str(home)], check=True)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="wireflow_nb.engine"), LocalEngine(home) as engine:
        assert engine.home_warning is None
    assert not [r for r in caplog.records if "other local users" in r.getMessage()]


def test_serve_on_an_exposed_home_says_so_on_stderr(tmp_path: Path) -> None:
    home = tmp_path / "exposed"
    home.mkdir()
    home.chmod(0o755)
    with running_server(home) as server:
        wait_until(lambda: "other local users" in server.log, timeout=10, message="the warning")
        [line] = [line for line in server.log.splitlines() if "other local users" in line]
        assert str(home) in line and f"chmod -R go-rwx '{home}'" in line


# -- 4 (stored half). rows an older version stored with NaN, or not JSON at all ------------------------


def bad_rows(home: Path) -> list[str]:
    """Rows an older version (or a broken disk) left: NaN/Infinity in every JSON column,
    JSON that is not JSON, numbers that are not finite. Returns their ids."""
    nan_node = json.dumps({"text": math.nan})
    rows = {
        "exec_nan": (
            '{"x":NaN,"y":[Infinity,-Infinity]}',
            '["prompt"]',
            '{"nodes":[{"v":NaN}],"edges":[]}',
            5.0,
            12,
        ),
        "exec_notjson": ('{"x":', "[oops", "not json {", 0.0, 3),
        "exec_numbers": ("{}", '["prompt"]', None, math.inf, "soon"),
        "exec_huge": ('{"x":1e999}', '["prompt"]', '{"nodes":[],"edges":[],"z":1e999}', 1.0, 1),
    }
    with sqlite3.connect(home / DB) as conn:
        for execution_id, (trigger, node_ids, snapshot, credits, took) in rows.items():
            conn.execute(
                "INSERT INTO executions (id, workflow_id, status, started_at, completed_at, trigger_data, "
                "node_ids, snapshot, credits_used, execution_time) VALUES (?, 'w', 'COMPLETED', "
                "'2025-01-01T00:00:00.000Z', '2025-01-01T00:00:01.000Z', ?, ?, ?, ?, ?)",
                (execution_id, trigger, node_ids, snapshot, credits, took),
            )
            output = {"exec_nan": nan_node, "exec_notjson": '{"text": '}.get(execution_id, '{"text":"ok"}')
            conn.execute(
                "INSERT INTO node_runs (execution_id, position, node_id, status, output) "
                "VALUES (?, 0, 'prompt', 'COMPLETED', ?)",
                (execution_id, output),
            )
        # a run left RUNNING whose node list is not JSON: recovery must still open the home
        conn.execute(
            "INSERT INTO executions (id, workflow_id, status, started_at, owner, node_ids) "
            "VALUES ('exec_running_bad', 'w', 'RUNNING', '2025-01-01T00:00:00.000Z', NULL, '[oops')"
        )
    conn.close()
    return [*rows, "exec_running_bad"]


def prefilled_home(home: Path) -> tuple[list[str], list[str]]:
    with LocalEngine(home, model_latency=0) as engine:
        good = [engine.run("w", image_workflow(f"good {i}"))[0] for i in range(2)]
        good_ids = [e.id for e in engine.list_executions("w")]
        assert len(good_ids) == len(good) == 2
    return good_ids, bad_rows(home)


def test_a_home_with_bad_rows_still_lists_polls_and_shows_over_http(tmp_path: Path) -> None:
    home = tmp_path / "home"
    good, bad = prefilled_home(home)
    with running_server(home) as server, server.http() as http:
        listed = http.get("/workflows/w/executions", params={"limit": 100})
        assert listed.status_code == 200, listed.text
        rows = {row["id"]: row for row in listed.json()}
        assert set(rows) == {*good, *bad}
        for execution_id in good:
            assert rows[execution_id]["status"] == "COMPLETED" and rows[execution_id]["error"] is None
        for execution_id in ("exec_notjson", "exec_numbers"):
            assert "could not be read" in rows[execution_id]["error"], rows[execution_id]
        assert rows["exec_numbers"]["creditsUsed"] == 0 and rows["exec_numbers"]["executionTime"] is None
        assert (
            rows["exec_running_bad"]["status"] == "FAILED" and RECOVERED in rows["exec_running_bad"]["error"]
        )

        for execution_id in [*good, *bad]:
            for path in (
                f"/workflows/executions/{execution_id}/poll",
                f"/workflows/executions/{execution_id}",
            ):
                answer = http.get(path)
                assert answer.status_code == 200, (path, answer.text)
                answer.json()  # strict JSON
        details = http.get("/workflows/executions/exec_nan").json()
        assert details["triggerData"] == {"x": None, "y": [None, None]}
        assert details["workflowSnapshot"] == {"nodes": [{"v": None}], "edges": []}
        assert details["nodeResults"]["nodeRuns"][0]["output"] == {"text": None}
        assert "NaN or Infinity" in details["error"]
        broken = http.get("/workflows/executions/exec_notjson").json()
        assert broken["triggerData"] == {} and broken["workflowSnapshot"] is None
        assert [r["nodeId"] for r in broken["nodeResults"]["nodeRuns"]] == ["prompt"]
        assert "not valid JSON" in broken["error"]
        assert http.get("/workflows/executions/exec_huge").json()["triggerData"] == {"x": None}


def test_a_home_with_bad_rows_still_lists_in_process(tmp_path: Path) -> None:
    home = tmp_path / "home"
    good, bad = prefilled_home(home)
    with LocalEngine(home, model_latency=0) as engine:
        rows = engine.list_executions("w", limit=100)
        assert {row.id for row in rows} == {*good, *bad}
        for row in rows:
            json.dumps(row.to_wire(), allow_nan=False)
        for execution_id in [*good, *bad]:
            json.dumps(engine.poll(execution_id).to_wire(), allow_nan=False)
            json.dumps(engine.get_execution(execution_id).to_wire(), allow_nan=False)
        # the engine goes on working on that home
        [again] = engine.run("w", image_workflow("after"))
        assert again.status == "COMPLETED"


def test_a_cached_output_stored_with_nan_is_computed_again(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with LocalEngine(home, model_latency=0) as engine:
        engine.run("w", image_workflow("cached"))
    with sqlite3.connect(home / DB) as conn:
        assert conn.execute('UPDATE cache SET output = \'{"text":NaN,"images":[Infinity]}\'').rowcount > 0
    conn.close()
    with LocalEngine(home, model_latency=0) as engine:
        [result] = engine.run("w", image_workflow("cached"))
        body = json.dumps(result.to_wire(), allow_nan=False)
        assert "NaN" not in body and "Infinity" not in body
        assert engine.fetch_bytes(result.node_run("image").images[0].url).startswith(b"\x89PNG")
