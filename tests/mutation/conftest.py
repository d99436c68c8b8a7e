"""Fixtures of the tests written against surviving mutants (``benchmarks/mutation.py``):
throwaway engines on an isolated catalog, so a test's ``@node_type`` stays in the test."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from tests._engines import catalog, make_engine
from wireflow_nb.engine import LocalEngine

__all__ = ["catalog", "make_engine"]  # the shared fixtures, found by pytest here


@pytest.fixture
def release(make_engine: Callable[..., LocalEngine]) -> Iterator[threading.Event]:
    """What a test's blocking executor waits for; set at the end of the test whatever
    happened, before its engines are closed (so a failing test never waits it out)."""
    event = threading.Event()
    yield event
    event.set()
