"""Fixtures of the app tests: a quick LocalEngine and small workflows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[object]:
    from wireflow_nb.engine import LocalEngine

    with LocalEngine(tmp_path / "home", model_latency=0.02) as local:
        yield local
