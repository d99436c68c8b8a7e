"""``serve(...)``: bind a socket, build the app over a ``LocalEngine``, run uvicorn.

The socket is bound before anything is printed, so ``--port 0`` works (the banner names
the port the system chose) and a client that reads the banner can connect at once.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .app import DEFAULT_MAX_BODY_BYTES, ServedEngine, create_app
from .auth import is_loopback_host, key_fingerprint
from .hosts import HostPolicy
from .ratelimit import DEFAULT_RATE_LIMIT
from .routes import API_PREFIX

__all__ = ["ServeConfigError", "bind_socket", "serve", "url_host"]

from .._advice import API_KEY_ENV, SERVE_WATCH_STDIN_ENV


class ServeConfigError(ValueError):
    """The server cannot start with these settings (the message says what to change)."""


def url_host(host: str) -> str:
    """``host`` as written in a URL; a wildcard address becomes the loopback address."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    if ":" in host and not host.startswith("["):
        return f"[{host}]"
    return host


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (port 0: a free port)."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    if not infos:
        raise ServeConfigError(f"cannot resolve host {host!r}")
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ServeConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    api_key: str | None = None,
    home: str | os.PathLike[str] | None = None,
    credits: float | None = None,
    model_latency: float | None = None,
    rate_limit: int | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    public_url: str | None = None,
    allowed_hosts: Sequence[str] = (),
    allowed_origins: Sequence[str] = (),
    header_timeout: float | None = None,
    allow_url_fetch: bool = False,
    log_level: str = "warning",
    node_modules: tuple[str, ...] | list[str] = (),
    engine: ServedEngine | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> None:
    """Serve the Executions API until interrupted (Ctrl+C or SIGTERM).

    The key is ``api_key``, else ``$WIREFLOW_API_KEY``; with neither the server answers
    loopback clients only and refuses to bind any other address. ``allowed_hosts`` /
    ``allowed_origins``: more ``Host`` names and ``Origin`` s answered (``hosts``);
    ``header_timeout``: seconds a client has to send a request's headers (``protocol``,
    default 5). The engine reads no local file for a caller, and fetches http(s) URLs
    only with ``allow_url_fetch`` (never from its own machine or network):
    ``InputPolicy.served``. ``node_modules`` are imported first: the node types they
    register join the served catalogue.
    """
    import uvicorn

    from .protocol import DEFAULT_HEADER_TIMEOUT, header_timeout_protocol

    out = stdout or sys.stdout
    err = stderr or sys.stderr
    key_source = "--api-key"
    if not api_key:
        api_key = os.environ.get(API_KEY_ENV) or None
        key_source = API_KEY_ENV
    if api_key is None and not is_loopback_host(host):
        raise ServeConfigError(
            f"refusing to serve {host!r} without an API key: pass --api-key or set {API_KEY_ENV}, "
            "or bind 127.0.0.1"
        )

    try:
        # settings checked before anything binds, so a typo is a usage error
        HostPolicy(bind_host=host, allowed_hosts=allowed_hosts, allowed_origins=allowed_origins)
        protocol = header_timeout_protocol(
            DEFAULT_HEADER_TIMEOUT if header_timeout is None else header_timeout
        )
    except ValueError as exc:
        raise ServeConfigError(str(exc)) from None

    _import_node_modules(node_modules)
    sock = bind_socket(host, port)
    bound_port = sock.getsockname()[1]
    root = public_url.rstrip("/") if public_url else f"http://{url_host(host)}:{bound_port}"

    owns_engine = engine is None
    if engine is None:
        from ..engine import InputPolicy, LocalEngine

        options: dict[str, Any] = {"input_policy": InputPolicy.served(allow_url_fetch=allow_url_fetch)}
        if credits is not None:
            options["credits"] = credits
        if model_latency is not None:
            options["model_latency"] = model_latency
        engine = LocalEngine(home, **options)
    try:
        app = create_app(
            engine,
            api_key=api_key,
            rate_limit=rate_limit,
            max_body_bytes=max_body_bytes,
            public_url=root,
            close_engine=owns_engine,
            bind_host=host,
            allowed_hosts=allowed_hosts,
            allowed_origins=allowed_origins,
        )
        _print_banner(
            out,
            err,
            engine,
            root=root,
            home=home,
            api_key=api_key,
            key_source=key_source,
            rate_limit=rate_limit,
        )
        config = uvicorn.Config(
            app,
            http=protocol,
            log_level=log_level,
            access_log=log_level in ("debug", "info"),
            lifespan="on",
        )
        server = uvicorn.Server(config)
        if os.environ.get(SERVE_WATCH_STDIN_ENV) == "1":
            _stop_when_stdin_closes(server)
        server.run(sockets=[sock])
    finally:
        sock.close()
        if owns_engine:
            engine.close()


def _stop_when_stdin_closes(server: Any) -> None:
    """Stop ``server`` (uvicorn's clean exit) when stdin reaches its end: the process that
    holds the pipe's other end has exited, however it ended."""
    import threading

    def watch() -> None:
        try:
            while sys.stdin.buffer.read(65536):
                pass
        except (OSError, ValueError):
            pass
        server.should_exit = True

    threading.Thread(target=watch, name="wireflow-serve-stdin", daemon=True).start()


def _import_node_modules(names: tuple[str, ...] | list[str]) -> None:
    """Import each module (``--nodes``); its ``@node_type`` functions register in the
    default catalogue the served engine uses."""
    import importlib

    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ServeConfigError(
                f"--nodes {name}: cannot import it ({exc}); give a module on PYTHONPATH, e.g. my_nodes"
            ) from None


def _print_banner(
    out: TextIO,
    err: TextIO,
    engine: ServedEngine,
    *,
    root: str,
    home: str | os.PathLike[str] | None,
    api_key: str | None,
    key_source: str,
    rate_limit: int | None,
) -> None:
    base = f"{root}{API_PREFIX}"
    engine_home = getattr(engine, "home", None) or home
    lines = [f"wireflow-nb serve: Executions API at {base}"]
    if engine_home is not None:
        lines.append(f"  home:     {Path(engine_home) if not isinstance(engine_home, Path) else engine_home}")
    try:
        balance = engine.credits_balance()
    except Exception:  # the banner never stops the server
        balance = None
    if balance is not None:
        lines.append(f"  credits:  {int(balance) if float(balance).is_integer() else balance}")
    if api_key:
        lines.append(
            f"  auth:     bearer key required (from {key_source}; sha256 fingerprint {key_fingerprint(api_key)[:12]})"
        )
    else:
        lines.append("  auth:     none (loopback clients only)")
    lines.append(f"  rate:     {rate_limit or DEFAULT_RATE_LIMIT} requests/minute per key")
    policy = getattr(engine, "input_policy", None)
    if policy is not None and not policy.local_files:
        fetch = "public http(s) URLs too" if policy.url_fetch else "no URLs (--allow-url-fetch)"
        lines.append(f"  inputs:   data: URLs and this server's outputs; no local files; {fetch}")
    lines.append(f"  openapi:  {base}/openapi.json")
    auth_header = f' -H "Authorization: Bearer ${API_KEY_ENV}"' if api_key else ""
    lines.append(f"  try:      curl{auth_header} {base}/developer/usage")
    lines.append(f"  python:   WireflowClient(base_url={base!r})")
    lines.append("Press Ctrl+C to stop.")
    print("\n".join(lines), file=out, flush=True)
    if not api_key:
        print(
            f"warning: no API key (--api-key or {API_KEY_ENV}): serving without authentication, "
            "to loopback clients only",
            file=err,
            flush=True,
        )
