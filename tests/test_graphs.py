"""The graph walks (``wireflow_nb.graphs``), checked against brute force on random graphs."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wireflow_nb.graphs import (
    CycleError,
    ancestors,
    back_edges,
    find_cycles,
    nodes_to_run,
    predecessors,
    reachable,
    shortest_path,
    successors,
    topological_order,
)

NODES = [f"n{i}" for i in range(8)]


@st.composite
def graphs(draw: st.DrawFn) -> tuple[list[str], list[tuple[str, str]]]:
    count = draw(st.integers(min_value=1, max_value=len(NODES)))
    ids = NODES[:count]
    pairs = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=16))
    return ids, pairs


def brute_reach(start: str, pairs: list[tuple[str, str]]) -> set[str]:
    seen = {start}
    changed = True
    while changed:
        changed = False
        for a, b in pairs:
            if a in seen and b not in seen:
                seen.add(b)
                changed = True
    return seen


def has_cycle(ids: list[str], pairs: list[tuple[str, str]]) -> bool:
    # a cycle exists iff some edge's target reaches its source
    return any(a in brute_reach(b, pairs) for a, b in pairs if a in ids and b in ids)


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_topological_order_and_cycles_agree_with_brute_force(graph) -> None:
    ids, pairs = graph
    cycles = find_cycles(ids, pairs)
    if has_cycle(ids, pairs):
        assert cycles
        with pytest.raises(CycleError):
            topological_order(ids, pairs)
    else:
        assert cycles == []
        order = topological_order(ids, pairs)
        assert sorted(order) == sorted(ids)
        position = {n: i for i, n in enumerate(order)}
        assert all(position[a] < position[b] for a, b in pairs)
    for cycle in cycles:
        # each reported cycle is a real closed path of the graph
        assert cycle[0] == cycle[-1]
        assert all(step in pairs for step in itertools.pairwise(cycle))


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_ancestors_nodes_to_run_and_reach_agree_with_brute_force(graph) -> None:
    ids, pairs = graph
    reversed_pairs = [(b, a) for a, b in pairs]
    for node in ids:
        assert ancestors(node, pairs) == brute_reach(node, reversed_pairs)
        assert reachable(node, successors(ids, pairs)) == brute_reach(node, pairs)
        assert reachable(node, predecessors(ids, pairs)) == brute_reach(node, reversed_pairs)
        assert nodes_to_run(ids, pairs, node) == [n for n in ids if n in brute_reach(node, reversed_pairs)]
    assert nodes_to_run(ids + ids[:1], pairs) == ids
    assert nodes_to_run(ids, pairs, "missing") == []


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_back_edges_leave_a_dag_and_shortest_paths_are_paths(graph) -> None:
    ids, pairs = graph
    back = back_edges(ids, pairs)
    rest = [p for p in pairs if p not in back]
    assert not has_cycle(ids, rest)
    assert set(back) <= set(pairs)
    if not has_cycle(ids, pairs):
        assert back == set()
    succ = successors(ids, pairs)
    for a, b in itertools.product(ids, ids):
        path = shortest_path(a, b, succ)
        if b in brute_reach(a, pairs):
            assert path[0] == a and path[-1] == b
            assert all(step in pairs for step in itertools.pairwise(path))
        else:
            assert path == []


def test_topological_order_keeps_node_order_among_ready_nodes() -> None:
    assert topological_order(["c", "a", "b"], []) == ["c", "a", "b"]
    assert topological_order(["a", "b", "c"], [("c", "a")]) == ["b", "c", "a"]
    # edges to nodes that are not in the graph are ignored, not invented
    assert topological_order(["a"], [("a", "ghost")]) == ["a"]


def test_deep_chains_need_no_recursion() -> None:
    chain = [f"n{i}" for i in range(20_000)]
    pairs = list(itertools.pairwise(chain))
    assert find_cycles(chain, pairs) == []
    assert topological_order(chain, pairs) == chain
    assert len(ancestors(chain[-1], pairs)) == len(chain)
    assert back_edges(chain, [*pairs, (chain[-1], chain[0])]) == {(chain[-1], chain[0])}
