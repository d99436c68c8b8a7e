"""The layered auto-layout."""

from __future__ import annotations

from wireflow_nb import Workflow
from wireflow_nb.catalog import default_catalog
from wireflow_nb.editing.geometry import NODE_WIDTH
from wireflow_nb.editing.layout import layered_layout
from wireflow_nb.editing.state import EditorState
from wireflow_nb.graphs import longest_path_layers

from .fixtures import positions


def test_layered_layout_goes_left_to_right_and_breaks_cycles():
    spots = layered_layout(
        ["a", "b", "c", "d", "e"],
        [("a", "b"), ("b", "c"), ("a", "c"), ("d", "c"), ("c", "a")],
        {n: 80.0 for n in "abcde"},
    )
    col = {n: round(x / (NODE_WIDTH + 100)) for n, (x, _) in spots.items()}
    assert col["a"] == 0 and col["b"] == 1 and col["c"] == 2 and col["d"] == 0
    ys = sorted(y for n, (x, y) in spots.items() if col[n] == 0)
    assert ys[1] - ys[0] >= 80 + 40  # stacked without overlap


def test_auto_layout_is_undoable(hosted):
    wf = Workflow.from_dict(hosted)
    for n in wf.nodes:
        n.position.x = n.position.y = 0
    s = EditorState(wf, default_catalog())
    before = positions(wf)
    s.auto_layout()
    xs = positions(wf)
    assert xs["txt"][0] < xs["flux"][0] < xs["kling"][0]
    assert len(set(xs.values())) == 4
    s.undo()
    assert positions(wf) == before


def test_longest_path_layers_count_past_a_cycle():
    # a -> b -> c -> a is broken at its back edge c -> a; d feeds c from column 0
    pairs = [("a", "b"), ("b", "c"), ("a", "c"), ("c", "a"), ("d", "c")]
    assert longest_path_layers("abcd", pairs) == {"a": 0, "b": 1, "c": 2, "d": 0}
    assert longest_path_layers(["x"], []) == {"x": 0}
