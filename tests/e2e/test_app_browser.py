"""WorkflowApp in a real JupyterLab in real Chromium, with the quickstart notebook:

Run All shows no error and the picture; pressing Run in the app moves a node's badge
RUNNING then COMPLETED and adds a history row; selecting the image node on the canvas shows
its picture; the video output plays; Restore brings an older workflow back; the quickstart
also runs as a standalone page under Voila. A screenshot of the app is left in
``test-artifacts/app-screenshot.png`` (for the README).
"""

from __future__ import annotations

import shutil
import uuid
from typing import Any

import pytest

from .conftest import ARTIFACTS, REPO, JupyterServer
from .lab import PANEL, VOILA_NOISE, EditorHandle, NotebookPage, VoilaPage, console_errors, wait_until

pytestmark = pytest.mark.e2e

QUICKSTART = REPO / "notebooks" / "01-quickstart.ipynb"
FIRST_PROMPT = "a red fox in the snow, watercolor"


def copy_quickstart(server: JupyterServer) -> str:
    target = f"quickstart-{uuid.uuid4().hex[:8]}.ipynb"
    shutil.copy(QUICKSTART, server.root / target)
    return target


def natural_widths(page: Any, selector: str) -> list[int]:
    return list(page.eval_on_selector_all(selector, "els => els.map(e => e.complete ? e.naturalWidth : 0)"))


def app_locator(nb: NotebookPage, css: str) -> Any:
    """The element of the app's first view (the cell that shows ``app``)."""
    return nb.panel.locator(f".wf-app .{css}").first


def test_quickstart_in_jupyterlab(page: Any, jupyter_server: JupyterServer) -> None:
    path = copy_quickstart(jupyter_server)
    nb = NotebookPage(page, jupyter_server.lab_url(path), path)
    nb.open()
    nb.run_all(timeout=240)
    nb.assert_no_errors()

    # the picture of step 2 (IPython Image) and the app's outputs are real images
    wait_until(
        lambda: any(w > 0 for w in natural_widths(page, f"{PANEL} .jp-RenderedImage img")),
        timeout=30,
        message="the quickstart picture",
    )
    # the video of step 5 can play: its metadata loads and it has a duration
    video = nb.panel.locator("video.wf-app-output-video").first
    video.wait_for(state="attached", timeout=30_000)
    wait_until(
        lambda: video.evaluate("v => v.readyState >= 1 && v.duration > 0"),
        timeout=30,
        message="the video's metadata (a playable MP4)",
    )

    # press Run in the app and watch the image node's badge
    nb.execute(f"flow.set_input(prompt, 'text', 'a blue whale seen from a boat {uuid.uuid4().hex[:6]}')")
    nb.execute("engine.model_latency = 1.5")
    rows_before = nb.eval_json("len(app.history.rows)")
    app_locator(nb, "wf-app-run").click()
    badge = nb.panel.locator('.wf-app .wf-app-badge[data-node="image"]').first
    wait_until(lambda: badge.get_attribute("data-status") == "RUNNING", timeout=30, message="image RUNNING")
    wait_until(
        lambda: badge.get_attribute("data-status") == "COMPLETED", timeout=60, message="image COMPLETED"
    )
    status = app_locator(nb, "wf-app-status").locator("[data-status]")
    wait_until(
        lambda: status.get_attribute("data-status") == "COMPLETED", timeout=60, message="run COMPLETED"
    )
    nb.execute("engine.model_latency = 0.3")
    rows = nb.panel.locator(".wf-app .wf-app-history-row")
    wait_until(lambda: rows.count() > rows_before, timeout=30, message="a new history row")
    nb.assert_no_errors()

    # click the image node on the canvas: the outputs show its picture
    editor = EditorHandle(nb, expr="app.editor")
    editor.click(editor.node_grab_point("image"))
    nb.wait_python("app.editor.selected_node_ids", lambda ids: ids == ["image"])
    image = nb.panel.locator(".wf-app img.wf-app-output-image").first
    image.wait_for(state="visible", timeout=30_000)
    wait_until(
        lambda: image.evaluate("i => i.complete && i.naturalWidth") == 384, timeout=30, message="picture"
    )

    # the top of the app (toolbar, badges, canvas with the thumbnail), for the README
    ARTIFACTS.mkdir(exist_ok=True)
    app_view = nb.panel.locator(".wf-app").first
    app_view.scroll_into_view_if_needed()
    box = app_view.bounding_box()
    assert box is not None
    page.screenshot(
        path=str(ARTIFACTS / "app-screenshot.png"),
        clip={"x": box["x"], "y": box["y"], "width": min(box["width"], 1100), "height": 560},
    )

    # History tab: open the oldest run, Restore it
    app_locator(nb, "wf-app-tabs").locator(".lm-TabBar-tab", has_text="History").click()
    oldest = rows.last
    oldest.locator(".wf-app-history-open").click()
    nb.wait_python("app.history.selected is not None and app.history.selected.id", bool)
    restore = app_locator(nb, "wf-app-history-restore")
    wait_until(lambda: restore.is_enabled(), timeout=10, message="Restore enabled")
    restore.click()
    nb.wait_python("app.workflow.node('prompt').inputs['text']", lambda text: text == FIRST_PROMPT)
    assert nb.eval_json("[n.id for n in app.workflow.nodes]") == ["prompt", "image"]
    nb.assert_no_errors()


def test_quickstart_under_voila(page: Any, jupyter_server: JupyterServer) -> None:
    path = copy_quickstart(jupyter_server)
    view = VoilaPage(page, jupyter_server.voila_url(path), path)
    view.open(timeout=180)
    page.locator(".wf-app").first.wait_for(timeout=180_000)
    wait_until(
        lambda: any(w > 0 for w in natural_widths(page, "img")),
        timeout=60,
        message="an image on the Voila page",
    )
    view.canvas("wf-canvas").wait_nonblank()
    view.assert_no_errors()
    assert not console_errors(page, ignore=VOILA_NOISE)
