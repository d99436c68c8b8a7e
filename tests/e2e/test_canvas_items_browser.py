"""Groups, bypass and blueprints in a real JupyterLab, driven by the real mouse and keyboard.

- ``notebooks/canvas_items_test.ipynb``: a group ``g1`` (prompt, image) and ``resize``
  alone, and a blueprint "Fox pair" saved before the editor is made. Dragging the group's
  title bar moves its nodes (and only them) in the kernel; a click on the blueprint's
  palette button adds its nodes, with new ids, inside a new group.
- ``notebooks/bypass_app_test.ipynb``: a 120x80 picture -> resize to 32x32 in a
  ``WorkflowApp``; Ctrl+B on the selected resize node, then Run: the output image is the
  picture's own size and resize did not run.
"""

from __future__ import annotations

import pytest

from .lab import EditorHandle, NotebookPage, run_editor, wait_until

pytestmark = pytest.mark.e2e

POSITIONS = "{n.id: [n.position.x, n.position.y] for n in editor.workflow.nodes}"


def _open(open_notebook, name: str) -> EditorHandle:
    nb: NotebookPage = open_notebook(name)
    return run_editor(nb)


def test_dragging_a_group_title_moves_its_nodes(open_notebook) -> None:
    editor = _open(open_notebook, "canvas_items_test.ipynb")
    before = editor.nb.eval_json(POSITIONS)
    scale = editor.page_to_world_scale()
    gx, gy = editor.nb.eval_json("list(driver.group_title('g1'))")
    start = editor.to_page(gx, gy)
    dx, dy = 140.0, 90.0  # page px
    editor.drag(start, (start[0] + dx, start[1] + dy), steps=12)
    after = editor.nb.wait_python(POSITIONS, lambda p: p["prompt"] != before["prompt"], timeout=15)
    tol = 2.0 * scale + 0.5
    for node_id in ("prompt", "image"):
        want = (before[node_id][0] + dx * scale, before[node_id][1] + dy * scale)
        got = after[node_id]
        assert abs(got[0] - want[0]) <= tol and abs(got[1] - want[1]) <= tol, (node_id, got, want, tol)
    assert after["resize"] == before["resize"]  # not in the group
    # one step of the history, as a node drag
    assert editor.nb.eval_json("editor.state.history.undo_stack[-1].label") == "move 2 nodes"
    editor.nb.assert_no_errors()


def test_a_blueprint_palette_click_inserts_its_nodes_in_a_group_with_new_ids(open_notebook) -> None:
    editor = _open(open_notebook, "canvas_items_test.ipynb")
    before = editor.node_ids()
    pixels = editor.canvas.pixel_stats()
    button = editor.nb.widget("wf-palette-blueprint-fox-pair")
    button.wait_for(timeout=30_000)
    button.click()
    after = editor.nb.wait_python(
        "[n.id for n in editor.workflow.nodes]", lambda ids: len(ids) == len(before) + 2, timeout=15
    )
    new = [n for n in after if n not in before]
    assert len(new) == 2 and not set(new) & set(before), (before, after)
    group = editor.nb.eval_json(
        f"(lambda g: g and [g.title, list(g.nodes)])(editor.workflow.group_of({new[0]!r}))"
    )
    assert group == ["Fox pair", new]
    # the edge between them came along, on the new ids
    edges = editor.nb.eval_json(
        f"[[e.source, e.target] for e in editor.workflow.edges if e.source in {new!r}]"
    )
    assert edges == [new]
    editor.canvas.wait_changed(pixels)
    # one undo takes the whole insert back
    editor.nb.widget("wf-btn-undo").click()
    editor.nb.wait_python("[n.id for n in editor.workflow.nodes]", lambda ids: ids == before, timeout=15)
    assert editor.nb.eval_json("[g.id for g in editor.workflow.groups]") == ["g1"]
    editor.nb.assert_no_errors()


def test_a_bypassed_resize_leaves_the_picture_its_size(open_notebook) -> None:
    nb: NotebookPage = open_notebook("bypass_app_test.ipynb")
    nb.run_all()
    editor = EditorHandle(nb, "app.editor")
    editor.canvas.wait_nonblank()
    nb.assert_no_errors()
    run = nb.panel.locator(".wf-app .wf-app-run").first

    # without bypass, resize makes it 32x32
    run.click()
    sizes = nb.wait_python("output_sizes()", lambda s: bool(s) and "resize" in s, timeout=60)
    assert sizes == {"photo": [120, 80], "resize": [32, 32]}, sizes

    # select resize with the mouse, Ctrl+B on the canvas
    editor.click(editor.node_grab_point("resize"))
    nb.wait_python("editor.selected_node_ids", lambda ids: ids == ["resize"])
    nb.page.keyboard.press("Control+b")
    nb.wait_python("flow.bypassed", lambda ids: ids == ["resize"])
    runs_before = nb.eval_json("len(app._runs)")
    run.click()
    wait_until(
        lambda: nb.eval_json("len(app._runs)") > runs_before, timeout=30, message="a second run started"
    )
    sizes = nb.wait_python("output_sizes()", lambda s: s is not None, timeout=60)
    # the resize did not run: the last image is the picture's own size
    assert sizes == {"photo": [120, 80]}, sizes
    assert nb.eval_json("app.state.status") == "COMPLETED"
    nb.assert_no_errors()
