"""The minimap's geometry (frame, mapping both ways, when it shows, clamping), its
gesture on the pure state, and new nodes brought into view."""

from __future__ import annotations

import pytest

from wireflow_nb import Workflow
from wireflow_nb.editing.geometry import View
from wireflow_nb.editing.minimap import (
    MINIMAP_HEIGHT,
    MINIMAP_MARGIN,
    MINIMAP_WIDTH,
    centered_on,
    minimap_frame,
    minimap_geometry,
    needs_minimap,
)
from wireflow_nb.editing.scene import Redraw
from wireflow_nb.editing.state import EditorState


def wide_workflow(n: int = 12) -> Workflow:
    wf = Workflow(id="wide")
    for i in range(n):
        wf.add_node("text:template", id=f"n{i}", position=(300 * i, 200 * (i % 3)))
    return wf


def test_the_frame_sits_in_the_bottom_right_corner():
    x0, y0, x1, y1 = minimap_frame(960, 600)
    assert (x1, y1) == (960 - MINIMAP_MARGIN, 600 - MINIMAP_MARGIN)
    assert (x1 - x0, y1 - y0) == (MINIMAP_WIDTH, MINIMAP_HEIGHT)
    assert minimap_frame(2 * MINIMAP_WIDTH - 1, 600) is None  # no room on a tiny canvas
    assert minimap_frame(960, 2 * MINIMAP_HEIGHT - 1) is None


def test_it_shows_only_when_the_graph_does_not_fit_the_view():
    visible = (0.0, 0.0, 960.0, 600.0)
    assert not needs_minimap(None, visible)
    assert not needs_minimap((100.0, 100.0, 500.0, 400.0), visible)
    assert not needs_minimap(visible, visible)  # exactly the view
    assert needs_minimap((100.0, 100.0, 1500.0, 400.0), visible)  # wider
    assert needs_minimap((-10.0, 100.0, 200.0, 400.0), visible)  # partly out on the left


def test_mapping_both_ways_and_the_view_is_on_the_map():
    bounds, visible = (0.0, 0.0, 3520.0, 600.0), (-100.0, 50.0, 860.0, 650.0)
    m = minimap_geometry(bounds, visible, 960, 600)
    assert m is not None
    # the picture fits in the frame, keeping the aspect ratio
    for wx, wy in [(-100.0, 0.0), (3520.0, 650.0), (1200.0, 300.0)]:
        sx, sy = m.to_map(wx, wy)
        assert m.hit(sx, sy)
        assert m.to_world(sx, sy) == pytest.approx((wx, wy))
    vx0, vy0, vx1, vy1 = m.rect_on_map(visible)
    assert (vx1 - vx0) / (vy1 - vy0) == pytest.approx(960 / 600)
    # the region shown is the union of the graph and the view
    assert m.world == (-100.0, 0.0, 3520.0, 650.0)
    assert m.to_map(3520.0, 0.0)[0] > m.to_map(-100.0, 0.0)[0]


def test_a_point_off_the_picture_is_clamped_to_the_region_shown():
    m = minimap_geometry((0.0, 0.0, 3000.0, 300.0), (0.0, 0.0, 960.0, 600.0), 960, 600)
    assert m is not None
    x0, y0, x1, y1 = m.frame
    assert m.to_world(x0, y0) == (0.0, 0.0)  # the frame's padding: the world's corner
    assert m.to_world(x1, y1) == (3000.0, 600.0)
    assert m.to_world(x1 + 500, (y0 + y1) / 2)[0] == 3000.0


def test_centered_on_keeps_the_zoom():
    v = centered_on(View(5, 6, 0.5), 1000.0, 200.0, 960, 600)
    assert v.zoom == 0.5
    assert v.to_screen(1000.0, 200.0) == pytest.approx((480.0, 300.0))


def test_view_reveal_pans_the_least_and_zooms_out_only_when_needed():
    v = View(0.0, 0.0, 1.0)
    assert not v.reveal((100.0, 100.0, 300.0, 200.0), 960, 600)  # already in view
    assert v.reveal((1500.0, 100.0, 1720.0, 200.0), 960, 600)
    assert v.zoom == 1.0
    assert v.to_screen(1720.0, 200.0)[0] == pytest.approx(960 - 40)  # right edge, 40 px in
    assert v.y == 0.0  # no vertical move needed
    assert v.reveal((-500.0, -900.0, -300.0, -800.0), 960, 600)
    assert v.to_screen(-500.0, -900.0) == pytest.approx((40.0, 40.0))
    big = View(0.0, 0.0, 1.0)
    assert big.reveal((0.0, 0.0, 5000.0, 300.0), 960, 600)
    assert big.zoom < 1.0  # does not fit at this zoom: fitted
    x0, _ = big.to_screen(0.0, 0.0)
    x1, _ = big.to_screen(5000.0, 0.0)
    assert x0 >= 39.9 and x1 <= 960 - 39.9


# -- the state ---------------------------------------------------------------------------------
@pytest.fixture
def wide() -> EditorState:
    s = EditorState(wide_workflow(), width=960, height=600)
    s.set_view(0, 0, 1.0)
    return s


def test_the_state_shows_a_minimap_only_when_needed_and_switched_on(wide):
    assert wide.minimap() is not None
    wide.fit()
    assert wide.minimap() is None  # the whole graph fits
    wide.set_view(0, 0, 1.0)
    assert wide.set_minimap(False) == Redraw.NODES
    assert wide.minimap() is None
    assert wide.set_minimap(False) == Redraw.NONE


def test_a_press_on_the_minimap_centres_the_view_there(wide):
    m = wide.minimap()
    sx, sy = m.to_map(3000.0, 300.0)
    flags = wide.pointer_down(sx, sy)
    assert flags & Redraw.VIEW and flags & Redraw.GRID
    assert wide.view.to_world(480, 300) == pytest.approx((3000.0, 300.0))
    assert wide.view.zoom == 1.0
    assert wide.gesture is None and not wide.selection  # no box select, nothing selected
    wide.pointer_up(sx, sy)
    assert wide.minimap_drag is None


def test_a_drag_on_the_minimap_pans_continuously_with_a_frozen_map(wide):
    wide.set_view(1000, 0, 1.0)  # the view left of the graph: the map shows both
    m = wide.minimap()
    assert m.world[0] == pytest.approx(-1000.0)
    start, end = m.to_map(-500.0, 300.0), m.to_map(2600.0, 300.0)
    wide.pointer_down(*start)
    centres = []
    for i in range(1, 6):
        t = i / 5
        wide.pointer_move(start[0] + (end[0] - start[0]) * t, start[1])
        assert wide.minimap() == m  # the same picture all along the drag
        centres.append(wide.view.to_world(480, 300)[0])
    assert centres == sorted(centres) and len(set(centres)) == 5
    assert centres[-1] == pytest.approx(2600.0)
    assert wide.pointer_up(*end) & Redraw.NODES  # the map is drawn again, rescaled
    assert wide.minimap_drag is None
    assert wide.minimap().world[0] == pytest.approx(0.0)


def test_escape_during_a_minimap_drag_puts_the_view_back(wide):
    before = wide.view.copy()
    wide.select(["n1"])
    wide.pointer_down(*wide.minimap().to_map(3000.0, 300.0))
    assert wide.view != before
    assert wide.key("Escape") & Redraw.VIEW
    assert wide.view == before and wide.minimap_drag is None
    assert wide.selection == {"n1"}  # the Escape ended the drag, it did not deselect


def test_a_press_outside_the_minimap_is_an_ordinary_gesture(wide):
    wide.pointer_down(5.0, 590.0)  # empty space, outside the frame
    assert wide.minimap_drag is None and wide.gesture is not None
    wide.pointer_up(5.0, 590.0)
    wide.set_minimap(False)
    frame = minimap_frame(960, 600)
    wide.pointer_down(frame[0] + 20, frame[1] + 20)  # switched off: the canvas's own
    assert wide.minimap_drag is None


def test_reveal_brings_nodes_into_view(wide):
    assert wide.reveal(["n1"]) == Redraw.NONE  # already shown
    flags = wide.reveal(["n11"])
    assert flags & Redraw.VIEW
    x0, y0, x1, y1 = wide.visible_rect()
    b = wide.boxes["n11"]
    assert x0 <= b.x and b.x + b.w <= x1 and y0 <= b.y and b.y + b.h <= y1
    assert wide.view.zoom == 1.0


def test_covered_runs_mark_every_node_and_stay_bounded():
    import numpy as np

    from wireflow_nb.editing.minimap import covered_runs

    visible = (0.0, 0.0, 960.0, 600.0)
    rects = np.array([(300.0 * (i % 100), 220.0 * (i // 100), 220.0, 120.0) for i in range(10_000)])
    bounds = (0.0, 0.0, 300.0 * 99 + 220, 220.0 * 99 + 120)
    m = minimap_geometry(bounds, visible, 960, 600)
    runs = covered_runs(m, rects)
    x0, y0, x1, y1 = m.frame
    assert len(runs) <= (x1 - x0) * (y1 - y0) / 2  # bounded by the frame, not by 10,000 nodes
    assert (runs[:, 0] >= x0).all() and (runs[:, 0] + runs[:, 2] <= x1).all()
    assert (runs[:, 1] >= y0).all() and (runs[:, 1] + runs[:, 3] <= y1).all()
    # a lone tiny node far away still shows as one pixel where the map puts it
    far = np.array([(0.0, 0.0, 220.0, 120.0), (29_000.0, 21_000.0, 1.0, 1.0)])
    runs = covered_runs(m, far)
    px, py = m.to_map(29_000.0, 21_000.0)
    assert any(r[0] <= px <= r[0] + r[2] and r[1] <= py <= r[1] + r[3] for r in runs)
    assert len(covered_runs(m, np.zeros((0, 4)))) == 0
