"""App mode in a real browser: ``notebooks/08-app-mode.ipynb`` as a standalone Voila page
shows the form (no canvas); typing a prompt and pressing Run makes the picture appear,
with no error on the page or in the console. In JupyterLab, ticking "In form" in the
app's inspector and pressing Make form shows that form under the app, and it runs."""

from __future__ import annotations

import shutil
import uuid
from typing import Any

import pytest

from .conftest import REPO, JupyterServer
from .lab import VOILA_NOISE, EditorHandle, VoilaPage, console_errors, wait_until

pytestmark = pytest.mark.e2e

APP_MODE = REPO / "notebooks" / "08-app-mode.ipynb"


def loaded_images(page: Any, selector: str) -> list[int]:
    """Natural widths of the loaded ``<img>`` under ``selector`` (0: not loaded yet)."""
    return list(
        page.eval_on_selector_all(f"{selector} img", "els => els.map(e => e.complete ? e.naturalWidth : 0)")
    )


def test_app_mode_notebook_under_voila(page: Any, jupyter_server: JupyterServer) -> None:
    target = f"app-mode-{uuid.uuid4().hex[:8]}.ipynb"
    shutil.copy(APP_MODE, jupyter_server.root / target)
    view = VoilaPage(page, jupyter_server.voila_url(target), target)
    view.open(timeout=180)
    form = page.locator(".wf-form").first
    form.wait_for(timeout=180_000)
    # the form, not the editor: the chosen fields, a Run button, no canvas
    assert page.locator("canvas").count() == 0
    assert page.locator(".wf-form-field").count() == 3
    assert "Draw a picture" in form.locator(".wf-form-title").inner_text()
    assert form.locator(".wf-form-outputs img").count() == 0
    prompt = form.locator(".wf-form-field-prompt-text textarea")
    prompt.fill("a red kite over a green sea")
    assert form.locator(".wf-form-field-image-numImages .widget-hslider").count() == 1  # a range: a slider
    form.locator(".wf-form-run").click()
    form.locator('.wf-form-status [data-status="COMPLETED"]').wait_for(timeout=120_000)
    wait_until(
        lambda: any(w > 0 for w in loaded_images(page, ".wf-form-outputs")),
        timeout=60,
        message="the picture in the form's outputs",
    )
    assert loaded_images(page, ".wf-form-outputs") == [320]  # one picture, the workflow's width
    view.assert_no_errors()
    assert not console_errors(page, ignore=VOILA_NOISE), console_errors(page, ignore=VOILA_NOISE)


def test_make_form_in_jupyterlab(open_notebook: Any) -> None:
    nb = open_notebook("form_app_test.ipynb")
    nb.run_all()
    app = nb.panel.locator(".wf-app").first
    editor = EditorHandle(nb, "app.editor")
    editor.canvas.wait_nonblank()
    # select each node on the canvas and tick "In form" under a field of it
    editor.click(editor.node_grab_point("image"))
    nb.wait_python("app.editor.selected_node_ids", lambda ids: list(ids) == ["image"])
    app.locator(".wf-form-tick-seed input").check()
    editor.click(editor.node_grab_point("prompt"))
    nb.wait_python("app.editor.selected_node_ids", lambda ids: list(ids) == ["prompt"])
    app.locator(".wf-form-tick-text input").check()
    nb.wait_python("app.workflow.form_inputs", lambda ticked: ticked == ["image.seed", "prompt.text"])
    app.locator(".wf-app-make-form").click()
    form = app.locator(".wf-app-form .wf-form").first
    form.wait_for(timeout=30_000)
    assert form.locator(".wf-form-field").count() == 2
    assert form.locator("canvas").count() == 0
    form.locator(".wf-form-field-prompt-text textarea").fill("a blue heron")
    form.locator(".wf-form-run").click()
    form.locator('.wf-form-status [data-status="COMPLETED"]').wait_for(timeout=60_000)
    wait_until(
        lambda: loaded_images(nb.page, ".wf-app-form .wf-form-outputs") == [96],
        timeout=60,
        message="the picture in the form's outputs",
    )
    # the run had the form's prompt; the workflow in the editor kept its own
    assert nb.eval_json("app.form_area.children[0].state.request.nodes[0].inputs['text']") == "a blue heron"
    assert nb.eval_json("app.workflow.node('prompt').inputs['text']") == "a red fox"
    nb.assert_no_errors()
