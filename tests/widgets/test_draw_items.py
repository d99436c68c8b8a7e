"""Drawing groups, notes and bypassed nodes on a recording canvas: frames under the
edges with their title, notes as wrapped Markdown lines, bypassed nodes faded."""

from __future__ import annotations

from wireflow_nb.editing.style import BYPASS_VEIL, note_lines
from wireflow_nb.widgets import _draw

from .conftest import RecordingCanvas


def test_group_frames_and_notes_are_drawn_under_the_edges(state, wf, recorder):
    wf.group(["prompt", "image"], title="Make pictures", color="#2e9d6a")
    wf.add_note("# Title\n- one\n- two", x=600, y=60, width=220, height=120)
    state.sync(force=True)
    _draw.draw_edges(recorder, state, 1.0, live=False)
    texts = recorder.texts()
    assert texts[:4] == ["Make pictures", "Title", "\u2022 one", "\u2022 two"]
    names = recorder.names()
    assert names.index("fill_text") < names.index("stroke_styled_line_segments"), "edges on top"
    fonts = [a[0] for n, a in recorder.calls if n == "set:font"]
    assert fonts[1].startswith("bold") and not fonts[2].startswith("bold"), "a heading is bold"
    # the frame's colour
    assert ("set:stroke_style", ("#2e9d6a",)) in recorder.calls
    live = RecordingCanvas()
    _draw.draw_edges(live, state, 1.0, live=True)
    assert "Make pictures" not in live.texts(), "nothing moves: the live layer draws no frame"
    # while its nodes are dragged, the frame moves with them on the live layer
    state.moving = {"image"}
    live, static = RecordingCanvas(), RecordingCanvas()
    _draw.draw_edges(live, state, 1.0, live=True)
    _draw.draw_edges(static, state, 1.0, live=False)
    assert live.texts() == ["Make pictures"]
    assert "Make pictures" not in static.texts() and "Title" in static.texts()


def test_a_picked_group_and_a_note_moving_are_drawn_as_such(state, wf, recorder):
    gid = wf.group(["prompt"], title="G")
    nid = wf.add_note("n", x=600, y=400, width=100, height=80)
    state.sync(force=True)
    state.pick_group(gid)
    state.note_preview = (nid, (10.0, 500.0, 210.0, 600.0))
    _draw.draw_edges(recorder, state, 1.0, live=False)
    assert ("set:stroke_style", ("#2563eb",)) in recorder.calls  # SELECTED outline
    assert ("fill_rect", (10.0, 500.0, 200.0, 100.0)) in recorder.calls


def test_notes_and_frames_out_of_view_are_not_sent(state, wf, recorder):
    wf.add_note("far away", x=5000, y=5000)
    state.sync(force=True)
    _draw.draw_edges(recorder, state, 1.0, live=False)
    assert "far away" not in recorder.texts()


def test_bypassed_nodes_are_veiled_in_one_call(state, wf, recorder):
    _draw.draw_nodes(recorder, state, 1.0)
    plain = recorder.names().count("fill_styled_polygons")
    wf.set_bypass("resize")
    wf.set_bypass("image")
    state.sync(force=True)
    veiled = RecordingCanvas()
    _draw.draw_nodes(veiled, state, 1.0)
    assert veiled.names().count("fill_styled_polygons") == plain + 1
    (veil,) = [a for n, a in veiled.calls if n == "fill_styled_polygons"][-1:]
    assert len(veil[0]) == 2 and veil[2] == BYPASS_VEIL
    assert veiled.texts().count("bypassed") == 2


def test_note_lines_wrap_words_bullets_and_cut_long_words():
    lines = note_lines(
        "# Big title here\n- item that wraps around\nplain **bold** `code`\nabcdefghijkl", 60, 10
    )
    assert lines == [
        ("Big title", True),
        ("here", True),
        ("\u2022 item", False),
        ("  that", False),
        ("  wraps", False),
        ("  around", False),
        ("plain bold", False),
        ("code", False),
        ("abcdefghij", False),
        ("kl", False),
    ]


def test_the_svg_picture_shows_groups_notes_and_bypassed_nodes_faded(wf):
    import xml.etree.ElementTree as ET

    wf.group(["prompt", "image"], title="Make <pictures>")
    wf.add_note("# Plan\n- a & b", x=-400, y=-300, width=200, height=100)
    wf.set_bypass("resize")
    svg = wf._repr_svg_()
    root = ET.fromstring(svg)  # well formed, every text escaped
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "Make <pictures>" in texts and "Plan" in texts and "\u2022 a & b" in texts
    faded = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("opacity")]
    assert len(faded) == 1 and "id resize" in "".join(faded[0].itertext())
    # the picture grows to hold the note (left of and above every node)
    x0, y0, _w, _h = (float(v) for v in root.get("viewBox", "").split())
    assert x0 <= -400 and y0 <= -300
