"""Graph walks: the one home of every walk over a workflow's nodes and edges.

Everything here works on plain node ids and ``(source, target)`` pairs, so the workflow
builder, the engine's planner, the editor and the runner share the same rules (which
nodes a ``targetNodeId`` runs, where a cycle is, in which order nodes run) without
importing each other. Pure and iterative: a 10,000-node chain needs no recursion.
Imports nothing of the package.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from graphlib import CycleError, TopologicalSorter

__all__ = [
    "CycleError",
    "ancestors",
    "back_edges",
    "find_cycles",
    "longest_path_layers",
    "nodes_to_run",
    "predecessors",
    "reachable",
    "shortest_path",
    "successors",
    "topological_order",
]

Pairs = Iterable[tuple[str, str]]


def successors(node_ids: Iterable[str], edges: Pairs) -> dict[str, list[str]]:
    """``node -> [targets]`` in edge order; edges that touch an unknown node are left out."""
    succ: dict[str, list[str]] = {n: [] for n in node_ids}
    for src, dst in edges:
        if src in succ and dst in succ:
            succ[src].append(dst)
    return succ


def predecessors(node_ids: Iterable[str], edges: Pairs) -> dict[str, list[str]]:
    """``node -> [sources]`` in edge order; edges that touch an unknown node are left out."""
    pred: dict[str, list[str]] = {n: [] for n in node_ids}
    for src, dst in edges:
        if src in pred and dst in pred:
            pred[dst].append(src)
    return pred


def reachable(start: str | Iterable[str], neighbours: Mapping[str, Iterable[str]]) -> set[str]:
    """Every node reachable from ``start`` (included) by following ``neighbours``.

    Pass ``successors(...)`` for what a node feeds, ``predecessors(...)`` for what feeds it.
    """
    todo = [start] if isinstance(start, str) else list(start)
    seen = set(todo)
    while todo:
        for nxt in neighbours.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def ancestors(target: str, edges: Pairs) -> set[str]:
    """``target`` and every node that feeds it, directly or not (what ``targetNodeId``
    runs). Edges may name unknown nodes: they are followed as given."""
    parents: dict[str, list[str]] = {}
    for src, dst in edges:
        parents.setdefault(dst, []).append(src)
    return reachable(target, parents)


def nodes_to_run(node_ids: Iterable[str], edges: Pairs, target: str | None = None) -> list[str]:
    """The nodes a request runs, in node order without repeats: all of them, or the target
    and its ancestors when ``target`` is set (none when the target is not a node)."""
    ids = list(dict.fromkeys(node_ids))
    if target is None:
        return ids
    keep = ancestors(target, edges)
    return [n for n in ids if n in keep]


def shortest_path(start: str, goal: str, neighbours: Mapping[str, Iterable[str]]) -> list[str]:
    """A shortest path ``[start, ..., goal]`` (breadth first), empty when there is none."""
    prev: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        cur = queue.popleft()
        if cur == goal:
            out = [cur]
            while (back := prev[out[-1]]) is not None:
                out.append(back)
            return out[::-1]
        for nxt in neighbours.get(cur, ()):
            if nxt not in prev:
                prev[nxt] = cur
                queue.append(nxt)
    return []


def _dfs_back_edges(ids: list[str], succ: Mapping[str, list[str]]) -> list[tuple[list[str], str]]:
    """Depth-first from each unvisited node in order; for each back edge ``u -> v``, the
    current path (ending at ``u``) and ``v``."""
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(ids, white)
    found: list[tuple[list[str], str]] = []
    for root in ids:
        if color[root] != white:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = [root]
        color[root] = grey
        while stack:
            node, i = stack[-1]
            children = succ[node]
            if i < len(children):
                stack[-1] = (node, i + 1)
                child = children[i]
                if color[child] == white:
                    color[child] = grey
                    stack.append((child, 0))
                    path.append(child)
                elif color[child] == grey:
                    found.append((list(path), child))
            else:
                color[node] = black
                stack.pop()
                path.pop()
    return found


def find_cycles(node_ids: Iterable[str], edges: Pairs) -> list[list[str]]:
    """Every cycle found by a depth-first walk, each as a path ``[a, b, ..., a]``.

    One cycle per back edge, so a graph with k independent cycles reports k paths.
    """
    ids = list(dict.fromkeys(node_ids))
    cycles = []
    for path, child in _dfs_back_edges(ids, successors(ids, edges)):
        cycles.append([*path[path.index(child) :], child])
    return cycles


def back_edges(node_ids: Iterable[str], edges: Pairs) -> set[tuple[str, str]]:
    """The edges whose removal leaves a DAG (the back edges of a depth-first walk in node
    order); empty for a DAG. The layout drops them to place the rest in columns."""
    ids = list(dict.fromkeys(node_ids))
    return {(path[-1], child) for path, child in _dfs_back_edges(ids, successors(ids, edges))}


def topological_order(node_ids: Iterable[str], edges: Pairs) -> list[str]:
    """The nodes in an order where every edge points forward: ready nodes in node order,
    breadth first (``graphlib``). Edges to unknown nodes are ignored. Raises
    ``graphlib.CycleError`` (re-exported here) when there is a cycle; ``find_cycles``
    names them all."""
    ids = list(dict.fromkeys(node_ids))
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for n in ids:
        sorter.add(n)
    known = set(ids)
    for src, dst in edges:
        if src in known and dst in known:
            sorter.add(dst, src)
    return list(sorter.static_order())


def longest_path_layers(node_ids: Iterable[str], edges: Pairs) -> dict[str, int]:
    """Each node's layer: the length of the longest path that reaches it from a node
    nothing feeds (0 for those), over the edges left once the back edges are dropped, so
    a cycle does not stop the count. The editor's auto-layout puts layer k in column k."""
    ids = list(dict.fromkeys(node_ids))
    pairs = list(edges)
    back = back_edges(ids, pairs)
    dag_pairs = [p for p in pairs if p not in back]
    succ = successors(ids, dag_pairs)
    layer = dict.fromkeys(ids, 0)
    for n in topological_order(ids, dag_pairs):
        for t in succ[n]:
            layer[t] = max(layer[t], layer[n] + 1)
    return layer
