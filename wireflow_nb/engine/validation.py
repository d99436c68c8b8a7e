"""Validation of an execute request against the catalog, and its index.

``analyze`` checks the request once (every problem at once: the structural ones of
``Workflow.problems()``, then unknown node types, unknown handles, missing required
inputs, bad literal values and bad iterator configs) and indexes the graph
(``GraphIndex``: which nodes run, in which order, fed by which edges), which
``planning`` turns into the plan of each run. Linear in the size of the graph: 10,000
nodes are fine (the hosted limits are the client's concern, not the engine's).
``input_problems`` checks planned literal media inputs against what the engine may
read (its ``InputPolicy``: a server reads no local files), before anything runs.
Graph walks are ``wireflow_nb.graphs``'; the batch size rule is ``wireflow_nb.batches``'.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import BadRequestError, Problem
from ..batches import MAX_BATCH_RUNS
from ..catalog import MEDIA_KINDS, Catalog, InputSpec, NodeSpec, edge_kind_problems
from ..graphs import CycleError, nodes_to_run, topological_order
from ..models import Edge, ExecuteRequest, Node
from ..workflow import Workflow

__all__ = [
    "MEDIA_KINDS",
    "GraphIndex",
    "analyze",
    "input_problems",
    "is_blank",
    "problems",
    "validation_error",
]


def is_blank(value: Any) -> bool:
    """Whether an input value counts as not given (None or blank text)."""
    return value is None or (isinstance(value, str) and not value.strip())


def _output_names(spec: NodeSpec) -> set[str] | None:
    """The output ports of a type; None when any name is fine (``trigger``)."""
    if spec.extra.get("dynamic_outputs"):
        return None
    return {o.name for o in spec.outputs}


@dataclass
class GraphIndex:
    """A validated request, indexed once and shared by every run of its batch."""

    request: ExecuteRequest
    catalog: Catalog
    nodes: dict[str, Node]
    #: nodes that run (all, or the target and its ancestors), in request order
    run_ids: list[str]
    #: the same nodes in a topological order
    topo: list[str]
    specs: dict[str, NodeSpec]
    positions: dict[str, int]
    #: target -> input -> [(source, source port)], in edge order
    feeds: dict[str, dict[str, list[tuple[str, str]]]]
    preds: dict[str, list[str]]
    succs: dict[str, list[str]]
    #: literal inputs of each node that runs (``Node.inputs``, read once)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def _unknown_type_problem(node: Node) -> Problem:
    node_type = node.node_type
    return Problem(
        "unknown_node_type",
        f"node {node.id!r} has nodeType {node_type!r}, which the local engine does not know: "
        f"it runs only on the hosted service (run it with WireflowClient), or register it here "
        f"with @wireflow_nb.node_type({node_type!r}, inputs=..., outputs=...)",
        node_id=node.id,
        field="nodeType",
    )


def _unknown_handle_problem(edge: Edge, i: int, end: str, spec: NodeSpec, names: Iterable[str]) -> Problem:
    """An edge that leaves (``end="source"``) or enters (``end="target"``) a node by a
    handle its type does not have; ``names`` are the handles it has."""
    if end == "source":
        node_id, handle, verb, kind = edge.source, edge.source_handle, "leaves", "output"
    else:
        node_id, handle, verb, kind = edge.target, edge.target_handle, "enters", "input"
    return Problem(
        "unknown_handle",
        f"edge {edge.id or f'#{i}'} {verb} node {node_id!r} by {end}Handle "
        f"{handle!r}, which is not an {kind} of {spec.node_type!r}; "
        f"{kind}s: " + (", ".join(sorted(names)) or "(none)"),
        node_id=node_id,
        edge_id=edge.id,
        field=f"{end}Handle",
    )


def _literal_problem(node: Node, spec: InputSpec, value: Any) -> Problem | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    if spec.choices and value not in spec.choices:
        allowed = ", ".join(repr(c) for c in spec.choices)
        return Problem(
            "invalid_input",
            f"node {node.id!r} input {spec.name!r} is {value!r}; it must be one of {allowed}",
            node_id=node.id,
            field=spec.name,
        )
    if spec.type in ("number", "integer") and (spec.minimum is not None or spec.maximum is not None):
        if isinstance(value, bool):
            number = None
        elif isinstance(value, (int, float)):
            number = float(value)
        else:
            try:
                number = float(str(value))
            except ValueError:
                number = None
        if number is None:
            if isinstance(value, str) and not value.strip():
                return None
            return Problem(
                "invalid_input",
                f"node {node.id!r} input {spec.name!r} is {value!r}, which is not a number",
                node_id=node.id,
                field=spec.name,
            )
        low, high = spec.minimum, spec.maximum
        if (low is not None and number < low) or (high is not None and number > high):
            bounds = (
                f"between {low:g} and {high:g}"
                if low is not None and high is not None
                else (f"at least {low:g}" if low is not None else f"at most {high:g}")
            )
            return Problem(
                "invalid_input",
                f"node {node.id!r} input {spec.name!r} is {value!r}; it must be {bounds}",
                node_id=node.id,
                field=spec.name,
            )
    return None


def _iterator_problems(request: ExecuteRequest, nodes: Mapping[str, Node]) -> list[Problem]:
    found: list[Problem] = []
    configs = request.iterator_configs or []
    lengths: list[int] = []
    for i, config in enumerate(configs):
        where = f"iteratorConfigs[{i}]"
        if config.node_id not in nodes:
            found.append(
                Problem(
                    "unknown_iterator_node",
                    f"{where}.nodeId {config.node_id!r} is not a node of the workflow",
                    node_id=config.node_id,
                    field=f"{where}.nodeId",
                )
            )
        if not config.field:
            found.append(
                Problem("bad_iterator", f"{where}.field is empty; name the input to vary", field=where)
            )
        if not config.values:
            found.append(
                Problem(
                    "bad_iterator",
                    f"{where}.values is empty; give at least one value",
                    field=f"{where}.values",
                )
            )
        if not isinstance(config.repeat, int) or config.repeat < 1:
            found.append(
                Problem(
                    "bad_iterator", f"{where}.repeat is {config.repeat!r}; it must be 1 or more", field=where
                )
            )
        lengths.append(len(config.values))
    if len(set(lengths)) > 1:
        found.append(
            Problem(
                "iterator_lengths",
                "iteratorConfigs are zipped, so their values must have equal lengths; got "
                + ", ".join(str(n) for n in lengths),
                field="iteratorConfigs",
            )
        )
    if configs and not found:
        runs = lengths[0] * max(c.repeat for c in configs)
        if runs > MAX_BATCH_RUNS:
            found.append(
                Problem(
                    "batch_too_large",
                    f"the batch would start {runs} runs; the local engine starts at most {MAX_BATCH_RUNS} per request",
                    field="iteratorConfigs",
                )
            )
    return found


def analyze(request: ExecuteRequest, catalog: Catalog) -> GraphIndex:
    """Validate ``request`` against ``catalog`` and index it; ``.problems`` lists every
    problem found (empty when the request can run)."""
    nodes: dict[str, Node] = {}
    positions: dict[str, int] = {}
    sound = True
    for position, node in enumerate(request.nodes):
        if not node.id or node.id in nodes:
            sound = False
        if node.id not in nodes:
            nodes[node.id] = node
            positions[node.id] = position
    pairs: list[tuple[str, str]] = []
    edge_ids: set[str] = set()
    edges = []
    for edge in request.edges:
        if edge.source in nodes and edge.target in nodes:
            edges.append(edge)
            pairs.append((edge.source, edge.target))
        else:
            sound = False
        if edge.id is not None:
            if edge.id in edge_ids:
                sound = False
            edge_ids.add(edge.id)
    target = request.target_node_id
    if target is not None and target not in nodes:
        sound = False
    try:
        order = topological_order(nodes, pairs)
        has_cycle = False
    except CycleError:
        order, has_cycle = [], True
    found: list[Problem] = []
    if not sound or has_cycle:
        # the structural messages (cycle paths included) have one source: Workflow.problems()
        found = Workflow(nodes=request.nodes, edges=request.edges).problems(
            target_node_id=target, catalog=catalog
        )

    # which nodes run: the target and its ancestors, else all
    run_ids = nodes_to_run(nodes, pairs, target if target in nodes else None)
    run_set = set(run_ids)
    if not found and edges:
        # a sound graph may still join ports of kinds that do not fit, as Workflow.problems()
        # says too; only the edges into nodes that run matter here
        found = edge_kind_problems(request.nodes, [e for e in edges if e.target in run_set], catalog)

    specs: dict[str, NodeSpec] = {}
    resolved: dict[str, NodeSpec | None] = {}
    for node_id in run_ids:
        node = nodes[node_id]
        node_type = node.node_type
        if node_type in resolved:
            spec = resolved[node_type]
            if spec is not None:
                specs[node_id] = spec
            else:
                found.append(_unknown_type_problem(node))
            continue
        spec = catalog.get(node_type)
        if spec is None:
            resolved[node_type] = None
            found.append(_unknown_type_problem(node))
            continue
        try:
            spec.resolve_executor()
        except Exception as exc:  # a broken import path of a registered type
            found.append(
                Problem(
                    "no_executor",
                    f"node {node_id!r} of type {spec.node_type!r} cannot run locally: its executor "
                    f"could not be loaded ({type(exc).__name__}: {exc})",
                    node_id=node_id,
                    field="nodeType",
                )
            )
            continue
        resolved[node_type] = spec
        specs[node_id] = spec

    inputs: dict[str, dict[str, Any]] = {node_id: nodes[node_id].inputs for node_id in specs}
    outputs_of: dict[str, set[str] | None] = {}
    inputs_of: dict[str, set[str]] = {}
    feeds: dict[str, dict[str, list[tuple[str, str]]]] = {}
    preds: dict[str, list[str]] = {node_id: [] for node_id in run_ids}
    succs: dict[str, list[str]] = {node_id: [] for node_id in run_ids}
    for i, edge in enumerate(edges):
        if edge.target not in run_set:
            continue
        source_spec, target_spec = specs.get(edge.source), specs.get(edge.target)
        source_port = edge.source_port
        if source_spec is not None:
            if source_spec.node_type not in outputs_of:
                outputs_of[source_spec.node_type] = _output_names(source_spec)
            outputs = outputs_of[source_spec.node_type]
            if source_port is None:
                source_port = source_spec.outputs[0].name if source_spec.outputs else "output"
            elif outputs is not None and source_port not in outputs:
                found.append(_unknown_handle_problem(edge, i, "source", source_spec, outputs))
        target_port = edge.target_port
        if target_spec is not None:
            if target_spec.template_field:
                allowed = {s.name for s in target_spec.inputs} | {
                    s.name for s in target_spec.input_ports(nodes[edge.target])
                }
            else:
                if target_spec.node_type not in inputs_of:
                    inputs_of[target_spec.node_type] = {s.name for s in target_spec.inputs}
                allowed = inputs_of[target_spec.node_type]
            if target_port is None or target_port not in allowed:
                found.append(_unknown_handle_problem(edge, i, "target", target_spec, allowed))
                continue
        if target_port is None or source_port is None:
            continue
        feeds.setdefault(edge.target, {}).setdefault(target_port, []).append((edge.source, source_port))
        target_preds = preds[edge.target]
        if edge.source not in target_preds:
            target_preds.append(edge.source)
            succs[edge.source].append(edge.target)

    iterated = {(c.node_id, c.field) for c in request.iterator_configs or []}
    for node_id, spec in specs.items():
        literals = inputs[node_id]
        fed = feeds.get(node_id, {})
        for input_spec in spec.inputs:
            name = input_spec.name
            count = len(fed.get(name, ()))
            if count:
                if count > 1 and not input_spec.multiple:
                    found.append(
                        Problem(
                            "too_many_edges",
                            f"node {node_id!r} input {name!r} is fed by {count} edges; it takes one",
                            node_id=node_id,
                            field=name,
                        )
                    )
                continue
            if iterated and (node_id, name) in iterated:
                continue
            value = literals.get(name, input_spec.default)
            if input_spec.required and is_blank(value):
                found.append(
                    Problem(
                        "missing_input",
                        f"node {node_id!r} ({nodes[node_id].label}) needs input {name!r}: "
                        "set it or connect an edge to it",
                        node_id=node_id,
                        field=name,
                    )
                )
            elif (
                value is not None
                and name in literals
                and (input_spec.choices or input_spec.minimum is not None or input_spec.maximum is not None)
            ):
                problem = _literal_problem(nodes[node_id], input_spec, value)
                if problem is not None:
                    found.append(problem)

    found.extend(_iterator_problems(request, nodes))
    topo = [] if has_cycle else [node_id for node_id in order if node_id in run_set]
    return GraphIndex(
        request=request,
        catalog=catalog,
        nodes=nodes,
        run_ids=run_ids,
        topo=topo,
        specs=specs,
        positions=positions,
        feeds=feeds,
        preds=preds,
        succs=succs,
        inputs=inputs,
        problems=found,
    )


def input_problems(
    nodes: Iterable[tuple[str, NodeSpec, Mapping[str, Any]]], refusal: Callable[[Any], str | None]
) -> list[Problem]:
    """Literal values of media inputs (image, video, audio) the engine would refuse to
    read: ``refusal(value)`` says why (``sources.source_refusal`` under the engine's
    ``InputPolicy``), or None. ``nodes`` are (node id, spec, literal inputs) as planned,
    trigger data and batch values written in. One problem per node and field."""
    media: dict[int, list[str]] = {}
    found: dict[tuple[str, str], Problem] = {}
    for node_id, spec, literals in nodes:
        names = media.get(id(spec))
        if names is None:
            names = media[id(spec)] = list(spec.media_inputs)
        for name in names:
            value = literals.get(name)
            if value is None or (node_id, name) in found:
                continue
            reason = refusal(value)
            if reason is not None:
                found[(node_id, name)] = Problem(
                    "input_refused", f"node {node_id!r} input {name!r}: {reason}", node_id=node_id, field=name
                )
    return list(found.values())


def problems(request: ExecuteRequest, catalog: Catalog) -> list[Problem]:
    """Every problem that would make the engine refuse ``request`` (empty: it can run)."""
    return analyze(request, catalog).problems


def validation_error(found: list[Problem]) -> BadRequestError:
    """The 400 of an invalid request: ``error`` sums up, ``details`` lists every problem."""
    if len(found) == 1:
        head = found[0].message
    else:
        head = f"{len(found)} problems: " + "; ".join(p.message for p in found[:3])
        if len(found) > 3:
            head += f"; and {len(found) - 3} more (see details)"
    message = f"Invalid workflow: {head}"
    return BadRequestError(message, body={"error": message, "details": [p.to_detail() for p in found]})
