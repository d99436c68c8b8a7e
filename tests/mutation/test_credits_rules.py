"""Credits, as a user sees them: the balance, what a run is charged, the 402.

Written against the mutants of ``wireflow_nb/engine/credits.py`` and of the charge path
of the scheduler that no test caught (``benchmarks/mutation.py``): a balance exactly
equal to the cost, a node recomputed after the estimate counted it as a cache hit (its
price comes out of free credits, not out of its empty reservation), fractional prices,
what is left reserved after a run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from wireflow_nb import ExecutionFailedError, InsufficientCreditsError, Workflow, node_type
from wireflow_nb.catalog import Catalog
from wireflow_nb.engine import LocalEngine
from wireflow_nb.models import Execution


def _finish(engine: LocalEngine, execution_id: str) -> Execution:
    """Wait for a run to end, however it ends; its stored execution."""
    try:
        engine.wait(execution_id)
    except ExecutionFailedError:
        pass
    return engine.get_execution(execution_id)


def _run(engine: LocalEngine, flow: Workflow, **kwargs: Any) -> Execution:
    return _finish(engine, engine.execute("w", flow, **kwargs).execution_id)


def _image_workflow(prompt: str = "a fox") -> Workflow:
    flow = Workflow("t2i")
    flow.add_node("input:text", id="prompt", text=prompt)
    flow.add_node("model:fal:text-to-image", id="image", width=64, height=64)
    flow.connect("prompt", "text", "image", "prompt")
    return flow


def _node(execution: Execution, node_id: str) -> Any:
    (found,) = [run for run in execution.node_runs if run.node_id == node_id]
    return found


def test_a_balance_exactly_equal_to_the_cost_runs_and_ends_at_zero(
    make_engine: Callable[..., LocalEngine],
) -> None:
    engine = make_engine(credits=10)
    run = _run(engine, _image_workflow())
    assert run.status == "COMPLETED" and run.credits_used == 10
    assert engine.credits_balance() == 0
    assert engine.credits_used() == 10
    with pytest.raises(InsufficientCreditsError) as info:  # and now nothing is left
        engine.execute("w", _image_workflow("another fox"))
    assert info.value.body["availableCredits"] == 0
    assert info.value.body["requiredCredits"] == 10


def test_one_credit_short_is_a_402_naming_both_figures(make_engine: Callable[..., LocalEngine]) -> None:
    engine = make_engine(credits=9)
    with pytest.raises(InsufficientCreditsError) as info:
        engine.execute("w", _image_workflow())
    assert info.value.body["error"] == "Insufficient credits. Required: 10, Available: 9"
    assert engine.credits_balance() == 9


def test_a_node_recomputed_after_a_cached_estimate_is_charged_its_price(
    catalog: Catalog, make_engine: Callable[..., LocalEngine]
) -> None:
    """The estimate counts a cached node as free, so nothing is reserved for it; when
    its cached files are gone by the time it runs, it runs again and costs its price,
    taken from the free balance."""
    engine = make_engine(credits=100)
    doomed: list[str] = []

    @node_type("t:gate", inputs={"text": str}, outputs={"text": str, "raw": "json"}, catalog=catalog)
    def gate(text: str) -> dict[str, Any]:
        for url in doomed:  # the files of the priced node's cached output disappear
            engine.artifact_path(url).unlink()
        doomed.clear()
        return {"text": text, "raw": b"gate bytes"}

    @node_type("t:paid-file", inputs={"text": str}, outputs={"raw": "json"}, catalog=catalog, price=10)
    def paid(text: str) -> dict[str, Any]:
        return {"raw": text.encode() + b" paid bytes"}

    flow = Workflow("w")
    flow.add_node("t:gate", id="gate", text="x")
    flow.add_node("t:paid-file", id="paid")
    flow.connect("gate", "text", "paid", "text")

    first = _run(engine, flow)
    assert first.credits_used == 10 and engine.credits_balance() == 90
    # the gate's own file is gone: it is a (free) cache miss; the priced node is a hit
    engine.artifact_path(_node(first, "gate").output["raw"]).unlink()
    assert engine.estimate_cost(flow)[0] == 0
    doomed.append(_node(first, "paid").output["raw"])

    second = _run(engine, flow)
    assert second.status == "COMPLETED"
    assert _node(second, "paid").cached is False
    assert second.credits_used == 10
    assert engine.credits_balance() == 80
    assert engine.credits_used() == 20
    # nothing stays reserved: the whole balance can be spent on the next request
    engine.add_credits(-70)
    third = _run(engine, _image_workflow())
    assert third.status == "COMPLETED" and engine.credits_balance() == 0


def test_a_recomputed_node_without_free_credits_fails_and_costs_nothing(
    catalog: Catalog, make_engine: Callable[..., LocalEngine]
) -> None:
    engine = make_engine(credits=10)
    doomed: list[str] = []

    @node_type("t:gate2", inputs={"text": str}, outputs={"text": str, "raw": "json"}, catalog=catalog)
    def gate(text: str) -> dict[str, Any]:
        for url in doomed:
            engine.artifact_path(url).unlink()
        doomed.clear()
        return {"text": text, "raw": b"gate two"}

    @node_type("t:paid2", inputs={"text": str}, outputs={"raw": "json"}, catalog=catalog, price=10)
    def paid(text: str) -> dict[str, Any]:
        return {"raw": b"paid two"}

    flow = Workflow("w")
    flow.add_node("t:gate2", id="gate", text="x")
    flow.add_node("t:paid2", id="paid")
    flow.connect("gate", "text", "paid", "text")
    first = _run(engine, flow)
    assert engine.credits_balance() == 0
    engine.artifact_path(_node(first, "gate").output["raw"]).unlink()
    doomed.append(_node(first, "paid").output["raw"])
    execution = _run(engine, flow)  # the estimate: a cache hit, 0 credits
    assert execution.status == "FAILED"
    paid_run = _node(execution, "paid")
    assert paid_run.status == "FAILED"
    assert "insufficient credits" in str(paid_run.error)
    assert "costs 10 credits and 0 are available" in str(paid_run.error)
    assert engine.credits_balance() == 0 and engine.credits_used() == 10


def test_fractional_prices_are_charged_and_reported_exactly(
    catalog: Catalog, make_engine: Callable[..., LocalEngine]
) -> None:
    @node_type("t:cheap", inputs={"text": str}, outputs={"text": str}, catalog=catalog, price=0.25)
    def cheap(text: str) -> str:
        return text

    engine = make_engine(credits=1)
    flow = Workflow("w")
    for i in range(3):
        flow.add_node("t:cheap", id=f"c{i}", text=str(i))
    total, breakdown = engine.estimate_cost(flow)
    assert total == 0.75
    assert [(b.node_id, b.credits) for b in breakdown] == [("c0", 0.25), ("c1", 0.25), ("c2", 0.25)]
    run = _run(engine, flow)
    assert run.credits_used == 0.75
    assert engine.credits_balance() == 0.25
    flow.add_node("t:cheap", id="c3", text="3")
    flow.add_node("t:cheap", id="c4", text="4")
    with pytest.raises(InsufficientCreditsError) as info:  # c0..c2 are cached: 0.5 for two
        engine.execute("w", flow)
    assert info.value.body["requiredCredits"] == 0.5
    assert info.value.body["availableCredits"] == 0.25
    assert info.value.body["error"] == "Insufficient credits. Required: 0.5, Available: 0.25"
    assert info.value.body["breakdown"] == [
        {"nodeId": "c3", "nodeLabel": "t:cheap", "credits": 0.25},
        {"nodeId": "c4", "nodeLabel": "t:cheap", "credits": 0.25},
    ]


def test_the_breakdown_is_in_request_order_and_sums_a_batch(make_engine: Callable[..., LocalEngine]) -> None:
    engine = make_engine(credits=1000)
    flow = Workflow("w")
    flow.add_node("input:text", id="prompt", text="x")
    flow.add_node("model:fal:text-to-video", id="z-video", prompt="waves")
    flow.add_node("model:fal:text-to-image", id="a-image", width=64, height=64, numImages=2)
    flow.connect("prompt", "text", "a-image", "prompt")
    configs = [{"nodeId": "prompt", "field": "text", "values": ["a", "b"]}]
    total, breakdown = engine.estimate_cost(flow, iterator_configs=configs)
    # the video does not depend on the prompt: computed once, a cache hit for the other run
    assert total == 50 + 2 * 2 * 10
    assert [(b.node_id, b.credits) for b in breakdown] == [("z-video", 50), ("a-image", 40)]


def test_a_failed_request_returns_its_whole_reservation(
    catalog: Catalog, make_engine: Callable[..., LocalEngine]
) -> None:
    """Reserved credits come back when runs end without spending them: failed, skipped."""

    @node_type("t:boom", inputs={"text": str}, outputs={"text": str}, catalog=catalog, price=30)
    def boom(text: str) -> str:
        raise ValueError("no")

    engine = make_engine(credits=50)
    flow = Workflow("w")
    flow.add_node("t:boom", id="boom", text="x")
    configs = [{"nodeId": "boom", "field": "text", "values": ["a"]}]
    assert _run(engine, flow, iterator_configs=configs).status == "FAILED"
    assert engine.credits_balance() == 50
    # all 50 are available again: a request for exactly 50 is accepted
    big = Workflow("w")
    big.add_node("model:fal:text-to-video", id="v", prompt="waves")
    run = _run(engine, big)
    assert run.status == "COMPLETED" and engine.credits_balance() == 0


def test_a_batch_releases_what_its_runs_did_not_spend_only_when_the_last_run_ends(
    catalog: Catalog, make_engine: Callable[..., LocalEngine], release: threading.Event
) -> None:
    calls: list[str] = []

    @node_type("t:maybe", inputs={"text": str}, outputs={"text": str}, catalog=catalog, price=10)
    def maybe(text: str) -> str:
        calls.append(text)
        if text == "fail":
            raise ValueError("no")
        release.wait(30)
        return text

    engine = make_engine(credits=25)
    flow = Workflow("w")
    flow.add_node("t:maybe", id="m", text="x")
    configs = [{"nodeId": "m", "field": "text", "values": ["fail", "slow"]}]
    response = engine.execute("w", flow, iterator_configs=configs)
    failed, slow = response.execution_runs
    assert _finish(engine, failed.id).status == "FAILED"
    # the failed run's 10 stay reserved for the batch while its other run is running
    with pytest.raises(InsufficientCreditsError) as info:
        engine.execute("w", _image_workflow())
    assert info.value.body["availableCredits"] == 5
    release.set()
    engine.wait(slow.id)
    assert engine.credits_balance() == 15
    run = _run(engine, _image_workflow())  # 15 available again: 10 are enough
    assert run.status == "COMPLETED" and engine.credits_balance() == 5


def test_the_balance_survives_a_restart_with_what_was_used(tmp_path: Any, make_engine: Any) -> None:
    first = make_engine(tmp_path, credits=40)
    first.run("w", _image_workflow())
    first.add_credits(2.5)
    first.close()
    again = make_engine(tmp_path, credits=999)  # a home keeps its balance; credits= is for new homes
    assert again.credits_balance() == 32.5
    assert again.credits_used() == 10


def test_credits_used_per_run_counts_only_priced_nodes_that_completed(make_engine: Any) -> None:
    engine = make_engine(credits=100)
    flow = _image_workflow()
    flow.add_node("input:text", id="free", text="y")
    run = _run(engine, flow)
    assert run.credits_used == 10
    cached = _run(engine, flow)  # all cache hits: nothing charged
    assert cached.credits_used == 0 and engine.credits_balance() == 90


def test_prices_with_many_decimals_are_shown_to_six(
    catalog: Catalog, make_engine: Callable[..., LocalEngine]
) -> None:
    @node_type("t:third", inputs={"text": str}, outputs={"text": str}, catalog=catalog, price=1 / 3)
    def third(text: str) -> str:
        return text

    engine = make_engine(credits=0.2)
    flow = Workflow("w")
    flow.add_node("t:third", id="t", text="x")
    with pytest.raises(InsufficientCreditsError) as info:
        engine.execute("w", flow)
    assert info.value.body["requiredCredits"] == 0.333333
    assert info.value.body["availableCredits"] == 0.2
    assert info.value.body["breakdown"] == [{"nodeId": "t", "nodeLabel": "t:third", "credits": 0.333333}]


def test_a_negative_balance_is_shown_as_nothing_available(make_engine: Callable[..., LocalEngine]) -> None:
    engine = make_engine(credits=5)
    assert engine.add_credits(-10) == -5
    with pytest.raises(InsufficientCreditsError) as info:
        engine.execute("w", _image_workflow())
    assert info.value.body["availableCredits"] == 0
    assert info.value.body["error"] == "Insufficient credits. Required: 10, Available: 0"


def test_a_home_without_a_used_figure_has_used_nothing(tmp_path: Any, make_engine: Any) -> None:
    """A home whose database holds a balance but no ``credits_used`` (written before
    that figure was kept) starts counting from zero."""
    import sqlite3

    first = make_engine(tmp_path, credits=40)
    first.close()
    with sqlite3.connect(tmp_path / "wireflow_nb.sqlite3") as conn:
        conn.execute("DELETE FROM meta WHERE key = 'credits_used'")
    again = make_engine(tmp_path)
    assert again.credits_balance() == 40
    assert again.credits_used() == 0
    _run(again, _image_workflow())
    assert (again.credits_balance(), again.credits_used()) == (30, 10)


def test_credits_reserved_by_a_running_request_are_not_free_for_a_recomputed_node(
    catalog: Catalog, make_engine: Callable[..., LocalEngine], release: threading.Event
) -> None:
    """A node that must run again with nothing reserved for it (its cached files are gone)
    may use only what no running request has reserved; the message says how much that is."""
    engine = make_engine(credits=10)
    doomed: list[str] = []
    started = threading.Event()

    @node_type("t:gate3", inputs={"text": str}, outputs={"text": str, "raw": "json"}, catalog=catalog)
    def gate(text: str) -> dict[str, Any]:
        for url in doomed:
            engine.artifact_path(url).unlink()
        doomed.clear()
        return {"text": text, "raw": b"gate three"}

    @node_type("t:paid3", inputs={"text": str}, outputs={"raw": "json"}, catalog=catalog, price=10)
    def paid(text: str) -> dict[str, Any]:
        return {"raw": b"paid three"}

    @node_type("t:hold", inputs={"text": str}, outputs={"text": str}, catalog=catalog, price=10)
    def hold(text: str) -> str:
        started.set()
        release.wait(30)
        return text

    flow = Workflow("w")
    flow.add_node("t:gate3", id="gate", text="x")
    flow.add_node("t:paid3", id="paid")
    flow.connect("gate", "text", "paid", "text")
    first = _run(engine, flow)
    engine.artifact_path(_node(first, "gate").output["raw"]).unlink()
    doomed.append(_node(first, "paid").output["raw"])
    engine.add_credits(18)  # balance 18

    holding = Workflow("h")
    holding.add_node("t:hold", id="hold", text="y")
    running = engine.execute("h", holding)  # reserves 10 of the 18
    assert started.wait(30)
    try:
        execution = _run(engine, flow)
    finally:
        release.set()
    assert execution.status == "FAILED"
    assert "this node costs 10 credits and 8 are available" in str(_node(execution, "paid").error)
    assert engine.credits_balance() == 18
    assert _finish(engine, running.execution_id).status == "COMPLETED"
    assert engine.credits_balance() == 8


def test_credits_taken_away_during_a_run_stop_a_reserved_node_from_overdrawing(
    catalog: Catalog, make_engine: Callable[..., LocalEngine], release: threading.Event
) -> None:
    started = threading.Event()

    @node_type("t:wait", inputs={"text": str}, outputs={"text": str}, catalog=catalog)
    def wait(text: str) -> str:
        started.set()
        release.wait(30)
        return text

    @node_type("t:paid4", inputs={"text": str}, outputs={"text": str}, catalog=catalog, price=10)
    def paid(text: str) -> str:
        return text

    engine = make_engine(credits=20)
    flow = Workflow("w")
    flow.add_node("t:wait", id="wait", text="x")
    flow.add_node("t:paid4", id="paid")
    flow.connect("wait", "text", "paid", "text")
    response = engine.execute("w", flow)  # 10 reserved
    assert started.wait(30)
    engine.add_credits(-15)  # balance 5: less than the reservation
    release.set()
    execution = _finish(engine, response.execution_id)
    assert _node(execution, "paid").status == "FAILED"
    assert "this node costs 10 credits and -5 are available" in str(_node(execution, "paid").error)
    assert engine.credits_balance() == 5 and engine.credits_used() == 0


def test_a_reservation_larger_than_the_node_never_lets_the_balance_go_below_zero() -> None:
    """The ledger on its own: a node covered by its reservation still needs the balance."""
    from wireflow_nb.engine.credits import CreditsLedger
    from wireflow_nb.engine.store import Store

    ledger = CreditsLedger(Store(None), 40)
    reservation = ledger.reserve(40, 1, [])
    assert ledger.can_charge(reservation, 10)
    ledger.add(-0.5)  # 39.5 left, 40 reserved
    assert not ledger.can_charge(reservation, 10)
    ledger.add(0.5)
    ledger.charge(reservation, 10)
    assert (ledger.balance, ledger.used, ledger.available) == (30, 10, 0)
    ledger.release(reservation)
    assert ledger.available == 30


def test_the_ledger_writes_a_charge_where_it_is_told_else_on_its_own() -> None:
    """``charge(save=...)`` hands the new figures to ``save`` (the engine writes them with
    the node's row, in one transaction) and writes nothing itself; without ``save`` the
    figures are written at once, so a new ledger on the same store sees them."""
    from wireflow_nb.engine.credits import CreditsLedger
    from wireflow_nb.engine.store import Store

    store = Store(None)
    ledger = CreditsLedger(store, 100)
    reservation = ledger.reserve(30, 2, [])
    saved: list[dict[str, str]] = []
    ledger.charge(reservation, 10, save=saved.append)
    assert saved == [{"credits_balance": "90.0", "credits_used": "10.0"}]
    assert CreditsLedger(store, 0).balance == 100  # not written by the ledger itself
    ledger.charge(reservation, 5)
    assert (CreditsLedger(store, 0).balance, CreditsLedger(store, 0).used) == (85, 15)
    ledger.charge(reservation, 0, save=saved.append)  # nothing to charge: nothing written
    assert len(saved) == 1
    assert ledger.available == 85 - 15  # 15 of the 30 still reserved for the open run
    ledger.release(reservation)
    assert ledger.available == 70  # one run of two ended: the rest stays reserved
    ledger.release(reservation)
    assert ledger.available == 85


def test_the_balance_on_disk_always_agrees_with_the_runs_on_disk(
    tmp_path: Any, catalog: Catalog, make_engine: Callable[..., LocalEngine]
) -> None:
    """A charge is written with its node's COMPLETED row and the run's creditsUsed, in one
    transaction: whoever reads the home between two nodes (or after a crash there) finds
    the balance and the runs adding up to what the home started with."""
    import sqlite3

    seen: list[tuple[float, float, str]] = []
    db = tmp_path / "wireflow_nb.sqlite3"

    @node_type("t:paid5", inputs={"text": str}, outputs={"text": str}, catalog=catalog, price=10)
    def paid(text: str) -> str:
        return text

    @node_type("t:look", inputs={"text": str}, outputs={"text": str}, catalog=catalog)
    def look(text: str) -> str:
        with sqlite3.connect(db) as conn:
            balance = float(
                conn.execute("SELECT value FROM meta WHERE key = 'credits_balance'").fetchone()[0]
            )
            used = conn.execute("SELECT COALESCE(SUM(credits_used), 0) FROM executions").fetchone()[0]
            row = conn.execute("SELECT status FROM node_runs WHERE node_id = 'paid'").fetchone()
        seen.append((balance, float(used), row[0] if row else "not written"))
        return text

    engine = make_engine(tmp_path, credits=100)
    flow = Workflow("w")
    flow.add_node("t:paid5", id="paid", text="x")
    flow.add_node("t:look", id="look")
    flow.connect("paid", "text", "look", "text")
    assert _run(engine, flow).status == "COMPLETED"
    assert seen == [(90.0, 10.0, "COMPLETED")]
