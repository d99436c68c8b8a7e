"""The editor's minimap, its toolbar switch, nodes added from code brought into view and
the canvas's size, driven with the browser's own messages (EditorDriver)."""

from __future__ import annotations

import pytest
from ipycanvas.canvas import COMMANDS

from wireflow_nb import Workflow
from wireflow_nb.editing.minimap import minimap_frame
from wireflow_nb.testing import EditorDriver, count_messages
from wireflow_nb.widgets import GraphEditor

from .test_editor import find, forget_current_layer, layers_drawn

FILL_RECT = COMMANDS["fillRect"]


def wide_workflow(n: int = 12) -> Workflow:
    wf = Workflow(id="wide")
    for i in range(n):
        wf.add_node("text:template", id=f"n{i}", position=(300 * i, 200 * (i % 3)))
    return wf


@pytest.fixture
def wide() -> GraphEditor:
    e = GraphEditor(wide_workflow())
    e.view = (0, 0, 1.0)  # 960 x 600 of a graph 3520 wide: the minimap shows
    return e


def centre_world(e: GraphEditor) -> tuple[float, float]:
    return e.view.to_world(e.width / 2, e.height / 2)


def minimap_drawn(e: GraphEditor, log) -> bool:
    """Whether the logged messages fill the minimap's frame (screen coordinates)."""
    x0, y0, x1, y1 = minimap_frame(e.width, e.height)
    frame = [x0, y0, x1 - x0, y1 - y0]
    return any(c[0] == FILL_RECT and list(c[1]) == frame for c in log.canvas_commands())


def test_the_minimap_shows_only_when_the_graph_is_larger_than_the_view(wide):
    assert wide.minimap_visible
    x, y, w, h = wide.minimap_rect
    assert (x + w, y + h) == (2 * 950, 2 * 590)  # bottom-right, in event coordinates
    wide.fit()
    assert not wide.minimap_visible and wide.minimap_rect is None
    small = GraphEditor(Workflow(id="one"))
    small.add_node("text:template")
    assert not small.minimap_visible


def test_a_click_on_the_minimap_moves_the_view_there(wide):
    driver = EditorDriver(wide)
    zoom = wide.view.zoom
    driver.click(*wide.minimap_point(3000.0, 300.0))
    assert centre_world(wide) == pytest.approx((3000.0, 300.0))
    assert wide.view.zoom == zoom
    assert wide.selected_node_ids == [] and wide.state.gesture is None
    assert wide.zoom_label.value == "100%"


def test_a_drag_on_the_minimap_pans_continuously(wide):
    driver = EditorDriver(wide)
    start, end = wide.minimap_point(600.0, 300.0), wide.minimap_point(2800.0, 300.0)
    driver.move(*start)
    driver.down(*start)
    seen = []
    for i in range(1, 9):
        forget_current_layer(wide)
        with count_messages() as log:
            driver.move(start[0] + (end[0] - start[0]) * i / 8, start[1])
        assert log.count == 1  # one batch per move, the minimap's view box in it
        assert minimap_drawn(wide, log)
        seen.append(centre_world(wide)[0])
    driver.up(*end)
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert seen[-1] == pytest.approx(2800.0)


def test_the_toolbar_switch_hides_it(wide):
    toggle = find(wide, "wf-minimap-toggle")
    assert toggle is wide.minimap_toggle and toggle.value
    forget_current_layer(wide)
    with count_messages() as log:
        toggle.value = False  # what a click in the browser does
    assert not wide.minimap_visible and wide.minimap_rect is None
    assert layers_drawn(wide, log) == {"nodes"} and not minimap_drawn(wide, log)
    # a press where it was is the canvas's own again: no jump of the view
    before = wide.view
    x0, y0, _, _ = minimap_frame(wide.width, wide.height)
    EditorDriver(wide).click((x0 + 30) * 2, (y0 + 30) * 2)
    assert wide.view == before
    forget_current_layer(wide)
    with count_messages() as log:
        wide.minimap_enabled = True
    assert toggle.value and wide.minimap_visible and minimap_drawn(wide, log)


def test_the_minimap_is_not_redrawn_while_a_node_is_dragged(wide):
    driver = EditorDriver(wide)
    x, y = driver.node_center("n1")
    driver.move(x, y)
    driver.down(x, y)
    driver.move(x + 20, y)  # the drag starts: the static layers once
    forget_current_layer(wide)
    with count_messages() as log:
        for i in range(2, 12):
            driver.move(x + 20 * i, y + 3 * i)
    assert layers_drawn(wide, log) == {"live"} and not minimap_drawn(wide, log)
    with count_messages() as log:
        driver.up(x + 220, y + 33)
    assert minimap_drawn(wide, log)  # the graph changed: drawn again, once


def test_a_view_change_redraws_the_minimap(wide):
    with count_messages() as log:
        wide.zoom_out()
    assert minimap_drawn(wide, log)


def in_view(e: GraphEditor, node_id: str) -> bool:
    x, y, w, h = e.node_bounds(node_id)
    return x >= 0 and y >= 0 and x + w <= e.canvas.width and y + h <= e.canvas.height


def test_a_node_added_from_code_is_brought_into_view():
    e = GraphEditor(wide_workflow(3))
    zoom = e.view.zoom
    e.workflow.add_node("text:template", id="far", position=(5000, -900))  # no event loop: at once
    assert in_view(e, "far")
    assert e.view.zoom == zoom
    nid = e.add_node("text:template", position=(-3000, 4000))
    assert in_view(e, nid)
    assert e.view.zoom == zoom


def test_a_workflow_still_opens_fitted():
    e = GraphEditor(wide_workflow())
    assert all(in_view(e, n.id) for n in e.workflow.nodes)
    assert not e.minimap_visible


def test_resize_keeps_coordinates_right(wide):
    wide.resize(700, 480)
    assert (wide.canvas.width, wide.canvas.height) == (1400, 960)
    assert all(layer.width == 1400 for layer in wide.canvas.canvases)
    assert wide.canvas.layout.max_width == "min(700px, 100%)"
    assert (wide.state.width, wide.state.height) == (700.0, 480.0)
    driver = EditorDriver(wide)
    driver.click_node("n1")  # a click lands on the node under it
    assert wide.selected_node_ids == ["n1"]
    x, y, w, h = wide.minimap_rect  # the minimap follows the new corner
    assert (x + w, y + h) == (2 * 690, 2 * 470)
    driver.click(*wide.minimap_point(3000.0, 300.0))
    assert centre_world(wide) == pytest.approx((3000.0, 300.0))
    with pytest.raises(ValueError):
        wide.resize(0)
