"""Groups, notes and bypass in the editor's model: Ctrl+G / Ctrl+Shift+G / Ctrl+B, the
group's title bar drags its nodes, notes move and resize by their corner, and every
change is one undo step."""

from __future__ import annotations

from wireflow_nb.editing.canvas_edits import GROUP_PAD, GROUP_TITLE_HEIGHT, MIN_NOTE_SIZE
from wireflow_nb.editing.commands import AddItems, Compound, EditCanvas
from wireflow_nb.editing.scene import Redraw

from .fixtures import drag, positions


def group_title_point(state, group_id):
    (frame,) = [r for g, r in state.group_frames() if g.id == group_id]
    x0, y0, _x1, _y1 = frame
    return state.view.to_screen(x0 + 40, y0 + GROUP_TITLE_HEIGHT / 2)


def test_ctrl_g_groups_the_selection_in_one_undo_step(state, wf):
    state.select(["prompt", "image"])
    flags = state.key("g", ctrl=True)
    assert flags & Redraw.WORKFLOW
    (group,) = wf.groups
    assert group.nodes == ("prompt", "image")
    assert state.picked_group == group.id
    state.key("z", ctrl=True)
    assert wf.groups == [] and state.picked_group is None
    state.key("z", ctrl=True, shift=True)
    assert [g.nodes for g in wf.groups] == [("prompt", "image")]


def test_ctrl_g_without_a_selection_only_says_so(state, wf):
    assert state.key("g", ctrl=True) == Redraw.STATUS
    assert wf.groups == [] and "select nodes" in state.message
    assert not state.history.can_undo


def test_ctrl_shift_g_ungroups_the_picked_group_and_undo_brings_it_back(state, wf):
    gid = wf.group(["prompt", "image"], title="Make")
    state.sync(force=True)
    state.pick_group(gid)
    state.key("G", ctrl=True, shift=True)
    assert wf.groups == []
    state.undo()
    assert [(g.id, g.title) for g in wf.groups] == [(gid, "Make")]
    # with nothing picked, the group the selected nodes are in
    state.select(["image"])
    state.key("g", ctrl=True, shift=True)
    assert wf.groups == []


def test_rename_and_recolour_a_group_are_undoable(state, wf):
    gid = wf.group(["prompt"], title="Old")
    state.sync(force=True)
    state.edit_group(gid, title="New", color="#2e9d6a")
    assert (wf.get_group(gid).title, wf.get_group(gid).color) == ("New", "#2e9d6a")
    assert state.edit_group(gid, title="New") == Redraw.NONE, "no change, no undo step"
    state.undo()
    assert wf.get_group(gid).title == "Old"


def test_the_frame_surrounds_its_nodes_with_a_title_bar(state, wf):
    gid = wf.group(["prompt", "image"])
    state.sync(force=True)
    (frame,) = [r for g, r in state.group_frames() if g.id == gid]
    x0, y0, x1, y1 = state.bounds(["prompt", "image"])
    assert frame == (x0 - GROUP_PAD, y0 - GROUP_PAD - GROUP_TITLE_HEIGHT, x1 + GROUP_PAD, y1 + GROUP_PAD)


def test_dragging_the_title_bar_moves_the_group_nodes_only_in_one_step(state, wf):
    gid = wf.group(["prompt", "image"])
    state.sync(force=True)
    before = positions(wf)
    start = group_title_point(state, gid)
    assert state.hit(*start).kind == "none", "the title bar is above the nodes"
    drag(state, start, (start[0] + 60, start[1] + 30))
    after = positions(wf)
    assert after["prompt"] == (before["prompt"][0] + 60, before["prompt"][1] + 30)
    assert after["image"] == (before["image"][0] + 60, before["image"][1] + 30)
    assert after["resize"] == before["resize"]
    assert state.picked_group == gid and state.selection == {"prompt", "image"}
    state.undo()
    assert positions(wf) == before


def test_a_click_on_the_title_bar_picks_the_group(state, wf):
    gid = wf.group(["prompt", "image"])
    state.sync(force=True)
    start = group_title_point(state, gid)
    drag(state, start, start)
    assert state.picked_group == gid and state.selection == {"prompt", "image"}
    assert not state.history.can_undo
    state.select()
    assert state.picked_group is None


def test_ctrl_b_toggles_bypass_of_the_selection_one_step_each(state, wf):
    state.select(["image", "resize"])
    state.key("b", ctrl=True)
    assert wf.bypassed == ["image", "resize"]
    state.key("b", ctrl=True)
    assert wf.bypassed == []
    state.undo()
    assert wf.bypassed == ["image", "resize"]
    state.undo()
    assert wf.bypassed == []
    # a mixed selection is bypassed as a whole
    wf.set_bypass("image")
    state.select(["image", "resize"])
    state.key("b", ctrl=True)
    assert wf.bypassed == ["image", "resize"]


def test_deleting_a_grouped_bypassed_node_and_undo_restore_group_and_flag(state, wf):
    gid = wf.group(["image", "resize"], title="Keep")
    wf.set_bypass("resize")
    state.sync(force=True)
    saved = wf.to_dict()
    state.select(["resize"])
    state.key("Delete")
    assert wf.get_group(gid).nodes == ("image",) and wf.bypassed == []
    state.undo()
    assert wf.to_dict() == saved
    state.redo()
    assert wf.get_group(gid).nodes == ("image",)


def test_notes_add_edit_and_delete_are_undoable(state, wf):
    nid, _ = state.add_note("# Title", position=(600, 400))
    assert state.picked_note == nid and wf.note(nid).x == 600
    state.edit_note(nid, text="changed")
    assert wf.note(nid).text == "changed"
    state.undo()
    assert wf.note(nid).text == "# Title"
    state.key("Delete")  # the picked note, when no node is selected
    assert wf.notes == []
    state.undo()
    assert [n.id for n in wf.notes] == [nid]
    state.undo()
    assert wf.notes == []


def test_a_note_moves_by_its_body_and_resizes_by_its_corner(state, wf):
    nid = wf.add_note("hello", x=600, y=400, width=200, height=100)
    state.sync(force=True)
    drag(state, (650, 450), (700, 470))
    n = wf.note(nid)
    assert (n.x, n.y, n.width, n.height) == (650, 420, 200, 100)
    drag(state, (650 + 198, 420 + 98), (650 + 298, 420 + 148))
    n = wf.note(nid)
    assert (n.x, n.y, n.width, n.height) == (650, 420, 300, 150)
    state.pointer_down(650 + 298, 420 + 148)
    state.pointer_move(0, 0)
    assert state.note_rect(wf.note(nid)) == (650, 420, 650 + MIN_NOTE_SIZE, 420 + MIN_NOTE_SIZE)
    state.pointer_up(0, 0)  # never smaller than the minimum
    assert (wf.note(nid).width, wf.note(nid).height) == (MIN_NOTE_SIZE, MIN_NOTE_SIZE)
    state.undo()
    state.undo()
    n = wf.note(nid)
    assert (n.x, n.y, n.width, n.height) == (650, 420, 200, 100)


def test_escape_drops_a_note_drag(state, wf):
    nid = wf.add_note("hello", x=600, y=400, width=200, height=100)
    state.sync(force=True)
    state.pointer_down(650, 450)
    state.pointer_move(700, 500)
    assert state.note_rect(wf.note(nid))[0] == 650
    state.key("Escape")
    state.pointer_up(700, 500)
    assert (wf.note(nid).x, wf.note(nid).y) == (600, 400)
    assert state.note_rect(wf.note(nid)) == (600, 400, 800, 500)


def test_nodes_added_inside_a_group_are_one_undo_step(state, wf):
    """What a blueprint does: add nodes and group them, one step."""
    nodes = [
        (
            None,
            {
                "id": "a",
                "type": "utility",
                "position": {"x": 0, "y": 600},
                "data": {"nodeType": "image:crop"},
            },
        ),
        (
            None,
            {
                "id": "b",
                "type": "utility",
                "position": {"x": 300, "y": 600},
                "data": {"nodeType": "image:crop"},
            },
        ),
    ]
    step = Compound(
        [AddItems(nodes, label="add"), EditCanvas(lambda w: w.group(["a", "b"], title="Blueprint"), "group")],
        label="insert blueprint",
    )
    state.execute(step)
    assert [g.nodes for g in wf.groups] == [("a", "b")]
    state.undo()
    assert wf.groups == [] and not wf.has_node("a")
    state.redo()
    assert [(g.title, g.nodes) for g in wf.groups] == [("Blueprint", ("a", "b"))]


def test_copies_of_a_bypassed_node_are_bypassed_in_the_same_step(state, wf):
    wf.set_bypass("resize")
    state.sync(force=True)
    state.select(["resize", "image"])
    state.key("d", ctrl=True)
    (copy_of_resize,) = [n for n in state.selection if wf.node(n).node_type == "image:resize"]
    assert wf.is_bypassed(copy_of_resize)
    assert len(wf.bypassed) == 2
    state.undo()
    assert wf.bypassed == ["resize"] and len(wf.nodes) == 3
    state.select(["resize"])
    state.key("c", ctrl=True)
    wf.set_bypass("resize", False)
    state.key("v", ctrl=True)
    (pasted,) = state.selection
    assert wf.bypassed == [pasted], "the flag it had when copied"
