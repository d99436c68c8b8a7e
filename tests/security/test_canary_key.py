"""A canary API key, used for real against a real server, must never appear in: reprs,
logs (ours and httpx's, at DEBUG), exception messages and bodies and tracebacks, saved
workflows and exports, notebook outputs (display data, widget state, an executed
notebook), history rows (API, widgets, the SQLite file and everything under the server's
home), CLI output, or the server's own output.

The canary has no well-known prefix (``sk-``...), so only real redaction of the key
itself can hide it, not the pattern match that masks key-shaped strings.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._servers import RunningServer, free_port, running_server, serve_command
from wireflow_nb import AsyncWireflowClient, WireflowClient, Workflow
from wireflow_nb._exceptions import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ExecutionFailedError,
    InsufficientCreditsError,
    NotFoundError,
    RateLimitError,
    UnprocessableEntityError,
    WaitTimeoutError,
    WireflowError,
)

CANARY = "canary" + secrets.token_hex(20)
#: A second secret: a wrong key a user typed must not be echoed either.
WRONG = "wrongkey" + secrets.token_hex(20)


def assert_clean(where: str, text: Any) -> None:
    blob = text if isinstance(text, str) else json.dumps(text, default=repr)
    assert CANARY not in blob, f"the API key leaks into {where}"
    assert WRONG not in blob, f"a wrong API key is echoed into {where}"
    # partial leaks count too: any 12-character window of the key
    for start in range(0, len(CANARY) - 12, 6):
        assert CANARY[start : start + 12] not in blob, f"part of the API key leaks into {where}"


def exception_texts(exc: BaseException) -> dict[str, Any]:
    return {
        "str": str(exc),
        "repr": repr(exc),
        "args": repr(exc.args),
        "body": getattr(exc, "body", None),
        "traceback": "".join(traceback.format_exception(exc)),
        "notes": getattr(exc, "__notes__", None),
    }


def workflow(prompt: str = "a canary in a coal mine") -> Workflow:
    wf = Workflow("canary")
    wf.add_node("input:text", id="prompt", text=prompt)
    wf.add_node("model:fal:text-to-image", id="image", seed=1, width=64, height=64)
    wf.connect("prompt", "text", "image", "prompt")
    return wf


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    home = tmp_path_factory.mktemp("canary-home")
    with running_server(
        home, api_key=CANARY, credits=500, model_latency=0.05, extra_args=["--log-level", "debug"]
    ) as running:
        yield running


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    loggers = [logging.getLogger(name) for name in ("wireflow_nb", "httpx", "httpcore")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield caplog
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
    for record in caplog.records:
        assert_clean(f"the log record {record.name}", record.getMessage())
        assert_clean(f"the log record args of {record.name}", repr(record.args))
    assert_clean("the formatted log", caplog.text)


def test_client_reprs_errors_and_logs(
    server: RunningServer, every_log: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    errors: list[WireflowError] = []
    with WireflowClient(api_key=CANARY, base_url=server.base_url, poll_initial=0.05, poll_max=0.2) as client:
        assert_clean("repr(client)", repr(client))
        assert_clean("str(client)", str(client))
        assert_clean("client.__repr__ of rate limits", repr(client.rate_limit))
        [result] = client.run("canary", workflow())
        response = client.execute("canary", workflow("second"))
        execution = client.get_execution(response.execution_ids[0])
        history = client.list_executions("canary", limit=100)
        for name, value in {"result": result, "response": response, "execution": execution}.items():
            assert_clean(f"repr({name})", repr(value))
            assert_clean(f"{name}.to_wire()", value.to_wire())
        assert_clean("history rows", [row.to_wire() for row in history])

        bad = workflow()
        bad.connect("image", "images", "prompt", "text")  # a cycle
        for call, expected in [
            (lambda: client.execute("canary", bad), BadRequestError),
            (lambda: client.get_execution("exec_does_not_exist"), NotFoundError),
            (lambda: client.wait("exec_does_not_exist"), NotFoundError),
        ]:
            with pytest.raises(expected) as caught:
                call()
            errors.append(caught.value)
        client.execute("canary", workflow("idem"), idempotency_key="same-key")
        with pytest.raises(UnprocessableEntityError) as reused:
            client.execute("canary", workflow("other body"), idempotency_key="same-key")
        errors.append(reused.value)
        expensive = Workflow("canary")
        expensive.add_node("model:fal:text-to-video", id="video", prompt="x")
        with pytest.raises(InsufficientCreditsError) as broke:
            client.execute(
                "canary",
                expensive,
                iterator_configs=[{"nodeId": "video", "field": "prompt", "values": list("abcdefghijklmnop")}],
            )
        errors.append(broke.value)
        failing = Workflow("canary")
        failing.add_node("input:image", id="img", image="data:text/plain,nothing-here")
        with pytest.raises(ExecutionFailedError) as failed:
            client.run("canary", failing)
        errors.append(failed.value)
        slow = workflow("slow")
        for i in range(1, 6):
            slow.add_node("model:fal:image-to-image", id=f"s{i}", seed=i)
            slow.connect("image" if i == 1 else f"s{i - 1}", "images", f"s{i}", "image")
        with pytest.raises(WaitTimeoutError) as timed_out:
            client.run("canary", slow, timeout=0.01)
        errors.append(timed_out.value)

    with WireflowClient(api_key=WRONG, base_url=server.base_url) as wrong:
        assert_clean("repr(client with a wrong key)", repr(wrong))
        with pytest.raises(AuthenticationError) as refused:
            wrong.list_executions("canary")
        errors.append(refused.value)

    # no answer at all: a closed port, and a port that accepts but never answers
    with WireflowClient(
        api_key=CANARY, base_url=f"http://127.0.0.1:{free_port()}/api/v1", max_retries=1
    ) as nowhere:
        with pytest.raises(APIConnectionError) as unreachable:
            nowhere.credits_balance()
        errors.append(unreachable.value)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        with WireflowClient(
            api_key=CANARY, base_url=f"http://127.0.0.1:{port}/api/v1", timeout=0.3, max_retries=0
        ) as mute:
            with pytest.raises(APITimeoutError) as timeout:
                mute.credits_balance()
            errors.append(timeout.value)

    async def async_errors() -> list[WireflowError]:
        found: list[WireflowError] = []
        async with AsyncWireflowClient(
            api_key=CANARY, base_url=server.base_url, poll_initial=0.05
        ) as aclient:
            assert_clean("repr(async client)", repr(aclient))
            try:
                await aclient.get_execution("exec_missing_async")
            except NotFoundError as exc:
                found.append(exc)
        return found

    errors += asyncio.run(async_errors())
    kinds = {type(e).__name__ for e in errors}
    assert len(kinds) >= 9, kinds
    for error in errors:
        for part, text in exception_texts(error).items():
            assert_clean(f"{type(error).__name__} {part}", text)


def test_rate_limit_error_and_the_server_output(tmp_path: Path, every_log: pytest.LogCaptureFixture) -> None:
    with running_server(tmp_path / "home", api_key=CANARY, rate_limit=2, key_via="arg") as limited:
        with WireflowClient(api_key=CANARY, base_url=limited.base_url, max_retries=0) as client:
            client.credits_balance()
            client.credits_balance()
            with pytest.raises(RateLimitError) as caught:
                client.credits_balance()
        for part, text in exception_texts(caught.value).items():
            assert_clean(f"RateLimitError {part}", text)
        assert_clean("the output of serve --api-key", limited.log)


def test_saved_workflows_exports_and_history_files(server: RunningServer, tmp_path: Path) -> None:
    from wireflow_nb.export import to_curl, to_python

    with WireflowClient(api_key=CANARY, base_url=server.base_url, poll_initial=0.05) as client:
        wf = workflow("to be saved")
        client.run("canary-saved", wf)
        path = wf.save(tmp_path / "saved.json")
        assert_clean("a saved workflow", path.read_text())
        assert_clean("to_python", to_python(wf))
        curl = to_curl(wf, base_url=server.base_url)
        assert "$WIREFLOW_API_KEY" in curl
        assert_clean("to_curl", curl)
        [row] = client.list_executions("canary-saved")
        restored = Workflow.from_dict(client.get_execution(row.id).workflow_snapshot or {})
        assert_clean(
            "a workflow restored from history", restored.save(tmp_path / "restored.json").read_text()
        )

    # everything the server keeps on disk: the SQLite history and the artifacts
    db = server.home / "wireflow_nb.sqlite3"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        assert_clean("the SQLite history", "\n".join(conn.iterdump()))
    conn.close()
    for file in server.home.rglob("*"):
        if file.is_file():
            assert CANARY.encode() not in file.read_bytes(), f"the key is written into {file}"
    assert_clean("the server's output (banner, access log at debug)", server.log)


def test_notebook_outputs_and_widget_state(server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from IPython.core.formatters import DisplayFormatter
    from ipywidgets import Widget

    from wireflow_nb.widgets.app import WorkflowApp
    from wireflow_nb.widgets.history import HistoryView

    monkeypatch.setenv("WIREFLOW_API_KEY", CANARY)
    monkeypatch.setenv("WIREFLOW_BASE_URL", server.base_url)
    formatter = DisplayFormatter()
    client = WireflowClient(poll_initial=0.05)  # the key from the environment, as in a notebook
    try:
        wf = workflow("shown in a notebook")
        [result] = client.run("canary-nb", wf)
        execution = client.get_execution(client.list_executions("canary-nb")[0].id)
        history = client.list_executions("canary-nb")
        shown = [client, wf, result, execution, history, client.execute("canary-nb", wf)]
        try:
            client.get_execution("exec_nope")
        except NotFoundError as exc:
            shown.append(exc)
        for value in shown:
            data, metadata = formatter.format(value)
            assert_clean(f"the display data of {type(value).__name__}", data)
            assert_clean(f"the display metadata of {type(value).__name__}", metadata)

        app = WorkflowApp(client, workflow=wf, workflow_id="canary-nb")
        try:
            assert app.wait_idle(20)
            app.run(wait=True, timeout=60)
            assert app.wait_idle(20)
            view = HistoryView(client, "canary-nb")
            data, _ = formatter.format(app)
            assert_clean("the display data of WorkflowApp", data)
            for widget in list(Widget.widgets.values()):
                state = widget.get_state()
                assert_clean(
                    f"the state of {type(widget).__name__}",
                    {k: v for k, v in state.items() if not isinstance(v, bytes | memoryview)},
                )
                for value in state.values():
                    if isinstance(value, bytes | memoryview):
                        assert CANARY.encode() not in bytes(value)
            assert_clean("repr(app)", repr(app))
            view.close()
        finally:
            app.close()
    finally:
        client.close()


def test_executed_notebook_holds_no_key(server: RunningServer, tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cells = [
        "from wireflow_nb import WireflowClient, Workflow\nclient = WireflowClient(poll_initial=0.05)\nclient",
        "wf = Workflow('nb')\nwf.add_node('input:text', id='p', text='hello')\n"
        "wf.add_node('model:fal:text-to-image', id='m', seed=1, width=64, height=64)\n"
        "wf.connect('p', 'text', 'm', 'prompt')\n[result] = client.run('canary-notebook', wf)\nresult",
        "client.list_executions('canary-notebook')",
        "print(client, client.base_url)\nimport logging; logging.basicConfig(level=logging.DEBUG, force=True)\n"
        "client.poll(client.list_executions('canary-notebook')[0].id)",
        "client.get_execution('exec_missing')",  # an uncaught error: its traceback is saved
        "import os\nC = WireflowClient\nC(api_key=os.environ['WRONG_KEY'], base_url=client.base_url).credits_balance()",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    env = {**os.environ, "WIREFLOW_API_KEY": CANARY, "WIREFLOW_BASE_URL": server.base_url, "WRONG_KEY": WRONG}
    saved_env = dict(os.environ)
    os.environ.update(env)
    try:
        executor = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True)
        executor.execute(cwd=str(tmp_path))
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
    path = tmp_path / "executed.ipynb"
    nbformat.write(notebook, path)
    text = path.read_text()
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert any(o.get("ename") == "NotFoundError" for o in outputs), outputs
    assert any(o.get("ename") == "AuthenticationError" for o in outputs), outputs
    assert "COMPLETED" in text
    assert_clean("the executed notebook", text)


def test_cli_output(server: RunningServer, tmp_path: Path) -> None:
    wf_path = workflow("from the cli").save(tmp_path / "wf.json")
    base = [*serve_command()]
    env = {k: v for k, v in os.environ.items() if k != "WIREFLOW_API_KEY"}
    runs = {
        "run --api-key": [
            *base,
            "run",
            str(wf_path),
            "--api",
            server.base_url,
            "--api-key",
            CANARY,
            "--out",
            str(tmp_path / "out"),
        ],
        "history --api-key": [*base, "history", "canary", "--api", server.base_url, "--api-key", CANARY],
        "history --json": [
            *base,
            "history",
            "canary",
            "--api",
            server.base_url,
            "--api-key",
            CANARY,
            "--json",
        ],
        "run, wrong key": [*base, "run", str(wf_path), "--api", server.base_url, "--api-key", WRONG],
        "run, no server": [
            *base,
            "run",
            str(wf_path),
            "--api",
            f"http://127.0.0.1:{free_port()}/api/v1",
            "--api-key",
            CANARY,
        ],
        "history, bad limit": [
            *base,
            "history",
            "canary",
            "--api",
            server.base_url,
            "--api-key",
            CANARY,
            "--limit",
            "0",
        ],
    }
    codes = {}
    for name, argv in runs.items():
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL
        )
        codes[name] = done.returncode
        assert_clean(f"the stdout of wireflow-nb {name}", done.stdout)
        assert_clean(f"the stderr of wireflow-nb {name}", done.stderr)
    # with the key in the environment instead
    done = subprocess.run(
        [*base, "run", str(wf_path), "--api", server.base_url],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "WIREFLOW_API_KEY": CANARY},
        stdin=subprocess.DEVNULL,
    )
    codes["run, key from env"] = done.returncode
    assert_clean("the output of wireflow-nb run (key from env)", done.stdout + done.stderr)
    assert codes["run --api-key"] == 0 and codes["history --json"] == 0 and codes["run, key from env"] == 0
    assert codes["run, wrong key"] != 0 and codes["run, no server"] != 0
    for file in (tmp_path / "out").rglob("*"):
        if file.is_file():
            assert CANARY.encode() not in file.read_bytes(), file
    assert sys.executable  # the CLI ran under this interpreter's environment


def test_the_canary_check_catches_a_leak() -> None:
    """The check is not vacuous: a key in any of these shapes is caught."""
    for leaky in (CANARY, f"Bearer {CANARY}", json.dumps({"h": CANARY}), CANARY[5:30], WRONG):
        with pytest.raises(AssertionError):
            assert_clean("a deliberate leak", leaky)
    with pytest.raises(AssertionError):
        assert_clean("a leaky response", httpx.Response(200, json={"key": CANARY}).json())
