"""Real JupyterLab in real headless Chromium: fixtures for the browser tests.

Fixtures (use them from any ``tests/e2e/test_*.py``; mark tests ``@pytest.mark.e2e``):

``jupyter_server`` (session)
    A throwaway JupyterLab on a free loopback port with a fresh token, its root a temp
    folder holding copies of ``tests/e2e/notebooks/*.ipynb``, a throwaway home and
    ``WIREFLOW_NB_HOME``; always stopped at the end. ``.url``, ``.token``, ``.root``,
    ``.log_path``, ``.api(method, path)``.
``browser`` (session)
    Debian's Chromium driven by Playwright's sync API.
``page`` (function)
    A fresh browser context and page (1280x1000) that records the console; on failure
    the screenshot, console, page errors and the server log go to ``test-artifacts/``.
``open_notebook`` (function)
    ``open_notebook("editor_test.ipynb", parameters={"N": 200}) -> NotebookPage``: copies
    the notebook under a unique name (so it gets its own kernel), optionally injects a
    cell after the one tagged ``parameters``, opens it and waits for the kernel. Then
    ``nb.run_all()``, ``nb.assert_no_errors()``, ``nb.execute(code)``,
    ``nb.eval_json(expr)``, ``nb.canvas("wf-canvas")`` (see ``lab.py``).
``module_page`` (module) and ``open_notebook_on(page, server, name)``
    One notebook for all the tests of a module, reset from Python between tests (much
    faster than a fresh JupyterLab page and kernel per test); failures still leave their
    artifacts. See ``test_editor_browser.py``.
``open_voila`` (function)
    ``open_voila("smoke_widgets.ipynb") -> VoilaPage``: the notebook as a Voila page
    (``.canvas()``, ``.widget()``, ``.assert_no_errors()``; ``lab.console_errors(page,
    ignore=lab.VOILA_NOISE)`` for the console).

Every kernel started during a test is shut down after it, so tests do not share state.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from .harness import (  # re-exported: tests import them from here
    CHROMIUM,
    NOTEBOOKS,
    REPO,
    VIEWPORT,
    JupyterServer,
    launch_chromium,
    start_lab,
    stop_lab,
)
from .harness import new_page as _new_page
from .lab import NotebookPage, VoilaPage

__all__ = ["NOTEBOOKS", "REPO", "VIEWPORT", "JupyterServer"]

ARTIFACTS = REPO / "test-artifacts"


# -- failure artifacts --------------------------------------------------------------
@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _failed(node: pytest.Item) -> bool:
    return any(getattr(getattr(node, f"rep_{when}", None), "failed", False) for when in ("setup", "call"))


def artifact_dir(node: pytest.Item, create: bool = True) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", node.nodeid.split("::", 1)[-1])
    path = ARTIFACTS / "e2e" / name
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(autouse=True)
def _no_stale_artifacts(request: pytest.FixtureRequest) -> None:
    """A test's artifact folder holds its last failure only (other tests' folders, maybe
    written by a run going on in parallel, are left alone)."""
    shutil.rmtree(artifact_dir(request.node, create=False), ignore_errors=True)


# -- JupyterLab ---------------------------------------------------------------------
@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    with start_lab(tmp_path_factory.mktemp("lab")) as server:
        try:
            yield server
        finally:
            stop_lab(server)
            if os.environ.get("WIREFLOW_E2E_KEEP_LOG") == "1":
                ARTIFACTS.mkdir(exist_ok=True)
                shutil.copy(server.log_path, ARTIFACTS / "jupyter-server.log")


# -- browser ------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with launch_chromium() as browser:
        yield browser


def _save_artifacts(node: pytest.Item, page: Any, server: JupyterServer, log_start: int) -> None:
    out = artifact_dir(node)
    try:
        page.screenshot(path=str(out / "screenshot.png"), full_page=True)
    except Exception as exc:  # the page may be gone; keep the other artifacts
        (out / "screenshot-error.txt").write_text(repr(exc))
    (out / "console.log").write_text("\n".join(getattr(page, "console_log", [])) + "\n")
    log = server.log_text()
    (out / "jupyter-server.log").write_text(log)
    (out / "jupyter-server-this-test.log").write_text(log[log_start:])


def _close(context: Any, trace_to: Path | None) -> None:
    if os.environ.get("WIREFLOW_E2E_TRACE") == "1":
        context.tracing.stop(**({"path": str(trace_to)} if trace_to else {}))
    context.close()


@pytest.fixture
def page(browser: Any, jupyter_server: JupyterServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page for one test; the kernels it started are shut down after it."""
    context, page = _new_page(browser)
    log_start = len(jupyter_server.log_text())
    kernels_before = jupyter_server.kernel_ids()
    try:
        yield page
    finally:
        failed = _failed(request.node)
        if failed:
            _save_artifacts(request.node, page, jupyter_server, log_start)
        _close(context, artifact_dir(request.node) / "trace.zip" if failed else None)
        jupyter_server.shutdown_kernels(keep=kernels_before)


# Pages shared by the tests of a module (see ``module_page``), for failure artifacts.
_SHARED_PAGES: list[Any] = []


@pytest.fixture(scope="module")
def module_page(browser: Any, jupyter_server: JupyterServer) -> Iterator[Any]:
    """A page shared by the tests of one module, to open a notebook once and reset its
    state from Python between tests (``open_notebook_on(module_page, ...)``). A failing
    test still gets its screenshot, console and server log."""
    context, page = _new_page(browser)
    kernels_before = jupyter_server.kernel_ids()
    _SHARED_PAGES.append(page)
    try:
        yield page
    finally:
        _SHARED_PAGES.remove(page)
        _close(context, None)
        jupyter_server.shutdown_kernels(keep=kernels_before)


@pytest.fixture(autouse=True)
def _shared_page_artifacts(request: pytest.FixtureRequest) -> Iterator[None]:
    server: JupyterServer | None = None
    if "module_page" in request.fixturenames:
        server = request.getfixturevalue("jupyter_server")
    log_start = len(server.log_text()) if server else 0
    yield
    if server is not None and _failed(request.node):
        for page in list(_SHARED_PAGES):
            _save_artifacts(request.node, page, server, log_start)


def open_notebook_on(
    page: Any,
    server: JupyterServer,
    name: str,
    *,
    parameters: dict[str, Any] | None = None,
    fresh: bool = True,
) -> NotebookPage:
    """Open ``notebooks/name`` (a fresh copy, so a fresh kernel, unless ``fresh=False``)."""
    path = server.copy_notebook(name, parameters) if fresh or parameters else name
    nb = NotebookPage(page, server.lab_url(path), path)
    nb.open()
    return nb


@pytest.fixture
def open_notebook(page: Any, jupyter_server: JupyterServer) -> Callable[..., NotebookPage]:
    def open_(name: str, *, parameters: dict[str, Any] | None = None, fresh: bool = True) -> NotebookPage:
        return open_notebook_on(page, jupyter_server, name, parameters=parameters, fresh=fresh)

    return open_


@pytest.fixture
def open_voila(page: Any, jupyter_server: JupyterServer) -> Callable[..., VoilaPage]:
    def open_(name: str, *, parameters: dict[str, Any] | None = None) -> VoilaPage:
        path = jupyter_server.copy_notebook(name, parameters)
        view = VoilaPage(page, jupyter_server.voila_url(path), path)
        view.open()
        return view

    return open_
