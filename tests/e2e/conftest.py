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

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .lab import NotebookPage, VoilaPage

E2E_DIR = Path(__file__).resolve().parent
NOTEBOOKS = E2E_DIR / "notebooks"
REPO = E2E_DIR.parent.parent
ARTIFACTS = REPO / "test-artifacts"

CHROMIUM = os.environ.get("WIREFLOW_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 1000}


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
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class JupyterServer:
    url: str
    token: str
    root: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    _copies: int = field(default=0)

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def lab_url(self, path: str) -> str:
        return f"{self.url}/lab/tree/{path}?reset&token={self.token}"

    def voila_url(self, path: str) -> str:
        return f"{self.url}/voila/render/{path}?token={self.token}"

    def copy_notebook(self, name: str, parameters: dict[str, Any] | None = None) -> str:
        """Copy ``notebooks/name`` to a fresh name in the root; returns the new relative path."""
        self._copies += 1
        stem = Path(name).stem
        target = f"{stem}-{self._copies}.ipynb"
        nb = json.loads((NOTEBOOKS / name).read_text())
        if parameters:
            nb = _inject_parameters(nb, parameters)
        (self.root / target).write_text(json.dumps(nb, indent=1))
        return target

    def kernel_ids(self) -> set[str]:
        try:
            return {k["id"] for k in self.api("GET", "/api/kernels")}
        except (urllib.error.URLError, OSError):
            return set()

    def shutdown_kernels(self, keep: set[str] | frozenset[str] = frozenset()) -> None:
        """Shut down every kernel (and its session) but those in ``keep``."""
        try:
            for session in self.api("GET", "/api/sessions"):
                if (session.get("kernel") or {}).get("id") not in keep:
                    self.api("DELETE", f"/api/sessions/{session['id']}")
            for kernel in self.api("GET", "/api/kernels"):
                if kernel["id"] not in keep:
                    self.api("DELETE", f"/api/kernels/{kernel['id']}")
        except (urllib.error.URLError, OSError):
            pass

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def _inject_parameters(nb: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    source = "# injected by the e2e test\n" + "".join(f"{k} = {v!r}\n" for k, v in parameters.items())
    cell: dict[str, Any] = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": source,
    }
    cells = nb["cells"]
    index = next(
        (i + 1 for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])), 0
    )
    cells.insert(index, cell)
    return nb


def _write_settings(settings: Path) -> None:
    def put(plugin: str, values: dict[str, Any]) -> None:
        path = settings / plugin
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))

    # No news toast over the page, no update check (offline).
    put(
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings",
        {"fetchNews": "false", "checkForUpdates": False},
    )
    # Keep every cell (and its widget views) in the DOM: no virtual scrolling.
    put("@jupyterlab/notebook-extension/tracker.jupyterlab-settings", {"windowingMode": "none"})


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    base = tmp_path_factory.mktemp("lab")
    root, home, settings, ws = base / "root", base / "home", base / "settings", base / "ws"
    for d in (root, home, settings, ws):
        d.mkdir()
    for nb in NOTEBOOKS.glob("*.ipynb"):
        shutil.copy(nb, root / nb.name)
    _write_settings(settings)
    wf_home = base / "wireflow-home"
    wf_home.mkdir(mode=0o700)  # private, as the engine makes a home (else it warns in the notebook)
    wf_home.chmod(0o700)

    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        JUPYTER_PLATFORM_DIRS="1",
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_DATA_DIR=str(home / ".local/share/jupyter"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / ".ipython"),
        WIREFLOW_NB_HOME=str(wf_home),
        WIREFLOW_NB_MODEL_LATENCY="0.3",
        # the kernel imports the checkout under test, whatever is installed
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p),
    )
    env.pop("WIREFLOW_API_KEY", None)
    env.pop("WIREFLOW_BASE_URL", None)
    log_path = base / "jupyter-server.log"
    log = log_path.open("wb")
    cmd = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
        "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}", "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=True", "--allow-root",
        f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={ws}", "--LabApp.expose_app_in_browser=True",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = JupyterServer(
        url=f"http://127.0.0.1:{port}", token=token, root=root, log_path=log_path, process=proc
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{server.log_text()[-3000:]}")
            try:
                server.api("GET", "/api/status", timeout=2)
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"jupyter lab did not answer in 60 s:\n{server.log_text()[-3000:]}"
                    ) from None
                time.sleep(0.1)
        yield server
    finally:
        _stop(server)
        log.close()
        if os.environ.get("WIREFLOW_E2E_KEEP_LOG") == "1":
            ARTIFACTS.mkdir(exist_ok=True)
            shutil.copy(log_path, ARTIFACTS / "jupyter-server.log")


def _stop(server: JupyterServer) -> None:
    proc = server.process
    if proc.poll() is None:
        server.shutdown_kernels()
        try:
            server.api("POST", "/api/shutdown", timeout=5)
        except (urllib.error.URLError, OSError):
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


# -- browser ------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _new_page(browser: Any) -> tuple[Any, Any]:
    context = browser.new_context(viewport=VIEWPORT)
    if os.environ.get("WIREFLOW_E2E_TRACE") == "1":
        context.tracing.start(screenshots=True, snapshots=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    console: list[str] = []
    page.on("console", lambda m: console.append(f"[{m.type}] {m.text}"))
    page.on("pageerror", lambda e: console.append(f"[pageerror] {e}"))
    page.console_log = console  # type: ignore[attr-defined]
    return context, page


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
