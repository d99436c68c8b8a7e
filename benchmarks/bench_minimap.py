"""What the minimap costs, and that a node drag's moves do not pay for it.

Per graph size (zoom 1, so part of the graph is in view and the minimap shows): the
median kernel time and bytes per mouse move while dragging one node, with the minimap
switched on and off (they should agree: the minimap is drawn with the nodes layer, which
a drag's moves never redraw); the median time and bytes of one pan step (which redraws
the minimap), on and off; and the minimap's own drawing commands alone.

    .venv/bin/python benchmarks/bench_minimap.py [--moves 40] [--sizes 200 1000 5000]
"""

from __future__ import annotations

import argparse
import statistics
import time

from wireflow_nb import Workflow
from wireflow_nb.testing import EditorDriver, count_messages
from wireflow_nb.widgets import GraphEditor
from wireflow_nb.widgets._minimap import draw_minimap


def graph(n: int) -> Workflow:
    wf = Workflow(id=f"bench-{n}")
    for i in range(n):
        wf.add_node("text:template", id=f"x{i}", position=(300 * (i % 40), 220 * (i // 40)))
    return wf


def drag_moves(e: GraphEditor, moves: int) -> tuple[float, float]:
    """Median ms and mean bytes per move while dragging the first node."""
    d = EditorDriver(e)
    x, y = d.node_center("x0")
    d.move(x, y)
    d.down(x, y)
    d.move(x + 20, y)
    times, sizes = [], []
    for i in range(2, moves + 2):
        with count_messages() as log:
            t = time.perf_counter()
            d.move(x + 10 * i, y + 3 * i)
            times.append((time.perf_counter() - t) * 1000)
        sizes.append(log.bytes)
    d.up(x + 10 * (moves + 1), y)
    e.undo()
    return statistics.median(times), statistics.mean(sizes)


def pan_steps(e: GraphEditor, steps: int) -> tuple[float, float]:
    times, sizes = [], []
    for i in range(steps):
        with count_messages() as log:
            t = time.perf_counter()
            e.view = (-(i % 7) * 13.0, 0.0, 1.0)
            times.append((time.perf_counter() - t) * 1000)
        sizes.append(log.bytes)
    return statistics.median(times), statistics.mean(sizes)


class Recorder:
    def __init__(self) -> None:
        self.calls = 0

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        def record(*args: object) -> None:
            self.calls += 1

        return record

    def __setattr__(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=40)
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 5000])
    args = ap.parse_args()
    print(
        f"{'nodes':>6} | {'drag ms on':>10} {'off':>6} | {'drag B on':>9} {'off':>7} | "
        f"{'pan ms on':>9} {'off':>6} | {'pan B on':>9} {'off':>8} | {'map ms':>6}"
    )
    for n in args.sizes:
        e = GraphEditor(graph(n))
        e.view = (0, 0, 1.0)
        assert e.minimap_visible
        on = drag_moves(e, args.moves), pan_steps(e, args.moves)
        e.minimap_enabled = False
        off = drag_moves(e, args.moves), pan_steps(e, args.moves)
        e.minimap_enabled = True
        rec = Recorder()
        t = time.perf_counter()
        for _ in range(10):
            draw_minimap(rec, e.state, e.pixel_ratio)
        map_ms = (time.perf_counter() - t) * 100
        print(
            f"{n:>6} | {on[0][0]:>10.2f} {off[0][0]:>6.2f} | {on[0][1]:>9.0f} {off[0][1]:>7.0f} | "
            f"{on[1][0]:>9.2f} {off[1][0]:>6.2f} | {on[1][1]:>9.0f} {off[1][1]:>8.0f} | {map_ms:>6.2f}"
        )


if __name__ == "__main__":
    main()
