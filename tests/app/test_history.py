"""HistoryView against a real LocalEngine: pages, an execution's details and outputs,
Restore into an editor, comparing two runs."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from wireflow_nb import Workflow
from wireflow_nb.widgets.history import HistoryView, diff_inputs, format_started

from ._helpers import image_workflow


class FakeEditor:
    def __init__(self) -> None:
        self.workflow: Workflow | None = None


def test_pages_details_restore_and_compare(engine: Any) -> None:
    for i, prompt in enumerate(["a red fox", "a blue owl", "a green frog"]):
        engine.run("demo", image_workflow(prompt, size=64 + 16 * i))
    editor = FakeEditor()
    restored: list[str] = []
    view = HistoryView(
        engine, "demo", editor=editor, page_size=2, on_restore=lambda wf, ex: restored.append(ex.id)
    )
    assert len(view.rows) == 2 and view.has_next
    assert not view.next_button.disabled and view.prev_button.disabled
    newest = view.rows[0]
    assert ["wf-app-history-row" in box._dom_classes for box in view._row_boxes.values()] == [True, True]
    view.next_button.click()
    assert len(view.rows) == 1 and not view.has_next
    oldest = view.rows[0]
    view.prev_button.click()
    assert view.rows[0].id == newest.id

    # open the newest row with its button
    opener = next(
        w
        for w in view._row_boxes[newest.id].children
        if "wf-app-history-open" in getattr(w, "_dom_classes", ())
    )
    opener.click()
    assert view.selected is not None and view.selected.id == newest.id
    assert "wf-app-history-row-selected" in view._row_boxes[newest.id]._dom_classes
    assert "COMPLETED" in view.detail_info.value
    assert view.wait_loaded(10)
    [image] = view.detail_outputs.image_widgets
    with Image.open(io.BytesIO(image.value)) as png:
        assert png.format == "PNG" and png.size == (96, 96)

    assert not view.restore_button.disabled
    view.restore_button.click()
    assert isinstance(editor.workflow, Workflow)
    assert editor.workflow.node("prompt").inputs["text"] == "a green frog"
    assert restored == [newest.id]

    # compare the newest with the oldest (page 1 holds only the two newest: use ids)
    changes = view.compare(oldest.id, newest.id)
    assert changes is not None
    changed = {(c.node_id, c.field): (c.before, c.after) for c in changes}
    assert changed[("prompt", "text")] == ("a red fox", "a green frog")
    assert changed[("image", "width")] == (64, 96)
    assert view.wait_loaded(10)
    left, right = view.compare_views
    sizes = [Image.open(io.BytesIO(v.image_widgets[0].value)).size for v in (left, right)]
    assert sizes == [(64, 64), (96, 96)]

    # ticking two rows enables Compare
    assert view.compare_button.disabled
    view.check(*[r.id for r in view.rows])
    assert not view.compare_button.disabled
    assert view.compare_checked() is not None


def test_refresh_picks_up_new_runs_and_errors_are_shown(engine: Any) -> None:
    view = HistoryView(engine, "demo")
    assert view.rows == []
    engine.run("demo", image_workflow())
    view.refresh_button.click()
    assert len(view.rows) == 1
    assert view.select("exec_nope") is None
    assert "Could not load execution exec_nope" in view.message.value


def test_diff_inputs_nodes_added_removed_and_connections() -> None:
    a = image_workflow("x").to_dict()
    b_wf = image_workflow("x")
    b_wf.add_node("input:text", id="extra", text="y")
    b_wf.remove_edge(b_wf.edges[0].id or "")
    changes = diff_inputs(a, b_wf.to_dict())
    fields = {(c.node_id, c.field) for c in changes}
    assert ("extra", None) in fields
    assert ("image", "(connections)") in fields
    assert format_started("2025-03-20T12:01:00.000Z") == "2025-03-20 12:01:00"
