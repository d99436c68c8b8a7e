"""``wireflow-nb serve``: the Executions API of the spec over a ``LocalEngine``.

``create_app(...)`` builds the ASGI app; ``serve(...)`` binds a socket and runs it with
uvicorn. Needs the ``[server]`` extra (starlette, uvicorn).
"""

from __future__ import annotations

from .app import DEFAULT_MAX_BODY_BYTES, ServedEngine, create_app
from .serve import serve

__all__ = ["DEFAULT_MAX_BODY_BYTES", "ServedEngine", "create_app", "serve"]
