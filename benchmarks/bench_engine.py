"""Speed of the local engine, side by side with ``dask.threaded.get`` and a plain
``graphlib`` loop on the same graphs of no-op nodes.

    .venv/bin/python benchmarks/bench_engine.py [--repeats 5] [--nodes 10000]

Prints, as medians of several repeats:
- per-node overhead (wall time / nodes, and CPU time of all threads / nodes, which a busy
  shared machine disturbs less) on a chain and on a random DAG;
- the makespan of 32 independent nodes of 0.2 s simulated latency vs the 0.2 s
  critical path (the engine with ``max_concurrency=32``: its latency is an asyncio sleep);
- the time and executed-node count of a cached rerun of a 200-node graph.

The engine's figure is end to end: ``execute`` (validation, planning, cache keys,
credits, SQLite rows) to the return of ``wait``. The no-op nodes are sync functions, as
dask's: after a few fast runs on the thread pool the engine runs them inline on its loop
thread (``inline_budget``); a row shows the figure with that turned off. Targets: overhead <= dask's; makespan
within 1.25x of the critical path; a cached rerun executes 0 nodes.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from graphlib import TopologicalSorter
from typing import Any

from wireflow_nb import Workflow
from wireflow_nb.catalog import Catalog, InputSpec, NodeSpec, OutputSpec
from wireflow_nb.engine import EngineEvent, LocalEngine

LATENCY = 0.2
PARALLEL = 32

Graph = dict[int, list[int]]  # node -> the nodes it depends on


def noop(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"out": 1}


def bench_catalog() -> Catalog:
    return Catalog(
        [
            NodeSpec(
                "bench:noop",
                "No-op",
                "bench",
                inputs=(InputSpec("x", "json", multiple=True), InputSpec("i", "integer", port=False)),
                outputs=(OutputSpec("out", "json"),),
                executor=noop,
            ),
            # a "model" node: the engine adds the simulated latency (an asyncio sleep)
            NodeSpec(
                "bench:model",
                "Model",
                "bench",
                inputs=(InputSpec("i", "integer", port=False),),
                outputs=(OutputSpec("out", "json"),),
                executor=noop,
                generative=True,
            ),
        ]
    )


# -- graphs ---------------------------------------------------------------------------------
def chain(n: int) -> Graph:
    return {i: [i - 1] if i else [] for i in range(n)}


def random_dag(n: int, seed: int = 7, max_parents: int = 3) -> Graph:
    rng = random.Random(seed)
    return {
        i: sorted(rng.sample(range(i), min(i, rng.randint(1, max_parents)))) if i else [] for i in range(n)
    }


def independent(n: int) -> Graph:
    return {i: [] for i in range(n)}


def workflow(graph: Graph, node_type: str = "bench:noop") -> Workflow:
    nodes = [
        # distinct inputs: no two nodes share a cache key, so every node really runs
        {
            "id": f"n{i}",
            "type": "utility",
            "position": {"x": 0, "y": 0},
            "data": {"nodeType": node_type, "i": i},
        }
        for i in graph
    ]
    edges = [
        {"id": f"e{p}-{i}", "source": f"n{p}", "target": f"n{i}", "sourceHandle": "out", "targetHandle": "x"}
        for i, parents in graph.items()
        for p in parents
    ]
    return Workflow("bench", nodes=nodes, edges=edges)


# -- runners ----------------------------------------------------------------------------------
# Each returns (wall seconds, CPU seconds of the whole process, every thread included): on
# a shared machine the CPU time is the steadier measure of what a scheduler costs.
def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(start: tuple[float, float]) -> tuple[float, float]:
    return time.perf_counter() - start[0], time.process_time() - start[1]


def time_engine(engine: LocalEngine, wf: Workflow) -> tuple[float, float]:
    start = clock()
    response = engine.execute("bench", wf)
    engine.wait(response.execution_id)
    return since(start)


def time_dask(graph: Graph, fn: Callable[..., Any], num_workers: int | None = None) -> tuple[float, float]:
    from dask.threaded import get

    dsk = {f"n{i}": (fn, *[f"n{p}" for p in parents]) for i, parents in graph.items()}
    start = clock()
    get(dsk, list(dsk), num_workers=num_workers)
    return since(start)


def time_graphlib(graph: Graph, fn: Callable[..., Any]) -> tuple[float, float]:
    """The plain loop of the graphlib docs, sequential."""
    start = clock()
    sorter = TopologicalSorter(graph)
    sorter.prepare()
    results: dict[int, Any] = {}
    while sorter.is_active():
        for node in sorter.get_ready():
            results[node] = fn(*[results[p] for p in graph[node]])
            sorter.done(node)
    return since(start)


def time_graphlib_threads(graph: Graph, fn: Callable[..., Any], workers: int) -> tuple[float, float]:
    """The graphlib loop with a thread pool (the docs' parallel pattern)."""
    start = clock()
    sorter = TopologicalSorter(graph)
    sorter.prepare()
    results: dict[int, Any] = {}
    with ThreadPoolExecutor(workers) as pool:
        running: dict[Any, int] = {}
        while sorter.is_active():
            for node in sorter.get_ready():
                running[pool.submit(fn, *[results[p] for p in graph[node]])] = node
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                node = running.pop(future)
                results[node] = future.result()
                sorter.done(node)
    return since(start)


def py_noop(*args: Any) -> int:
    return 1


def py_sleep(*args: Any) -> int:
    time.sleep(LATENCY)
    return 1


def median(samples: list[tuple[float, float]], which: int = 0) -> float:
    """The median wall (0) or CPU (1) time of timed samples."""
    return statistics.median(sample[which] for sample in samples)


# -- the benchmark ---------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--nodes", type=int, default=10_000)
    args = parser.parse_args(argv)
    n, repeats = args.nodes, args.repeats
    catalog = bench_catalog()

    print(
        f"wireflow_nb engine benchmark: Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"median of {repeats} repeats"
    )
    rows: list[tuple[str, str, str, str]] = []
    checks: list[tuple[str, bool]] = []

    # 1. per-node overhead --------------------------------------------------------------------
    with LocalEngine(":memory:", catalog=catalog, model_latency=0) as engine:
        for name, graph in (("chain", chain(n)), ("random DAG", random_dag(n))):
            wf = workflow(graph)
            ours, pooled, theirs, plain = [], [], [], []
            for _ in range(repeats):
                engine.clear_cache()  # every node really runs
                ours.append(time_engine(engine, wf))
                engine.inline_budget, budget = 0, engine.inline_budget
                engine.clear_cache()
                pooled.append(time_engine(engine, wf))
                engine.inline_budget = budget
                theirs.append(time_dask(graph, py_noop))
                plain.append(time_graphlib(graph, py_noop))
            wall = [median(s) / n * 1e6 for s in (ours, theirs, plain)]
            cpu = [median(s, 1) / n * 1e6 for s in (ours, theirs, plain)]
            rows.append((f"{name}, {n:,} nodes: overhead per node, wall", *(f"{v:8.1f} us" for v in wall)))
            rows.append(("  the same in CPU time (all threads)", *(f"{v:8.1f} us" for v in cpu)))
            rows.append(
                (
                    "  engine with every node on its thread pool (inline_budget=0): wall, CPU",
                    f"{median(pooled) / n * 1e6:.1f}, {median(pooled, 1) / n * 1e6:.1f} us",
                    "",
                    "",
                )
            )
            checks.append(
                (
                    f"{name}: engine overhead per node <= dask's, wall ({wall[0]:.1f} vs {wall[1]:.1f} us)",
                    wall[0] <= wall[1],
                )
            )
            checks.append(
                (
                    f"{name}: engine overhead per node <= dask's, CPU ({cpu[0]:.1f} vs {cpu[1]:.1f} us)",
                    cpu[0] <= cpu[1],
                )
            )

    # 2. makespan of latency-bound nodes -------------------------------------------------------
    graph = independent(PARALLEL)
    wf = workflow(graph, "bench:model")
    with LocalEngine(":memory:", catalog=catalog, model_latency=LATENCY, max_concurrency=PARALLEL) as engine:
        ours = []
        for _ in range(repeats):
            engine.clear_cache()
            ours.append(time_engine(engine, wf))
    theirs = [time_dask(graph, py_sleep, num_workers=PARALLEL) for _ in range(repeats)]
    plain = [time_graphlib_threads(graph, py_sleep, PARALLEL) for _ in range(repeats)]
    spans = [median(s) for s in (ours, theirs, plain)]
    rows.append(
        (
            f"makespan, {PARALLEL} x {LATENCY} s nodes (critical path {LATENCY} s)",
            *(f"{v:.3f} s ({v / LATENCY:.2f}x)" for v in spans),
        )
    )
    checks.append(
        (
            f"makespan within 1.25x of the critical path ({spans[0] / LATENCY:.2f}x)",
            spans[0] <= 1.25 * LATENCY,
        )
    )

    # 3. cached rerun ------------------------------------------------------------------------------
    graph = random_dag(200, seed=11)
    wf = workflow(graph)
    with LocalEngine(":memory:", catalog=catalog, model_latency=0) as engine:
        started: list[EngineEvent] = []
        engine.subscribe(lambda e: started.append(e) if e.kind == "node_started" else None)
        first = time_engine(engine, wf)
        first_count = len(started)
        times, counts = [], []
        for _ in range(repeats):
            started.clear()
            times.append(time_engine(engine, wf))
            counts.append(len(started))
    dask_times = [time_dask(graph, py_noop) for _ in range(repeats)]
    plain_times = [time_graphlib(graph, py_noop) for _ in range(repeats)]
    rows.append(
        (
            "rerun of a 200-node graph: time, nodes executed",
            f"{median(times) * 1e3:.1f} ms, {max(counts)} run",
            f"{median(dask_times) * 1e3:.1f} ms, 200 run",
            f"{median(plain_times) * 1e3:.2f} ms, 200 run",
        )
    )
    rows.append(("  (engine's first run of it)", f"{first[0] * 1e3:.1f} ms, {first_count} run", "", ""))
    checks.append((f"cached rerun executes 0 nodes (executed {max(counts)})", max(counts) == 0))

    header = ("", "LocalEngine", "dask.threaded.get", "graphlib loop")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print(
            "  ".join(
                cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
            )
        )
    print()
    for text, ok in checks:
        print(f"[{'PASS' if ok else 'FAIL'}] {text}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
