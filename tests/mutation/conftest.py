"""Fixtures of the tests written against surviving mutants (``benchmarks/mutation.py``):
throwaway engines on an isolated catalog, so a test's ``@node_type`` stays in the test."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wireflow_nb.catalog import Catalog, builtin_catalog
from wireflow_nb.engine import LocalEngine


@pytest.fixture
def catalog() -> Catalog:
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


@pytest.fixture
def release(make_engine: Callable[..., LocalEngine]) -> Iterator[threading.Event]:
    """What a test's blocking executor waits for; set at the end of the test whatever
    happened, before its engines are closed (so a failing test never waits it out)."""
    event = threading.Event()
    yield event
    event.set()
