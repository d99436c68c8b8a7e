"""``wireflow_nb.local_server()``: a real ``wireflow-nb serve`` subprocess on loopback that
starts, answers, and stops with its client, its ``with`` block, or the interpreter that
started it; a server that dies or hangs at startup is a clear error without the key."""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import wireflow_nb as wf
from tests._servers import wait_until
from wireflow_nb.serving import LocalServer, ServerStartError


def _alive(pid: int) -> bool:
    """The process runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state != "Z"


@pytest.fixture
def started_pids() -> Iterator[list[int]]:
    """PIDs of servers a test started; any still alive at the end is killed (by its PID)."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _answers(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/openapi.json", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_with_block_starts_a_ready_server_and_stops_it(started_pids: list[int]) -> None:
    with wf.local_server(model_latency=0) as client:
        server = client.server
        started_pids.append(server.pid)
        assert isinstance(client, wf.WireflowClient)
        assert server.base_url.startswith("http://127.0.0.1:") and server.port > 0
        assert client.base_url == server.base_url
        assert server.running and server.home.is_dir()
        # its own process group: interrupting a kernel (SIGINT to the kernel's group) spares it
        assert os.getpgid(server.pid) == server.pid != os.getpgrp()
        assert client.usage().credits_balance == 1000  # answers at once, with its key
        # the key is required: a request without it is refused
        assert httpx.get(f"{server.base_url}/developer/usage").status_code == 401
        home, pid = server.home, server.pid
    assert not server.running and not _alive(pid)
    assert not home.exists()  # a temporary home goes with its server
    assert not _answers(server.base_url)


def test_close_stops_the_server_and_a_given_home_stays(tmp_path: Path, started_pids: list[int]) -> None:
    client = wf.local_server(home=tmp_path / "home", credits=42, model_latency=0)
    started_pids.append(client.server.pid)
    assert client.usage().credits_balance == 42
    assert client.server.home == tmp_path / "home"
    client.close()
    assert not client.server.running and not _alive(client.server.pid)
    assert (tmp_path / "home" / "wireflow_nb.sqlite3").exists()  # the caller's home is kept
    client.server.stop()  # idempotent
    client.close()


def test_the_server_stops_when_its_client_is_garbage_collected(started_pids: list[int]) -> None:
    client = wf.local_server(model_latency=0)
    pid = client.server.pid
    started_pids.append(pid)
    assert _alive(pid)
    del client
    gc.collect()
    wait_until(lambda: not _alive(pid), timeout=30, message="the server to stop")


STARTS_AND_EXITS = textwrap.dedent(
    """
    import json, wireflow_nb
    client = wireflow_nb.local_server(model_latency=0)
    client.usage()
    print(json.dumps({"pid": client.server.pid, "home": str(client.server.home)}), flush=True)
    # exits without client.close(): the interpreter's exit must stop the server
    """
)


def test_the_server_stops_when_the_interpreter_that_started_it_exits(started_pids: list[int]) -> None:
    import json

    done = subprocess.run(
        [sys.executable, "-c", STARTS_AND_EXITS], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    started = json.loads(done.stdout.strip().splitlines()[-1])
    started_pids.append(started["pid"])
    wait_until(lambda: not _alive(started["pid"]), timeout=30, message="the orphaned server to stop")
    assert not Path(started["home"]).exists()


KILLED_AFTER_STARTING = textwrap.dedent(
    """
    import json, os, signal, wireflow_nb
    client = wireflow_nb.local_server(model_latency=0)
    client.usage()
    print(json.dumps({"pid": client.server.pid, "home": str(client.server.home)}), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # a kernel killed: no atexit hook runs
    """
)


def test_the_server_stops_when_the_interpreter_that_started_it_is_killed(started_pids: list[int]) -> None:
    import json

    done = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_STARTING],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    started = json.loads(done.stdout.strip().splitlines()[-1])
    started_pids.append(started["pid"])
    try:
        wait_until(lambda: not _alive(started["pid"]), timeout=30, message="the orphaned server to stop")
    finally:
        shutil.rmtree(started["home"], ignore_errors=True)  # nobody was left to remove it


DIES_SHOWING_THE_KEY = textwrap.dedent(
    """
    import os, sys
    print("about to fail; the key is", os.environ["WIREFLOW_API_KEY"], flush=True)
    sys.exit(7)
    """
)


def test_a_server_that_dies_at_startup_is_a_clear_error_without_the_key(tmp_path: Path) -> None:
    (tmp_path / "dies_at_import.py").write_text(DIES_SHOWING_THE_KEY, encoding="utf-8")
    key = "sk-local-secret-0123456789abcdef"
    with pytest.raises(ServerStartError) as caught:
        LocalServer.start(
            api_key=key,
            nodes=["dies_at_import"],
            env={"PYTHONPATH": _path_with(tmp_path)},
            startup_timeout=60,
        )
    message = str(caught.value)
    assert "exited with code 7" in message
    assert "about to fail; the key is ***" in message  # its last lines, masked
    assert key not in message and key not in repr(caught.value)


def test_a_server_that_never_answers_times_out_and_is_stopped(
    tmp_path: Path, started_pids: list[int]
) -> None:
    pid_file = tmp_path / "pid"
    (tmp_path / "hangs_at_import.py").write_text(
        f"import os, threading\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "print('importing forever', flush=True)\nthreading.Event().wait()\n",
        encoding="utf-8",
    )
    with pytest.raises(ServerStartError, match=r"printed no address within 3 s") as caught:
        LocalServer.start(
            api_key="sk-local-hang-0123456789",
            nodes=["hangs_at_import"],
            env={"PYTHONPATH": _path_with(tmp_path)},
            startup_timeout=3,
        )
    assert "importing forever" in str(caught.value)
    pid = int(pid_file.read_text())
    started_pids.append(pid)
    assert not _alive(pid)  # stopped before the error was raised


def test_two_servers_at_once_on_their_own_ports_and_keys(started_pids: list[int]) -> None:
    with wf.local_server(model_latency=0, credits=5) as first, wf.local_server(model_latency=0) as second:
        started_pids += [first.server.pid, second.server.pid]
        assert first.server.port != second.server.port
        assert first.usage().credits_balance == 5 and second.usage().credits_balance == 1000
        # each key opens its own server only
        crossed = wf.WireflowClient(api_key=first._api_key, base_url=second.base_url)
        with crossed, pytest.raises(wf.AuthenticationError):
            crossed.usage()
        first.close()
        assert second.server.running and second.usage().credits_balance == 1000
    assert not second.server.running


def test_the_key_is_never_shown(started_pids: list[int]) -> None:
    with wf.local_server(model_latency=0) as client:
        started_pids.append(client.server.pid)
        key = client._api_key
        assert key and len(key) > 20
        shown = [repr(client), str(client), repr(client.server), client.server.log_tail(1000)]
        for text in shown:
            assert key not in text
        assert "local server running" in repr(client) and client.base_url in repr(client)
        assert "Executions API at" in client.server.log_tail(1000)
    assert "local server stopped" in repr(client)


def test_the_async_client_stops_the_server_on_exit(started_pids: list[int]) -> None:
    async def main() -> tuple[int, bool]:
        async with wf.local_server(model_latency=0, async_client=True) as client:
            started_pids.append(client.server.pid)
            assert isinstance(client, wf.AsyncWireflowClient)
            assert (await client.usage()).credits_balance == 1000
            return client.server.pid, client.server.running

    pid, was_running = asyncio.run(main())
    assert was_running and not _alive(pid)


def _path_with(folder: Path) -> str:
    return os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)


def test_nodes_from_the_current_directory_join_the_served_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started_pids: list[int]
) -> None:
    (tmp_path / "notebook_nodes.py").write_text(
        textwrap.dedent(
            """
            import wireflow_nb

            @wireflow_nb.node_type("custom:echo", inputs={"text": str}, outputs={"text": str}, label="Echo")
            def echo(text: str) -> str:
                return text
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)  # a notebook's folder: where its modules are
    with wf.local_server(nodes=["notebook_nodes"], model_latency=0) as client:
        started_pids.append(client.server.pid)
        assert client.nodes()["custom:echo"].label == "Echo"
