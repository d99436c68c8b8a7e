"""Open and Save of the account's workflows in ``WorkflowApp``, in a real JupyterLab in real
Chromium, with ``notebooks/app_account.ipynb`` (an in-memory ``LocalEngine`` holding the
saved workflows ``fox`` = "Red fox" and ``whale`` = "Blue whale"; ``app`` starts empty).

Click Open, type in the filter, open "Red fox" and see its nodes on the canvas; drag a
node, click Save and see the new version; make a version conflict from Python behind the
app's back, click Save, choose Save as a copy and find the copy in the account. The tests
share one notebook (``module_page``) and set the app up from Python before each.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import JupyterServer, open_notebook_on
from .lab import EditorHandle, NotebookPage, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def shared(module_page: Any, jupyter_server: JupyterServer) -> NotebookPage:
    nb = open_notebook_on(module_page, jupyter_server, "app_account.ipynb")
    nb.run_all()
    nb.assert_no_errors()
    return nb


def in_app(nb: NotebookPage, css: str) -> Any:
    return nb.panel.locator(f".wf-app .{css}").first


def wait_message(nb: NotebookPage, text: str) -> str:
    message = in_app(nb, "wf-app-message")
    return wait_until(
        lambda: text in message.inner_text() and message.inner_text(),
        timeout=20,
        message=lambda: f"message {text!r}; shown: {message.inner_text()!r}",
    )


def open_fox_from_python(nb: NotebookPage) -> int:
    """The app on the saved "Red fox", as read now; its version."""
    nb.execute("app.account.close_panel()\napp.open_saved(fox.id, wait=True)")
    nb.wait_python("app.workflow_id == fox.id and len(app.workflow.nodes)", bool)
    return int(nb.eval_json("engine.workflows.get_saved(fox.id).version"))


def drag_node(nb: NotebookPage, node_id: str, dx: float, dy: float) -> list[float]:
    """Drag a node with the real mouse; its new position (as Python sees it)."""
    editor = EditorHandle(nb, "app.editor")
    before = editor.positions()[node_id]
    x, y = editor.node_grab_point(node_id)
    editor.drag((x, y), (x + dx, y + dy))
    return list(
        nb.wait_python(
            f"[app.workflow.node({node_id!r}).position.x, app.workflow.node({node_id!r}).position.y]",
            lambda pos: pos != before,
        )
    )


def test_open_filter_and_see_the_nodes_on_the_canvas(shared: NotebookPage) -> None:
    nb = shared
    nb.execute("app.account.close_panel()\napp.workflow = Workflow('empty')")  # nothing to lose
    canvas = nb.canvas("wf-canvas")
    empty = canvas.pixel_stats()

    in_app(nb, "wf-app-open").click()
    panel = in_app(nb, "wf-open-panel")
    panel.wait_for(state="visible")
    rows = nb.panel.locator(".wf-app .wf-open-row")
    wait_until(lambda: rows.count() == 2, timeout=20, message="both saved workflows listed")
    in_app(nb, "wf-open-filter").locator("input").fill("FOX")
    wait_until(lambda: rows.count() == 1, timeout=10, message="the filter keeps the fox only")
    row = rows.first
    assert "Red fox" in row.locator(".wf-open-name").inner_text()
    assert row.locator(".wf-open-nodes").inner_text().strip() == "2 nodes"
    when = row.locator(".wf-open-when").inner_text().strip()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", when), when

    row.locator(".wf-open-row-open").click()
    wait_message(nb, "Opened Red fox (version 1, 2 nodes)")
    panel.wait_for(state="detached")
    assert nb.eval_json("app.workflow_id == fox.id and [n.id for n in app.workflow.nodes]") == [
        "prompt",
        "image",
    ]
    # its nodes are drawn: the picture changed, and clicking where "image" is selects it
    canvas.wait_changed(empty)
    editor = EditorHandle(nb, "app.editor")
    editor.click(editor.node_grab_point("image"))
    nb.wait_python("app.editor.selected_node_ids", lambda ids: ids == ["image"])
    nb.assert_no_errors()


def test_edit_and_save_shows_the_saved_version(shared: NotebookPage) -> None:
    nb = shared
    version = open_fox_from_python(nb)
    moved = drag_node(nb, "image", 90, 60)

    in_app(nb, "wf-app-account-save").click()
    wait_message(nb, f"Saved Red fox (version {version + 1}).")
    saved = nb.eval_json(
        "[(s := engine.workflows.get_saved(fox.id)).version, "
        "[n['position'] for n in s.workflow['nodes'] if n['id'] == 'image'][0]]"
    )
    assert saved[0] == version + 1
    assert [saved[1]["x"], saved[1]["y"]] == moved
    nb.assert_no_errors()


def test_a_conflict_saved_as_a_copy(shared: NotebookPage) -> None:
    nb = shared
    version = open_fox_from_python(nb)
    # someone else saves the fox behind the app's back
    nb.execute(
        "theirs = engine.workflows.get(fox.id)\n"
        "theirs.set_input('prompt', 'text', 'their fox')\n"
        "engine.workflows.update(fox.id, theirs)"
    )
    moved = drag_node(nb, "prompt", 60, 90)

    in_app(nb, "wf-app-account-save").click()
    conflict = in_app(nb, "wf-conflict")
    conflict.wait_for(state="visible")
    text = conflict.inner_text()
    assert f"version {version + 1}" in text and f"version {version}" in text, text
    wait_message(nb, "Not saved")

    conflict.locator(".wf-conflict-copy").click()
    wait_message(nb, "Saved Red fox (copy) (version 1).")
    conflict.wait_for(state="detached")
    copy = nb.eval_json(
        "[(c := [s for s in engine.workflows.list() if s.name == 'Red fox (copy)'])[0].id == app.workflow_id, "
        "len(c), [n['position'] for n in engine.workflows.get_saved(c[0].id).workflow['nodes'] "
        "if n['id'] == 'prompt'][0], engine.workflows.get(fox.id).node('prompt').inputs['text']]"
    )
    assert copy[0] is True and copy[1] == 1
    assert [copy[2]["x"], copy[2]["y"]] == moved  # ours went to the copy
    assert copy[3] == "their fox"  # theirs stays as they saved it
    nb.assert_no_errors()
