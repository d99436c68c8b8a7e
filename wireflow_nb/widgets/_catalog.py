"""The catalogue ``WorkflowApp`` gives its editor: ``catalog_source``'s for the backend (the
one home of that rule), asked on the widgets' background loop for an ``AsyncBackend``, or
the one the caller passed (a ``Catalog`` or ``catalog_for``'s ``BackendCatalog``)."""

from __future__ import annotations

from typing import Any

from ..catalog import Catalog
from ..catalog_source import DEFAULT_TIMEOUT, BackendCatalog, CatalogSource, acatalog_for, catalog_for
from ._runner import is_async_backend, shared_loop

__all__ = ["editor_catalog"]


def editor_catalog(backend: Any, given: Catalog | BackendCatalog | None = None) -> BackendCatalog:
    """What the editor of an app on ``backend`` offers, and where it came from."""
    if isinstance(given, BackendCatalog):
        return given
    if isinstance(given, Catalog):
        return BackendCatalog(given, CatalogSource("given", "the catalogue given to the app"))
    if is_async_backend(backend):
        # the async client's connection pool lives on that loop; a little slack over the
        # fetch's own bound for the cache read
        return shared_loop().call(acatalog_for(backend), timeout=DEFAULT_TIMEOUT + 5)
    return catalog_for(backend)
