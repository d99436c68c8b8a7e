"""The credit estimate of a request from the catalog's prices: pure, no I/O.

What this module owns: ``CostEstimate``, ``estimate_credits`` (the nodes that will run,
priced by the catalog, times the runs of the batch) and ``format_credits`` (a figure as
the app shows it). It imports the run planning of ``_run_state`` and the catalog: no
ipywidgets, no backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..models import ExecuteRequest
from ._run_state import batch_size, nodes_to_run

__all__ = ["CostEstimate", "estimate_credits", "format_credits"]


def format_credits(value: float | int | None) -> str:
    """A credits figure as the app shows it (``?`` when unknown)."""
    if value is None:
        return "?"
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class CostEstimate:
    """Credits a request will cost at most (cached nodes cost nothing when run)."""

    total: float
    per_run: float
    runs: int
    breakdown: tuple[tuple[str, str, float], ...]  # (node id, label, credits per run)
    unknown: tuple[str, ...] = ()  # node types without a known price

    def describe(self) -> str:
        text = f"{self.total:g} credits"
        if self.runs > 1:
            text += f" ({self.per_run:g} \u00d7 {self.runs} runs)"
        if self.unknown:
            text = f"\u2265 {text}; price unknown for {', '.join(sorted(set(self.unknown)))}"
        return text


def estimate_credits(request: ExecuteRequest, catalog: Any = None) -> CostEstimate:
    """The estimate from the catalog's prices: the nodes that will run, times the runs."""
    if catalog is None:
        from ..catalog import default_catalog

        catalog = default_catalog()
    running = set(nodes_to_run(request))
    breakdown: list[tuple[str, str, float]] = []
    unknown: list[str] = []
    for node in request.nodes:
        if node.id not in running:
            continue
        spec = catalog.get(node.node_type)
        if spec is None:
            unknown.append(node.node_type)
            continue
        price = spec.price_for(node.inputs)
        if price:
            breakdown.append((node.id, node.label, price))
    per_run = sum(c for _, _, c in breakdown)
    runs = batch_size(request)
    return CostEstimate(per_run * runs, per_run, runs, tuple(breakdown), tuple(unknown))
