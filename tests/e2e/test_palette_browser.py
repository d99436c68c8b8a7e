"""The palette of 500 generated node types (and the built-ins) in a real JupyterLab: folded categories unfold on a click,
the search shows the hits as the user types, a picked type lands on the canvas.

The notebook ``notebooks/palette_test.ipynb`` registers 500 generated types
(``wireflow_nb.testing.node_types_module``) and shows ``editor = GraphEditor(...)`` over
them; what the browser shows is checked against ``editor`` in the kernel.
"""

from __future__ import annotations

import pytest

from .lab import EditorHandle, console_errors

pytestmark = pytest.mark.e2e


def test_folded_categories_search_and_pick(open_notebook) -> None:
    nb = open_notebook("palette_test.ipynb")
    nb.run_all()
    handle = EditorHandle(nb, "editor")
    handle.canvas.wait_nonblank()
    source = nb.widget("wf-palette-source")
    source.wait_for()
    total = nb.eval_json("len(editor.catalog)")
    assert total >= 500 and f"{total} types: generated test types" in source.inner_text()
    # folded: a heading per category, no type button in the page yet
    audio = nb.widget("wf-palette-audio")
    assert "Audio (50)" in audio.inner_text()
    assert nb.panel.locator(".wf-palette-audio-kind_007").count() == 0
    audio.click()
    nb.widget("wf-palette-audio-kind_007").wait_for()
    assert nb.panel.locator(".wf-palette .widget-button:not(.widget-toggle-button)").count() == 50
    audio.click()  # folds again
    nb.widget("wf-palette-audio-kind_007").wait_for(state="detached")

    nb.widget("wf-palette-search").locator("input").fill("kind_042")
    hit = nb.widget("wf-palette-compose-kind_042")
    hit.wait_for()
    assert nb.panel.locator(".wf-palette .widget-button:not(.widget-toggle-button)").count() == 1
    hit.click()
    nodes = nb.wait_python(
        "[n.data['nodeType'] for n in editor.workflow.nodes]", lambda types: len(types) == 1
    )
    assert nodes == ["compose:kind_042"]
    # the typed form of the picked type
    nb.widget("wf-field-style").wait_for()
    assert nb.eval_json("sorted(editor.inspector.fields)") == [
        "__bypass__",
        "__json__",
        "image",
        "label",
        "prompt",
        "seamless",
        "steps",
        "strength",
        "style",
    ]
    nb.widget("wf-palette-search").locator("input").fill("kind")
    nb.widget("wf-palette-more").wait_for()
    # 60 hits in a scrolling column: each button keeps a clickable height (not squashed)
    shown = nb.eval_json("[s.node_type for s in editor.catalog.search('kind')][:60]")
    first, last = (nb.widget("wf-palette-" + t.replace(":", "-")) for t in (shown[0], shown[-1]))
    assert first.bounding_box()["height"] >= 20 and last.bounding_box()["height"] >= 20
    last.scroll_into_view_if_needed()
    last.click()
    nb.wait_python("[n.data['nodeType'] for n in editor.workflow.nodes]", lambda types: len(types) == 2)
    more = nb.widget("wf-palette-more").inner_text()
    assert more.startswith("440 more (also in generate") and more.endswith("refine the search"), more
    nb.assert_no_errors()
    assert not console_errors(nb.page), console_errors(nb.page)
