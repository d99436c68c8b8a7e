"""Auto-layout: layered left-to-right positions for a graph (cycles broken at their
back edges, found by ``graphs``).

Imports ``graphs`` and ``editing.geometry``; no widget library.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from ..graphs import back_edges, topological_order
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
    succ: dict[str, list[str]] = {n: [] for n in ids}
    for s, t in edges:
        if s in succ and t in succ and s != t and t not in succ[s]:
            succ[s].append(t)
    # drop back edges so the rest is a DAG; a node's column is its longest path from a source
    pairs = [(s, t) for s, ts in succ.items() for t in ts]
    back = back_edges(ids, pairs)
    dag_pairs = [p for p in pairs if p not in back]
    pred: dict[str, list[str]] = {n: [] for n in ids}
    dag: dict[str, list[str]] = {n: [] for n in ids}
    for s, t in dag_pairs:
        pred[t].append(s)
        dag[s].append(t)
    layer = dict.fromkeys(ids, 0)
    for n in topological_order(ids, dag_pairs):
        for t in dag[n]:
            layer[t] = max(layer[t], layer[n] + 1)
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
