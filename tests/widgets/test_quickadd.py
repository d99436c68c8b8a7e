"""Quick add in the GraphEditor, driven with the browser's own canvas messages
(EditorDriver): the box (``wf-quickadd``), its field and options, keys, undo."""

from __future__ import annotations

import ipywidgets as widgets
import pytest

from wireflow_nb.testing import EditorDriver, count_messages
from wireflow_nb.widgets import GraphEditor

from .test_editor import find

DROP = (1300.0, 500.0)  # event coordinates (CSS 650, 250 at pixel ratio 2): empty


def listed(editor: GraphEditor) -> list[str]:
    return [
        b.description.split("  \u00b7  ")[0] for b in editor.quick_add.options if b.layout.display != "none"
    ]


def is_open(editor: GraphEditor) -> bool:
    return editor.quick_add.box.layout.display != "none"


@pytest.fixture
def clock(editor):
    now = [1000.0]
    editor.state.clock = lambda: now[0]
    return now


def drop_link(driver: EditorDriver, editor: GraphEditor, node: str = "image", port: str = "images") -> None:
    assert editor.state.hit(DROP[0] / 2, DROP[1] / 2).kind == "none"
    driver.drag(editor.port_position(node, port, "out"), DROP)


def test_the_box_its_field_and_options_carry_their_css_classes(editor):
    assert find(editor, "wf-quickadd") is editor.quick_add.box
    assert isinstance(find(editor, "wf-quickadd-search"), widgets.Text)
    assert all("wf-quickadd-option" in b._dom_classes for b in editor.quick_add.options)
    assert not is_open(editor)
    # over the canvas: both in the one cell of a grid
    stage = editor.quick_add.stage
    assert list(stage.children) == [editor.canvas, editor.quick_add.box]
    assert editor.canvas.layout.grid_area == editor.quick_add.box.layout.grid_area == "1 / 1"


def test_a_link_dropped_on_empty_space_lists_only_the_types_that_take_it(driver, editor):
    drop_link(driver, editor)
    assert is_open(editor)
    names = listed(editor)
    assert "Resize image" in names and "Crop image" in names
    takers = {
        s.label for s in editor.catalog if any(p.kind in ("image", "json", "any") for p in s.input_ports())
    }
    assert set(names) == takers  # the built-ins taking an image: fewer than the cap
    assert "Text to Image" not in names  # takes text only
    # at the pointer (CSS 650, 250 of 960 x 600), in percent of the canvas's width, kept
    # inside it by CSS (the browser test checks where it lands)
    margin = editor.quick_add.box.layout.margin
    assert margin.startswith(f"max(0px, min({100 * 250 / 960:.3f}%, calc({100 * 600 / 960:.3f}% - ")
    assert margin.endswith(f" 0 0 max(0px, min({100 * 650 / 960:.3f}%, calc(100% - 260px)))")
    assert len(editor.workflow.edges) == 1  # nothing added yet


def test_typing_filters_arrows_move_enter_adds_at_the_drop_point_connected_one_undo(driver, editor):
    drop_link(driver, editor)
    for k in "image":
        driver.key(k)
    assert editor.quick_add.search.value == "image"
    names = listed(editor)
    assert len(names) >= 3
    driver.key("ArrowDown")
    driver.key("ArrowDown")
    driver.key("ArrowUp")
    active = [b for b in editor.quick_add.options if "wf-quickadd-active" in b._dom_classes]
    assert len(active) == 1 and active[0] is editor.quick_add.options[1]
    assert active[0].button_style == "primary"
    chosen = editor.state.quick_add.chosen
    assert chosen is not None and chosen.label == names[1]
    driver.key("Enter")
    assert not is_open(editor)
    (new,) = {n.id for n in editor.workflow.nodes} - {"prompt", "image", "resize"}
    node = editor.workflow.node(new)
    assert node.node_type == chosen.node_type
    assert editor.port_position(new, chosen.port, "in") == pytest.approx(DROP, abs=1)
    assert [(e.source, e.source_port, e.target, e.target_port) for e in editor.workflow.edges][-1] == (
        "image",
        "images",
        new,
        chosen.port,
    )
    assert editor.selected_node_ids == [new] and "connected" in editor.status.value
    driver.key("z", ctrl=True)  # one step: node and edge go
    assert [n.id for n in editor.workflow.nodes] == ["prompt", "image", "resize"]
    assert len(editor.workflow.edges) == 1
    assert not editor.state.history.can_undo


def test_escape_closes_and_adds_nothing(driver, editor):
    drop_link(driver, editor)
    driver.key("r")
    driver.key("Escape")
    assert not is_open(editor) and editor.state.quick_add is None
    assert len(editor.workflow.nodes) == 3 and len(editor.workflow.edges) == 1
    assert not editor.state.history.can_undo
    driver.key("r")  # keys are the editor's again (nothing selected: nothing happens)
    assert len(editor.workflow.nodes) == 3


def test_the_field_typed_into_and_a_click_on_an_option(driver, editor):
    drop_link(driver, editor, "prompt", "text")
    editor.quick_add.search.value = "capt"  # what typing into the field sends
    assert listed(editor) == ["Caption image"]
    editor.quick_add.options[0].click()
    (new,) = {n.id for n in editor.workflow.nodes} - {"prompt", "image", "resize"}
    assert editor.workflow.node(new).node_type == "image:caption"
    assert ("prompt", "text", new, "text") in [
        (e.source, e.source_port, e.target, e.target_port) for e in editor.workflow.edges
    ]
    assert not is_open(editor)


def test_enter_in_the_field_adds_the_highlighted_type(driver, editor):
    drop_link(driver, editor)
    editor.quick_add.search.value = "resize"
    editor.quick_add.search._handle_custom_msg({"event": "submit"}, [])  # the field's Enter
    assert "image:resize" in [n.node_type for n in editor.workflow.nodes if n.id not in ("image", "resize")]


def test_double_click_on_empty_space_lists_every_type(driver, editor, clock):
    driver.click(*DROP)
    clock[0] += 0.25
    driver.click(DROP[0] + 2, DROP[1])
    assert is_open(editor)
    driver.key("Escape")
    driver.double_click(*DROP)  # two clicks at once
    assert is_open(editor)
    driver.key("Escape")
    clock[0] += 1
    driver.click(DROP[0] + 2, DROP[1])
    clock[0] += 0.25
    driver.click(DROP[0] + 2, DROP[1])
    assert len(listed(editor)) == 12 and editor.state.quick_add.more == len(editor.catalog) - 12
    assert f"{len(editor.catalog) - 12} more" in editor.quick_add.hint.value
    driver.key("Enter")
    (new,) = {n.id for n in editor.workflow.nodes} - {"prompt", "image", "resize"}
    x, y, _w, _h = editor.node_bounds(new)
    assert (x, y) == pytest.approx((DROP[0] + 2, DROP[1]), abs=1)
    assert len(editor.workflow.edges) == 1


def test_two_downs_500_ms_apart_open_nothing(driver, editor, clock):
    driver.click(*DROP)
    clock[0] += 0.5
    driver.click(*DROP)
    assert not is_open(editor) and editor.state.quick_add is None


def test_a_double_click_on_a_node_selects_it_and_opens_nothing(driver, editor, clock):
    for _ in range(2):
        driver.click_node("resize")
        clock[0] += 0.1
    assert not is_open(editor) and editor.selected_node_ids == ["resize"]


def test_a_press_on_the_canvas_closes_the_box(driver, editor, clock):
    drop_link(driver, editor)
    clock[0] += 5
    driver.click_node("resize")
    assert not is_open(editor) and editor.selected_node_ids == ["resize"]


def test_moves_send_nothing_and_do_no_quick_add_work(driver, editor, monkeypatch):
    """The mouse-move path of the other gestures is as before: no message for a hover,
    no clock read, no menu work."""
    from wireflow_nb.editing.quickadd import QuickAdd

    calls: list[str] = []
    for name in ("quick_add_query", "open_quick_add", "close_quick_add"):
        original = getattr(QuickAdd, name)
        monkeypatch.setattr(
            QuickAdd, name, lambda self, *a, _o=original, _n=name: calls.append(_n) or _o(self, *a)
        )
    editor.state.clock = lambda: calls.append("clock") or 0.0
    with count_messages() as log:
        for i in range(20):
            driver.move(1200 + i * 5, 480)
    assert log.count == 0 and calls == []
