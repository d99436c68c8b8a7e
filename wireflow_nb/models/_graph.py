"""The graph of the execute request: nodes, edges and iterator configs (React Flow shape).

Nodes come in three shapes (see ``HOSTED-NOTES.md``): inputs directly in ``data``, in
``data.params`` or in ``data.config``. ``Node.inputs`` reads them whatever the shape and
``Node.set_input`` writes back in the shape the node came in.
"""

from __future__ import annotations

from typing import Any, Union

from pydantic import Field

from ._base import WireModel

#: Keys of ``data`` that describe the node rather than feed it.
META_KEYS = frozenset(
    {
        "label",
        "nodeType",
        "category",
        "params",
        "config",
        "inputs",
        "outputs",
        # stale UI caches of the hosted web app (HOSTED-NOTES.md)
        "result",
        "output",
        "selectedOutput",
        "status",
    }
)

HANDLE_PREFIXES = ("in-", "out-")

Number = Union[int, float]


def port_name(handle: str | None) -> str | None:
    """The port a handle names: ``out-prompt`` and ``prompt`` are the same port."""
    if handle is None:
        return None
    for prefix in HANDLE_PREFIXES:
        if handle.startswith(prefix):
            return handle[len(prefix) :]
    return handle


class Position(WireModel):
    x: Number = 0
    y: Number = 0


class Node(WireModel):
    """A workflow node. ``data`` is kept as the plain dict it came in."""

    id: str
    type: str = "default"
    position: Position = Field(default_factory=Position)
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def node_type(self) -> str:
        """``data.nodeType`` (what the node does), or ``type`` when there is none."""
        value = self.data.get("nodeType")
        return str(value) if value else self.type

    @property
    def label(self) -> str:
        value = self.data.get("label")
        return str(value) if value else self.node_type

    @property
    def category(self) -> str | None:
        value = self.data.get("category")
        return str(value) if value is not None else None

    @property
    def input_store(self) -> dict[str, Any]:
        """The dict that holds this node's inputs: ``params``, else ``config``, else ``data``."""
        for key in ("params", "config"):
            store = self.data.get(key)
            if isinstance(store, dict):
                return store
        return self.data

    @property
    def inputs(self) -> dict[str, Any]:
        """Input values, read from ``data.params``, then ``data.config``, then ``data``."""
        merged: dict[str, Any] = {k: v for k, v in self.data.items() if k not in META_KEYS}
        config = self.data.get("config")
        if isinstance(config, dict):
            merged.update(config)
        params = self.data.get("params")
        if isinstance(params, dict):
            merged.update(params)
        return merged

    def set_input(self, name: str, value: Any) -> None:
        """Write an input in the shape the node came in (``params`` and ``config`` are
        both updated when both exist, as the hosted service mirrors them)."""
        wrote = False
        for key in ("params", "config"):
            store = self.data.get(key)
            if isinstance(store, dict):
                store[name] = value
                wrote = True
        if not wrote:
            self.data[name] = value

    def remove_input(self, name: str) -> None:
        for key in ("params", "config"):
            store = self.data.get(key)
            if isinstance(store, dict):
                store.pop(name, None)
        if name not in META_KEYS:
            self.data.pop(name, None)

    @property
    def declared_inputs(self) -> list[dict[str, Any]]:
        """Typed input ports of ``data.inputs`` (hosted shape), when it is a list."""
        ports = self.data.get("inputs")
        return [p for p in ports if isinstance(p, dict)] if isinstance(ports, list) else []

    @property
    def declared_outputs(self) -> list[dict[str, Any]]:
        ports = self.data.get("outputs")
        return [p for p in ports if isinstance(p, dict)] if isinstance(ports, list) else []


class Edge(WireModel):
    id: str | None = None
    source: str
    target: str
    source_handle: str | None = None
    target_handle: str | None = None

    @property
    def source_port(self) -> str | None:
        """``sourceHandle`` without its ``out-`` prefix."""
        return port_name(self.source_handle)

    @property
    def target_port(self) -> str | None:
        """``targetHandle`` without its ``in-`` prefix."""
        return port_name(self.target_handle)


class IteratorConfig(WireModel):
    """One batch axis: a run per value (times ``repeat``), setting ``data[field]`` of
    ``node_id`` to the value."""

    node_id: str
    field: str
    values: list[Any]
    repeat: int = 1


class ExecuteRequest(WireModel):
    """Body of ``POST /workflows/{id}/execute``."""

    nodes: list[Node]
    edges: list[Edge] = Field(default_factory=list)
    target_node_id: str | None = None
    trigger_data: dict[str, Any] | None = None
    iterator_configs: list[IteratorConfig] | None = None
