"""What a node type is: its inputs, outputs, price, category and local executor.

One source of truth per node type: the editor's palette and inspector forms, the port
checks, the credits estimate and the engine's executors all read these specs.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..models import Node

#: Port kinds. ``any`` connects to everything.
PORT_KINDS = ("text", "number", "boolean", "image", "video", "audio", "json", "any")

#: Input field types (how the inspector edits them).
FIELD_TYPES = ("text", "number", "integer", "boolean", "choice", "image", "video", "audio", "json")

#: Port kinds whose values name bytes to read: a URL, an upload, or local media (a path,
#: bytes, a PIL image, an array) that a client uploads and the local engine reads in place.
MEDIA_KINDS = frozenset({"image", "video", "audio"})

_FIELD_KIND = {
    "text": "text",
    "number": "number",
    "integer": "number",
    "boolean": "boolean",
    "choice": "text",
    "image": "image",
    "video": "video",
    "audio": "audio",
    "json": "json",
}

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def template_placeholders(template: str) -> list[str]:
    """Names of ``{{name}}`` placeholders (not ``{{trigger.x}}``), in order, once each."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(template or "")))


@dataclass(frozen=True)
class InputSpec:
    """One input field of a node type."""

    name: str
    type: str = "text"
    default: Any = None
    required: bool = False
    choices: tuple[Any, ...] = ()
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    #: A slider's step: a number input with both bounds and a step is edited with a slider.
    step: float | None = None
    multiline: bool = False
    #: Whether an edge may feed this input (False: a setting only edited in the form).
    port: bool = True
    #: Whether several edges may feed this input (e.g. the frames of a video).
    multiple: bool = False

    @property
    def kind(self) -> str:
        """The port kind an edge into this input must carry."""
        return _FIELD_KIND.get(self.type, "any")

    def whole_number(self, value: Any) -> int:
        """The whole number a node uses for ``value`` of this input: the default (else 1)
        when empty, else rounded to the nearest whole number and clamped to the bounds.

        The one rule for counts: the executor makes this many images and the price
        charges for this many. Raises ``ValueError`` for what is not a finite number.
        """
        if value is None or (isinstance(value, str) and not value.strip()):
            value = self.default if self.default is not None else 1
        if isinstance(value, bool):
            raise ValueError(f"{self.name} must be a whole number, got {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{self.name} must be a whole number, got {value!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"{self.name} must be a finite number, got {value!r}")
        whole = round(number)
        if self.minimum is not None:
            whole = max(math.ceil(self.minimum), whole)
        if self.maximum is not None:
            whole = min(math.floor(self.maximum), whole)
        return whole


@dataclass(frozen=True)
class OutputSpec:
    name: str
    kind: str = "any"
    help: str = ""


#: An executor: ``fn(ctx, inputs) -> outputs`` (sync, run on a worker thread) or async.
Executor = Callable[..., Any]


@dataclass(frozen=True)
class NodeSpec:
    """Everything known about one node type."""

    node_type: str
    label: str
    category: str
    inputs: tuple[InputSpec, ...] = ()
    outputs: tuple[OutputSpec, ...] = ()
    #: Credits per run of the node (0 for inputs and utilities).
    price: float = 0
    description: str = ""
    #: Canvas kind written to ``node.type`` (``model``, ``input``, ``utility``, ``output``).
    kind: str = "utility"
    #: The executor, or a ``"module:function"`` path resolved on first use.
    executor: Executor | str | None = None
    #: Generation nodes: get a recorded seed when none is given, simulated latency.
    generative: bool = False
    #: ``text:template``: each ``{{name}}`` of this input is an extra text input port.
    template_field: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def price_for(self, inputs: Mapping[str, Any]) -> float:
        """Credits one run of a node of this type costs with these literal ``inputs``:
        the type's price, times the images made for types with a ``numImages`` input
        (counted by ``InputSpec.whole_number``, as the executor counts them). The one home
        of pricing: the engine, the server, the toolbar's estimate and export call it.
        A count that is not a number prices as the default (validation refuses it)."""
        price = float(self.price or 0)
        count_spec = self.input("numImages")
        if price and count_spec is not None:
            try:
                count = count_spec.whole_number(inputs.get("numImages"))
            except ValueError:
                count = count_spec.whole_number(None)
            price *= max(1, count)
        return price

    @property
    def media_inputs(self) -> tuple[str, ...]:
        """Names of the inputs whose values name media bytes (kind image, video or audio)."""
        return tuple(s.name for s in self.inputs if s.kind in MEDIA_KINDS)

    def input(self, name: str) -> InputSpec | None:
        for spec in self.inputs:
            if spec.name == name:
                return spec
        return None

    def output(self, name: str) -> OutputSpec | None:
        for spec in self.outputs:
            if spec.name == name:
                return spec
        return None

    def input_ports(self, node: Node | None = None) -> list[InputSpec]:
        """Inputs an edge can feed; for a template node, its placeholders too."""
        ports = [s for s in self.inputs if s.port]
        if self.template_field and node is not None:
            template = node.inputs.get(self.template_field)
            known = {s.name for s in self.inputs}
            for name in template_placeholders(template if isinstance(template, str) else ""):
                if name not in known:
                    ports.append(InputSpec(name=name, type="text", help="fills {{" + name + "}}"))
        return ports

    def resolve_executor(self) -> Executor:
        if self.executor is None:
            raise LookupError(f"node type {self.node_type!r} has no local executor")
        if isinstance(self.executor, str):
            module_name, _, attr = self.executor.partition(":")
            fn = getattr(importlib.import_module(module_name), attr)
            object.__setattr__(self, "executor", fn)
            return fn  # type: ignore[no-any-return]
        return self.executor


class Catalog:
    """A registry of node types. ``default_catalog()`` holds the built-ins and whatever
    a notebook registered with ``@node_type``."""

    def __init__(self, specs: Iterable[NodeSpec] = ()) -> None:
        self._specs: dict[str, NodeSpec] = {}
        for spec in specs:
            self.register(spec)

    def register(self, spec: NodeSpec, *, replace: bool = True) -> NodeSpec:
        if not replace and spec.node_type in self._specs:
            raise ValueError(f"node type {spec.node_type!r} is already registered")
        self._specs[spec.node_type] = spec
        return spec

    def unregister(self, node_type: str) -> None:
        self._specs.pop(node_type, None)

    def get(self, node_type: str) -> NodeSpec | None:
        return self._specs.get(node_type)

    def __getitem__(self, node_type: str) -> NodeSpec:
        spec = self._specs.get(node_type)
        if spec is None:
            raise KeyError(f"unknown node type {node_type!r}; known types: {', '.join(sorted(self._specs))}")
        return spec

    def __contains__(self, node_type: object) -> bool:
        return node_type in self._specs

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    @property
    def node_types(self) -> list[str]:
        return sorted(self._specs)

    def by_category(self) -> dict[str, list[NodeSpec]]:
        """Specs grouped by category, categories and specs sorted by label."""
        groups: dict[str, list[NodeSpec]] = {}
        for spec in self._specs.values():
            groups.setdefault(spec.category, []).append(spec)
        return {k: sorted(v, key=lambda s: s.label.lower()) for k, v in sorted(groups.items())}

    def search(self, query: str) -> list[NodeSpec]:
        """Specs whose type, label, category or description contain every word of ``query``."""
        words = query.lower().split()
        found = []
        for spec in self._specs.values():
            hay = f"{spec.node_type} {spec.label} {spec.category} {spec.description}".lower()
            if all(w in hay for w in words):
                found.append(spec)
        return sorted(found, key=lambda s: (s.category, s.label.lower()))

    def copy(self) -> Catalog:
        return Catalog(self._specs.values())
