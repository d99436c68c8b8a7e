"""Blueprints in the editor, driven like a user: select with the mouse (``EditorDriver``
sends the browser's own canvas messages), Save as blueprint through the form, the
palette's Blueprints category, a click inserting in view, one undo step, import/export."""

from __future__ import annotations

import json
from pathlib import Path

import ipywidgets as widgets

from wireflow_nb import Blueprint, blueprints
from wireflow_nb.blueprints import blueprint_folder
from wireflow_nb.testing import EditorDriver
from wireflow_nb.widgets import GraphEditor


def find(root: widgets.Widget, css: str) -> list[widgets.Widget]:
    """Widgets under ``root`` (in the displayed tree) carrying the CSS class ``css``."""
    out = [root] if css in getattr(root, "_dom_classes", ()) else []
    for child in getattr(root, "children", ()):
        out += find(child, css)
    return out


def one(root: widgets.Widget, css: str) -> widgets.Widget:
    (w,) = find(root, css)
    return w


def shown(w: widgets.Widget) -> bool:
    return w.layout.display != "none"


def save_through_form(editor: GraphEditor, name: str, category: str = "mine") -> None:
    one(editor, "wf-blueprint-save").click()
    form = one(editor, "wf-blueprint-form")
    assert shown(form)
    one(form, "wf-blueprint-name").value = name
    one(form, "wf-blueprint-category").value = category
    one(form, "wf-blueprint-form-save").click()


def test_select_with_the_mouse_save_through_the_form_and_the_palette_shows_it(
    driver: EditorDriver, editor: GraphEditor
) -> None:
    assert find(editor, "wf-palette-blueprint-fox-pair") == []
    driver.drag((20, 20), (1300, 400))  # a selection box around prompt and image
    assert editor.selected_node_ids == ["prompt", "image"]
    save_through_form(editor, "Fox pair")
    assert not shown(one(editor, "wf-blueprint-form"))
    (bp,) = blueprints()
    assert (bp.name, bp.category, [n["id"] for n in bp.nodes]) == ("Fox pair", "mine", ["prompt", "image"])
    assert bp.path == blueprint_folder() / "fox-pair.json"
    button = one(editor.palette, "wf-palette-blueprint-fox-pair")
    assert button.description == "Fox pair"
    assert "saved blueprint Fox pair" in editor.status.value


def test_the_form_refuses_nothing_selected_and_a_name_taken(
    driver: EditorDriver, editor: GraphEditor
) -> None:
    one(editor, "wf-blueprint-save").click()
    assert not shown(one(editor, "wf-blueprint-form"))
    assert "select nodes" in editor.status.value
    driver.click_node("resize")
    save_through_form(editor, "R")
    driver.click_node("image")
    save_through_form(editor, "r")
    form = one(editor, "wf-blueprint-form")
    assert shown(form) and "another name" in one(form, "wf-blueprint-form-message").value
    assert [b.nodes[0]["id"] for b in blueprints()] == ["resize"]


def test_a_palette_click_inserts_in_view_in_a_group_and_undo_takes_it_back(
    driver: EditorDriver, editor: GraphEditor
) -> None:
    driver.drag((20, 20), (1300, 400))
    save_through_form(editor, "Fox pair")
    before = [n.id for n in editor.workflow.nodes]
    one(editor.palette, "wf-palette-blueprint-fox-pair").click()
    new = [n.id for n in editor.workflow.nodes if n.id not in before]
    assert len(new) == 2 and not set(new) & set(before)
    group = editor.workflow.group_of(new[0])
    assert group is not None and group.title == "Fox pair" and set(group.nodes) == set(new)
    assert [(e.source, e.target) for e in editor.workflow.edges if e.source in new] == [(new[0], new[1])]
    assert editor.selected_node_ids == new
    # in view: both new nodes' boxes lie inside the canvas
    for node_id in new:
        x, y, w, h = editor.node_bounds(node_id)
        assert x >= 0 and x + w <= editor.width * editor.pixel_ratio, (node_id, x, w)
        assert y >= 0 and y + h <= editor.height * editor.pixel_ratio, (node_id, y, h)
    # a second click: other ids
    one(editor.palette, "wf-palette-blueprint-fox-pair").click()
    assert len(editor.workflow.nodes) == len(before) + 4
    driver.key("z", ctrl=True)
    driver.key("z", ctrl=True)
    assert [n.id for n in editor.workflow.nodes] == before and editor.workflow.groups == []


def test_the_palette_search_filters_blueprints(driver: EditorDriver, editor: GraphEditor) -> None:
    driver.click_node("resize")
    save_through_form(editor, "Shrinker", category="images")
    section = editor.blueprint_section
    editor.search.value = "shrink"
    assert shown(section) and one(section, "wf-palette-blueprint-shrinker") in section.list.children
    editor.search.value = "zzz-nothing"
    assert not shown(section)
    editor.search.value = ""
    assert shown(section)


def test_export_and_import(tmp_path: Path, driver: EditorDriver, editor: GraphEditor) -> None:
    driver.click_node("image")
    save_through_form(editor, "Imager")
    out = editor.export_blueprint("imager", tmp_path / "shared.json")
    assert Blueprint.load(out).name == "Imager"
    # another user imports it: the file under another name
    body = json.loads(out.read_text())
    body["name"] = "Imager from Ann"
    (tmp_path / "ann.json").write_text(json.dumps(body))
    other = GraphEditor()
    other.import_blueprint(tmp_path / "ann.json")
    assert {b.name for b in blueprints()} == {"Imager", "Imager from Ann"}
    assert find(other.palette, "wf-palette-blueprint-imager-from-ann")
    # the upload field does the same with the file's bytes
    body["name"] = "Uploaded"
    upload = one(other.palette, "wf-blueprint-import")
    data = json.dumps(body).encode()
    # what the browser sends when a file is chosen
    upload.set_state(
        {
            "value": [
                {
                    "name": "up.json",
                    "type": "application/json",
                    "size": len(data),
                    "content": memoryview(data),
                    "last_modified": 1764633600000,
                }
            ]
        }
    )
    assert "Uploaded" in {b.name for b in blueprints()}
    assert find(other.palette, "wf-palette-blueprint-uploaded")


def test_a_bad_file_shows_a_note_in_the_palette_not_an_error() -> None:
    folder = blueprint_folder()
    folder.mkdir(parents=True)
    (folder / "bad.json").write_text("[1, 2")
    editor = GraphEditor()
    note = one(editor.palette, "wf-palette-blueprints-skipped")
    assert "1 file skipped" in note.value and "bad.json" in note.value


def test_quick_add_by_double_click_lists_blueprints_and_inserts_one_at_the_point(
    driver: EditorDriver, editor: GraphEditor
) -> None:
    driver.drag((20, 20), (1300, 400))
    save_through_form(editor, "Fox pair")
    before = [n.id for n in editor.workflow.nodes]
    x, y = driver.empty_point()
    driver.double_click(x, y)
    menu = editor.state.quick_add
    assert menu is not None and [c.label for c in menu.found if c.item is not None] == ["Fox pair"]
    assert menu.found[-1].item is not None  # no words typed: after the node types
    for key in "fox":
        driver.key(key)
    choice = menu.found[0]  # typed words its name holds: first
    assert (choice.label, choice.category, choice.item.name) == ("Fox pair", "blueprint", "Fox pair")
    assert editor.quick_add.options[0].description.startswith("Fox pair")
    driver.key("Enter")
    new = [n.id for n in editor.workflow.nodes if n.id not in before]
    assert len(new) == 2 and not set(new) & set(before)
    group = editor.workflow.group_of(new[0])
    assert group is not None and group.title == "Fox pair"
    wx, wy = editor.state.view.to_world(x / editor.pixel_ratio, y / editor.pixel_ratio)
    top_left = min((n.position.x, n.position.y) for n in editor.workflow.nodes if n.id in new)
    assert top_left == (round(wx), round(wy)) or (abs(top_left[0] - wx) < 1 and abs(top_left[1] - wy) < 1)
    assert editor.state.quick_add is None
    driver.key("z", ctrl=True)  # one undo step takes the whole insert back
    assert [n.id for n in editor.workflow.nodes] == before and editor.workflow.groups == []
    # a dragged link lists node types only (a blueprint has no port to take it)
    driver.drag(editor.port_position("image", "images", "out"), (x, y))
    assert editor.state.quick_add is not None
    assert all(c.item is None for c in editor.state.quick_add.found)
