"""A Jupyter server extension: the kernel's websockets send each message at once.

jupyter_server leaves Nagle's algorithm on for the kernel websocket (tornado's default;
``WebSocketHandler.set_nodelay`` is the documented switch). A widget answer is a few
small messages (``status: busy``, the ``comm_msg``, ``status: idle``); with Nagle the
second waits for the browser's ACK of the first, which Linux delays by up to 40 ms. So a
click or a drag move on any ipywidget (our canvas, a bare ipycanvas) took one round trip
plus, often, 40 ms: ``benchmarks/bench_browser.py`` measured a drag move -> frame of 52 ms
with it and 18-20 ms without it, floor and editor alike.

Installed with the package (``etc/jupyter/jupyter_server_config.d/wireflow_nb.json``
enables it); it wraps whatever kernel websocket connection class the server uses (the
default, a gateway's, another extension's) and only sets ``TCP_NODELAY`` on the
browser's socket when a kernel websocket connects. Imports nothing of the package.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["no_delay"]

logger = logging.getLogger(__name__)


def no_delay(base: type[Any]) -> type[Any]:
    """``base`` (a kernel websocket connection class) whose ``connect`` first turns Nagle's
    algorithm off on its websocket; ``base`` itself when it does so already."""
    if getattr(base, "_wireflow_no_delay", False):
        return base

    class NoDelay(base):  # type: ignore[misc, valid-type]
        _wireflow_no_delay = True

        async def connect(self) -> Any:
            try:
                self.websocket_handler.set_nodelay(True)
            except Exception:  # a closed stream: the connection fails on its own
                logger.debug("could not set TCP_NODELAY on the kernel websocket", exc_info=True)
            return await super().connect()

    NoDelay.__name__ = NoDelay.__qualname__ = f"NoDelay{base.__name__}"
    return NoDelay


def _load_jupyter_server_extension(serverapp: Any) -> None:
    settings = serverapp.web_app.settings
    base = settings.get("kernel_websocket_connection_class")
    if base is None:
        return
    settings["kernel_websocket_connection_class"] = no_delay(base)
    serverapp.log.info("wireflow_nb: kernel websockets send without delay (TCP_NODELAY)")
