"""Connection rules of the editor: whether an edge may be added, and why not.

The kind rule and its words are ``catalog.can_feed`` / ``catalog.kind_mismatch`` (the
ones ``Workflow.validate`` uses); the cycle walk is ``graphs``. This module only puts
them in the order a drop is judged: ports, self, kind, duplicate, fed, cycle.

Imports ``catalog``, ``graphs``, ``models`` and ``editing.geometry``; no widget library.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from ..catalog import can_feed, kind_mismatch
from ..graphs import shortest_path, successors
from ..models import Edge
from .geometry import NodeBox


class ConnectCheck(NamedTuple):
    ok: bool
    code: str = ""
    reason: str = ""


OK = ConnectCheck(True)


#: the edges feeding each ``(node id, input name)``
EdgesInto = Mapping[tuple[str, str], Sequence[Edge]]


def edges_into(edges: Iterable[Edge]) -> dict[tuple[str, str], list[Edge]]:
    """The edges feeding each ``(node id, input name)``, in edge order."""
    fed: dict[tuple[str, str], list[Edge]] = {}
    for e in edges:
        fed.setdefault((e.target, e.target_port or ""), []).append(e)
    return fed


def check_ports(
    boxes: Mapping[str, NodeBox],
    fed: EdgesInto,
    source: str,
    source_port: str,
    target: str,
    target_port: str,
) -> ConnectCheck:
    """Every rule of ``check_connection`` but the cycle, given the edges into each input
    (``edges_into``): a drag judges each candidate port with it once per gesture."""
    src, dst = boxes.get(source), boxes.get(target)
    if src is None or dst is None:
        return ConnectCheck(False, "port", "no such node")
    oi, ii = src.find_port("out", source_port), dst.find_port("in", target_port)
    if oi is None or ii is None:
        return ConnectCheck(False, "port", f"no port {source_port!r} -> {target_port!r}")
    out, inp = src.outputs[oi], dst.inputs[ii]
    if source == target:
        return ConnectCheck(False, "self", f"a node cannot feed itself ({source})")
    if not can_feed(out.kind, inp.kind):
        return ConnectCheck(
            False,
            "kind",
            kind_mismatch(out.kind, source, out.name, inp.kind, target, inp.name),
        )
    into = fed.get((target, inp.name), ())
    if any(e.source == source and e.source_port == out.name for e in into):
        return ConnectCheck(False, "duplicate", f"{source}.{out.name} already feeds {target}.{inp.name}")
    if into and not inp.multiple:
        e = into[0]
        return ConnectCheck(
            False,
            "fed",
            f"input {target}.{inp.name} is already fed by {e.source}.{e.source_port}; delete that edge first",
        )
    return OK


def check_connection(
    boxes: Mapping[str, NodeBox],
    edges: Sequence[Edge],
    source: str,
    source_port: str,
    target: str,
    target_port: str,
) -> ConnectCheck:
    """Whether an edge ``source.source_port -> target.target_port`` may be added.

    Refusals (``code``): ``self`` (a node feeding itself), ``kind`` (the output's kind
    cannot feed the input), ``fed`` (the input takes one edge and has one), ``duplicate``
    (that very edge exists), ``cycle`` (the target already reaches the source),
    ``port`` (no such port).
    """
    check = check_ports(boxes, edges_into(edges), source, source_port, target, target_port)
    if not check.ok:
        return check
    # edges to or from no node make no cycle (as Workflow.validate counts them)
    succ = successors(boxes, ((e.source, e.target) for e in edges))
    path = shortest_path(target, source, succ)
    if path:
        return ConnectCheck(
            False, "cycle", "would make a cycle: " + " -> ".join([*path, target]) + "; connect the other way"
        )
    return OK
