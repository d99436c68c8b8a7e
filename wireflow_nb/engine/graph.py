"""What a graph means to the engine: validation of an execute request against the
catalog, and the plan of each run (which nodes run, in which order, fed by which edges,
with which literal inputs, under which cache key, for which price).

``analyze`` checks the request once (every problem at once: the structural ones of
``Workflow.problems()``, then unknown node types, unknown handles, missing required
inputs, bad literal values and bad iterator configs) and indexes the graph;
``plan_run`` turns the index into one ``RunPlan`` per run of the batch. Both are
linear in the size of the graph: 10,000 nodes are fine (the hosted limits are the
client's concern, not the engine's).
"""

from __future__ import annotations

import copy
import inspect
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import BadRequestError, Problem
from ..batches import MAX_BATCH_RUNS, batch_items
from ..catalog import Catalog, InputSpec, NodeSpec, template_placeholders
from ..graphs import CycleError, nodes_to_run, topological_order
from ..models import ExecuteRequest, Node
from ..workflow import Workflow
from .cache import executor_fingerprint, node_key
from .credits import node_price

__all__ = [
    "MAX_BATCH_RUNS",
    "GraphIndex",
    "PlannedNode",
    "RunPlan",
    "analyze",
    "batch_items",
    "is_cache_disabled",
    "plan_batch",
    "plan_run",
    "problems",
    "substitute_trigger",
    "validation_error",
]

_TRIGGER_REF = re.compile(r"\{\{\s*trigger\.([A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*)\s*\}\}")
_SEED_RANGE = 2**31
_SCALARS = frozenset({int, float, bool})
_ASYNC: dict[int, tuple[Any, bool]] = {}


def _is_async(fn: Callable[..., Any]) -> bool:
    known = _ASYNC.get(id(fn))
    if known is not None and known[0] is fn:
        return known[1]
    result = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(type(fn).__dict__.get("__call__"))
    _ASYNC[id(fn)] = (fn, result)
    return result


def is_cache_disabled(value: Any) -> bool:
    """Whether a node's ``cache`` input opts it out of the cache (``false``, ``"false"``, 0)."""
    if value is False or value == 0:
        return True
    return isinstance(value, str) and value.strip().lower() in ("false", "no", "off", "0")


def _trigger_value(data: Mapping[str, Any], path: str) -> str:
    value: Any = data
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return ""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def substitute_trigger(text: str, trigger_data: Mapping[str, Any]) -> str:
    """``text`` with each ``{{trigger.<field>}}`` replaced by that field of triggerData
    (dotted paths reach into objects; a missing field becomes empty text)."""
    if "{{" not in text:
        return text
    return _TRIGGER_REF.sub(lambda m: _trigger_value(trigger_data, m.group(1)), text)


def _is_blank(value: Any) -> bool:
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


class _TypeInfo:
    """What planning needs of a node type, looked up once per request."""

    __slots__ = ("defaults", "executor", "fingerprint", "is_async", "spec")

    def __init__(self, spec: NodeSpec) -> None:
        self.spec = spec
        self.executor: Callable[..., Any] = spec.resolve_executor()
        self.is_async = _is_async(self.executor)
        self.fingerprint = executor_fingerprint(self.executor)
        self.defaults = tuple((i.name, i.default) for i in spec.inputs)


class PlannedNode:
    """One node of one run, ready for the scheduler."""

    __slots__ = (
        "cacheable",
        "executor",
        "feeds",
        "generative",
        "id",
        "index",
        "is_async",
        "key",
        "label",
        "literals",
        "node_type",
        "preds",
        "price",
        "seed",
        "spec",
        "succs",
    )

    def __init__(self, node_id: str, index: int, label: str, kind: _TypeInfo) -> None:
        self.id = node_id
        self.index = index
        self.label = label
        self.spec = kind.spec
        self.node_type = kind.spec.node_type
        self.executor: Callable[..., Any] = kind.executor
        self.is_async = kind.is_async
        self.generative = kind.spec.generative
        self.literals: dict[str, Any] = {}
        #: input -> [(source node, source port)], in edge order
        self.feeds: dict[str, list[tuple[str, str]]] = {}
        self.preds: list[str] = []
        self.succs: list[str] = []
        self.key = ""
        self.cacheable = True
        self.price = 0.0
        self.seed: int | None = None

    def input_spec(self, name: str) -> InputSpec | None:
        return self.spec.input(name)


@dataclass
class RunPlan:
    """Everything one execution run needs: its nodes (request order) and roots."""

    nodes: dict[str, PlannedNode]
    topo: list[str]
    trigger_data: dict[str, Any]
    run_index: int = 0
    input_index: int = 0
    #: node id -> {field: value} set by the iterator configs for this run
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def roots(self) -> list[str]:
        return [node_id for node_id in self.topo if not self.nodes[node_id].preds]


# -- validation -------------------------------------------------------------------------
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
        found = Workflow(nodes=request.nodes, edges=request.edges).problems(target_node_id=target)

    # which nodes run: the target and its ancestors, else all
    run_ids = nodes_to_run(nodes, pairs, target if target in nodes else None)
    run_set = set(run_ids)

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
                found.append(
                    Problem(
                        "unknown_handle",
                        f"edge {edge.id or f'#{i}'} leaves node {edge.source!r} by sourceHandle "
                        f"{edge.source_handle!r}, which is not an output of {source_spec.node_type!r}; "
                        "outputs: " + (", ".join(sorted(outputs)) or "(none)"),
                        node_id=edge.source,
                        edge_id=edge.id,
                        field="sourceHandle",
                    )
                )
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
                found.append(
                    Problem(
                        "unknown_handle",
                        f"edge {edge.id or f'#{i}'} enters node {edge.target!r} by targetHandle "
                        f"{edge.target_handle!r}, which is not an input of {target_spec.node_type!r}; "
                        "inputs: " + (", ".join(sorted(allowed)) or "(none)"),
                        node_id=edge.target,
                        edge_id=edge.id,
                        field="targetHandle",
                    )
                )
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
            if input_spec.required and _is_blank(value):
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


# -- planning ---------------------------------------------------------------------------
def _resolve_literal(value: Any, trigger_data: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        return substitute_trigger(value, trigger_data) if "{{" in value else value
    if isinstance(value, (list, dict)):  # the run keeps its own copy of what it reads
        return copy.deepcopy(value)
    return value


def plan_run(
    index: GraphIndex,
    *,
    trigger_data: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    variant: int = 0,
    run_index: int = 0,
    input_index: int = 0,
) -> RunPlan:
    """The plan of one run. ``variant`` > 0 (a repeat of the same batch value) gives
    seedless generation nodes another seed, so repeats are variations, not cache hits."""
    trigger = dict(trigger_data or {})
    overrides = overrides or {}
    planned: dict[str, PlannedNode] = {}
    kinds: dict[str, _TypeInfo] = {}
    no_feeds: dict[str, list[tuple[str, str]]] = {}
    for node_id in index.topo:
        spec = index.specs[node_id]
        kind = kinds.get(spec.node_type)
        if kind is None or kind.spec is not spec:
            kind = kinds[spec.node_type] = _TypeInfo(spec)
        pn = PlannedNode(node_id, index.positions[node_id], index.nodes[node_id].label, kind)
        raw = index.inputs[node_id]
        extra_values = overrides.get(node_id)
        if extra_values or "cache" in raw:
            raw = {**raw, **(extra_values or {})}
            cacheable = not is_cache_disabled(raw.pop("cache", True))
        else:
            cacheable = True
        literals: dict[str, Any] = {}
        if kind.defaults or spec.template_field:
            for name, default in kind.defaults:
                value = raw.get(name, default)
                if value is not None:
                    literals[name] = value if type(value) in _SCALARS else _resolve_literal(value, trigger)
            if spec.template_field:
                for name in template_placeholders(str(literals.get(spec.template_field) or "")):
                    if name in raw and name not in literals:
                        literals[name] = _resolve_literal(raw[name], trigger)
        else:
            literals = {k: _resolve_literal(v, trigger) for k, v in raw.items()}
        feeds = index.feeds.get(node_id, no_feeds)
        pn.feeds = feeds
        pn.preds = index.preds[node_id]
        pn.succs = index.succs[node_id]
        seed = literals.get("seed")
        seedless = spec.generative and _is_blank(seed)  # (cheap: most nodes are not generative)
        if cacheable:
            key_feeds = [
                (port, [(planned[source].key, source_port) for source, source_port in sources])
                for port, sources in feeds.items()
            ]
            extra: Any = None
            if spec.node_type == "trigger":
                extra = trigger
            elif seedless and variant:
                extra = {"variant": variant}
            pn.key = node_key(spec.node_type, kind.fingerprint, literals, key_feeds, extra)
        else:
            pn.key = "nocache:" + secrets.token_hex(16)
        if spec.generative:
            if seedless:
                # derived from the key: the same inputs give the same picture (and a cache
                # hit); opting out of the cache gives a fresh seed
                seed = int(pn.key[-12:], 16) % _SEED_RANGE if cacheable else secrets.randbelow(_SEED_RANGE)
            try:
                pn.seed = int(seed)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                pn.seed = int(node_key("seed", "", {"seed": str(seed)}, [])[-12:], 16) % _SEED_RANGE
            literals["seed"] = pn.seed
        pn.literals = literals
        pn.cacheable = cacheable
        pn.price = node_price(spec, literals) if spec.price else 0.0
        planned[node_id] = pn
    ordered = {node_id: planned[node_id] for node_id in index.run_ids if node_id in planned}
    return RunPlan(
        nodes=ordered,
        topo=list(index.topo),
        trigger_data=trigger,
        run_index=run_index,
        input_index=input_index,
        overrides={k: dict(v) for k, v in overrides.items()},
    )


def plan_batch(index: GraphIndex, trigger_data: Mapping[str, Any] | None) -> list[RunPlan]:
    """The plans of every run of the request's batch."""
    return [
        plan_run(
            index,
            trigger_data=trigger_data,
            overrides=overrides,
            variant=variant,
            run_index=run_index,
            input_index=input_index,
        )
        for run_index, (input_index, variant, overrides) in enumerate(batch_items(index.request))
    ]
