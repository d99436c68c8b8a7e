"""Fixtures of the engine tests: throwaway engines, isolated catalogs, small workflows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._engines import catalog, make_engine
from wireflow_nb.catalog import Catalog
from wireflow_nb.engine import EngineEvent, LocalEngine

__all__ = ["catalog", "make_engine"]  # the shared fixtures, found by pytest here


@pytest.fixture
def engine(catalog: Catalog) -> Iterator[LocalEngine]:
    with LocalEngine(":memory:", catalog=catalog, model_latency=0) as eng:
        yield eng


@pytest.fixture
def events(engine: LocalEngine) -> list[EngineEvent]:
    """Every event of ``engine``, in order."""
    seen: list[EngineEvent] = []
    engine.subscribe(seen.append)
    return seen
