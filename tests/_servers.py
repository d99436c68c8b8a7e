"""A real ``wireflow-nb serve`` for tests: a subprocess on a free loopback port.

    from tests._servers import running_server

    with running_server(tmp_path, api_key="sk-test-123") as server:
        client = WireflowClient(api_key=server.api_key, base_url=server.base_url)

The server binds ``127.0.0.1`` port 0 (the system picks a free port, so there is no
race between choosing a port and binding it); the helper reads the port from the
startup banner, polls until the server answers, and always stops it (SIGTERM, then
SIGKILL) however the test ends. Pytest fixtures ``wireflow_server`` (module scope, with
a key) and ``open_server`` (module scope, no key) are ready: import them into a
``conftest.py`` (``from tests._servers import wireflow_server``) as ``tests/server`` does.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

__all__ = [
    "TEST_API_KEY",
    "RunningServer",
    "free_port",
    "open_server",
    "running_server",
    "wait_until",
    "wireflow_server",
]

TEST_API_KEY = "sk-test-wireflow-0123456789abcdef"

_BANNER = re.compile(r"(http://[^\s]+)/api/v1\b")


def free_port() -> int:
    """A port free on 127.0.0.1 right now (prefer ``--port 0`` where possible)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    condition: Any, *, timeout: float = 30.0, interval: float = 0.02, message: str = "condition"
) -> Any:
    """Call ``condition()`` until it returns something truthy; return that. Raises
    ``TimeoutError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


def serve_command() -> list[str]:
    """The ``wireflow-nb`` console script of this interpreter, or ``python -m``."""
    script = Path(sys.executable).parent / "wireflow-nb"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "wireflow_nb.cli"]


@dataclass
class RunningServer:
    process: subprocess.Popen[str]
    root_url: str
    home: Path
    api_key: str | None
    output: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        """The API base: ``http://127.0.0.1:PORT/api/v1``."""
        return f"{self.root_url}/api/v1"

    @property
    def port(self) -> int:
        return int(self.root_url.rsplit(":", 1)[1])

    @property
    def headers(self) -> dict[str, str]:
        """The ``Authorization`` header of the server's key (empty without a key)."""
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    @property
    def log(self) -> str:
        """Everything the server printed so far (stdout and stderr)."""
        return "".join(self.output)

    def http(self, **kwargs: Any) -> httpx.Client:
        """A raw httpx client on the API base, with the key."""
        return httpx.Client(base_url=self.base_url, headers=self.headers, timeout=30.0, **kwargs)

    def client(self, **kwargs: Any) -> Any:
        from wireflow_nb.client import WireflowClient

        return WireflowClient(api_key=self.api_key, base_url=self.base_url, **kwargs)

    def async_client(self, **kwargs: Any) -> Any:
        from wireflow_nb.client import AsyncWireflowClient

        return AsyncWireflowClient(api_key=self.api_key, base_url=self.base_url, **kwargs)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def running_server(
    home: str | os.PathLike[str] | None = None,
    *,
    api_key: str | None = TEST_API_KEY,
    key_via: str = "env",
    credits: float | None = None,
    model_latency: float | None = 0.0,
    rate_limit: int | None = None,
    max_body_bytes: int | None = None,
    extra_args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    startup_timeout: float = 60.0,
) -> Iterator[RunningServer]:
    """Start ``wireflow-nb serve`` on 127.0.0.1 (a free port), yield it, stop it.

    ``api_key=None`` starts it without a key (loopback only). ``key_via`` is ``"env"``
    (``WIREFLOW_API_KEY``) or ``"arg"`` (``--api-key``). ``home=None``: a temporary home,
    deleted afterwards.
    """
    made_home = home is None
    home_path = Path(tempfile.mkdtemp(prefix="wireflow-serve-")) if home is None else Path(home)
    home_path.mkdir(parents=True, exist_ok=True)
    argv = [*serve_command(), "serve", "--host", "127.0.0.1", "--port", "0", "--home", str(home_path)]
    child_env = {k: v for k, v in os.environ.items() if k != "WIREFLOW_API_KEY"}
    child_env.update(env or {})
    child_env["PYTHONUNBUFFERED"] = "1"
    child_env["WIREFLOW_NB_HOME"] = str(home_path)
    if api_key is not None:
        if key_via == "arg":
            argv += ["--api-key", api_key]
        else:
            child_env["WIREFLOW_API_KEY"] = api_key
    if credits is not None:
        argv += ["--credits", str(credits)]
    if model_latency is not None:
        argv += ["--model-latency", str(model_latency)]
    if rate_limit is not None:
        argv += ["--rate-limit", str(rate_limit)]
    if max_body_bytes is not None:
        argv += ["--max-body-bytes", str(max_body_bytes)]
    argv += list(extra_args)

    process = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=child_env,
    )
    output: list[str] = []
    found: dict[str, str] = {}
    announced = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            match = _BANNER.search(line)
            if match and "root" not in found:
                found["root"] = match.group(1)
                announced.set()
        announced.set()  # the process ended: stop waiting

    reader = threading.Thread(target=read, name="wireflow-serve-output", daemon=True)
    reader.start()
    try:
        announced.wait(startup_timeout)
        if "root" not in found:
            raise RuntimeError(
                f"wireflow-nb serve did not start (exit code {process.poll()}):\n{''.join(output)}"
            )
        server = RunningServer(process, found["root"], home_path, api_key, output)
        try:
            wait_until(
                lambda: process.poll() is not None or _answers(f"{server.base_url}/openapi.json"),
                timeout=startup_timeout,
                message="the server to answer",
            )
        except TimeoutError:
            raise RuntimeError(f"wireflow-nb serve does not answer:\n{server.log}") from None
        if process.poll() is not None:
            raise RuntimeError(f"wireflow-nb serve exited with {process.returncode}:\n{server.log}")
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
        reader.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
        if made_home:
            shutil.rmtree(home_path, ignore_errors=True)


@pytest.fixture(scope="module")
def wireflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with ``TEST_API_KEY``, no model latency, default credits (module scope)."""
    with running_server(tmp_path_factory.mktemp("serve-home")) as server:
        yield server


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server started without a key (loopback clients only), module scope."""
    with running_server(tmp_path_factory.mktemp("serve-open-home"), api_key=None) as server:
        yield server
