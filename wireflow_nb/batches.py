"""Batches: how the iterator configs of an execute request expand into runs.

``batch_items(request)`` lists the runs of a batch (values zipped, each repeated);
``MAX_BATCH_RUNS`` caps how many runs one request may start on the local engine. Pure:
imports only ``wireflow_nb.models``, so the engine and the notebook's toolbar estimate
count runs by the same rule.
"""

from __future__ import annotations

from typing import Any

from .models import ExecuteRequest

__all__ = ["MAX_BATCH_RUNS", "batch_items"]

#: The most runs one request may start (values x repeat).
MAX_BATCH_RUNS = 1000


def batch_items(request: ExecuteRequest) -> list[tuple[int, int, dict[str, dict[str, Any]]]]:
    """``(input_index, variant, overrides)`` of each run of the batch, in run order:
    values zipped, each repeated ``repeat`` times (the largest repeat of the configs)."""
    configs = request.iterator_configs or []
    if not configs:
        return [(0, 0, {})]
    repeat = max(c.repeat for c in configs)
    items: list[tuple[int, int, dict[str, dict[str, Any]]]] = []
    for input_index in range(len(configs[0].values)):
        overrides: dict[str, dict[str, Any]] = {}
        for config in configs:
            overrides.setdefault(config.node_id, {})[config.field] = config.values[input_index]
        for variant in range(repeat):
            items.append((input_index, variant, overrides))
    return items
