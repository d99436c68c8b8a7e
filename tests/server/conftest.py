"""The shared server fixtures (``tests/_servers.py``) for the tests of this folder."""

from __future__ import annotations

from tests._servers import open_server, wireflow_server

__all__ = ["open_server", "wireflow_server"]
