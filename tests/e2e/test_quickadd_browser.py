"""Quick add in a real JupyterLab, with the real mouse and keyboard.

A link dropped on empty canvas, or a double-click there, opens the search box
(``.wf-quickadd``) at the pointer; typing (on the canvas, or into ``.wf-quickadd-search``),
arrows, Enter or a click on a ``.wf-quickadd-option`` add the node, connected, which the
kernel's ``editor.workflow`` then holds. The tests share one open ``editor_test.ipynb``
(three nodes: ``prompt`` -> ``image``, and ``resize``) and reset it from Python.
"""

from __future__ import annotations

import pytest

from .conftest import VIEWPORT, open_notebook_on
from .lab import EditorHandle, run_editor, wait_until

pytestmark = pytest.mark.e2e

BOX = ".jp-NotebookPanel:not(.lm-mod-hidden) .wf-quickadd"
OPTIONS = f"{BOX} .wf-quickadd-option:visible"
FIELD = f"{BOX} .wf-quickadd-search input"
EDGES = "[[e.source, e.source_handle, e.target, e.target_handle] for e in editor.workflow.edges]"


@pytest.fixture(scope="module")
def shared_editor(module_page, jupyter_server) -> EditorHandle:
    nb = open_notebook_on(module_page, jupyter_server, "editor_test.ipynb")
    return run_editor(nb)


@pytest.fixture
def editor(shared_editor: EditorHandle) -> EditorHandle:
    """The notebook's three nodes again, no history, the quick-add box closed."""
    page = shared_editor.nb.page
    page.mouse.up()
    shared_editor.nb.execute("editor.workflow = build_workflow()\neditor.set_mode('select')")
    page.locator(BOX).first.wait_for(state="hidden")
    shared_editor.canvas.wait_nonblank()
    return shared_editor


def empty_spot(editor: EditorHandle, fx: float = 0.3, fy: float = 0.2) -> tuple[float, float]:
    """Event coordinates of a point on nothing near the fractions ``(fx, fy)`` of the
    canvas (by default its upper left: room for the box below and right of it)."""
    x, y = editor.nb.eval_json(
        "min(([x, y] for y in range(40, int(editor.height * editor.pixel_ratio), 20) "
        "for x in range(40, int(editor.width * editor.pixel_ratio), 20) "
        "if editor.state.hit(x / editor.pixel_ratio, y / editor.pixel_ratio).kind == 'none'), "
        f"key=lambda p: abs(p[0] - {fx} * editor.width * editor.pixel_ratio) "
        f"+ abs(p[1] - {fy} * editor.height * editor.pixel_ratio))"
    )
    return float(x), float(y)


def listed(editor: EditorHandle) -> list[str]:
    loc = editor.nb.page.locator(OPTIONS)
    return [t.strip() for t in loc.all_text_contents()]


def wait_listed(editor: EditorHandle, predicate, message: str = "") -> list[str]:
    return wait_until(
        lambda: (lambda names: names if predicate(names) else None)(listed(editor)),
        timeout=10,
        message=lambda: f"{message}: listed {listed(editor)}",
    )


def wait_shown(editor: EditorHandle) -> list[str]:
    """Wait until the page lists what the kernel's menu lists (each button is its own
    widget: the page sees them change one message at a time); return those labels."""
    want = editor.nb.eval_json("[c.label for c in editor.state.quick_add.shown]")
    wait_listed(editor, lambda ns: [n.split("  \u00b7  ")[0] for n in ns] == want, f"want {want}")
    return list(want)


def assert_box_at(editor: EditorHandle, point: tuple[float, float]) -> None:
    """The box's corner is at the page point (clamped inside the canvas) and on top."""
    box = editor.nb.page.locator(BOX).first.bounding_box()
    canvas = editor.canvas.stable_box()
    assert box is not None
    bottom = canvas["y"] + canvas["height"]
    # moved up only as far as needed to stay inside the canvas (a few px: estimated height)
    top = max(canvas["y"], min(point[1], bottom - box["height"]))
    assert abs(box["x"] - point[0]) <= 2 and abs(box["y"] - top) <= 6, (box, point, canvas)
    assert canvas["x"] - 1 <= box["x"] and box["x"] + box["width"] <= canvas["x"] + canvas["width"] + 1
    assert box["y"] + box["height"] <= bottom + 1, (box, canvas)
    on_top = editor.nb.page.evaluate(
        "([x, y]) => !!document.elementFromPoint(x, y).closest('.wf-quickadd')",
        [box["x"] + box["width"] / 2, box["y"] + 12],
    )
    assert on_top, "the box is not above the canvas"


def test_link_drop_lists_what_takes_it_and_the_keyboard_adds_it_connected(editor: EditorHandle) -> None:
    nb, page = editor.nb, editor.nb.page
    drop = empty_spot(editor)
    drop_page = editor.to_page(*drop)
    editor.drag(editor.port_point("image", "images", "out"), drop_page, steps=12)
    page.locator(BOX).first.wait_for(state="visible")
    names = wait_listed(editor, bool, "the box lists nothing")
    # an image output: image takers only (no text-only type such as Text to Image)
    assert any(n.startswith("Resize image") for n in names), names
    assert not any(n.startswith(("Text to Image", "Text input", "Text template")) for n in names), names
    assert_box_at(editor, drop_page)
    # the canvas kept the focus: typing right away goes into the field
    page.keyboard.type("image")
    wait_until(
        lambda: page.locator(FIELD).input_value() == "image", timeout=10, message="field not typed into"
    )
    nb.wait_python("editor.state.quick_add.query", lambda q: q == "image")
    assert len(wait_shown(editor)) >= 3
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    nb.wait_python("editor.state.quick_add.index", lambda i: i == 1)
    active = page.locator(f"{BOX} .wf-quickadd-active").first.text_content()
    chosen = nb.eval_json("[editor.state.quick_add.chosen.node_type, editor.state.quick_add.chosen.port]")
    page.keyboard.press("Enter")
    ids = nb.wait_python("[n.id for n in editor.workflow.nodes]", lambda ids: len(ids) == 4)
    (new,) = set(ids) - {"prompt", "image", "resize"}
    assert nb.eval_json(f"editor.workflow.node({new!r}).data['nodeType']") == chosen[0]
    assert nb.eval_json(f"editor.workflow.node({new!r}).label") in (active or "")
    assert ["image", "images", new, chosen[1]] in nb.eval_json(EDGES)
    # at the drop point: its connected input is where the link was dropped
    x, y = nb.eval_json(f"editor.port_position({new!r}, {chosen[1]!r}, 'in')")
    assert abs(x - drop[0]) <= 2 and abs(y - drop[1]) <= 2, ((x, y), drop)
    page.locator(BOX).first.wait_for(state="hidden")
    # one undo step takes node and edge away
    page.keyboard.press("Control+z")
    nb.wait_python("[n.id for n in editor.workflow.nodes]", lambda ids: len(ids) == 3)
    assert nb.eval_json(EDGES) == [["prompt", "text", "image", "prompt"]]
    nb.assert_no_errors()


def test_double_click_lists_every_type_and_a_click_on_an_option_adds_it(editor: EditorHandle) -> None:
    nb, page = editor.nb, editor.nb.page
    spot = empty_spot(editor)
    point = editor.to_page(*spot)
    page.mouse.dblclick(*point)
    page.locator(BOX).first.wait_for(state="visible")
    # every type: the first 12, the others counted
    wait_listed(editor, lambda ns: len(ns) == 12, "a double-click lists 12 types")
    more = nb.eval_json("len(editor.catalog)") - 12
    assert f"{more} more" in (page.locator(f"{BOX} .wf-quickadd-hint").first.text_content() or "")
    # typing into the field itself filters too
    page.locator(FIELD).fill("crop")
    nb.wait_python("editor.state.quick_add.query", lambda q: q == "crop")
    names = wait_shown(editor)
    assert names[0] == "Crop image" and len(names) < 12, names
    page.locator(OPTIONS).first.click()
    ids = nb.wait_python("[n.id for n in editor.workflow.nodes]", lambda ids: len(ids) == 4)
    (new,) = set(ids) - {"prompt", "image", "resize"}
    assert nb.eval_json(f"editor.workflow.node({new!r}).data['nodeType']") == "image:crop"
    bx, by, _w, _h = editor.bounds(new)
    assert abs(bx - spot[0]) <= 2 and abs(by - spot[1]) <= 2, ((bx, by), spot)
    assert len(nb.eval_json(EDGES)) == 1  # no link, no edge
    page.locator(BOX).first.wait_for(state="hidden")
    nb.assert_no_errors()


def test_escape_closes_the_box_and_adds_nothing(editor: EditorHandle) -> None:
    nb, page = editor.nb, editor.nb.page
    drop = editor.to_page(*empty_spot(editor))
    editor.drag(editor.port_point("prompt", "text", "out"), drop, steps=10)
    page.locator(BOX).first.wait_for(state="visible")
    wait_listed(editor, bool, "the box lists nothing")
    page.keyboard.type("tem")
    wait_until(lambda: page.locator(FIELD).input_value() == "tem", timeout=10, message="field not typed into")
    page.keyboard.press("Escape")
    page.locator(BOX).first.wait_for(state="hidden")
    assert nb.eval_json("[len(editor.workflow.nodes), len(editor.workflow.edges)]") == [3, 1]
    assert nb.eval_json("editor.state.history.can_undo") is False
    nb.assert_no_errors()


def test_on_a_canvas_shrunk_by_a_narrow_page_the_box_is_still_at_the_pointer(editor: EditorHandle) -> None:
    """CSS shrinks the canvas when it is wider than its cell (before the width probe
    reports, or below the probe's minimum): the box follows (margins in percent of the
    canvas's width) and stays inside it (CSS min/max), low in the canvas too."""
    nb, page = editor.nb, editor.nb.page
    try:
        page.set_viewport_size({"width": 1000, "height": 1000})
        # the probe has made the canvas as wide as its slot; then make it wider than that
        wait_until(
            lambda: abs(editor.canvas.stable_box()["width"] - nb.eval_json("editor.width")) <= 3
            and editor.canvas.stable_box()["width"] < 900,
            timeout=20,
            message="the canvas did not take its slot's width",
        )
        nb.execute("editor.resize(960)")
        canvas = wait_until(
            lambda: (lambda b: b if editor.canvas.size()[0] == 1920 and b["width"] < 900 else None)(
                editor.canvas.stable_box()
            ),
            timeout=10,
            message="the canvas did not shrink",
        )
        assert canvas["width"] < 0.8 * editor.canvas.size()[0] / editor.pixel_ratio
        drop = editor.to_page(*empty_spot(editor, 0.55, 0.8))
        editor.drag(editor.port_point("image", "images", "out"), drop, steps=10)
        page.locator(BOX).first.wait_for(state="visible")
        wait_shown(editor)
        assert_box_at(editor, drop)
        box = page.locator(BOX).first.bounding_box()
        assert box is not None and box["y"] < drop[1] - 20  # moved up to stay inside
        page.keyboard.press("Escape")
        page.locator(BOX).first.wait_for(state="hidden")
        nb.assert_no_errors()
    finally:
        page.set_viewport_size(VIEWPORT)
