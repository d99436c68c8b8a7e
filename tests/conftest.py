"""Shared test configuration."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_SPEC = REPO.parent / "shared" / "spec"
VENDORED_SPEC = REPO / "tests" / "spec"
SPEC_ENV = "WIREFLOW_SPEC_DIR"
#: Tests that may be skipped or xfailed, each with its reason (reviewed like code).
SKIP_ALLOWLIST = Path(os.environ.get("WIREFLOW_SKIP_ALLOWLIST") or REPO / "tests" / "skip-allowlist.txt")


def resolve_spec_dir(
    env: Mapping[str, str] = os.environ, shared: Path = SHARED_SPEC, vendored: Path = VENDORED_SPEC
) -> Path:
    """Where the API reference and its examples are read from, in one order: the
    ``WIREFLOW_SPEC_DIR`` variable (an error if it names no spec), else ``../shared/spec``
    beside the checkout, else the copy vendored under ``tests/spec``."""
    value = env.get(SPEC_ENV, "").strip()
    if value:
        chosen = Path(value)
        if not (chosen / "examples").is_dir():
            raise pytest.UsageError(f"{SPEC_ENV}={value!r} has no examples/ folder; point it at a spec folder")
        return chosen
    if (shared / "examples").is_dir():
        return shared
    return vendored


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes to the real per-user data folder."""
    if "WIREFLOW_NB_HOME" not in os.environ or os.environ.get("WIREFLOW_NB_TEST_KEEP_HOME") != "1":
        monkeypatch.setenv("WIREFLOW_NB_HOME", str(tmp_path_factory.mktemp("wfhome")))
    monkeypatch.delenv("WIREFLOW_API_KEY", raising=False)
    monkeypatch.delenv("WIREFLOW_BASE_URL", raising=False)


@pytest.fixture(scope="session")
def spec_dir() -> Path:
    return resolve_spec_dir()


def _allowlist() -> list[tuple[str, str]]:
    """``(node id prefix, reason)`` of each line ``PREFIX  # REASON`` of the allowlist."""
    entries = []
    for line in SKIP_ALLOWLIST.read_text(encoding="utf-8").splitlines() if SKIP_ALLOWLIST.exists() else []:
        prefix, _, reason = line.partition("#")
        if prefix.strip() and reason.strip():
            entries.append((prefix.strip(), reason.strip()))
    return entries


def _unlisted_skips(reporter: Any) -> list[str]:
    allowed = _allowlist()
    return [
        f"{kind}: {report.nodeid}"
        for kind in ("skipped", "xfailed", "xpassed")
        for report in reporter.stats.get(kind, [])
        if not any(getattr(report, "nodeid", "").startswith(prefix) for prefix, _ in allowed)
    ]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped or xfailed test fails the run unless the allowlist names it with a reason:
    a test that silently does not run proves nothing (a missing tool, a missing file)."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and _unlisted_skips(reporter) and session.exitstatus in (0, 5):
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    unlisted = _unlisted_skips(terminalreporter)
    if unlisted:
        terminalreporter.section("skipped but not in tests/skip-allowlist.txt", sep="=", red=True, bold=True)
        for line in unlisted:
            terminalreporter.line(line, red=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in the
    main thread while its browser lives, and ``asyncio.run`` in any later test would fail."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
