"""Quick add's pure parts: ranking, the types that can take a link, the double-click
timer, where the box goes, and the state's menu (open, filter, keys, one-step add)."""

from __future__ import annotations

import pytest

from wireflow_nb.catalog import Catalog, InputSpec, NodeSpec, OutputSpec, can_feed, default_catalog
from wireflow_nb.editing.commands import AddItems, History
from wireflow_nb.editing.quickadd import (
    MAX_CHOICES,
    Choice,
    DoubleClick,
    Link,
    choices,
    match_rank,
)
from wireflow_nb.editing.scene import Redraw

from .fixtures import drag


def spec(node_type: str, label: str, category: str, inputs=(), outputs=(), description: str = "") -> NodeSpec:
    return NodeSpec(
        node_type,
        label,
        category,
        inputs=tuple(InputSpec(n, k) for n, k in inputs),
        outputs=tuple(OutputSpec(n, k) for n, k in outputs),
        description=description,
    )


@pytest.fixture
def small() -> Catalog:
    return Catalog(
        [
            spec("image:upscale", "Upscale", "image", [("image", "image")], [("image", "image")]),
            spec("image:caption", "Caption image", "image", [("image", "image")], [("text", "text")]),
            spec("text:scale-notes", "Notes", "text", [("text", "text")], [("text", "text")], "scale words"),
            spec("model:scaler", "Big model", "scale", [("prompt", "text")], [("image", "image")]),
            spec("util:json", "Store", "utility", [("data", "json")], [("data", "json")]),
            spec("video:clip", "Clip", "video", [("video", "video")], [("video", "video")]),
        ]
    )


# -- ranking ---------------------------------------------------------------------------
def test_ranking_exact_then_prefix_then_word_then_category_then_the_rest(small):
    by_type = {s.node_type: s for s in small}
    assert match_rank(by_type["image:upscale"], "upscale") == 0  # the name is the query
    assert match_rank(by_type["image:upscale"], "Ups") == 1  # starts with it
    assert match_rank(by_type["image:caption"], "image") == 2  # a word of the name
    assert match_rank(by_type["model:scaler"], "scale") == 1  # the type's last part
    assert match_rank(by_type["model:scaler"], "mod big") == 2  # words of the name
    assert match_rank(by_type["video:clip"], "clip video") == 3  # name word + category
    assert match_rank(by_type["image:upscale"], "image") == 3  # the type's first part
    assert match_rank(by_type["image:caption"], "cap utility") == 4
    assert match_rank(by_type["util:json"], "sto util") == 3  # name word + category
    assert match_rank(by_type["text:scale-notes"], "words") == 4  # description only
    found = [c.node_type for c in choices(small, None, "scale")]
    # 'scale' starts model:scaler's and text:scale-notes' names (1, then by category)
    # before Upscale, whose name only contains it (4)
    assert found == ["model:scaler", "text:scale-notes", "image:upscale"]
    assert choices(small, None, "upscale")[0].node_type == "image:upscale"


def test_only_search_hits_are_listed_and_a_blank_query_lists_all(small):
    assert {c.node_type for c in choices(small, None, "")} == {s.node_type for s in small}
    assert choices(small, None, "nothing-like-this") == []
    # the palette's rule decides what matches (every word somewhere)
    assert {c.node_type for c in choices(small, None, "words")} == {
        s.node_type for s in small.search("words")
    }


# -- the types that can take a link -----------------------------------------------------
def test_an_output_lists_the_types_with_an_input_it_can_feed(small):
    image_out = Link("n1", "out", "image", "image")
    found = choices(small, image_out)
    assert [c.node_type for c in found] == ["image:caption", "image:upscale", "util:json"]
    # the port to connect: one of the output's own kind before a loose (json) one
    assert {c.node_type: c.port for c in found} == {
        "image:caption": "image",
        "image:upscale": "image",
        "util:json": "data",
    }
    # every listed port can take it; every type left out has none
    for s in small:
        listed = s.node_type in {c.node_type for c in found}
        assert listed == any(can_feed("image", p.kind) for p in s.input_ports())


def test_an_input_lists_the_types_with_an_output_that_can_feed_it(small):
    text_in = Link("n1", "in", "prompt", "text")
    found = {c.node_type: c.port for c in choices(small, text_in)}
    assert found == {"image:caption": "text", "text:scale-notes": "text", "util:json": "data"}
    video_in = Link("n1", "in", "video", "video")
    assert [c.node_type for c in choices(small, video_in)] == ["video:clip", "util:json"]


def test_the_builtin_catalog_for_an_image_output():
    found = choices(default_catalog(), Link("image", "out", "images", "image"))
    types = {c.node_type for c in found}
    assert "image:resize" in types and "model:fal:text-to-image" not in types


# -- double-click -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("second", "after", "double"),
    [
        ((100, 100), 0.1, True),
        ((103, 101), 0.39, True),  # a few px and within 400 ms
        ((100, 100), 0.5, False),  # too late
        ((110, 100), 0.1, False),  # too far
        ((100, 100), -1.0, False),  # a clock going back
    ],
)
def test_double_click_by_time_and_distance(second, after, double):
    clicks = DoubleClick()
    assert clicks.press(100, 100, 10.0) is False
    assert clicks.press(*second, 10.0 + after) is double


def test_a_third_press_starts_over():
    clicks = DoubleClick()
    assert [clicks.press(5, 5, t) for t in (0.0, 0.1, 0.2, 0.3)] == [False, True, False, True]


# -- undo: a group of commands is one step ---------------------------------------------------
def test_history_grouped_makes_one_undo_step(wf):
    h = History()
    with h.grouped("two"):
        for node_id in ("a", "b"):
            command = AddItems(nodes=[(None, {"id": node_id, "data": {}})])
            command.apply(wf)
            h.push(command)
    assert len(h.undo_stack) == 1 and h.undo_stack[0].label == "two"
    h.undo_stack[0].revert(wf)
    assert not wf.has_node("a") and not wf.has_node("b")


# -- the state's menu ----------------------------------------------------------------------------
def open_by_link(state, drop=(700.0, 450.0)):
    start = state.port_screen("image", "images", "out")
    return drag(state, start, drop)


def test_a_link_dropped_on_empty_space_opens_the_menu_there(state):
    flags = open_by_link(state)
    assert flags & Redraw.MENU
    m = state.quick_add
    assert m is not None and m.at == (700.0, 450.0) and m.link == Link("image", "out", "images", "image")
    assert all(c.port for c in m.found) and "image:resize" in {c.node_type for c in m.found}


def test_a_picked_up_edge_end_dropped_on_empty_space_opens_nothing(state):
    start = state.port_screen("image", "prompt", "in")  # fed: the drag moves that edge's end
    drag(state, start, (700.0, 450.0))
    assert state.quick_add is None
    assert len(state.workflow.edges) == 1


def test_keys_filter_move_and_enter_adds_connected_at_the_drop_point_in_one_step(state, wf):
    open_by_link(state)
    for k in "resi":
        state.key(k)
    state.key("Backspace")
    assert state.quick_add.query == "res"
    assert state.quick_add.chosen == Choice("image:resize", "Resize image", "image", "image")
    state.key("Enter")
    assert state.quick_add is None
    (new,) = set(state.boxes) - {"prompt", "image", "resize"}
    assert wf.node(new).node_type == "image:resize"
    assert state.port_screen(new, "image", "in") == (700.0, 450.0)
    assert [(e.source, e.source_port, e.target, e.target_port) for e in wf.edges][-1] == (
        "image",
        "images",
        new,
        "image",
    )
    assert state.selected_ids == [new]
    state.undo()
    assert len(wf.nodes) == 3 and len(wf.edges) == 1
    state.redo()
    assert len(wf.nodes) == 4 and len(wf.edges) == 2


def test_arrows_wrap_and_escape_closes_adding_nothing(state, wf):
    open_by_link(state)
    n = len(state.quick_add.shown)
    assert n > 2
    state.key("ArrowUp")
    assert state.quick_add.index == n - 1
    state.key("ArrowDown")
    state.key("ArrowDown")
    assert state.quick_add.index == 1
    state.key("Delete")  # the menu takes every key: the selection is not deleted
    state.key("z", ctrl=True)
    assert len(wf.nodes) == 3
    state.key("Escape")
    assert state.quick_add is None and len(wf.nodes) == 3 and not state.history.can_undo


def test_a_link_from_an_input_adds_a_node_that_feeds_it(state, wf):
    start = state.port_screen("resize", "image", "in")
    drag(state, start, (150.0, 500.0))
    m = state.quick_add
    assert m is not None and m.link == Link("resize", "in", "image", "image")
    state.quick_add_query("input")
    assert m.chosen is not None and m.chosen.node_type == "input:image"
    state.quick_add_pick()
    (new,) = set(state.boxes) - {"prompt", "image", "resize"}
    assert state.port_screen(new, m.chosen.port, "out") == (150.0, 500.0)
    assert (new, "resize", "image") in [(e.source, e.target, e.target_port) for e in wf.edges]


def test_double_click_on_empty_space_lists_every_type_and_on_a_node_opens_nothing(state, wf):
    now = [100.0]
    state.clock = lambda: now[0]
    state.pointer_down(700, 450)
    state.pointer_up(700, 450)
    now[0] += 0.2
    assert state.pointer_down(701, 450) & Redraw.MENU
    state.pointer_up(701, 450)
    m = state.quick_add
    assert m is not None and m.link is None and len(m.found) == len(state.catalog)
    assert len(m.shown) == MAX_CHOICES and m.more == len(state.catalog) - MAX_CHOICES
    assert state.gesture is None
    state.quick_add_pick(2)
    (new,) = set(state.boxes) - {"prompt", "image", "resize"}
    assert (state.boxes[new].x, state.boxes[new].y) == (701, 450)  # top-left at the pointer
    assert len(wf.edges) == 1
    # on a node: a double-click only selects it
    x, y = state.view.to_screen(state.boxes["resize"].x + 50, state.boxes["resize"].y + 20)
    for _ in range(2):
        now[0] += 0.1
        state.pointer_down(x, y)
        state.pointer_up(x, y)
    assert state.quick_add is None and state.selected_ids == ["resize"]


def test_two_presses_500_ms_apart_are_no_double_click_and_a_press_closes_the_menu(state):
    now = [0.0]
    state.clock = lambda: now[0]
    for _ in range(2):
        state.pointer_down(700, 450)
        state.pointer_up(700, 450)
        now[0] += 0.5
    assert state.quick_add is None
    open_by_link(state)
    assert state.quick_add is not None
    now[0] += 5
    assert state.pointer_down(100, 560) & Redraw.MENU
    assert state.quick_add is None


def test_replacing_the_workflow_closes_the_menu(state, wf):
    open_by_link(state)
    state.set_workflow(wf)
    assert state.quick_add is None


def test_a_double_click_on_a_note_opens_nothing(state, wf):
    wf.add_note("a note", x=600, y=400, width=200, height=100)
    state.sync(force=True)
    now = [0.0]
    state.clock = lambda: now[0]
    for _ in range(2):
        state.pointer_down(650, 430)
        state.pointer_up(650, 430)
        now[0] += 0.1
    assert state.quick_add is None
