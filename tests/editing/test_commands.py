"""Undoable commands and the history: undo restores a file exactly, edits merge."""

from __future__ import annotations

from wireflow_nb import Workflow
from wireflow_nb.catalog import default_catalog
from wireflow_nb.editing.commands import History, MoveNodes, SetNodeData
from wireflow_nb.editing.state import EditorState


def test_delete_then_undo_restores_the_file_exactly(hosted):
    wf = Workflow.from_dict(hosted)
    original = wf.to_dict()
    s = EditorState(wf, default_catalog())
    s.select(["flux", "txt"])
    s.delete_selection()
    assert [n.id for n in wf.nodes] == ["kling", "m1"] and wf.edges == []
    s.undo()
    assert wf.to_dict() == original
    s.redo()
    s.undo()
    assert wf.to_dict() == original


def test_edit_data_is_undoable_and_consecutive_edits_of_a_field_merge(state, wf):
    state.edit_data("image", lambda n: n.set_input("seed", 2), "seed")
    state.edit_data("image", lambda n: n.set_input("seed", 23), "seed")
    assert wf.node("image").data["seed"] == 23
    state.undo()
    assert wf.node("image").data["seed"] == 1
    state.redo()
    state.history.seal()  # a new editing session of the same field
    state.edit_data("image", lambda n: n.set_input("seed", 7), "seed")
    state.undo()
    assert wf.node("image").data["seed"] == 23


def test_history_limit_and_redo_cleared_by_new_commands():
    wf = Workflow()
    wf.add_node("input:text", id="a")
    h = History(limit=3)
    for i in range(5):
        cmd = MoveNodes({"a": (wf.node("a").position, (i, i))})
        cmd.apply(wf)
        h.push(cmd)
    assert len(h.undo_stack) == 3
    h.redo_stack.append(SetNodeData("a", {}, {}))
    h.push(MoveNodes({"a": (wf.node("a").position, (9, 9))}))
    assert not h.can_redo
