"""What a node that ran leaves behind: its stored output, and the charge that goes with it.

Written against the mutants of ``RunScheduler._prepare`` / ``_complete`` (the charge
path) no test caught (``benchmarks/mutation.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wireflow_nb import ExecutionFailedError, Workflow
from wireflow_nb.catalog import Catalog, NodeSpec, OutputSpec
from wireflow_nb.engine import LocalEngine
from wireflow_nb.models import Execution


def _register(
    catalog: Catalog, node_type: str, result: Any, *, price: float = 0, generative: bool = False
) -> None:
    catalog.register(
        NodeSpec(
            node_type,
            node_type,
            "test",
            outputs=(OutputSpec("output"),),
            executor=lambda ctx, inputs: result,
            price=price,
            generative=generative,
        )
    )


def _run_one(engine: LocalEngine, node_type: str, **inputs: Any) -> Execution:
    flow = Workflow("w")
    flow.add_node(node_type, id="n", **inputs)
    response = engine.execute("w", flow)
    try:
        engine.wait(response.execution_id, timeout=30)
    except ExecutionFailedError:
        pass
    return engine.get_execution(response.execution_id)


def test_what_an_executor_returns_is_stored_as_an_output_dict(
    catalog: Catalog, make_engine: Callable[..., LocalEngine]
) -> None:
    _register(catalog, "t:nothing", None, price=2)
    _register(catalog, "t:number", 42, price=3)
    _register(catalog, "t:dict", {"text": "hi"}, price=4)
    engine = make_engine(credits=100)
    outputs = {}
    for node_type in ("t:nothing", "t:number", "t:dict"):
        execution = _run_one(engine, node_type)
        assert execution.status == "COMPLETED"
        (run,) = execution.node_runs
        outputs[node_type] = (run.output, execution.credits_used)
    assert outputs == {"t:nothing": ({}, 2), "t:number": ({"output": 42}, 3), "t:dict": ({"text": "hi"}, 4)}
    assert engine.credits_balance() == 91


def test_generation_nodes_record_their_seed_and_provider_and_others_do_not(
    catalog: Catalog, make_engine: Callable[..., LocalEngine]
) -> None:
    _register(catalog, "t:gen", {"text": "made"}, price=1, generative=True)
    _register(catalog, "t:plain", {"text": "made"}, price=1)
    engine = make_engine()
    (generated,) = _run_one(engine, "t:gen", seed=7).node_runs
    assert generated.output == {"text": "made", "seed": 7, "provider": "local-preview"}
    (plain,) = _run_one(engine, "t:plain").node_runs
    assert plain.output == {"text": "made"}


def test_free_nodes_run_whatever_the_balance(
    catalog: Catalog, make_engine: Callable[..., LocalEngine]
) -> None:
    _register(catalog, "t:free", {"text": "ok"})
    engine = make_engine(credits=0)
    execution = _run_one(engine, "t:free")
    assert execution.status == "COMPLETED" and execution.credits_used == 0
    assert engine.credits_balance() == 0


def test_an_output_no_utf8_can_hold_fails_its_node_and_costs_nothing(
    catalog: Catalog, make_engine: Callable[..., LocalEngine]
) -> None:
    """A lone surrogate in what an executor returns cannot be written to the store: the
    node fails saying so (before, the run's save raised on the engine thread and the
    run never ended)."""
    _register(catalog, "t:surrogate", {"text": "bad \ud800 text"}, price=5)
    engine = make_engine(credits=100)
    execution = _run_one(engine, "t:surrogate")
    assert execution.status == "FAILED"
    (run,) = execution.node_runs
    assert run.status == "FAILED"
    assert str(run.error).startswith("its output could not be stored: ")
    assert "lone surrogate" in str(run.error)
    assert engine.credits_balance() == 100 and execution.credits_used == 0
    _register(catalog, "t:surrogate-free", ["\udfff"])
    free = _run_one(engine, "t:surrogate-free")
    assert free.status == "FAILED" and "lone surrogate" in str(free.node_runs[0].error)
