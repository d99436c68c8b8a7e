"""Hypothesis strategies for broken workflows, as raw JSON (they must be able to be
anything a user may paste), each with the text its error must contain."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

#: Node ids and labels: any text but lone surrogates (those cannot be UTF-8 on the wire;
#: they have their own test), including RTL, combining marks, emoji and NUL.
_SAFE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),
    min_size=1,
    max_size=40,
)
_IDS = st.one_of(
    st.from_regex(r"[a-z][a-z0-9_-]{0,12}", fullmatch=True),
    _SAFE_TEXT,
    st.sampled_from(
        [
            "\u202e\u0645\u0631\u062d\u0628\u0627",
            "\U0001f98a-fox",
            "a\u0301\u0301",
            "nul\x00id",
            " ",
            "💥" * 30,
        ]
    ),
)


@dataclass
class Broken:
    """A broken execute body and what the error must name."""

    kind: str
    body: Any
    #: every one of these must appear in the error (message or details)
    names: tuple[str, ...]
    #: whether ``Workflow.validate`` (structure only) sees the problem too
    structural: bool = True


def _node(node_id: str, node_type: str, **data: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "utility",
        "position": {"x": 0, "y": 0},
        "data": {"nodeType": node_type, "label": f"label of {node_id}", **data},
    }


def _edge(
    i: int, source: str, target: str, source_handle: str = "text", target_handle: str = "text"
) -> dict[str, Any]:
    return {
        "id": f"e{i}",
        "source": source,
        "target": target,
        "sourceHandle": source_handle,
        "targetHandle": target_handle,
    }


@st.composite
def chains(draw: st.DrawFn, *, min_size: int = 2, max_size: int = 12) -> dict[str, Any]:
    """A valid chain: input:text -> text:template x (n-1), unique ids."""
    size = draw(st.integers(min_size, max_size))
    ids = draw(st.lists(_IDS, min_size=size, max_size=size, unique=True))
    nodes = [_node(ids[0], "input:text", text=draw(_SAFE_TEXT))]
    nodes += [_node(node_id, "text:template", template="{{text}}!") for node_id in ids[1:]]
    edges = [_edge(i, ids[i], ids[i + 1]) for i in range(size - 1)]
    return {"nodes": nodes, "edges": edges}


def deep_chain(size: int) -> dict[str, Any]:
    ids = [f"d{i}" for i in range(size)]
    nodes = [_node(ids[0], "input:text", text="deep")]
    nodes += [_node(node_id, "text:template", template="{{text}}") for node_id in ids[1:]]
    return {"nodes": nodes, "edges": [_edge(i, ids[i], ids[i + 1]) for i in range(size - 1)]}


@st.composite
def broken_workflows(draw: st.DrawFn) -> Broken:
    body = draw(st.one_of(chains(), st.integers(200, 3000).map(deep_chain)))
    nodes, edges = body["nodes"], body["edges"]
    ids = [n["id"] for n in nodes]
    kind = draw(
        st.sampled_from(
            [
                "cycle",
                "self_loop",
                "dangling_target",
                "dangling_source",
                "duplicate_id",
                "unknown_handle",
                "unknown_type",
                "missing_required",
                "wrong_type_position",
                "wrong_type_data",
                "wrong_type_id",
                "edges_not_list",
                "node_not_object",
                "huge_dangling_id",
                "bad_target_node",
            ]
        )
    )
    if kind == "cycle" and len(ids) >= 3:
        last = draw(st.integers(2, len(ids) - 1))
        first = draw(st.integers(1, last - 1))
        edges.append(_edge(len(edges), ids[last], ids[first]))
        return Broken(kind, body, ("cycle", ids[first], ids[last]))
    if kind in ("cycle", "self_loop"):
        victim = draw(st.sampled_from(ids[1:]))
        edges.append(_edge(len(edges), victim, victim))
        return Broken("self_loop", body, ("cycle", victim))
    if kind == "dangling_target":
        ghost = draw(_IDS.filter(lambda x: x not in ids))
        edges.append(_edge(len(edges), ids[0], ghost))
        return Broken(kind, body, (ghost,))
    if kind == "dangling_source":
        ghost = draw(_IDS.filter(lambda x: x not in ids))
        edges.append(_edge(len(edges), ghost, ids[-1]))
        return Broken(kind, body, (ghost,))
    if kind == "huge_dangling_id":
        # under the server's string limit (tests/badinput/test_limits.py covers over it)
        ghost = "ghost-" + "x" * draw(st.integers(10_000, 99_000))
        edges.append(_edge(len(edges), ids[0], ghost))
        return Broken(kind, body, ("ghost-xxxx",))
    if kind == "duplicate_id":
        twin = copy.deepcopy(nodes[draw(st.integers(0, len(nodes) - 1))])
        nodes.insert(draw(st.integers(0, len(nodes))), twin)
        return Broken(kind, body, (twin["id"],))
    if kind == "unknown_handle":
        handle = draw(st.sampled_from(["nothing", "in-nowhere", "imagez", "\U0001f98a"]))
        edges[draw(st.integers(0, len(edges) - 1))]["targetHandle"] = handle
        return Broken(kind, body, (handle.removeprefix("in-"),), structural=False)
    if kind == "unknown_type":
        victim = nodes[draw(st.integers(0, len(nodes) - 1))]
        victim["data"]["nodeType"] = "vendor:does-not-exist-" + draw(
            st.from_regex(r"[a-z]{1,8}", fullmatch=True)
        )
        return Broken(kind, body, (victim["data"]["nodeType"],), structural=False)
    if kind == "missing_required":
        nodes.append(_node("needs-prompt", "model:fal:text-to-image", width=64, height=64))
        return Broken(kind, body, ("needs-prompt", "prompt"), structural=False)
    if kind == "wrong_type_position":
        index = draw(st.integers(0, len(nodes) - 1))
        nodes[index]["position"] = draw(st.sampled_from(["left", 12, [1, 2], {"x": "a", "y": None}]))
        return Broken(kind, body, ("position",))
    if kind == "wrong_type_data":
        index = draw(st.integers(0, len(nodes) - 1))
        nodes[index]["data"] = draw(st.sampled_from([[], "data", 7, None]))
        return Broken(kind, body, ("data",))
    if kind == "wrong_type_id":
        index = draw(st.integers(0, len(nodes) - 1))
        nodes[index]["id"] = draw(st.sampled_from([None, 12, 3.5, ["a"], {"id": "x"}]))
        return Broken(kind, body, ("id",))
    if kind == "edges_not_list":
        body["edges"] = draw(st.sampled_from([{}, "edges", 3, None]))
        return Broken(kind, body, ("edges",))
    if kind == "node_not_object":
        nodes[draw(st.integers(0, len(nodes) - 1))] = draw(st.sampled_from(["node", 1, None, [], True]))
        return Broken(kind, body, ("nodes",))
    assert kind == "bad_target_node"
    ghost = draw(_IDS.filter(lambda x: x not in ids))
    body["targetNodeId"] = ghost
    return Broken(kind, body, (ghost,))
