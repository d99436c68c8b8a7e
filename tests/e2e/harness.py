"""A throwaway JupyterLab and Debian's Chromium, as plain context managers: the e2e
fixtures (``conftest.py``) and the browser benchmark (``benchmarks/bench_browser.py``)
both start them from here.

``start_lab(base)``: JupyterLab on a free loopback port with a fresh token, its root
``base/root`` holding copies of ``tests/e2e/notebooks/*.ipynb``, a throwaway home and
``WIREFLOW_NB_HOME``; stopped (kernels, then the server) on exit.
``launch_chromium()``: Chromium driven by Playwright's sync API; ``new_page(browser)``
gives a 1280x1000 page that records its console in ``page.console_log``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

E2E_DIR = Path(__file__).resolve().parent
NOTEBOOKS = E2E_DIR / "notebooks"
REPO = E2E_DIR.parent.parent

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


@contextmanager
def start_lab(base: Path, extra_args: tuple[str, ...] = ()) -> Iterator[JupyterServer]:
    """A JupyterLab whose files (root, home, settings, log) live under ``base``;
    ``extra_args`` are added to its command line."""
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
        f"--LabApp.workspaces_dir={ws}", "--LabApp.expose_app_in_browser=True", *extra_args,
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
        stop_lab(server)
        log.close()


def stop_lab(server: JupyterServer) -> None:
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


@contextmanager
def launch_chromium(executable: str = CHROMIUM) -> Iterator[Any]:
    """Chromium (``executable``) driven by Playwright's sync API."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Any) -> tuple[Any, Any]:
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
