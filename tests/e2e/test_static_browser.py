"""Static pictures where widgets cannot run, in real JupyterLab (``widgets/_static.py``).

- With a kernel: the app's output shows the live widget only (not the picture too), and
  the picture re-sent when a run ends (``update_display``) reaches the notebook's model
  (the saved file has the run's badges) while the canvas, rendered again as a new view
  of the same models, keeps its pixels.
- With no kernel: the notebook executed elsewhere (nbclient, so JupyterLab does not
  trust it) shows the picture, not "Error displaying widget".
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from .harness import NOTEBOOKS, REPO, new_page, start_lab
from .lab import PANEL, NotebookPage, wait_until

pytestmark = pytest.mark.e2e

APP_CELL = 0  # the code cell that displays the app (0-based among code cells)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _svg_of(page_html: str) -> str:
    found = re.search(r'class="wf-static-workflow"[^>]*src="data:image/svg\+xml;base64,([^"]+)"', page_html)
    if found is None:
        found = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"[^>]*class="wf-static-workflow"', page_html)
    assert found is not None, page_html[:500]
    return base64.b64decode(found[1]).decode()


def _app_output(nb: NotebookPage) -> Any:
    return nb.panel.locator(".jp-CodeCell").nth(APP_CELL).locator(".jp-OutputArea-output")


def test_live_widget_with_a_kernel_and_its_picture_kept_current(open_notebook: Any, jupyter_server: Any) -> None:
    nb = open_notebook("static_app.ipynb")
    nb.run_all()
    nb.wait_python("app.node_badges", lambda b: b == {"prompt": "COMPLETED", "image": "COMPLETED"}, timeout=60)
    outputs = _app_output(nb)
    assert outputs.count() == 1  # one output: the widget (the picture is another mimetype of it)
    wait_until(lambda: nb.panel.locator(".wf-app").count() == 1, timeout=30, message="the app's view")
    assert outputs.first.locator(".wf-app").count() == 1
    assert nb.panel.locator(".wf-static, img.wf-static-workflow").count() == 0  # not the picture too
    # the run's end re-sent the display: a new view of the same canvas models, not blank
    nb.canvas("wf-canvas").wait_nonblank()
    nb.assert_no_errors()

    nb.save()
    saved = json.loads((jupyter_server.root / nb.path).read_text())
    code = [c for c in saved["cells"] if c["cell_type"] == "code"]
    (shown,) = code[APP_CELL]["outputs"]
    assert WIDGET_VIEW in shown["data"]
    page_html = "".join(shown["data"]["text/html"])
    svg = _svg_of(page_html)
    assert svg.count('class="wf-badge" data-status="COMPLETED"') == 2  # the run, not the first display
    assert 'class="wf-thumb"' in svg


def test_picture_not_an_error_without_a_kernel(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("WIREFLOW_NB_MODEL_LATENCY", "0.05")
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    nb_file = nbformat.read(NOTEBOOKS / "static_app.ipynb", as_version=4)
    NotebookClient(nb_file, timeout=120, kernel_name="python3").execute()
    # a JupyterLab that can start no kernel: the notebook opens with "No Kernel"
    (tmp_path / "lab").mkdir()
    with start_lab(tmp_path / "lab", ("--KernelSpecManager.allowed_kernelspecs=['none-here']",)) as server:
        nbformat.write(nb_file, server.root / "executed.ipynb")
        context, page = new_page(browser)
        try:
            page.goto(server.lab_url("executed.ipynb"))
            page.locator(".jp-Dialog button", has_text="No Kernel").click()
            panel = page.locator(PANEL)
            picture = panel.locator("img.wf-static-workflow")
            picture.wait_for()
            picture.scroll_into_view_if_needed()
            wait_until(
                lambda: picture.evaluate("i => i.complete && i.naturalWidth > 0"),
                timeout=15,
                message="the workflow's picture never loaded",
            )
            assert server.kernel_ids() == set()
            assert (panel.locator(".jp-KernelName").first.text_content() or "").strip() == "No Kernel"
            svg = _svg_of(picture.evaluate("i => i.outerHTML"))
            assert "Text to Image" in svg and svg.count('data-status="COMPLETED"') == 2
            texts = " ".join(panel.locator(".jp-OutputArea-output").all_text_contents())
            assert "Error displaying widget" not in texts and "Loading widget" not in texts
            assert panel.locator("img.wf-static-output").count() == 1  # the image node's output
        finally:
            context.close()
