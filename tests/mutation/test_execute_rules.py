"""``LocalEngine.execute`` around its idempotency key: what it gives back when storing the
runs fails, that the runs it starts can be cancelled, and its arguments by name.

Written against the mutants of ``LocalEngine.execute`` no test caught
(``benchmarks/mutation.py``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import pytest

from wireflow_nb import Workflow
from wireflow_nb.catalog import Catalog, NodeSpec, OutputSpec
from wireflow_nb.engine import LocalEngine
from wireflow_nb.engine.store import Store


def _image_flow(prompt: str = "a fox") -> Workflow:
    flow = Workflow("w")
    flow.add_node("input:text", id="prompt", text=prompt)
    flow.add_node("model:fal:text-to-image", id="image", width=64, height=64)
    flow.connect("prompt", "text", "image", "prompt")
    return flow


def test_a_request_whose_runs_cannot_be_stored_gives_back_its_credits_and_its_key(
    make_engine: Callable[..., LocalEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(credits=20)
    configs = [{"nodeId": "prompt", "field": "text", "values": ["a", "b"]}]
    real = Store.insert_runs
    failing = threading.Event()
    failing.set()

    def insert_runs(self: Store, records: Any) -> None:
        if failing.is_set():
            raise sqlite3.OperationalError("disk I/O error")
        real(self, records)

    monkeypatch.setattr(Store, "insert_runs", insert_runs)
    with pytest.raises(sqlite3.OperationalError):
        engine.execute("w", _image_flow(), iterator_configs=configs, idempotency_key="k")
    assert engine.list_executions("w") == []
    failing.clear()
    # the 20 credits it reserved for its two runs are free again, and its key unused
    response = engine.execute("w", _image_flow(), iterator_configs=configs, idempotency_key="k")
    assert len(response.execution_ids) == 2
    for execution_id in response.execution_ids:
        engine.wait(execution_id)
    assert engine.credits_balance() == 0


def test_a_run_just_started_can_be_cancelled(
    catalog: Catalog, make_engine: Callable[..., LocalEngine]
) -> None:
    started = threading.Event()

    def slow(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
        started.set()
        ctx.sleep(60)
        return {"text": "late"}

    catalog.register(NodeSpec("t:slow", "Slow", "test", outputs=(OutputSpec("text"),), executor=slow))
    engine = make_engine()
    flow = Workflow("w")
    flow.add_node("t:slow", id="slow")
    response = engine.execute("w", flow, idempotency_key="k")
    assert started.wait(30)
    poll = engine.cancel(response.execution_id)
    assert poll.status == "CANCELLED"
    assert engine.get_execution(response.execution_id).status == "CANCELLED"


def test_execute_takes_its_arguments_by_name(make_engine: Callable[..., LocalEngine]) -> None:
    engine = make_engine()
    response = engine.execute(workflow_id="w", workflow_or_request=_image_flow(), idempotency_key="named")
    assert engine.wait(response.execution_id).status == "COMPLETED"
