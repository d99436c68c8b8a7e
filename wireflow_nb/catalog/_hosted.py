"""A node type as a hosted catalogue entry (``GET /nodes``) and back.

The server writes its catalogue with ``spec_to_hosted`` and the clients read any
catalogue (ours or the hosted service's) with ``spec_from_hosted``, so both sides share
one conversion and a palette can build ``NodeSpec`` objects from a hosted catalogue.
Ports are typed the hosted way (``{"id", "label", "type": "IMAGE"}``); the port kind of
a hosted type name is ``_ports.hosted_kind``'s (the one home of that mapping). Entries
also carry what only we know (field type, defaults, bounds, price) under the same keys
the hosted pages use where they have one. It may import ``catalog._spec`` and ``_ports``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ._ports import hosted_kind
from ._spec import FIELD_TYPES, Catalog, InputSpec, NodeSpec, OutputSpec

__all__ = ["catalog_from_hosted", "catalog_to_hosted", "hosted_type", "spec_from_hosted", "spec_to_hosted"]

#: The field type an input of a hosted port kind is edited as, when the entry names none.
_FIELD_OF_KIND = {
    "text": "text",
    "number": "number",
    "boolean": "boolean",
    "image": "image",
    "video": "video",
    "audio": "audio",
    "json": "json",
}


def hosted_type(kind: str) -> str:
    """The hosted port type of a port kind: ``image`` -> ``IMAGE`` (``any`` -> ``ANY``)."""
    return (kind or "any").upper()


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _input_to_hosted(spec: InputSpec) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": spec.name,
        # "name" is what this server wrote before it spoke the hosted shape: kept for old readers
        "name": spec.name,
        "label": spec.name,
        "type": hosted_type(spec.kind),
        "fieldType": spec.type,
        "kind": spec.kind,
        "default": _jsonable(spec.default),
        "required": spec.required,
        "port": spec.port,
        "multiple": spec.multiple,
    }
    if spec.choices:
        entry["choices"] = _jsonable(list(spec.choices))
    if spec.help:
        entry["help"] = spec.help
    if spec.minimum is not None:
        entry["minimum"] = spec.minimum
    if spec.maximum is not None:
        entry["maximum"] = spec.maximum
    if spec.step is not None:
        entry["step"] = spec.step
    if spec.multiline:
        entry["multiline"] = True
    return entry


def spec_to_hosted(spec: NodeSpec) -> dict[str, Any]:
    """The catalogue entry of ``spec`` (JSON-ready)."""
    return {
        "nodeType": spec.node_type,
        "label": spec.label,
        "category": spec.category,
        "kind": spec.kind,
        "description": spec.description,
        "price": _number(spec.price or 0),
        "generative": spec.generative,
        "templateField": spec.template_field,
        "inputs": [_input_to_hosted(i) for i in spec.inputs],
        "outputs": [
            {
                "id": o.name,
                "name": o.name,
                "label": o.name,
                "type": hosted_type(o.kind),
                "kind": o.kind,
                **({"help": o.help} if o.help else {}),
            }
            for o in spec.outputs
        ],
    }


def catalog_to_hosted(catalog: Iterable[NodeSpec]) -> dict[str, Any]:
    """The body of ``GET /nodes``: ``{"nodes": [entry, ...]}``, by category then type."""
    specs = sorted(catalog, key=lambda s: (s.category, s.node_type))
    return {"nodes": [spec_to_hosted(s) for s in specs]}


def _port_name(entry: Mapping[str, Any]) -> str | None:
    for key in ("id", "name", "handle"):
        value = entry.get(key)
        if isinstance(value, str) and value:
            # hosted handles may carry the in-/out- prefixes of edges
            return value.removeprefix("in-").removeprefix("out-")
    return None


def _float_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _choices(entry: Mapping[str, Any]) -> tuple[Any, ...]:
    """An input's choices, under any of the keys catalogues use (``choices``, ``options``,
    ``enum``); options written ``{"value", "label"}`` give their values."""
    for key in ("choices", "options", "enum"):
        value = entry.get(key)
        if isinstance(value, list) and value:
            return tuple(v.get("value", v.get("label")) if isinstance(v, Mapping) else v for v in value)
    return ()


def _input_from_hosted(entry: Mapping[str, Any]) -> InputSpec | None:
    name = _port_name(entry)
    if name is None:
        return None
    choices = _choices(entry)
    field_type = entry.get("fieldType")
    if field_type not in FIELD_TYPES:
        kind = hosted_kind(entry.get("type", entry.get("kind")))
        field_type = "choice" if choices else _FIELD_OF_KIND.get(kind, "json" if kind == "any" else kind)
    return InputSpec(
        name=name,
        type=str(field_type),
        default=entry.get("default", entry.get("defaultValue")),
        required=bool(entry.get("required", False)),
        choices=choices,
        help=str(entry.get("help") or entry.get("description") or ""),
        minimum=_float_or_none(entry.get("minimum", entry.get("min"))),
        maximum=_float_or_none(entry.get("maximum", entry.get("max"))),
        step=_float_or_none(entry.get("step")),
        multiline=bool(entry.get("multiline", False)),
        port=bool(entry.get("port", True)),
        multiple=bool(entry.get("multiple", False)),
    )


def _output_from_hosted(entry: Mapping[str, Any]) -> OutputSpec | None:
    name = _port_name(entry)
    if name is None:
        return None
    kind = entry.get("kind")
    if not isinstance(kind, str):
        kind = hosted_kind(entry.get("type"))
    return OutputSpec(name=name, kind=kind, help=str(entry.get("help") or ""))


def spec_from_hosted(entry: Mapping[str, Any]) -> NodeSpec:
    """A ``NodeSpec`` from a catalogue entry of any server. It has no local executor:
    a hosted type runs on the hosted service. ``ValueError`` without a ``nodeType``."""
    node_type = entry.get("nodeType") or entry.get("type") or entry.get("id")
    if not isinstance(node_type, str) or not node_type:
        raise ValueError(f"a catalogue entry needs a 'nodeType', got keys {sorted(entry)}")
    inputs = [i for i in (_input_from_hosted(e) for e in _entries(entry.get("inputs"))) if i is not None]
    outputs = [o for o in (_output_from_hosted(e) for e in _entries(entry.get("outputs"))) if o is not None]
    category = entry.get("category")
    if not isinstance(category, str) or not category:
        category = node_type.split(":", 1)[0] if ":" in node_type else "other"
    price = _float_or_none(entry.get("price", entry.get("credits"))) or 0
    known = {"nodeType", "label", "category", "kind", "description", "price", "generative"}
    known |= {"templateField", "inputs", "outputs"}
    return NodeSpec(
        node_type=node_type,
        label=str(entry.get("label") or entry.get("name") or node_type),
        category=category,
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        price=_number(price),
        description=str(entry.get("description") or ""),
        kind=str(entry.get("kind") or "model"),
        generative=bool(entry.get("generative", False)),
        template_field=entry.get("templateField") if isinstance(entry.get("templateField"), str) else None,
        extra={k: v for k, v in entry.items() if k not in known},
    )


def _entries(value: Any) -> list[Mapping[str, Any]]:
    return [e for e in value if isinstance(e, Mapping)] if isinstance(value, list) else []


def catalog_from_hosted(body: Any) -> Catalog:
    """A ``Catalog`` from the body of ``GET /nodes``: ``{"nodes": [...]}``, a bare list,
    or either inside ``{"data": ...}``. Entries without a ``nodeType`` are skipped."""
    if isinstance(body, Mapping) and "data" in body and "nodes" not in body:
        body = body["data"]
    if isinstance(body, Mapping):
        body = body.get("nodes", body.get("items", []))
    catalog = Catalog()
    for entry in _entries(body):
        try:
            catalog.register(spec_from_hosted(entry))
        except ValueError:
            continue
    return catalog
