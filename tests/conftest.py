"""Shared test configuration."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO.parent / "shared" / "spec"


def _spec_dir() -> Path:
    for candidate in (SPEC, Path(os.environ.get("WIREFLOW_SPEC_DIR", "")), REPO / "tests" / "spec"):
        if candidate and (candidate / "examples").is_dir():
            return candidate
    return SPEC


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes to the real per-user data folder."""
    if "WIREFLOW_NB_HOME" not in os.environ or os.environ.get("WIREFLOW_NB_TEST_KEEP_HOME") != "1":
        monkeypatch.setenv("WIREFLOW_NB_HOME", str(tmp_path_factory.mktemp("wfhome")))
    monkeypatch.delenv("WIREFLOW_API_KEY", raising=False)
    monkeypatch.delenv("WIREFLOW_BASE_URL", raising=False)


@pytest.fixture(scope="session")
def spec_dir() -> Path:
    return _spec_dir()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in the
    main thread while its browser lives, and ``asyncio.run`` in any later test would fail."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
