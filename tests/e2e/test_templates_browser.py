"""The "New from template" gallery in a real JupyterLab in real Chromium, with
``notebooks/app_account.ipynb`` (an in-memory ``LocalEngine`` holding the saved workflows
"Red fox" and "Blue whale"; ``app`` starts empty).

Click the app's toolbar button "New from template", see the gallery's cards (the three
templates with their pictures, the two saved workflows listed from the account), pick
"Image pipeline" and see its nodes drawn on the canvas (a click where a node is selects
it); then, with a change made, pick another and answer the unsaved-changes question.
"""

from __future__ import annotations

from typing import Any

import pytest

from .lab import EditorHandle, NotebookPage, wait_until

pytestmark = pytest.mark.e2e


def in_app(nb: NotebookPage, css: str) -> Any:
    return nb.panel.locator(f".wf-app .{css}").first


def card(nb: NotebookPage, name: str) -> Any:
    return nb.panel.locator(f'.wf-app .wf-template-card:has([data-name="{name}"])').first


def test_pick_image_pipeline_from_the_gallery_and_see_its_nodes(open_notebook: Any) -> None:
    nb = open_notebook("app_account.ipynb")
    nb.run_all()
    nb.assert_no_errors()
    canvas = nb.canvas("wf-canvas")
    empty = canvas.pixel_stats()
    gallery = in_app(nb, "wf-templates")
    assert not gallery.is_visible()

    in_app(nb, "wf-btn-templates").click()
    gallery.wait_for(state="visible")
    cards = nb.panel.locator(".wf-app .wf-templates-section-package .wf-template-card")
    assert cards.count() == 3
    for name in ("text-to-image", "image-pipeline", "batch-to-video"):
        assert card(nb, name).locator(".wf-template-picture svg").count() == 1  # the static picture
    saved = nb.panel.locator(".wf-app .wf-templates-section-saved .wf-template-card")
    wait_until(lambda: saved.count() == 2, timeout=20, message="both saved workflows listed")
    assert {"Red fox", "Blue whale"} <= {saved.nth(i).locator("[data-name] b").inner_text() for i in range(2)}

    pipeline = card(nb, "image-pipeline")
    assert "Image pipeline" in pipeline.inner_text()
    pipeline.locator(".wf-template-open").click()
    nb.wait_python("len(app.workflow.nodes)", lambda n: n == 5, timeout=20)
    gallery.wait_for(state="hidden")
    editor = EditorHandle(nb, "app.editor")
    assert sorted(editor.positions()) == ["caption", "grid", "image", "prompt", "resize"]
    canvas.wait_changed(empty)
    editor.click(editor.node_grab_point("grid"))  # drawn where the editor says it is
    nb.wait_python("app.editor.selected_node_ids", lambda ids: ids == ["grid"])

    # a change, then another template: the question first, then the new workflow
    nb.execute("app.workflow.set_input('prompt', 'text', 'mine')")
    in_app(nb, "wf-btn-templates").click()
    gallery.wait_for(state="visible")
    card(nb, "text-to-image").locator(".wf-template-open").click()
    question = in_app(nb, "wf-replace-confirm")
    question.wait_for(state="visible")
    assert "Open Text to image and drop them?" in question.inner_text()
    assert nb.eval_json("app.workflow.node('prompt').inputs['text']") == "mine"
    question.locator(".wf-replace-confirm-ok").click()
    nb.wait_python(
        "[n.id for n in app.workflow.nodes]", lambda ids: ids == ["subject", "style", "prompt", "image"]
    )
    nb.assert_no_errors()
