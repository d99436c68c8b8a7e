"""The app's Load file picker in a real JupyterLab in real Chromium: the browser's file
chooser sends an output PNG, and the editor gets the workflow the PNG carries."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from .conftest import JupyterServer
from .lab import wait_until

pytestmark = pytest.mark.e2e


def test_load_file_picks_an_output_png(open_notebook: Any, jupyter_server: JupyterServer) -> None:
    name = f"owl-{uuid.uuid4().hex[:8]}.png"
    nb = open_notebook("load_file_app.ipynb", parameters={"OUTPUT": str(jupyter_server.root / name)})
    nb.run_all()
    picker = nb.panel.locator(".wf-app .wf-app-load-file").first
    picker.wait_for(state="visible", timeout=30_000)
    assert nb.eval_json("len(app.workflow.nodes)") == 0
    with nb.page.expect_file_chooser(timeout=30_000) as chosen:
        picker.click()
    chosen.value.set_files(str(jupyter_server.root / name))
    wait_until(
        lambda: nb.eval_json("app.workflow.to_request() == made.to_request()"),
        timeout=30,
        message="the workflow of the PNG in the editor",
    )
    assert nb.eval_json("[g.title for g in app.workflow.groups]") == ["Owl"]
    message = nb.panel.locator(".wf-app .wf-app-message").first
    message.filter(has_text=f"Loaded {name} (2 nodes).").wait_for(timeout=30_000)
    nb.assert_no_errors()
