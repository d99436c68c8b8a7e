"""Bypass: the one home of what a run does with a bypassed node (as ComfyUI does).

A bypassed node does not run: each edge out of it is rewired to come from the source
that feeds its *pass-through* input, the first input whose port kind equals the kind of
the output the edge leaves from (a connected one first; ``catalog.node_ports`` gives the
kinds). Chains of bypassed nodes resolve to the first node that runs. The bypassed node
and its in-edges are dropped. ``Workflow.to_request`` does this, so every backend and the
Python/curl export get the same graph, which the hosted API (knowing no bypass) accepts.

A bypassed node with outputs but no input of its output's kind, or whose pass-through
input is not connected while an edge leaves it, cannot be rewritten: ``rewrite`` returns a
``Problem`` naming it (label and id) and saying what to do. A node without outputs is
simply left out. ``targetNodeId`` may not be a bypassed node (run another node or
un-bypass it), nor may an iterator config set one of its fields.

What was dropped or rewired is kept with the request (``stash``), so
``Workflow.from_request`` puts the bypassed nodes back. Imports ``models``, ``catalog``
and ``_exceptions``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._exceptions import Problem
from .catalog import Catalog, Port, node_ports
from .models import Edge, Node, port_name

__all__ = ["Rewrite", "restore", "rewrite"]


@dataclass
class Rewrite:
    """The graph a run gets, and what it took to make it."""

    nodes: list[Node]
    edges: list[Edge]
    problems: list[Problem] = field(default_factory=list)
    #: ``(index in the workflow, node)`` of each dropped node
    dropped_nodes: list[tuple[int, Node]] = field(default_factory=list)
    #: ``(index in the workflow, edge as it was)`` of each dropped or rewired edge
    dropped_edges: list[tuple[int, Edge]] = field(default_factory=list)
    #: indices in ``edges`` of the rewired edges
    rewired: list[int] = field(default_factory=list)

    def stash(self) -> dict[str, Any]:
        """What ``restore`` needs to put the workflow back together (JSON)."""
        return {
            "nodes": [{"index": i, "node": n.to_wire()} for i, n in self.dropped_nodes],
            "edges": [{"index": i, "edge": e.to_wire()} for i, e in self.dropped_edges],
            "rewired": list(self.rewired),
        }


def _name(node: Node) -> str:
    return f"{node.label!r} ({node.id})"


def _find(ports: Sequence[Port], handle: str | None) -> Port | None:
    if handle is None:
        return ports[0] if ports else None
    name = port_name(handle) or ""
    return next((p for p in ports if p.name == name), None)


class _Bypass:
    """The pass-through of each bypassed node, per output kind, worked out once."""

    def __init__(self, nodes: Sequence[Node], edges: Sequence[Edge], bypassed: set[str], catalog: Catalog):
        self.by_id: dict[str, Node] = {}
        for n in nodes:
            self.by_id.setdefault(n.id, n)
        self.bypassed = {b for b in bypassed if b in self.by_id}
        self.into: dict[str, list[Edge]] = {}
        self.out_of: dict[str, list[Edge]] = {}
        for e in edges:
            self.into.setdefault(e.target, []).append(e)
            self.out_of.setdefault(e.source, []).append(e)
        self.ports = {
            b: node_ports(
                self.by_id[b],
                catalog.get(self.by_id[b].node_type),
                self.into.get(b, ()),
                self.out_of.get(b, ()),
            )
            for b in self.bypassed
        }

    def kind_of_output(self, node_id: str, handle: str | None) -> str | None:
        port = _find(self.ports[node_id][1], handle)
        return port.kind if port is not None else None

    def pass_through(self, node_id: str, kind: str) -> tuple[Port | None, Edge | None]:
        """The input of ``kind`` a bypassed node passes on (a connected one first), and
        the edge feeding it (None when it is not connected)."""
        candidates = [p for p in self.ports[node_id][0] if p.kind == kind]
        for port in candidates:
            feeding = [e for e in self.into.get(node_id, ()) if e.target_port == port.name]
            if feeding:
                return port, feeding[0]
        return (candidates[0] if candidates else None), None

    def no_input(self, node_id: str, kind: str) -> Problem:
        return Problem(
            "bypass_no_input",
            f"node {_name(self.by_id[node_id])} is bypassed but has no {kind} input to pass its "
            f"{kind} output through; un-bypass it (Ctrl+B), or remove it",
            node_id=node_id,
        )

    def source_of(self, edge: Edge) -> tuple[str, str | None] | Problem:
        """Where an edge out of a bypassed node really comes from, through a chain."""
        source, handle, seen = edge.source, edge.source_handle, set()
        while source in self.bypassed and source not in seen:
            seen.add(source)
            kind = self.kind_of_output(source, handle) or "any"
            port, feeding = self.pass_through(source, kind)
            if port is None:
                return self.no_input(source, kind)
            if feeding is None:
                return Problem(
                    "bypass_input_unconnected",
                    f"node {_name(self.by_id[source])} is bypassed and passes its {kind} input "
                    f"{port.name!r} through, but nothing feeds it and {edge.target!r} needs the value; "
                    f"connect a {kind} input to {port.name!r}, or un-bypass it (Ctrl+B)",
                    node_id=source,
                    field=port.name,
                )
            source, handle = feeding.source, feeding.source_handle
        return source, handle


def rewrite(
    nodes: Sequence[Node],
    edges: Sequence[Edge],
    bypassed: Iterable[str],
    catalog: Catalog,
    *,
    target_node_id: str | None = None,
    iterator_nodes: Iterable[str] = (),
) -> Rewrite:
    """The graph without its bypassed nodes, each edge out of one rewired to its
    pass-through's source; ``problems`` says why it could not be, naming each node."""
    bp = _Bypass(nodes, edges, set(bypassed), catalog)
    if not bp.bypassed:
        return Rewrite(list(nodes), list(edges))
    out = Rewrite([], [])
    problems: dict[tuple[str, str], Problem] = {}
    for i, node in enumerate(nodes):
        if node.id in bp.bypassed:
            out.dropped_nodes.append((i, node))
            outputs = bp.ports[node.id][1]
            if not bp.out_of.get(node.id) and outputs:
                kind = outputs[0].kind
                if bp.pass_through(node.id, kind)[0] is None:
                    problems.setdefault((node.id, "in"), bp.no_input(node.id, kind))
        else:
            out.nodes.append(node)
    for i, edge in enumerate(edges):
        if edge.target in bp.bypassed:
            out.dropped_edges.append((i, edge))
        elif edge.source in bp.bypassed:
            found = bp.source_of(edge)
            out.dropped_edges.append((i, edge))
            if isinstance(found, Problem):
                problems.setdefault((found.node_id or "", found.code), found)
                continue
            out.rewired.append(len(out.edges))
            out.edges.append(
                edge.model_copy(update={"source": found[0], "source_handle": found[1]}, deep=True)
            )
        else:
            out.edges.append(edge)
    if target_node_id in bp.bypassed:
        problems[(target_node_id, "target")] = Problem(
            "bypass_target",
            f"targetNodeId: node {_name(bp.by_id[target_node_id])} is bypassed and does not run; "
            "un-bypass it (Ctrl+B), or run another node",
            node_id=target_node_id,
            field="targetNodeId",
        )
    for node_id in dict.fromkeys(iterator_nodes):
        if node_id in bp.bypassed:
            problems[(node_id, "iterator")] = Problem(
                "bypass_iterator",
                f"iteratorConfigs sets node {_name(bp.by_id[node_id])}, which is bypassed and does not "
                "run; un-bypass it (Ctrl+B), or iterate over another node",
                node_id=node_id,
                field="iteratorConfigs",
            )
    out.problems = list(problems.values())
    return out


def restore(
    nodes: Sequence[Mapping[str, Any]], edges: Sequence[Mapping[str, Any]], stash: Any
) -> tuple[list[Any], list[Any]]:
    """The workflow's nodes and edges (JSON) from a request's and its ``stash``: the
    rewired edges taken out, the dropped nodes and edges put back where they were."""
    if not isinstance(stash, Mapping):
        return list(nodes), list(edges)
    out_nodes, out_edges = list(nodes), list(edges)
    rewired = {i for i in stash.get("rewired", ()) if isinstance(i, int)}
    out_edges = [e for i, e in enumerate(out_edges) if i not in rewired]
    for key, target in (("nodes", out_nodes), ("edges", out_edges)):
        entries = [
            e for e in stash.get(key, ()) if isinstance(e, Mapping) and isinstance(e.get("index"), int)
        ]
        for entry in sorted(entries, key=lambda e: e["index"]):
            item = entry.get(key[:-1])
            if isinstance(item, Mapping):
                target.insert(min(entry["index"], len(target)), dict(item))
    return out_nodes, out_edges
