"""What a request will cost, as the toolbar shows it: pure, no I/O.

What this module owns:

- ``estimate_credits``: the catalog's estimate of a request. Every node that will run is
  priced by ``NodeSpec.price_for`` (the one home of pricing) with the inputs it has *in
  each run of the batch*: the iterator configs set inputs per run (``batch_overrides``,
  the engine's one batch expansion), so a batch over ``numImages`` of 1, 2, 3 on a
  10-credit node costs 10 + 20 + 30. It is an upper bound: a backend charges nothing for
  a node it serves from its cache (a node an earlier run of the same batch computed with
  the same inputs included), and only the backend knows its cache.
- ``toolbar_estimate``: the figure the toolbar shows and its words, labelled by where it
  comes from: the backend's own answer to ``estimate()`` (``Estimate: 12 credits (from
  the server)`` / ``(local engine)``: it knows its cache and is what a run then charges),
  else the catalog's prices (``≈12 credits (catalog prices)``), with the reason the
  backend gave none. Fetching the backend's answer is ``_credits``' job.
- ``format_credits``: a credits figure as the app shows it (``1,234``).

It imports the run planning of ``_run_state`` and the catalog: no ipywidgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..models import CostEstimate as BackendEstimate
from ..models import CreditsBreakdownItem, ExecuteRequest
from ._run_state import batch_overrides, batch_size, nodes_to_run

__all__ = [
    "CATALOG_PRICES",
    "CostEstimate",
    "ShownEstimate",
    "estimate_credits",
    "format_credits",
    "toolbar_estimate",
]

#: Runs of a batch whose costs ``describe`` lists one by one (``10 + 20 + 30``).
_LISTED_RUNS = 4


def format_credits(value: float | int | None) -> str:
    """A credits figure as the app shows it: thousands separated, no trailing ``.0``
    (``?`` when unknown)."""
    if value is None:
        return "?"
    if isinstance(value, float):
        if value.is_integer():
            return f"{int(value):,}"
        return f"{round(value, 6):,}"
    return f"{value:,}"


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

    def batch_detail(self) -> str:
        """How the batch adds up (``10 + 20 + 30``, ``10 x 3 runs``); empty for one run."""
        if self.runs <= 1:
            return ""
        if len(set(self.run_totals)) <= 1:
            return f"{self.per_run:g} \u00d7 {self.runs} runs"
        if self.runs <= _LISTED_RUNS:
            return " + ".join(f"{c:g}" for c in self.run_totals)
        return f"{self.runs} runs, up to {self.per_run:g} each"

    def unknown_note(self) -> str:
        return f"price unknown for {', '.join(sorted(set(self.unknown)))}" if self.unknown else ""

    def describe(self) -> str:
        text = f"{self.total:g} credits"
        if self.runs > 1:
            text += f" ({self.batch_detail()})"
        if self.unknown:
            text = f"\u2265 {text}; {self.unknown_note()}"
        return text

    def breakdown_items(self) -> list[CreditsBreakdownItem]:
        """The breakdown as the 402 body lists it."""
        return [
            CreditsBreakdownItem(node_id=node_id, node_label=label, credits=credits)
            for node_id, label, credits in self.breakdown
        ]


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


#: Where a shown estimate comes from: the label the toolbar gives it.
CATALOG_PRICES = "catalog prices"


@dataclass(frozen=True)
class ShownEstimate:
    """The toolbar's estimate: the figure (``≈12 credits``), what it is made of and where
    it comes from (``detail``: ``3 runs; from the server``), the per-node breakdown, and
    why the backend's own figure is missing (``reason``, for the tooltip)."""

    total: float
    figure: str
    detail: str
    source: str
    breakdown: tuple[CreditsBreakdownItem, ...] = ()
    reason: str = ""
    #: Node types the figure leaves out (no known price): the figure is a lower bound.
    unknown: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return f"{self.figure} ({self.detail})" if self.detail else self.figure

    @property
    def from_backend(self) -> bool:
        return self.source != CATALOG_PRICES


def toolbar_estimate(
    request: ExecuteRequest,
    answer: BackendEstimate | None = None,
    *,
    source: str = CATALOG_PRICES,
    reason: str = "",
    pending: str = "",
    catalog: Any = None,
) -> ShownEstimate:
    """What the toolbar shows as the cost of ``request``: the backend's ``answer`` to
    ``estimate()`` labelled ``source`` (``from the server``, ``local engine``), else the
    catalog's prices labelled as such, with ``reason`` (why there is no backend figure)
    or ``pending`` (``asking the server…``: one is on its way)."""
    estimate = estimate_credits(request, catalog)
    if answer is not None:
        total = float(answer.total_credits)
        notes = []
        runs = batch_size(request)
        if runs > 1:
            notes.append(f"{runs} runs")
        if total < estimate.total and not estimate.unknown:
            notes.append("cached" if total == 0 else "cached nodes free")
        notes.append(source)
        return ShownEstimate(
            total,
            f"{format_credits(answer.total_credits)} credits",
            "; ".join(notes),
            source,
            tuple(answer.breakdown),
        )
    notes = [n for n in (estimate.batch_detail(), CATALOG_PRICES, pending) if n]
    bound = "\u2265" if estimate.unknown else "\u2248"  # at least / about
    figure = f"{bound}{format_credits(estimate.total)} credits"
    if estimate.unknown:
        notes.append(estimate.unknown_note())
    return ShownEstimate(
        estimate.total,
        figure,
        "; ".join(notes),
        CATALOG_PRICES,
        tuple(estimate.breakdown_items()),
        reason,
        estimate.unknown,
    )
