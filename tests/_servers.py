"""A real ``wireflow-nb serve`` for tests: a subprocess on a free loopback port.

    from tests._servers import running_server

    with running_server(tmp_path, api_key="sk-test-123") as server:
        client = WireflowClient(api_key=server.api_key, base_url=server.base_url)

The server binds ``127.0.0.1`` port 0 (the system picks a free port, so there is no
race between choosing a port and binding it); the package's ``LocalServer`` (the helper
behind ``wireflow_nb.local_server``) reads the port from the startup banner, polls until
the server answers, and stops it (SIGTERM, then SIGKILL) however the test ends. Pytest fixtures ``wireflow_server`` (module scope, with
a key) and ``open_server`` (module scope, no key) are ready: import them into a
``conftest.py`` (``from tests._servers import wireflow_server``) as ``tests/server`` does.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from wireflow_nb.serving import LocalServer

__all__ = [
    "TEST_API_KEY",
    "RunningServer",
    "free_port",
    "open_server",
    "running_server",
    "serve_command",
    "wait_until",
    "wireflow_server",
]

TEST_API_KEY = "sk-test-wireflow-0123456789abcdef"


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
    """A started server: the package's ``LocalServer`` handle, plus the key the test gave
    it and everything it printed (unredacted: the security tests check what it prints)."""

    handle: LocalServer
    api_key: str | None

    @property
    def process(self) -> subprocess.Popen[str]:
        """The server's process (the crash tests kill it with SIGKILL)."""
        return self.handle._state.process

    @property
    def root_url(self) -> str:
        return self.handle.root_url

    @property
    def home(self) -> Path:
        return self.handle.home

    @property
    def base_url(self) -> str:
        """The API base: ``http://127.0.0.1:PORT/api/v1``."""
        return self.handle.base_url

    @property
    def port(self) -> int:
        return self.handle.port

    @property
    def headers(self) -> dict[str, str]:
        """The ``Authorization`` header of the server's key (empty without a key)."""
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    @property
    def log(self) -> str:
        """Everything the server printed so far (stdout and stderr), as printed."""
        return "".join(self.handle._state.lines)

    def http(self, **kwargs: Any) -> httpx.Client:
        """A raw httpx client on the API base, with the key."""
        return httpx.Client(base_url=self.base_url, headers=self.headers, timeout=30.0, **kwargs)

    def client(self, **kwargs: Any) -> Any:
        from wireflow_nb.client import WireflowClient

        return WireflowClient(api_key=self.api_key, base_url=self.base_url, **kwargs)

    def async_client(self, **kwargs: Any) -> Any:
        from wireflow_nb.client import AsyncWireflowClient

        return AsyncWireflowClient(api_key=self.api_key, base_url=self.base_url, **kwargs)


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
    """Start ``wireflow-nb serve`` on 127.0.0.1 (a free port), yield it, stop it
    (``wireflow_nb.serving.LocalServer``, the package's one way to start a server).

    ``api_key=None`` starts it without a key (loopback only). ``key_via`` is ``"env"``
    (``WIREFLOW_API_KEY``) or ``"arg"`` (``--api-key``). ``home=None``: a temporary home,
    deleted afterwards.
    """
    args: list[str] = []
    if api_key is not None and key_via == "arg":
        args += ["--api-key", api_key]
    if rate_limit is not None:
        args += ["--rate-limit", str(rate_limit)]
    if max_body_bytes is not None:
        args += ["--max-body-bytes", str(max_body_bytes)]
    args += list(extra_args)
    if home is not None:
        Path(home).mkdir(parents=True, exist_ok=True)
    handle = LocalServer.start(
        home=home,
        api_key=api_key if key_via == "env" else None,
        credits=credits,
        model_latency=model_latency,
        extra_args=args,
        env=env,
        startup_timeout=startup_timeout,
    )
    try:
        yield RunningServer(handle, api_key)
    finally:
        handle.stop()


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
