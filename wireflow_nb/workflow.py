"""``Workflow``: build a graph in Python, validate it, turn it into an execute request,
and save/load it as JSON, keeping every field of files exported from the hosted app."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._exceptions import Problem, WorkflowValidationError
from ._files import write_atomic
from ._media import as_saved_value
from .canvas_items import CANVAS_KEY, CanvasItems
from .graphs import find_cycles
from .models import Edge, ExecuteRequest, IteratorConfig, Node, Position

if TYPE_CHECKING:
    from .bypass import Rewrite
    from .catalog import Catalog

__all__ = ["HOSTED_MAX_EDGES", "HOSTED_MAX_NODES", "Workflow"]

HOSTED_MAX_NODES = 100
HOSTED_MAX_EDGES = 500

WorkflowListener = Callable[["Workflow", str], None]


def _canvas_kind(node_type: str) -> str:
    prefix = node_type.split(":", 1)[0]
    if prefix in ("model", "generate", "llm"):
        return "model"
    if prefix in ("input", "trigger"):
        return "input"
    if prefix == "output":
        return "output"
    return "utility"


class Workflow(CanvasItems):
    """A workflow graph: nodes, edges, groups, notes and bypass flags (``CanvasItems``),
    and whatever else its file held.

    >>> wf = Workflow(id="demo")
    >>> prompt = wf.add_node("input:text", text="a red fox")
    >>> image = wf.add_node("model:fal:text-to-image", seed=1)
    >>> wf.connect(prompt, "text", image, "prompt")
    'e-node-1-text-node-2-prompt'
    """

    def __init__(
        self,
        id: str = "notebook",
        *,
        nodes: Iterable[Node | Mapping[str, Any]] = (),
        edges: Iterable[Edge | Mapping[str, Any]] = (),
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.id = id
        self._nodes: list[Node] = [n if isinstance(n, Node) else Node.model_validate(n) for n in nodes]
        self._edges: list[Edge] = [e if isinstance(e, Edge) else Edge.model_validate(e) for e in edges]
        #: Top-level keys of the file other than nodes/edges (name, viewport, ...), kept.
        self.extra: dict[str, Any] = dict(extra or {})
        # a field of another shape (not ours) stays in extra, untouched
        self._init_canvas_items(
            self.extra.pop(CANVAS_KEY) if isinstance(self.extra.get(CANVAS_KEY), Mapping) else None
        )
        self._listeners: list[WorkflowListener] = []
        self.version = 0

    # -- change notification -------------------------------------------------------
    def observe(self, listener: WorkflowListener) -> Callable[[], None]:
        """Call ``listener(workflow, what)`` after every change; returns an unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def touch(self, what: str = "changed") -> None:
        """Tell observers the workflow changed (after editing ``node.data`` by hand)."""
        self.version += 1
        for listener in list(self._listeners):
            listener(self, what)

    # -- reading -------------------------------------------------------------------
    @property
    def nodes(self) -> list[Node]:
        return list(self._nodes)

    @property
    def edges(self) -> list[Edge]:
        return list(self._edges)

    def node(self, node_id: str) -> Node:
        for node in self._nodes:
            if node.id == node_id:
                return node
        raise KeyError(f"no node {node_id!r} in workflow {self.id!r}; nodes: {self._ids_hint()}")

    def has_node(self, node_id: str) -> bool:
        return any(n.id == node_id for n in self._nodes)

    def edge(self, edge_id: str) -> Edge:
        for edge in self._edges:
            if edge.id == edge_id:
                return edge
        raise KeyError(f"no edge {edge_id!r} in workflow {self.id!r}")

    def edges_into(self, node_id: str) -> list[Edge]:
        return [e for e in self._edges if e.target == node_id]

    def edges_from(self, node_id: str) -> list[Edge]:
        return [e for e in self._edges if e.source == node_id]

    def _ids_hint(self) -> str:
        ids = [n.id for n in self._nodes]
        if not ids:
            return "(none)"
        shown = ", ".join(repr(i) for i in ids[:10])
        return shown + (f", ... ({len(ids)} in all)" if len(ids) > 10 else "")

    def __len__(self) -> int:
        return len(self._nodes)

    def __repr__(self) -> str:
        return f"Workflow(id={self.id!r}, nodes={len(self._nodes)}, edges={len(self._edges)})"

    def _repr_svg_(self) -> str:
        from ._svg import workflow_svg

        return workflow_svg(self)

    # -- building ------------------------------------------------------------------
    def _new_node_id(self) -> str:
        taken = {n.id for n in self._nodes}
        i = len(self._nodes) + 1
        while f"node-{i}" in taken:
            i += 1
        return f"node-{i}"

    def add_node(
        self,
        node_type: str,
        *,
        id: str | None = None,
        label: str | None = None,
        position: Position | Mapping[str, float] | tuple[float, float] | None = None,
        **inputs: Any,
    ) -> str:
        """Add a node of ``node_type`` with the given input values; returns its id."""
        if not node_type or not isinstance(node_type, str):
            raise ValueError("node_type must be a non-empty string such as 'input:text'")
        node_id = id or self._new_node_id()
        if self.has_node(node_id):
            raise ValueError(f"a node with id {node_id!r} already exists; pass another id")
        spec = _catalog_entry(node_type)
        if position is None:
            pos = Position(x=len(self._nodes) * 280, y=0)
        elif isinstance(position, Position):
            pos = position
        elif isinstance(position, tuple):
            pos = Position(x=position[0], y=position[1])
        else:
            pos = Position.model_validate(dict(position))
        data: dict[str, Any] = {
            "label": label or (spec.label if spec else node_type),
            "nodeType": node_type,
            "category": spec.category if spec else node_type.split(":", 1)[0],
        }
        data.update(inputs)
        node = Node(id=node_id, type=spec.kind if spec else _canvas_kind(node_type), position=pos, data=data)
        self._nodes.append(node)
        self.touch("add_node")
        return node_id

    def add(self, node: Node | Mapping[str, Any], *, index: int | None = None) -> str:
        """Add a node model (or its JSON dict) as it is (at list position ``index``, or
        last); returns its id."""
        model = node if isinstance(node, Node) else Node.model_validate(node)
        if self.has_node(model.id):
            raise ValueError(f"a node with id {model.id!r} already exists")
        if index is None:
            self._nodes.append(model)
        else:
            self._nodes.insert(index, model)
        self.touch("add_node")
        return model.id

    def connect(
        self,
        source: str,
        source_handle: str,
        target: str,
        target_handle: str,
        *,
        id: str | None = None,
    ) -> str:
        """Feed ``target_handle`` of ``target`` from output ``source_handle`` of ``source``."""
        for end, name in (("source", source), ("target", target)):
            if not self.has_node(name):
                raise KeyError(
                    f"cannot connect: {end} node {name!r} does not exist; nodes: {self._ids_hint()}"
                )
        edge_id = id or f"e-{source}-{source_handle}-{target}-{target_handle}"
        taken = {e.id for e in self._edges}
        base, n = edge_id, 2
        while edge_id in taken:
            edge_id = f"{base}-{n}"
            n += 1
        self._edges.append(
            Edge(
                id=edge_id,
                source=source,
                target=target,
                source_handle=source_handle,
                target_handle=target_handle,
            )
        )
        self.touch("connect")
        return edge_id

    def add_edge(self, edge: Edge | Mapping[str, Any], *, index: int | None = None) -> str:
        model = edge if isinstance(edge, Edge) else Edge.model_validate(edge)
        if index is None:
            self._edges.append(model)
        else:
            self._edges.insert(index, model)
        self.touch("connect")
        return model.id or ""

    def remove_node(self, node_id: str) -> None:
        """Remove a node and every edge to or from it."""
        self.node(node_id)
        self._nodes = [n for n in self._nodes if n.id != node_id]
        self._edges = [e for e in self._edges if e.source != node_id and e.target != node_id]
        self._forget_node(node_id)
        self.touch("remove_node")

    def remove_edge(self, edge_id: str | Edge) -> None:
        """Remove the edge with this id (or this very ``Edge``, for edges without an id)."""
        if isinstance(edge_id, Edge):
            if not any(e is edge_id for e in self._edges):
                raise KeyError(f"edge {edge_id.id!r} is not in workflow {self.id!r}")
            self._edges = [e for e in self._edges if e is not edge_id]
            self.touch("remove_edge")
            return
        self.edge(edge_id)
        self._edges = [e for e in self._edges if e.id != edge_id]
        self.touch("remove_edge")

    def set_input(self, node_id: str, name: str, value: Any) -> None:
        self.node(node_id).set_input(name, value)
        self.touch("set_input")

    def move_node(self, node_id: str, x: float, y: float) -> None:
        node = self.node(node_id)
        node.position = Position(x=x, y=y)
        self.touch("move_node")

    # -- validation ------------------------------------------------------------------
    def problems(self, *, target_node_id: str | None = None, catalog: Catalog | None = None) -> list[Problem]:
        """Every structural problem at once (duplicate ids, dangling edges, cycles with
        their path, edges whose output kind cannot feed the input between nodes of known
        types, a bad ``target_node_id``); empty when the graph is sound. ``catalog``
        (default: ``default_catalog()``) says which types are known."""
        found: list[Problem] = []
        seen: set[str] = set()
        for node in self._nodes:
            if not node.id:
                found.append(Problem("empty_node_id", "a node has an empty id; give every node a unique id"))
            elif node.id in seen:
                found.append(
                    Problem(
                        "duplicate_node_id",
                        f"node id {node.id!r} is used by more than one node; ids must be unique",
                        node_id=node.id,
                    )
                )
            seen.add(node.id)
        edge_ids: set[str] = set()
        for i, edge in enumerate(self._edges):
            name = edge.id or f"#{i}"
            if edge.id is not None:
                if edge.id in edge_ids:
                    found.append(
                        Problem(
                            "duplicate_edge_id",
                            f"edge id {edge.id!r} is used more than once",
                            edge_id=edge.id,
                        )
                    )
                edge_ids.add(edge.id)
            for end, ref in (("source", edge.source), ("target", edge.target)):
                if ref not in seen:
                    found.append(
                        Problem(
                            f"unknown_{end}",
                            f"edge {name} has {end} {ref!r}, which is not a node; "
                            f"connect it to an existing node or remove it",
                            edge_id=edge.id,
                            node_id=ref,
                        )
                    )
        for cycle in find_cycles(seen, ((e.source, e.target) for e in self._edges)):
            found.append(
                Problem(
                    "cycle",
                    "the graph has a cycle: " + " -> ".join(cycle) + "; remove one of its edges",
                    node_id=cycle[0],
                    path=tuple(cycle),
                )
            )
        if sound_edges := [e for e in self._edges if e.source in seen and e.target in seen]:
            from .catalog import default_catalog, edge_kind_problems

            found.extend(edge_kind_problems(self._nodes, sound_edges, catalog or default_catalog()))
        if self._bypassed:
            found.extend(self._bypass_rewrite(target_node_id, catalog=catalog).problems)
        if target_node_id is not None and target_node_id not in seen:
            found.append(
                Problem(
                    "unknown_target_node",
                    f"targetNodeId {target_node_id!r} is not a node of the workflow; nodes: {self._ids_hint()}",
                    node_id=target_node_id,
                    field="targetNodeId",
                )
            )
        return found

    def validate(self, *, target_node_id: str | None = None, catalog: Catalog | None = None) -> None:
        """Raise ``WorkflowValidationError`` listing every problem, if there is any."""
        found = self.problems(target_node_id=target_node_id, catalog=catalog)
        if found:
            raise WorkflowValidationError(found, summary=f"Workflow {self.id!r} is invalid")

    def check_hosted_limits(self) -> None:
        """Raise if the hosted API would refuse the graph for its size (100 nodes, 500 edges)."""
        found: list[Problem] = []
        if len(self._nodes) > HOSTED_MAX_NODES:
            found.append(
                Problem(
                    "too_many_nodes",
                    f"{len(self._nodes)} nodes; the hosted API accepts at most {HOSTED_MAX_NODES} per workflow "
                    "(split it, or run it on LocalEngine)",
                )
            )
        if len(self._edges) > HOSTED_MAX_EDGES:
            found.append(
                Problem(
                    "too_many_edges",
                    f"{len(self._edges)} edges; the hosted API accepts at most {HOSTED_MAX_EDGES} per workflow",
                )
            )
        if found:
            raise WorkflowValidationError(found, summary="Workflow is over the hosted API's limits")

    # -- conversion -----------------------------------------------------------------
    def to_request(
        self,
        *,
        target_node_id: str | None = None,
        trigger_data: Mapping[str, Any] | None = None,
        iterator_configs: Iterable[IteratorConfig | Mapping[str, Any]] | None = None,
        catalog: Catalog | None = None,
    ) -> ExecuteRequest:
        """The execute request of this workflow (a deep copy: later edits don't leak in).

        Bypassed nodes are rewritten away (``wireflow_nb.bypass``; raises
        ``WorkflowValidationError`` naming a node that cannot be); groups, notes, bypass
        flags and the view travel in the fields the hosted API does not read."""
        configs = None
        if iterator_configs is not None:
            configs = [
                c if isinstance(c, IteratorConfig) else IteratorConfig.model_validate(c)
                for c in iterator_configs
            ]
        nodes, edges, canvas = self._nodes, self._edges, self.canvas_items_to_wire()
        if self._bypassed:
            done = self._bypass_rewrite(target_node_id, [c.node_id for c in configs or ()], catalog)
            if done.problems:
                raise WorkflowValidationError(
                    done.problems, summary=f"Workflow {self.id!r} cannot bypass its nodes"
                )
            nodes, edges, canvas = done.nodes, done.edges, {**(canvas or {}), "bypass": done.stash()}
        fields: dict[str, Any] = {
            "nodes": [copy.deepcopy(n) for n in nodes],
            "edges": [copy.deepcopy(e) for e in edges],
        }
        if target_node_id is not None:
            fields["target_node_id"] = target_node_id
        if trigger_data is not None:
            fields["trigger_data"] = dict(trigger_data)
        if configs is not None:
            fields["iterator_configs"] = configs
        if canvas:
            fields[CANVAS_KEY] = canvas
        if "viewport" in self.extra:
            fields["viewport"] = copy.deepcopy(self.extra["viewport"])
        return ExecuteRequest(**fields)

    def _bypass_rewrite(
        self, target_node_id: str | None = None, iterated: Iterable[str] = (), catalog: Catalog | None = None
    ) -> Rewrite:
        from .bypass import rewrite
        from .catalog import default_catalog

        return rewrite(
            self._nodes,
            self._edges,
            self._bypassed,
            catalog or default_catalog(),
            target_node_id=target_node_id,
            iterator_nodes=iterated,
        )

    @classmethod
    def from_request(cls, request: ExecuteRequest | Mapping[str, Any], *, id: str = "notebook") -> Workflow:
        """A workflow from an execute request (or its JSON, or a saved workflow dict)."""
        if isinstance(request, ExecuteRequest):
            body = request.to_wire()
        else:
            body = dict(request)
        return cls.from_dict(body, id=id)

    def to_dict(self) -> dict[str, Any]:
        """The workflow as JSON: the file's other keys, ``id`` if it had one, nodes, edges.
        Input values keep what the user gave: a path stays its text; bytes, a PIL image
        or a numpy array (which JSON cannot hold) become a ``data:`` URL. Upload URLs of
        a run never replace them (a client uploads from a copy)."""
        out: dict[str, Any] = {}
        if self.extra.get("__has_id__", True):
            out["id"] = self.id
        for key, value in self.extra.items():
            if key != "__has_id__":
                out[key] = copy.deepcopy(value)
        if (items := self.canvas_items_to_wire()) is not None:
            out[CANVAS_KEY] = items
        out["nodes"] = [_saved_node(n) for n in self._nodes]
        out["edges"] = [e.to_wire() for e in self._edges]
        return out

    @classmethod
    def from_dict(cls, body: Mapping[str, Any], *, id: str | None = None) -> Workflow:
        if not isinstance(body, Mapping):
            raise WorkflowValidationError(
                [Problem("not_an_object", "a workflow is a JSON object with 'nodes' and 'edges'")]
            )
        nodes = body.get("nodes")
        if not isinstance(nodes, list):
            raise WorkflowValidationError(
                [
                    Problem(
                        "missing_nodes", "the workflow has no 'nodes' list; is this a Wireflow workflow file?"
                    )
                ]
            )
        edges = body.get("edges", [])
        if not isinstance(edges, list):
            raise WorkflowValidationError([Problem("bad_edges", "'edges' must be a list")])
        canvas = body.get(CANVAS_KEY)
        if isinstance(canvas, Mapping) and "bypass" in canvas:  # a request: put its bypassed nodes back
            from .bypass import restore

            nodes, edges = restore(nodes, edges, canvas["bypass"])
            body = {**body, CANVAS_KEY: {k: v for k, v in canvas.items() if k != "bypass"}}
        extra = {k: copy.deepcopy(v) for k, v in body.items() if k not in ("nodes", "edges", "id")}
        file_id = body.get("id")
        if not isinstance(file_id, str) or not file_id:
            extra["__has_id__"] = False
            file_id = None
        from pydantic import ValidationError

        problems: list[Problem] = []
        parsed_nodes: list[Node] = []
        parsed_edges: list[Edge] = []
        for kind, items, model, out in (
            ("nodes", nodes, Node, parsed_nodes),
            ("edges", edges, Edge, parsed_edges),
        ):
            for index, item in enumerate(items):
                try:
                    out.append(model.model_validate(item))  # type: ignore[attr-defined,arg-type]
                except ValidationError as exc:
                    for err in exc.errors():
                        where = ".".join(str(p) for p in err["loc"])
                        problems.append(Problem("bad_shape", f"{kind}[{index}].{where}: {err['msg']}"))
        if problems:
            raise WorkflowValidationError(problems, summary="The workflow file is malformed")
        wf = cls(id or file_id or "notebook", nodes=parsed_nodes, edges=parsed_edges, extra=extra)
        if id is not None and file_id is None:
            wf.extra.pop("__has_id__", None)
        return wf

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the workflow as JSON, atomically (a crash never leaves half a file)."""
        return write_atomic(path, json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, id: str | None = None) -> Workflow:
        """Read a workflow file (ours, or exported from the hosted web app)."""
        source = Path(path)
        try:
            body = json.loads(source.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise WorkflowValidationError(
                [
                    Problem(
                        "bad_json",
                        f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}",
                    )
                ]
            ) from None
        wf = cls.from_dict(body, id=id)
        if id is None and wf.extra.get("__has_id__") is False:
            wf.id = source.stem
        return wf

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, id: str | None = None) -> Workflow:
        """A ``.json`` workflow file, or the workflow an output carries (``.png``, ``.jpg``,
        ``.webp``, ``.mp4``; ``wireflow_nb.provenance``)."""
        if Path(path).suffix.lower() == ".json":
            return cls.load(path, id=id)
        from .provenance import read_record

        return cls.from_dict(read_record(path)["workflow"], id=id)

    def as_saved(self) -> Workflow:
        """A copy whose input values are what a saved file keeps (a path as its text,
        in-memory media as a ``data:`` URL): JSON all through, e.g. for an export."""
        saved = Workflow(
            self.id,
            nodes=[Node.model_validate(_saved_node(n)) for n in self._nodes],
            edges=[copy.deepcopy(e) for e in self._edges],
            extra=copy.deepcopy(self.extra),
        )
        self._copy_canvas_items(saved)
        return saved

    def copy(self) -> Workflow:
        new = Workflow(
            self.id,
            nodes=[copy.deepcopy(n) for n in self._nodes],
            edges=[copy.deepcopy(e) for e in self._edges],
            extra=copy.deepcopy(self.extra),
        )
        self._copy_canvas_items(new)
        return new

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Workflow):
            return NotImplemented
        return self.id == other.id and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


_JSON_TYPES = frozenset({str, int, float, bool, type(None), list, dict})


def _saved_node(node: Node) -> dict[str, Any]:
    """A node's JSON, with each input value as a saved workflow keeps it (``as_saved_value``)."""
    changed = {}
    for name, value in node.inputs.items():
        if type(value) in _JSON_TYPES:  # the common case, at no cost for big graphs
            continue
        saved = as_saved_value(value)
        if saved is not value:
            changed[name] = saved
    if not changed:
        return node.to_wire()
    saved_node = node.model_copy(update={"data": copy.deepcopy(node.data)})
    for name, value in changed.items():
        saved_node.set_input(name, value)
    return saved_node.to_wire()


def _catalog_entry(node_type: str) -> Any:
    """The catalog's entry for ``node_type``, when the catalog knows it (label, category)."""
    try:
        from .catalog import default_catalog
    except ImportError:  # the catalog is optional for the builder
        return None
    return default_catalog().get(node_type)
