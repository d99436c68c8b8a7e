"""Node types registered from a notebook with ``@node_type`` run like built-ins."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PIL import Image

import wireflow_nb
from wireflow_nb import Workflow, node_type
from wireflow_nb.catalog import Catalog, default_catalog
from wireflow_nb.engine import LocalEngine


def test_a_custom_node_from_the_issue_runs(catalog: Catalog, make_engine: Any) -> None:
    @node_type("my:upper", inputs={"text": str}, outputs={"text": str}, catalog=catalog)
    def upper(text: str) -> str:
        return text.upper()

    engine = make_engine()
    wf = Workflow("w")
    wf.add_node("input:text", id="a", text="shout")
    wf.add_node("my:upper", id="u")
    wf.connect("a", "text", "u", "text")
    [poll] = engine.run("w", wf)
    assert poll.node_run("u").output == {"text": "SHOUT"}


def test_registered_in_the_default_catalog_it_runs_on_a_default_engine() -> None:
    @wireflow_nb.node_type("test:reverse", inputs={"text": str}, outputs={"text": str})
    def reverse(text: str) -> str:
        return text[::-1]

    try:
        with LocalEngine(":memory:", model_latency=0) as engine:
            wf = Workflow("w")
            wf.add_node("test:reverse", id="r", text="abc")
            [poll] = engine.run("w", wf)
            assert poll.node_run("r").text == "cba"
    finally:
        default_catalog().unregister("test:reverse")


def test_async_custom_nodes_and_ctx(catalog: Catalog, make_engine: Any) -> None:
    @node_type("my:async", inputs={"n": int}, outputs={"double": int, "seed": int}, catalog=catalog)
    async def double(n: int, ctx: Any) -> dict[str, Any]:
        await ctx.asleep(0)
        ctx.progress(0.5)
        return {"double": n * 2, "seed": ctx.seed, "node": ctx.node_id}

    engine = make_engine()
    wf = Workflow("w")
    wf.add_node("input:number", id="n", value="21")
    wf.add_node("my:async", id="d")
    wf.connect("n", "value", "d", "n")
    [poll] = engine.run("w", wf)
    assert poll.node_run("n").output == {"value": 21}
    assert poll.node_run("d").output == {"double": 42, "seed": None, "node": "d"}


def test_custom_nodes_may_return_images_and_bytes(catalog: Catalog, make_engine: Any) -> None:
    @node_type("my:square", inputs={"size": int}, outputs={"images": "image"}, catalog=catalog)
    def square(size: int = 32) -> dict[str, Any]:
        return {"images": [Image.new("RGB", (size, size), "red")], "raw": b"\x00\x01"}

    engine = make_engine()
    wf = Workflow("w")
    wf.add_node("my:square", id="s")
    wf.add_node("image:resize", id="r", width=8, height=8, mode="stretch")
    wf.connect("s", "images", "r", "image")
    [poll] = engine.run("w", wf)
    [image] = poll.node_run("s").images
    assert (image.width, image.height, image.content_type) == (32, 32, "image/png")
    assert engine.fetch_bytes(poll.node_run("s").output["raw"]) == b"\x00\x01"
    assert poll.node_run("r").images[0].width == 8


def test_a_custom_node_that_raises_fails_with_its_message(catalog: Catalog, make_engine: Any) -> None:
    @node_type("my:strict", inputs={"text": str}, outputs={"text": str}, catalog=catalog)
    def strict(text: str) -> str:
        raise ValueError(f"{text!r} is not allowed")

    engine = make_engine()
    wf = Workflow("w")
    wf.add_node("my:strict", id="s", text="bad")
    response = engine.execute("w", wf)
    with pytest.raises(wireflow_nb.ExecutionFailedError) as info:
        engine.wait(response.execution_id)
    assert "ValueError: 'bad' is not allowed" in str(info.value)


def test_re_registering_changed_code_misses_the_cache(catalog: Catalog, make_engine: Any) -> None:
    @node_type("my:greet", inputs={"name": str}, outputs={"text": str}, catalog=catalog)
    def greet(name: str) -> str:
        return f"hello {name}"

    engine = make_engine()
    wf = Workflow("w")
    wf.add_node("my:greet", id="g", name="ada")
    assert engine.run("w", wf)[0].node_run("g").text == "hello ada"
    assert engine.run("w", wf)[0].node_run("g").cached

    @node_type("my:greet", inputs={"name": str}, outputs={"text": str}, catalog=catalog)
    def greet_again(name: str) -> str:
        return f"bonjour {name}"

    [poll] = engine.run("w", wf)
    assert poll.node_run("g").text == "bonjour ada" and not poll.node_run("g").cached


def test_trivial_sync_nodes_run_inline_and_blocking_ones_on_the_pool(
    catalog: Catalog, make_engine: Any
) -> None:
    threads: dict[str, set[str]] = {"fast": set(), "sleepy": set()}

    @node_type("my:fast", inputs={"i": int}, outputs={"i": int}, catalog=catalog)
    def fast(i: int) -> int:
        threads["fast"].add(threading.current_thread().name)
        return i

    @node_type("my:sleepy", inputs={"i": int}, outputs={"i": int}, catalog=catalog)
    def sleepy(i: int, ctx: Any) -> int:
        threads["sleepy"].add(threading.current_thread().name)
        ctx.sleep(0)
        return i

    engine = make_engine()
    for i in range(6):
        wf = Workflow("w")
        wf.add_node("my:fast", id="f", i=i)
        wf.add_node("my:sleepy", id="s", i=i)
        engine.run("w", wf)
    assert "wireflow-engine" in threads["fast"]  # inline after a few fast runs on the pool
    assert any(name.startswith("wireflow-node") for name in threads["fast"])
    assert all(name.startswith("wireflow-node") for name in threads["sleepy"])


def test_max_concurrency_bounds_running_nodes(catalog: Catalog, make_engine: Any) -> None:
    state = {"now": 0, "peak": 0}
    lock = threading.Lock()
    barrier = {"b": threading.Barrier(2, timeout=20)}

    @node_type("my:hold", inputs={"i": int}, outputs={"i": int}, catalog=catalog)
    def hold(i: int) -> int:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        barrier["b"].wait()  # nodes meet here: proof that this many run at once
        with lock:
            state["now"] -= 1
        return i

    wf = Workflow("w")
    for i in range(8):
        wf.add_node("my:hold", id=f"h{i}", i=i)
    narrow = make_engine(max_concurrency=2)
    assert narrow.run("w", wf, timeout=60)[0].status == "COMPLETED"
    assert state["peak"] == 2
    state["peak"] = 0
    barrier["b"] = threading.Barrier(8, timeout=20)
    wide = make_engine(max_concurrency=8)
    assert wide.run("w", wf, timeout=60)[0].status == "COMPLETED"
    assert state["peak"] == 8


def test_progress_shows_on_the_running_node_run(catalog: Catalog, make_engine: Any) -> None:
    reported = threading.Event()
    release = threading.Event()

    @node_type("my:progress", inputs={"i": int}, outputs={"i": int}, catalog=catalog)
    def progress(i: int, ctx: Any) -> int:
        ctx.progress(0.25)
        reported.set()
        release.wait(20)
        return i

    engine = make_engine()
    wf = Workflow("w")
    wf.add_node("my:progress", id="p", i=1)
    response = engine.execute("w", wf)
    assert reported.wait(10)
    running = engine.poll(response.execution_id).node_run("p")
    assert running.status == "RUNNING" and running.model_extra["progress"] == 0.25
    release.set()
    done = engine.wait(response.execution_id).node_run("p")
    assert "progress" not in (done.model_extra or {})


def test_blocking_sleep_in_an_async_executor_is_a_clear_error(catalog: Catalog, make_engine: Any) -> None:
    @node_type("my:wrong-sleep", inputs={"i": int}, outputs={"i": int}, catalog=catalog)
    async def wrong(i: int, ctx: Any) -> int:
        ctx.sleep(1)
        return i

    engine = make_engine()
    wf = Workflow("w")
    wf.add_node("my:wrong-sleep", id="w", i=1)
    response = engine.execute("w", wf)
    with pytest.raises(wireflow_nb.ExecutionFailedError) as info:
        engine.wait(response.execution_id)
    assert "await ctx.asleep" in str(info.value)


def test_inline_budget_zero_keeps_every_sync_node_on_the_pool(catalog: Catalog, make_engine: Any) -> None:
    names: set[str] = set()

    @node_type("my:where", inputs={"i": int}, outputs={"i": int}, catalog=catalog)
    def where(i: int) -> int:
        names.add(threading.current_thread().name)
        return i

    engine = make_engine()
    engine.inline_budget = 0
    for i in range(8):
        wf = Workflow("w")
        wf.add_node("my:where", id="x", i=i)
        engine.run("w", wf)
    assert names and all(name.startswith("wireflow-node") for name in names)
