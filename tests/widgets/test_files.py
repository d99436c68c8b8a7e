"""Save and load: every field kept, the view (pan/zoom) saved as React Flow's viewport,
hosted workflows shown and written back unchanged."""

from __future__ import annotations

import json

import pytest

from wireflow_nb import Workflow
from wireflow_nb.testing import EditorDriver
from wireflow_nb.widgets import GraphEditor


def test_load_then_save_keeps_the_hosted_file_unchanged(hosted_file, hosted, tmp_path):
    editor = GraphEditor.load(hosted_file)
    assert (editor.view.x, editor.view.y, editor.view.zoom) == (12.5, -40, 0.75)
    assert set(editor.state.boxes) == {"txt", "flux", "kling", "m1"}
    out = editor.save(tmp_path / "again.json")
    assert json.loads(out.read_text()) == hosted


def test_moving_one_hosted_node_changes_only_its_position(hosted_file, hosted, tmp_path):
    editor = GraphEditor.load(hosted_file)
    EditorDriver(editor).drag_node("flux", 60, 30)
    saved = json.loads(editor.save(tmp_path / "moved.json").read_text())
    moved = next(n for n in saved["nodes"] if n["id"] == "flux")
    original = next(n for n in hosted["nodes"] if n["id"] == "flux")
    assert moved["position"] == {"x": pytest.approx(420.5 + 30 / 0.75), "y": pytest.approx(10 + 15 / 0.75)}
    assert {k: v for k, v in moved.items() if k != "position"} == {
        k: v for k, v in original.items() if k != "position"
    }
    assert [n for n in saved["nodes"] if n["id"] != "flux"] == [
        n for n in hosted["nodes"] if n["id"] != "flux"
    ]
    assert saved["edges"] == hosted["edges"]


def test_the_view_is_saved_and_restored(wf, tmp_path):
    editor = GraphEditor(wf)
    d = EditorDriver(editor)
    d.wheel(500, 400, -200)
    editor.set_mode("pan")
    d.drag(d.empty_point(), (d.empty_point()[0] + 90, d.empty_point()[1] + 40))
    view = editor.view
    path = editor.save(tmp_path / "wf.json")
    body = json.loads(path.read_text())
    assert body["viewport"] == {"x": round(view.x, 2), "y": round(view.y, 2), "zoom": round(view.zoom, 4)}
    again = GraphEditor.load(path)
    assert again.view.zoom == pytest.approx(view.zoom, abs=1e-4)
    assert (again.view.x, again.view.y) == pytest.approx((view.x, view.y), abs=0.01)
    assert again.node_bounds("image") == pytest.approx(editor.node_bounds("image"), abs=0.1)


def test_an_untouched_view_adds_no_viewport(wf, tmp_path):
    editor = GraphEditor(wf)  # opened fitted to the graph, not moved by the user
    body = json.loads(editor.save(tmp_path / "wf.json").read_text())
    assert "viewport" not in body


def test_viewport_keeps_its_other_keys(hosted_file, tmp_path):
    body = json.loads(hosted_file.read_text())
    body["viewport"]["extra"] = "kept"
    hosted_file.write_text(json.dumps(body))
    editor = GraphEditor.load(hosted_file)
    editor.zoom_in()
    saved = json.loads(editor.save(tmp_path / "z.json").read_text())
    assert saved["viewport"]["extra"] == "kept"
    assert saved["viewport"]["zoom"] == pytest.approx(0.9)


def test_a_broken_viewport_falls_back_to_fit(wf, tmp_path):
    wf.extra["viewport"] = {"x": "left", "zoom": -1}
    editor = GraphEditor(wf)
    assert 0 < editor.view.zoom <= 1
    body = json.loads(editor.save(tmp_path / "b.json").read_text())
    assert body["viewport"] == {"x": "left", "zoom": -1}  # not ours to fix unless the view moves


def test_open_file_replaces_the_workflow(hosted_file, wf):
    editor = GraphEditor(wf)
    editor.open_file(hosted_file)
    assert editor.workflow.extra["name"] == "hosted export"
    assert editor.path.value == str(hosted_file)
    assert editor.view.zoom == 0.75
    assert "loaded 4 nodes" in editor.status.value


def test_graphs_without_positions_can_be_laid_out(tmp_path):
    body = {
        "nodes": [{"id": f"n{i}", "data": {"nodeType": "image:resize"}} for i in range(4)],
        "edges": [
            {
                "id": f"e{i}",
                "source": f"n{i}",
                "target": f"n{i + 1}",
                "sourceHandle": "images",
                "targetHandle": "image",
            }
            for i in range(3)
        ],
    }
    wf = Workflow.from_dict(body)
    editor = GraphEditor(wf)
    editor.auto_layout()
    xs = [n.position.x for n in wf.nodes]
    assert xs == sorted(xs) and len(set(xs)) == 4
    for i in range(4):  # every node in view after the layout
        x, _y, w, _h = editor.node_bounds(f"n{i}")
        assert x >= 0 and x + w <= editor.canvas.width
    editor.undo()
    assert wf.to_dict()["nodes"] == body["nodes"]
