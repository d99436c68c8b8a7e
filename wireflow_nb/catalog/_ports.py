"""Ports and their kinds: the one home of which output may feed which input.

The editor refuses a connection and ``Workflow.validate`` lists a problem by the same
rule (``can_feed``) with the same words (``kind_mismatch``), over the same ports
(``node_ports``: the catalog's for known types, the declared ``data.inputs``/``outputs``
of hosted ones, and every handle an edge uses).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..models import Edge, Node, port_name

if TYPE_CHECKING:
    from .._exceptions import Problem
    from ._spec import Catalog, NodeSpec

__all__ = [
    "MEDIA_PORT_TYPES",
    "Port",
    "can_feed",
    "carried_kind",
    "edge_kind_problems",
    "hosted_kind",
    "kind_mismatch",
    "media_fields",
    "node_ports",
]

#: Declared port types (hosted ``data.inputs``) whose values name media bytes.
MEDIA_PORT_TYPES = ("IMAGE", "VIDEO", "AUDIO")
_MEDIA_FIELD_NAMES = ("image", "video", "audio")

#: Port kinds of hosted ``data.inputs``/``data.outputs`` type names.
_HOSTED_KINDS = {
    "image": "image",
    "images": "image",
    "text": "text",
    "string": "text",
    "prompt": "text",
    "video": "video",
    "videos": "video",
    "audio": "audio",
    "json": "json",
    "object": "json",
    "number": "number",
    "integer": "number",
    "float": "number",
    "boolean": "boolean",
    "bool": "boolean",
}


def hosted_kind(type_name: Any) -> str:
    """The port kind of a hosted port type (``IMAGE`` -> ``image``); ``any`` if unknown."""
    if not isinstance(type_name, str):
        return "any"
    return _HOSTED_KINDS.get(type_name.strip().lower(), "any")


def can_feed(out_kind: str, in_kind: str) -> bool:
    """Whether an output of ``out_kind`` may feed an input of ``in_kind``.

    ``any`` goes everywhere; JSON carries anything and accepts anything; numbers are
    written into text inputs as text.
    """
    if out_kind == in_kind or "any" in (out_kind, in_kind):
        return True
    if out_kind == "json" or in_kind == "json":
        return True
    return out_kind == "number" and in_kind == "text"


def carried_kind(out_kind: str | None, in_kind: str | None) -> str:
    """The kind an edge carries (the editor draws the edge in its colour): its output's,
    or its input's when the output takes ``any`` kind or is not known."""
    if out_kind is not None and out_kind != "any":
        return out_kind
    return in_kind if in_kind is not None else "any"


@dataclass(frozen=True)
class Port:
    name: str
    kind: str = "any"
    label: str = ""
    multiple: bool = False
    required: bool = False

    @property
    def text(self) -> str:
        return self.label or self.name


def node_ports(
    node: Node, spec: NodeSpec | None, edges_in: Iterable[Edge], edges_out: Iterable[Edge]
) -> tuple[list[Port], list[Port]]:
    """Input and output ports of a node.

    Known types: the catalog's ports (template placeholders included). Unknown (hosted)
    types: ``data.inputs``/``data.outputs``. Either way, every handle an edge uses is a
    port too, so no edge of a loaded file dangles in the drawing.
    """
    inputs: list[Port] = []
    outputs: list[Port] = []
    if spec is not None:
        for s in spec.input_ports(node):
            inputs.append(Port(s.name, s.kind, s.name, multiple=s.multiple, required=s.required))
        for o in spec.outputs:
            outputs.append(Port(o.name, o.kind, o.name))
    for declared, target in ((node.declared_inputs, inputs), (node.declared_outputs, outputs)):
        for p in declared:
            pid = p.get("id") or p.get("name")
            if not isinstance(pid, str) or not pid:
                continue
            name = port_name(pid) or pid
            if any(q.name == name for q in target):
                continue
            label = p.get("label")
            target.append(
                Port(
                    name,
                    hosted_kind(p.get("type")),
                    str(label) if label else name,
                    multiple=bool(p.get("multiple") or p.get("isList")),
                    required=bool(p.get("required")),
                )
            )
    kind_of = {q.name: q.kind for q in outputs}
    for e in edges_in:
        fed = e.target_port
        if fed and not any(q.name == fed for q in inputs):
            inputs.append(Port(fed, "any", fed))
    for e in edges_out:
        used = e.source_port
        if used and not any(q.name == used for q in outputs):
            outputs.append(Port(used, kind_of.get(used, "any"), used))
    return inputs, outputs


def kind_mismatch(out_kind: str, source: str, out_name: str, in_kind: str, target: str, in_name: str) -> str:
    """The words for an edge whose output kind cannot feed its input (editor and validate)."""
    return (
        f"kind mismatch: {out_kind} output {source}.{out_name} cannot feed {in_kind} input {target}.{in_name}"
    )


def _find(ports: Sequence[Port], handle: str | None) -> Port | None:
    if handle is None:
        return ports[0] if ports else None
    name = port_name(handle) or ""
    return next((p for p in ports if p.name == name), None)


def edge_kind_problems(nodes: Iterable[Node], edges: Sequence[Edge], catalog: Catalog) -> list[Problem]:
    """A ``kind_mismatch`` problem for each edge between two nodes of known types whose
    output kind cannot feed the input kind (what the editor refuses to connect)."""
    from .._exceptions import Problem

    by_id: dict[str, Node] = {}
    for node in nodes:
        by_id.setdefault(node.id, node)
    specs: dict[str, NodeSpec] = {}
    for node_id, node in by_id.items():
        spec = catalog.get(node.node_type)
        if spec is not None:
            specs[node_id] = spec
    if not specs:
        return []
    into: dict[str, list[Edge]] = {}
    out_of: dict[str, list[Edge]] = {}
    for e in edges:
        into.setdefault(e.target, []).append(e)
        out_of.setdefault(e.source, []).append(e)
    ports: dict[str, tuple[list[Port], list[Port]]] = {}

    def ports_of(node_id: str) -> tuple[list[Port], list[Port]]:
        if node_id not in ports:
            ports[node_id] = node_ports(
                by_id[node_id], specs[node_id], into.get(node_id, ()), out_of.get(node_id, ())
            )
        return ports[node_id]

    found: list[Problem] = []
    for e in edges:
        if e.source not in specs or e.target not in specs:
            continue
        out = _find(ports_of(e.source)[1], e.source_handle)
        inp = _find(ports_of(e.target)[0], e.target_handle)
        if out is None or inp is None or can_feed(out.kind, inp.kind):
            continue
        found.append(
            Problem(
                "kind_mismatch",
                kind_mismatch(out.kind, e.source, out.name, inp.kind, e.target, inp.name)
                + "; connect an output of a matching kind",
                node_id=e.target,
                edge_id=e.id,
                field=inp.name,
            )
        )
    return found


def media_fields(node: Node, catalog: Any) -> set[str]:
    """The inputs of ``node`` whose values name media bytes: the catalog's media inputs
    (or, for a type it does not know, a field named image/video/audio) and every
    declared port typed IMAGE/VIDEO/AUDIO (the uploads' rule and provenance's)."""
    spec = catalog.get(node.node_type) if catalog is not None else None
    if spec is not None:
        names = set(spec.media_inputs)
    else:
        names = {name for name in node.inputs if name in _MEDIA_FIELD_NAMES}
    for port in node.declared_inputs:
        if str(port.get("type", "")).upper() in MEDIA_PORT_TYPES:
            name = port_name(str(port.get("id") or port.get("name") or ""))
            if name:
                names.add(name)
    return names
