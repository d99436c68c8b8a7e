"""Groups, notes and bypass in the GraphEditor, driven with the browser's own messages
(EditorDriver): keys, the title bar and the note corner, the toolbar buttons and the
inspector's fields, each one undo step."""

from __future__ import annotations

import ipywidgets as widgets

from wireflow_nb.testing import EditorDriver
from wireflow_nb.widgets import GraphEditor


def by_class(editor: GraphEditor, css: str):
    stack = list(editor.inspector.children)
    while stack:
        w = stack.pop()
        if css in w._dom_classes:
            return w
        stack.extend(getattr(w, "children", ()))
    return None


def positions(editor: GraphEditor) -> dict[str, tuple[float, float]]:
    return {n.id: (n.position.x, n.position.y) for n in editor.workflow.nodes}


def test_ctrl_g_groups_and_the_title_bar_drags_the_group(editor, driver, wf):
    editor.select(["prompt", "image"])
    driver.key("g", ctrl=True)
    (group,) = wf.groups
    assert group.nodes == ("prompt", "image")
    before = positions(editor)
    driver.drag(
        driver.group_title(group.id),
        (driver.group_title(group.id)[0] + 100, driver.group_title(group.id)[1] + 40),
    )
    after = positions(editor)
    # event pixels are twice CSS pixels (pixel ratio 2), the view is 1:1
    assert after["prompt"] == (before["prompt"][0] + 50, before["prompt"][1] + 20)
    assert after["image"] == (before["image"][0] + 50, before["image"][1] + 20)
    assert after["resize"] == before["resize"]
    driver.key("z", ctrl=True)
    assert positions(editor) == before
    driver.key("z", ctrl=True)
    assert wf.groups == []


def test_the_picked_group_edits_its_title_and_colour_in_the_inspector(editor, driver, wf):
    editor.select(["prompt"])
    editor.buttons["group"].click()
    (group,) = wf.groups
    title = by_class(editor, "wf-group-title")
    assert isinstance(title, widgets.Text) and title.value == "Group"
    title.value = "Inputs"
    by_class(editor, "wf-group-color").value = "#c2416b"
    assert (wf.groups[0].title, wf.groups[0].color) == ("Inputs", "#c2416b")
    editor.undo()
    assert wf.groups[0].color == group.color and wf.groups[0].title == "Inputs"
    editor.undo()
    assert wf.groups[0].title == "Group"
    assert by_class(editor, "wf-group-title").value == "Group", "the form shows the undone value"
    by_class(editor, "wf-group-ungroup").click()
    assert wf.groups == [] and by_class(editor, "wf-group-title") is None
    editor.undo()
    assert [g.id for g in wf.groups] == [group.id]


def test_ctrl_b_and_the_inspector_checkbox_bypass_a_node(editor, driver, wf):
    driver.click_node("resize")
    box = by_class(editor, "wf-field-bypass")
    assert isinstance(box, widgets.Checkbox) and box.value is False
    driver.key("b", ctrl=True)
    assert wf.bypassed == ["resize"]
    assert by_class(editor, "wf-field-bypass").value is True
    by_class(editor, "wf-field-bypass").value = False
    assert wf.bypassed == []
    editor.undo()
    assert wf.bypassed == ["resize"]
    editor.buttons["bypass"].click()
    assert wf.bypassed == []


def test_a_note_is_added_edited_in_the_inspector_resized_by_its_corner(editor, driver, wf):
    editor.buttons["note"].click()
    (note,) = wf.notes
    text = by_class(editor, "wf-note-text")
    assert isinstance(text, widgets.Textarea)
    text.value = "# Plan\n- fox"
    assert wf.note(note.id).text == "# Plan\n- fox"
    corner = driver.note_corner(note.id)
    driver.drag(corner, (corner[0] + 80, corner[1] + 60))
    resized = wf.note(note.id)
    assert (resized.width, resized.height) == (note.width + 40, note.height + 30)
    driver.key("z", ctrl=True)
    assert (wf.note(note.id).width, wf.note(note.id).height) == (note.width, note.height)
    driver.key("Delete")
    assert wf.notes == []


def test_the_empty_point_of_the_driver_avoids_notes(editor, wf):
    wf.add_note("cover", x=0, y=0, width=400, height=300)
    driver = EditorDriver(editor)
    x, y = driver.empty_point()
    assert editor.state.hit_canvas_item(x / editor.pixel_ratio, y / editor.pixel_ratio) is None


def test_the_app_refuses_a_run_naming_the_bypassed_node_it_cannot_pass_through(wf):
    from wireflow_nb.engine import LocalEngine
    from wireflow_nb.widgets.app import WorkflowApp

    wf.set_bypass("prompt")  # a text input: no input of its output's kind
    with LocalEngine(":memory:", model_latency=0) as engine:
        app = WorkflowApp(engine, editor=GraphEditor(wf), workflow_id="bp")
        assert app.run() is None
        assert "wf-app-problems" in app.message.value
        assert "&#x27;Text&#x27; (prompt) is bypassed" in app.message.value
        assert engine.list_executions("bp") == []
