"""The editor's clipboard: copied nodes and the edges between them, as JSON dicts, and
how pasted (or duplicated) copies get fresh ids and positions.

One clipboard is shared by every editor of the process, so nodes copy from one editor to
another. Imports ``models`` and ``editing.commands`` (ids, rounding); no widget library.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..models import Edge, Node, port_name
from .commands import new_node_id, round_coordinate, unique_id


@dataclass
class Clipboard:
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    pastes: int = 0
    #: ids (among ``nodes``) of the copied nodes that were bypassed: their copies are too
    bypassed: set[str] = field(default_factory=set)


#: Shared by every editor of the process, so nodes copy from one editor to another.
CLIPBOARD = Clipboard()

#: How far a paste lands from the previous one (and a duplicate from its original).
PASTE_OFFSET = 40.0


def copy_items(
    nodes: Iterable[Node], edges: Iterable[Edge]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``nodes`` and those of ``edges`` that join two of them, as JSON dicts."""
    chosen = list(nodes)
    ids = {n.id for n in chosen}
    return [n.to_wire() for n in chosen], [e.to_wire() for e in edges if e.source in ids and e.target in ids]


def paste_items(
    nodes: Iterable[dict[str, Any]],
    edges: Iterable[dict[str, Any]],
    node_ids: set[str],
    edge_ids: set[str],
    offset: float,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    """Copies of copied ``nodes`` and ``edges`` to add beside nodes ``node_ids`` and edges
    ``edge_ids``: fresh ids, positions moved by ``offset``, edges between the copies.
    Also returns each copied node's new id."""
    taken = set(node_ids)
    rename: dict[str, str] = {}
    new_nodes = []
    for n in nodes:
        new_id = new_node_id(taken)
        taken.add(new_id)
        rename[n["id"]] = new_id
        m = copy.deepcopy(n)
        m["id"] = new_id
        pos = m.get("position") or {}
        m["position"] = {
            "x": round_coordinate(float(pos.get("x", 0)) + offset),
            "y": round_coordinate(float(pos.get("y", 0)) + offset),
        }
        new_nodes.append(m)
    taken_edges = set(edge_ids)
    new_edges = []
    for e in edges:
        f = copy.deepcopy(e)
        f["source"], f["target"] = rename[e["source"]], rename[e["target"]]
        sh, th = port_name(f.get("sourceHandle")), port_name(f.get("targetHandle"))
        f["id"] = unique_id(f"e-{f['source']}-{sh}-{f['target']}-{th}", taken_edges)
        taken_edges.add(f["id"])
        new_edges.append(f)
    return new_nodes, new_edges, rename
