"""Credits: prices, the 402 with the spec's exact body, charging only what really ran."""

from __future__ import annotations

from typing import Any

import pytest
from _engine_helpers import text_to_image_workflow

from wireflow_nb import ExecutionFailedError, InsufficientCreditsError, Workflow, node_type
from wireflow_nb.catalog import Catalog


def test_402_has_the_exact_spec_body_and_nothing_runs_or_is_charged(make_engine: Any) -> None:
    engine = make_engine(credits=3)
    wf = text_to_image_workflow()
    wf.node("image").data["label"] = "Text to Image"
    with pytest.raises(InsufficientCreditsError) as info:
        engine.execute("t2i", wf)
    exc = info.value
    assert exc.status_code == 402
    assert exc.body == {
        "error": "Insufficient credits. Required: 10, Available: 3",
        "insufficientCredits": True,
        "requiredCredits": 10,
        "availableCredits": 3,
        "breakdown": [{"nodeId": "image", "nodeLabel": "Text to Image", "credits": 10}],
    }
    assert (exc.required_credits, exc.available_credits) == (10, 3)
    assert engine.list_executions("t2i") == []
    assert engine.credits_balance() == 3


def test_a_batch_costs_each_run(make_engine: Any) -> None:
    engine = make_engine(credits=25)
    configs = [{"nodeId": "prompt", "field": "text", "values": ["a", "b", "c"]}]
    with pytest.raises(InsufficientCreditsError) as info:
        engine.execute("t2i", text_to_image_workflow(), iterator_configs=configs)
    assert info.value.required_credits == 30
    assert info.value.breakdown[0].credits == 30
    total, breakdown = engine.estimate_cost(text_to_image_workflow(), iterator_configs=configs)
    assert total == 30 and [b.node_id for b in breakdown] == ["image"]


def test_prices_per_image_and_per_video(engine: Any) -> None:
    wf = Workflow("w")
    wf.add_node("model:fal:text-to-image", id="img", prompt="x", numImages=3)
    wf.add_node("model:fal:text-to-video", id="vid", prompt="x")
    wf.add_node("input:text", id="free", text="x")
    total, breakdown = engine.estimate_cost(wf)
    assert total == 80
    assert {b.node_id: b.credits for b in breakdown} == {"img": 30, "vid": 50}


def test_only_nodes_that_ran_and_succeeded_are_charged(catalog: Catalog, make_engine: Any) -> None:
    @node_type("t:fail", inputs={"prompt": str}, outputs={"prompt": str}, catalog=catalog, price=7)
    def fail(prompt: str) -> str:
        raise ValueError("no")

    engine = make_engine(credits=100)
    wf = Workflow("w")
    wf.add_node("input:text", id="p", text="x")
    wf.add_node("t:fail", id="f")
    wf.add_node("model:fal:text-to-image", id="after-fail", width=64, height=64)
    wf.add_node("model:fal:text-to-image", id="ok", width=64, height=64)
    wf.connect("p", "text", "f", "prompt")
    wf.connect("f", "prompt", "after-fail", "prompt")
    wf.connect("p", "text", "ok", "prompt")
    assert engine.estimate_cost(wf)[0] == 27
    response = engine.execute("w", wf)
    with pytest.raises(ExecutionFailedError):
        engine.wait(response.execution_id)
    execution = engine.get_execution(response.execution_id)
    assert execution.credits_used == 10  # "ok" only: the failed node and the skipped one cost nothing
    assert engine.credits_balance() == 90
    assert engine.credits_used() == 10


def test_add_credits_and_the_balance(engine: Any) -> None:
    assert engine.credits_balance() == 1000
    assert engine.add_credits(5) == 1005
    engine.run("t2i", text_to_image_workflow())
    assert engine.credits_balance() == 995


def test_concurrent_requests_cannot_overdraw(catalog: Catalog, make_engine: Any) -> None:
    import threading

    release = threading.Event()

    @node_type("t:paid", inputs={"text": str}, outputs={"text": str}, catalog=catalog, price=10)
    def paid(text: str) -> str:
        release.wait(10)
        return text

    engine = make_engine(credits=15)
    first = Workflow("w")
    first.add_node("t:paid", id="a", text="one")
    second = Workflow("w")
    second.add_node("t:paid", id="a", text="two")
    response = engine.execute("w", first)
    with pytest.raises(InsufficientCreditsError) as info:
        engine.execute("w", second)
    assert info.value.available_credits == 5  # 10 of the 15 are reserved by the first run
    release.set()
    engine.wait(response.execution_id)
    assert engine.credits_balance() == 5
