"""The plan of each run of a validated request: which nodes run, in which order, fed by
which edges, with which literal inputs (``{{trigger.<field>}}`` substituted), under
which cache key, with which seed, for which price.

``plan_run`` turns a ``GraphIndex`` (``validation``) into one ``RunPlan``; ``plan_batch``
makes one per run of the batch (``wireflow_nb.batches``). Prices are
``NodeSpec.price_for``'s; cache keys are ``cache``'s.
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

from ..batches import batch_items
from ..catalog import InputSpec, NodeSpec, template_placeholders
from .cache import executor_fingerprint, node_key
from .validation import GraphIndex, is_blank

__all__ = [
    "PlannedNode",
    "RunPlan",
    "is_cache_disabled",
    "plan_batch",
    "plan_run",
    "substitute_trigger",
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
        seedless = spec.generative and is_blank(seed)  # (cheap: most nodes are not generative)
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
        pn.price = spec.price_for(literals) if spec.price else 0.0  # (most nodes are free)
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
