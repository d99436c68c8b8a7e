"""Engine fixtures shared by ``tests/engine`` and ``tests/mutation``: an isolated catalog
(a test's ``@node_type`` stays in the test) and throwaway engines closed at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wireflow_nb.catalog import Catalog, builtin_catalog
from wireflow_nb.engine import LocalEngine

__all__ = ["catalog", "make_engine"]


@pytest.fixture
def catalog() -> Catalog:
    """The built-ins only, so a test's @node_type registrations stay in the test."""
    return builtin_catalog()


@pytest.fixture
def make_engine(catalog: Catalog) -> Iterator[Callable[..., LocalEngine]]:
    """``make_engine(home=..., **kw)``: engines closed at the end of the test."""
    made: list[LocalEngine] = []

    def make(home: str | Path = ":memory:", **kwargs: Any) -> LocalEngine:
        kwargs.setdefault("catalog", catalog)
        kwargs.setdefault("model_latency", 0)
        engine = LocalEngine(home, **kwargs)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.close()
