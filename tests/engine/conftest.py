"""Fixtures of the engine tests: throwaway engines, isolated catalogs, small workflows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wireflow_nb.catalog import Catalog, builtin_catalog
from wireflow_nb.engine import EngineEvent, LocalEngine


@pytest.fixture
def catalog() -> Catalog:
    """The built-ins only, so a test's @node_type registrations stay in the test."""
    return builtin_catalog()


@pytest.fixture
def engine(catalog: Catalog) -> Iterator[LocalEngine]:
    with LocalEngine(":memory:", catalog=catalog, model_latency=0) as eng:
        yield eng


@pytest.fixture
def make_engine(catalog: Catalog) -> Iterator[Callable[..., LocalEngine]]:
    """``make_engine(home=..., **kw)``: engines closed at the end of the test."""
    made: list[LocalEngine] = []

    def make(home: str | Path = ":memory:", **kwargs: Any) -> LocalEngine:
        kwargs.setdefault("catalog", catalog)
        kwargs.setdefault("model_latency", 0)
        eng = LocalEngine(home, **kwargs)
        made.append(eng)
        return eng

    yield make
    for eng in made:
        eng.close()


@pytest.fixture
def events(engine: LocalEngine) -> list[EngineEvent]:
    """Every event of ``engine``, in order."""
    seen: list[EngineEvent] = []
    engine.subscribe(seen.append)
    return seen
