"""``local_server()``: ``wireflow-nb serve`` in the background, and a client ready for it.

    client = wireflow_nb.local_server()   # a server on 127.0.0.1, a fresh key, a temp home
    client.workflows.list_page()          # the account API, as on the hosted service
    client.close()                        # closes the client and stops the server

This module owns starting and stopping a served engine as a subprocess: the command
(``python -m wireflow_nb.cli serve`` of this interpreter), the key (a fresh random one,
passed in the environment, never on a command line other users can read), reading the
port from the startup banner (the server binds port 0 before it prints it), waiting until
it answers, and stopping it (SIGTERM, then SIGKILL; reaped) when the client closes, a
``with`` block ends, or the interpreter (a notebook kernel) exits; a killed interpreter
closes the server's stdin, and ``serve`` stops at its end (``SERVE_WATCH_STDIN_ENV``).
``LocalServer`` is the handle; ``tests/_servers.py`` starts its servers with it too. It
may import ``client``, ``_exceptions`` and ``_advice``.
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, overload

from ._advice import API_KEY_ENV, SERVE_WATCH_STDIN_ENV
from ._exceptions import redact
from .client import AsyncWireflowClient, WireflowClient

__all__ = ["AsyncLocalServerClient", "LocalServer", "LocalServerClient", "ServerStartError", "local_server"]

#: "wireflow-nb serve: Executions API at http://127.0.0.1:PORT/api/v1" (server/serve.py)
_BANNER = re.compile(r"Executions API at (http://\S+?)/api/v1\b")
#: Seconds the server has to stop after SIGTERM before it gets SIGKILL.
_STOP_GRACE = 10.0
#: Lines of the server's output kept for ``log_tail`` and for a startup error.
_KEPT_LINES = 2000


class ServerStartError(RuntimeError):
    """``wireflow-nb serve`` exited or did not answer in time; the message ends with the
    last lines it printed (the key masked)."""


class _Process:
    """What stopping needs, apart from the handle, so that a finalizer can stop the
    server without keeping the handle alive."""

    def __init__(self, process: subprocess.Popen[str], home: Path, remove_home: bool) -> None:
        self.process = process
        self.home = home
        self.remove_home = remove_home
        self.lines: collections.deque[str] = collections.deque(maxlen=_KEPT_LINES)
        self.root_url: str | None = None
        self.announced = threading.Event()
        self.reader: threading.Thread | None = None
        self.lock = threading.Lock()

    def read_output(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        for line in stream:
            self.lines.append(line)
            if self.root_url is None and (match := _BANNER.search(line)):
                self.root_url = match.group(1)
                self.announced.set()
        self.announced.set()  # the process ended: stop waiting for a banner

    def stop(self) -> None:
        with self.lock:
            process = self.process
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=_STOP_GRACE)
                except subprocess.TimeoutExpired:
                    _kill_group(process)
                    process.wait()
            if self.reader is not None and self.reader is not threading.current_thread():
                self.reader.join(timeout=5)
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            if self.remove_home:
                shutil.rmtree(self.home, ignore_errors=True)


def _kill_group(process: subprocess.Popen[str]) -> None:
    # the server runs in its own session (pgid == pid): whatever it started dies with it
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (AttributeError, OSError):  # no process groups (Windows), or already gone
        with contextlib.suppress(OSError):
            process.kill()


class LocalServer:
    """A running ``wireflow-nb serve`` (``client.server`` of ``local_server()``).

    ``base_url`` is its API (``http://127.0.0.1:PORT/api/v1``), ``home`` the engine home
    it serves (history, saved workflows, outputs), ``running`` whether it still runs,
    ``stop()`` stops it (idempotent) and ``log_tail()`` shows what it printed last. It
    stops by itself when the handle is garbage collected or the interpreter exits, and
    when the interpreter dies without running its exit hooks (SIGKILL, a crashed kernel):
    the server watches its stdin, a pipe only this process holds open.
    """

    def __init__(self, state: _Process, api_key: str | None) -> None:
        self._state = state
        self._api_key = api_key
        assert state.root_url is not None
        self.root_url: str = state.root_url
        self._finalizer = weakref.finalize(self, state.stop)  # also runs at interpreter exit

    @classmethod
    def start(
        cls,
        *,
        home: str | os.PathLike[str] | None = None,
        api_key: str | None = None,
        nodes: Sequence[str] = (),
        model_latency: float | None = None,
        credits: float | None = None,
        port: int = 0,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> LocalServer:
        """Start ``wireflow-nb serve`` on 127.0.0.1 and return once it answers.

        ``api_key=None`` serves without a key (loopback clients only). ``home=None``: a
        new temporary home, removed when the server stops. ``env`` adds to (or replaces
        in) the environment the server inherits; ``extra_args`` are more ``serve``
        options. Raises ``ServerStartError`` if it exits or does not answer within
        ``startup_timeout`` seconds.
        """
        made_home = home is None
        home_path = Path(tempfile.mkdtemp(prefix="wireflow-serve-")) if home is None else Path(home)
        argv = [sys.executable, "-m", "wireflow_nb.cli", "serve", "--host", "127.0.0.1"]
        argv += ["--port", str(port), "--home", str(home_path)]
        for module in nodes:
            argv += ["--nodes", module]
        if model_latency is not None:
            argv += ["--model-latency", str(model_latency)]
        if credits is not None:
            argv += ["--credits", str(credits)]
        argv += list(extra_args)
        child_env = {name: value for name, value in os.environ.items() if name != API_KEY_ENV}
        child_env.update(env or {})
        child_env["PYTHONUNBUFFERED"] = "1"
        # it stops when our end of its stdin closes: when this process exits, even killed
        child_env[SERVE_WATCH_STDIN_ENV] = "1"
        if api_key is not None:
            child_env[API_KEY_ENV] = api_key  # the environment: a command line is public
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,  # never written: its end is this process's lifeline
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="replace",
                env=child_env,
                # its own session: interrupting a notebook kernel signals the kernel's
                # process group, and that must not stop the server
                start_new_session=True,
            )
        except BaseException:
            if made_home:
                shutil.rmtree(home_path, ignore_errors=True)
            raise
        state = _Process(process, home_path, made_home)
        state.reader = threading.Thread(target=state.read_output, name="wireflow-serve-output", daemon=True)
        state.reader.start()
        try:
            _wait_until_ready(state, startup_timeout, api_key)
        except BaseException:
            state.stop()
            raise
        return cls(state, api_key)

    # -- the handle -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The API base: ``http://127.0.0.1:PORT/api/v1``."""
        return f"{self.root_url}/api/v1"

    @property
    def port(self) -> int:
        return int(self.root_url.rsplit(":", 1)[1])

    @property
    def home(self) -> Path:
        """The engine home it serves (a temporary one is removed when it stops)."""
        return self._state.home

    @property
    def pid(self) -> int:
        return self._state.process.pid

    @property
    def running(self) -> bool:
        return self._state.process.poll() is None

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and wait for it; idempotent."""
        self._finalizer()

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines it printed (stdout and stderr), the key masked."""
        kept = list(self._state.lines)
        return redact("".join(kept[-lines:] if lines > 0 else []), [self._api_key])

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"LocalServer(base_url={self.base_url!r}, {state})"


def _wait_until_ready(state: _Process, timeout: float, api_key: str | None) -> None:
    import httpx

    deadline = time.monotonic() + timeout

    def failed(what: str) -> ServerStartError:
        tail = redact("".join(list(state.lines)[-15:]), [api_key]).rstrip()
        return ServerStartError(f"wireflow-nb serve {what}; its last lines:\n{tail or '(nothing)'}")

    # the banner comes once the socket listens (port 0: it names the chosen port)
    while not state.announced.wait(timeout=0.05):
        if time.monotonic() > deadline:
            raise failed(f"printed no address within {timeout:g} s")
    if state.root_url is None:
        state.process.wait()
        raise failed(f"exited with code {state.process.returncode} before it listened")
    # the app starts after the banner: wait until it answers
    url = f"{state.root_url}/api/v1/openapi.json"
    while True:
        code = state.process.poll()
        if code is not None:
            raise failed(f"exited with code {code} before it answered")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise failed(f"did not answer within {timeout:g} s")
        time.sleep(0.05)


@overload
def local_server(
    *,
    home: str | os.PathLike[str] | None = ...,
    api_key: str | None = ...,
    nodes: Sequence[str] = ...,
    model_latency: float | None = ...,
    credits: float | None = ...,
    port: int = ...,
    async_client: Literal[False] = ...,
    startup_timeout: float = ...,
    **client_options: Any,
) -> LocalServerClient: ...


@overload
def local_server(
    *,
    home: str | os.PathLike[str] | None = ...,
    api_key: str | None = ...,
    nodes: Sequence[str] = ...,
    model_latency: float | None = ...,
    credits: float | None = ...,
    port: int = ...,
    async_client: Literal[True],
    startup_timeout: float = ...,
    **client_options: Any,
) -> AsyncLocalServerClient: ...


def local_server(
    *,
    home: str | os.PathLike[str] | None = None,
    api_key: str | None = None,
    nodes: Sequence[str] = (),
    model_latency: float | None = None,
    credits: float | None = None,
    port: int = 0,
    async_client: bool = False,
    startup_timeout: float = 60.0,
    **client_options: Any,
) -> LocalServerClient | AsyncLocalServerClient:
    """Start ``wireflow-nb serve`` in the background; return a client of it, ready.

    The server binds 127.0.0.1 (``port=0``: a free port) and requires a key: ``api_key``,
    else a fresh random one that only the returned client holds (never shown: not in
    reprs, logs or errors). ``home``: the engine home to serve (default: a temporary one,
    removed when the server stops). ``nodes``: modules whose ``@node_type`` functions
    join its catalogue (``serve --nodes``; importable from the current directory or
    ``PYTHONPATH``); ``model_latency`` (seconds) and ``credits``
    (of a new home) as ``serve``'s options. ``client_options`` go to the client.

    ``client.close()`` (or the end of a ``with`` block) also stops the server; so does
    the end of the interpreter or notebook kernel. ``client.server`` is the
    ``LocalServer`` handle (``base_url``, ``home``, ``running``, ``stop()``,
    ``log_tail()``). ``async_client=True`` returns an ``AsyncWireflowClient`` whose
    ``await client.close()`` stops the server.
    """
    key = api_key or "sk-local-" + secrets.token_urlsafe(24)
    server = LocalServer.start(
        home=home,
        api_key=key,
        nodes=nodes,
        model_latency=model_latency,
        credits=credits,
        port=port,
        startup_timeout=startup_timeout,
    )
    try:
        if async_client:
            return AsyncLocalServerClient(server, api_key=key, **client_options)
        return LocalServerClient(server, api_key=key, **client_options)
    except BaseException:
        server.stop()
        raise


# -- the clients that own their server ------------------------------------------------------


def _describe(client: WireflowClient | AsyncWireflowClient, server: LocalServer) -> str:
    state = "running" if server.running else "stopped"
    return f"{type(client).__name__}(base_url={client.base_url!r}, local server {state})"


class LocalServerClient(WireflowClient):
    """A ``WireflowClient`` of the ``wireflow-nb serve`` it started (``local_server()``):
    ``close()`` and the end of a ``with`` block stop the server too."""

    def __init__(self, server: LocalServer, *, api_key: str | None, **options: Any) -> None:
        super().__init__(api_key, base_url=server.base_url, **options)
        #: The running server (``LocalServer``): ``base_url``, ``home``, ``stop()``, ...
        self.server = server

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.server.stop()

    def __repr__(self) -> str:
        return _describe(self, self.server)


class AsyncLocalServerClient(AsyncWireflowClient):
    """An ``AsyncWireflowClient`` of the ``wireflow-nb serve`` it started:
    ``await client.close()`` and the end of an ``async with`` block stop the server too
    (on a worker thread: the event loop keeps running while it stops)."""

    def __init__(self, server: LocalServer, *, api_key: str | None, **options: Any) -> None:
        super().__init__(api_key, base_url=server.base_url, **options)
        #: The running server (``LocalServer``): ``base_url``, ``home``, ``stop()``, ...
        self.server = server

    async def close(self) -> None:
        import anyio

        try:
            await super().close()
        finally:
            await anyio.to_thread.run_sync(self.server.stop)

    aclose = close

    def __repr__(self) -> str:
        return _describe(self, self.server)
