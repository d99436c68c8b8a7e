"""The Jupyter server extension: kernel websockets without Nagle's delay (``_server_ext``).

Attack-free but easy to lose: the class wrapping, the loader, and the config file the
wheel installs (without it the extension is never loaded and every widget answer may wait
40 ms for a delayed ACK: ``benchmarks/bench_browser.py``)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from types import SimpleNamespace
from typing import Any
from unittest import mock

import tornado.httputil
import tornado.web
import tornado.websocket
from jupyter_server.services.kernels.connection.base import BaseKernelWebsocketConnection
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

import wireflow_nb
from wireflow_nb._server_ext import _load_jupyter_server_extension, no_delay


class Recorded(BaseKernelWebsocketConnection):
    calls: list[str]

    async def connect(self) -> Any:
        self.calls.append("connect")
        return "connected"


def handler(calls: list[str]) -> tornado.websocket.WebSocketHandler:
    start = tornado.httputil.RequestStartLine("GET", "/api/kernels/k/channels", "HTTP/1.1")
    headers = tornado.httputil.HTTPHeaders({"Host": "127.0.0.1"})
    request = tornado.httputil.HTTPServerRequest(start_line=start, headers=headers, connection=mock.Mock())
    ws = tornado.websocket.WebSocketHandler(tornado.web.Application(), request)
    ws.set_nodelay = lambda value: calls.append(f"nodelay={value}")  # type: ignore[method-assign]
    return ws


def test_the_connection_turns_nagle_off_before_it_connects() -> None:
    calls: list[str] = []
    cls = no_delay(Recorded)
    assert issubclass(cls, Recorded) and cls is not Recorded
    connection = cls(websocket_handler=handler(calls))
    connection.calls = calls
    assert asyncio.run(connection.connect()) == "connected"
    assert calls == ["nodelay=True", "connect"]


def test_a_closed_stream_does_not_stop_the_connection() -> None:
    calls: list[str] = []
    ws = handler(calls)

    def closed(value: bool) -> None:
        raise tornado.websocket.WebSocketClosedError()

    ws.set_nodelay = closed  # type: ignore[method-assign]
    connection = no_delay(Recorded)(websocket_handler=ws)
    connection.calls = calls
    assert asyncio.run(connection.connect()) == "connected" and calls == ["connect"]


def test_wrapping_twice_is_wrapping_once() -> None:
    once = no_delay(ZMQChannelsWebsocketConnection)
    assert no_delay(once) is once
    assert issubclass(once, ZMQChannelsWebsocketConnection)


def test_the_loader_wraps_the_servers_class_whatever_it_is() -> None:
    settings: dict[str, Any] = {"kernel_websocket_connection_class": ZMQChannelsWebsocketConnection}
    app = SimpleNamespace(web_app=SimpleNamespace(settings=settings), log=mock.Mock())
    _load_jupyter_server_extension(app)
    wrapped = settings["kernel_websocket_connection_class"]
    assert wrapped is not ZMQChannelsWebsocketConnection
    assert issubclass(wrapped, ZMQChannelsWebsocketConnection)  # a gateway's class would stay a gateway's
    _load_jupyter_server_extension(app)  # loaded twice: still one wrapper
    assert settings["kernel_websocket_connection_class"] is wrapped
    empty = SimpleNamespace(web_app=SimpleNamespace(settings={}), log=mock.Mock())
    _load_jupyter_server_extension(empty)
    assert empty.web_app.settings == {}


def test_the_installed_package_enables_the_extension() -> None:
    assert wireflow_nb._jupyter_server_extension_points() == [{"module": "wireflow_nb._server_ext"}]
    listed = subprocess.run(
        [sys.executable, "-m", "jupyter", "server", "extension", "list"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    text = listed.stdout + listed.stderr
    lines = [line for line in text.splitlines() if "wireflow_nb" in line]
    assert any("enabled" in line for line in lines), text
    assert any("OK" in line for line in lines), text
