"""What a request will cost, as the toolbar shows it: pure, no I/O but the backend's own
estimate.

What this module owns:

- ``estimate_credits``: the catalog's estimate of a request. Every node that will run is
  priced by ``NodeSpec.price_for`` (the one home of pricing) with the inputs it has *in
  each run of the batch*: the iterator configs set inputs per run (``batch_overrides``,
  the engine's one batch expansion), so a batch over ``numImages`` of 1, 2, 3 on a
  10-credit node costs 10 + 20 + 30. It is an upper bound: a backend charges nothing for
  a node it serves from its cache (a node an earlier run of the same batch computed with
  the same inputs included), and only the backend knows its cache.
- ``toolbar_estimate``: the figure the toolbar shows for a backend: its own
  ``estimate_cost`` when it has a blocking one (``LocalEngine``: it knows its cache),
  else the catalog's (a ``WireflowClient``: the hosted API has no estimate endpoint).
- ``format_credits``: a credits figure as the app shows it.

It imports the run planning of ``_run_state`` and the catalog: no ipywidgets.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from ..models import ExecuteRequest
from ._run_state import batch_overrides, nodes_to_run

__all__ = ["CostEstimate", "ShownEstimate", "estimate_credits", "format_credits", "toolbar_estimate"]

#: Runs of a batch whose costs ``describe`` lists one by one (``10 + 20 + 30``).
_LISTED_RUNS = 4


def format_credits(value: float | int | None) -> str:
    """A credits figure as the app shows it (``?`` when unknown)."""
    if value is None:
        return "?"
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class CostEstimate:
    """Credits a request will cost at most (cached nodes cost nothing when run)."""

    total: float
    #: What one run costs when every run of the batch costs the same, else the most one costs.
    per_run: float
    runs: int
    breakdown: tuple[tuple[str, str, float], ...]  # (node id, label, credits over the batch)
    unknown: tuple[str, ...] = ()  # node types without a known price
    run_totals: tuple[float, ...] = ()  # what each run of the batch costs, in run order

    def describe(self) -> str:
        text = f"{self.total:g} credits"
        if self.runs > 1:
            if len(set(self.run_totals)) <= 1:
                text += f" ({self.per_run:g} \u00d7 {self.runs} runs)"
            elif self.runs <= _LISTED_RUNS:
                text += " (" + " + ".join(f"{c:g}" for c in self.run_totals) + ")"
            else:
                text += f" ({self.runs} runs, up to {self.per_run:g} each)"
        if self.unknown:
            text = f"\u2265 {text}; price unknown for {', '.join(sorted(set(self.unknown)))}"
        return text


def estimate_credits(request: ExecuteRequest, catalog: Any = None) -> CostEstimate:
    """The catalog's estimate: each node that will run, priced with its inputs in each
    run of the batch, summed over the runs (an upper bound: see the module docstring)."""
    if catalog is None:
        from ..catalog import default_catalog

        catalog = default_catalog()
    running = set(nodes_to_run(request))
    priced = []
    unknown: list[str] = []
    for node in request.nodes:
        if node.id not in running:
            continue
        spec = catalog.get(node.node_type)
        if spec is None:
            unknown.append(node.node_type)
        elif spec.price:
            priced.append((node, spec, node.inputs))
    # a node the batch does not touch costs the same in every run: price it once
    fixed = {node.id: spec.price_for(inputs) for node, spec, inputs in priced}
    per_node = dict.fromkeys(fixed, 0.0)
    run_totals: list[float] = []
    for overrides in batch_overrides(request):
        run_total = 0.0
        for node, spec, inputs in priced:
            changed = overrides.get(node.id)
            price = spec.price_for({**inputs, **changed}) if changed else fixed[node.id]
            per_node[node.id] += price
            run_total += price
        run_totals.append(run_total)
    breakdown = tuple((node.id, node.label, per_node[node.id]) for node, _, _ in priced if per_node[node.id])
    return CostEstimate(
        sum(run_totals), max(run_totals), len(run_totals), breakdown, tuple(unknown), tuple(run_totals)
    )


@dataclass(frozen=True)
class ShownEstimate:
    """The toolbar's estimate: the figure and its words."""

    total: float
    text: str


def toolbar_estimate(backend: Any, request: ExecuteRequest, catalog: Any = None) -> ShownEstimate:
    """What the toolbar shows as the next run's cost on ``backend``: the backend's own
    ``estimate_cost`` (blocking ones only: this runs on the notebook's thread) when it
    answers, else the catalog's ``estimate_credits``."""
    estimate = estimate_credits(request, catalog)
    estimator = getattr(backend, "estimate_cost", None)
    if callable(estimator) and not inspect.iscoroutinefunction(estimator):
        try:
            total, _ = estimator(request)
        except Exception:
            pass  # an invalid graph: the catalog's figure, problems show on Run
        else:
            text = f"{format_credits(total)} credits"
            if total == 0 and estimate.total > 0:
                text += " (cached)"
            return ShownEstimate(total, text)
    return ShownEstimate(estimate.total, estimate.describe())
