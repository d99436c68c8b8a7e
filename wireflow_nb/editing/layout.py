"""Auto-layout: layered left-to-right positions for a graph (a node's column is its
``graphs.longest_path_layers``, so cycles are broken at their back edges).

Imports ``graphs`` and ``editing.geometry``; no widget library.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from ..graphs import longest_path_layers, predecessors
from .geometry import NODE_WIDTH


def layered_layout(
    order: Sequence[str],
    edges: Iterable[tuple[str, str]],
    heights: Mapping[str, float],
    *,
    width: float = NODE_WIDTH,
    column_gap: float = 100.0,
    row_gap: float = 40.0,
    origin: tuple[float, float] = (0.0, 0.0),
) -> dict[str, tuple[float, float]]:
    """Left-to-right layered positions: a node's column is its longest path from a
    source; rows are ordered by the mean row of their predecessors (fewer crossings) and
    every column is centred vertically. Cycles are broken at their back edges."""
    ids = list(dict.fromkeys(order))
    index = {n: i for i, n in enumerate(ids)}
    # each linked couple of distinct nodes once: repeats and self-loops place no node
    pairs = list(dict.fromkeys((s, t) for s, t in edges if s in index and t in index and s != t))
    layer = longest_path_layers(ids, pairs)
    # a back edge comes from a later column, which has no row yet when its target's
    # column is ordered: the predecessors with a row are those of the layered graph
    pred = predecessors(ids, pairs)
    columns: dict[int, list[str]] = {}
    for n in ids:
        columns.setdefault(layer[n], []).append(n)
    row: dict[str, float] = {}
    for c in sorted(columns):
        col = columns[c]
        if c > 0:

            def bary(n: str) -> tuple[float, int]:
                ps = [row[p] for p in pred[n] if p in row]
                return (sum(ps) / len(ps) if ps else math.inf, index[n])

            col.sort(key=bary)
        for i, n in enumerate(col):
            row[n] = float(i)
    col_heights = {
        c: sum(heights.get(n, 100.0) for n in col) + row_gap * (len(col) - 1) for c, col in columns.items()
    }
    tallest = max(col_heights.values(), default=0.0)
    ox, oy = origin
    out: dict[str, tuple[float, float]] = {}
    for c, col in columns.items():
        y = oy + (tallest - col_heights[c]) / 2
        for n in col:
            out[n] = (ox + c * (width + column_gap), y)
            y += heights.get(n, 100.0) + row_gap
    return out
