"""How fast the graph editor answers the mouse in a real browser, next to the floor.

Real JupyterLab in Debian's headless Chromium (the e2e harness, ``tests/e2e``), one
notebook showing two canvases in one output, one above the other (so a press on either
never changes JupyterLab's active cell; the page is 1280x1700, so both stay in view):

- the floor: a bare ``ipycanvas.Canvas`` of the editor's buffer size whose
  ``on_mouse_down`` / ``on_mouse_move`` handlers draw a square where the mouse is, in one
  ``hold_canvas`` batch: one kernel round trip, nothing else;
- the editor: ``GraphEditor`` with ``--nodes`` nodes and half as many edges (built-in
  node types, fitted in view).

The page's ``CanvasRenderingContext2D`` drawing calls are wrapped (``CanvasHandle.
install_probe``): ipycanvas draws each batch on detached canvases, then copies the
result onto the visible ``<canvas>`` with ``drawImage``, so a copy onto the target canvas
is a frame. Real mouse events (Playwright's ``page.mouse``) are stamped in the page by a
capturing listener. Measured, for both canvases, interleaved in each round:

- click: mouse down to the first frame on that canvas (the editor: a press on a node with
  nothing selected, so the selection is drawn);
- drag: a ``--moves`` move drag of 4 page px a move (the editor: of a node with an edge
  near the middle, undone after each round), each move waiting for its frame; from each
  move to the next frame.

Floor and editor alternate (click by click, drag by drag), so both see the same load.
Between gestures the kernel and the page settle (a kernel no-op answered, no frame for
80 ms). Printed: median and p90 per case, the ratio of the medians to the floor's, the
targets (issue 12, item 9: click <= 1.2x the floor, drag move-to-frame <= 2x), and what
explains a gap: frames copied per event, 2D drawing calls per event (all canvases) and the
kernel's handler time per event.

    .venv/bin/python benchmarks/bench_browser.py [--rounds 3] [--nodes 200] [--moves 60] [--json] [--split]

``--split`` also splits each click into stages (the page sends, the kernel handles, the
batch comes back, the page draws: ``_click_split.py``) and lists the messages received.

Absolute figures move with the machine's load; the ratios to the floor measured in the
same run are the figures to compare. Needs ``/usr/bin/chromium`` (or
``WIREFLOW_E2E_CHROMIUM``) and Playwright.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import _click_split
from tests.e2e.harness import launch_chromium, new_page, start_lab
from tests.e2e.lab import CanvasHandle, EditorHandle, NotebookPage

NOTEBOOK = "bench_browser.ipynb"
FLOOR_CLASS = "wf-bench-floor"
TARGETS = {"click": 1.2, "drag": 2.0}
VIEWPORT = {"width": 1280, "height": 1700}  # at most this many times the floor's median

_FLOOR_CELL = """\
import time as _time
import ipywidgets as _widgets
from ipycanvas import Canvas, hold_canvas

# handler time per event, ms: {"floor"|"editor": {"mouse_down"|"mouse_move": [...]}}
_bench_ms = {"floor": {"mouse_down": [], "mouse_move": []}, "editor": {"mouse_down": [], "mouse_move": []}}

def _timed(sink, callback):
    def run(*args):
        t = _time.perf_counter()
        try:
            callback(*args)
        finally:
            sink.append((_time.perf_counter() - t) * 1000)
    return run

def _time_handlers(canvas, name):
    for event in ("mouse_down", "mouse_move"):
        dispatcher = getattr(canvas, f"_{event}_callbacks")
        dispatcher.callbacks = [_timed(_bench_ms[name][event], c) for c in dispatcher.callbacks]

# the floor: the editor's buffer size, a square drawn where the mouse is, one batch
floor = Canvas(width=1920, height=1200, layout=_widgets.Layout(width="960px", height="auto"))
floor.add_class("wf-bench-floor")

def _square(x, y):
    with hold_canvas():
        floor.clear()
        floor.fill_style = "#3b82f6"
        floor.fill_rect(x - 20, y - 20, 40, 40)

floor.on_mouse_down(_square)
floor.on_mouse_move(_square)
_time_handlers(floor, "floor")
"""

_EDITOR_CELL = """\
from wireflow_nb import GraphEditor, Workflow

N_NODES = {nodes}
# pairs of nodes, one edge each: N_NODES nodes, N_NODES // 2 edges, on a grid 20 a row
_PAIRS = [
    ("input:text", "text", "model:fal:text-to-image", "prompt"),
    ("text:template", "text", "text:template", "template"),
    ("image:resize", "images", "image:caption", "image"),
]

def build_workflow(n):
    wf = Workflow(id="bench-browser")
    for i in range(n):
        src_type, _, dst_type, _ = _PAIRS[(i // 2) % len(_PAIRS)]
        wf.add_node(src_type if i % 2 == 0 else dst_type, id=f"n{{i}}",
                    position=(40 + 300 * (i % 20), 40 + 220 * (i // 20)))
        if i % 2:
            _, out, _, into = _PAIRS[(i // 2) % len(_PAIRS)]
            wf.connect(f"n{{i - 1}}", out, f"n{{i}}", into)
    return wf

editor = GraphEditor(build_workflow(N_NODES), width=960, height=600)
_time_handlers(editor.canvas[-1], "editor")  # the top layer receives the events
# one output for both: a press on either never changes JupyterLab's active cell
_widgets.VBox([floor, editor])
"""


def notebook(nodes: int) -> dict[str, Any]:
    def cell(source: str) -> dict[str, Any]:
        return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}

    return {
        "cells": [cell(_FLOOR_CELL), cell(_EDITOR_CELL.format(nodes=nodes))],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


# -- one gesture ---------------------------------------------------------------------
class Target:
    """One canvas of the page under test: the floor or the editor."""

    def __init__(self, name: str, nb: NotebookPage, canvas: CanvasHandle) -> None:
        self.name = name
        self.nb = nb
        self.canvas = canvas
        self.samples: dict[str, list[dict[str, float]]] = {"click": [], "drag": []}
        #: with ``--split``: the page's time origin, and each click's stages
        self.split_origin: float | None = None
        self.splits: list[dict[str, Any]] = []

    def settle(self) -> None:
        """The kernel handled all that was sent, and no frame came for 80 ms."""
        self.nb.kernel_sync()
        self.canvas.wait_quiet(80.0)

    def prepare_click(self) -> None:
        """Before a press: make it draw something (the editor: clear the selection)."""

    def press_point(self) -> tuple[float, float]:
        raise NotImplementedError

    def _record(self, kind: str, event: tuple[str, float, float], until: float | None) -> bool:
        """Store the first frame after ``event`` (and the frames and drawing calls up to
        ``until``, the next event); False if no frame came."""
        _, t, calls = event
        frames = [f for f in self.canvas.frames_since(t) if until is None or f[0] <= until]
        if not frames:
            return False
        self.samples[kind].append(
            {"ms": frames[0][0] - t, "frames": len(frames), "calls": frames[-1][1] - calls}
        )
        return True

    def _event(self, kind: str) -> tuple[str, float, float]:
        e = self.nb.page.evaluate(
            "(k) => { const e = window.__wfProbe.events.filter(x => x[0] === k); return e[e.length - 1]; }",
            kind,
        )
        return (str(e[0]), float(e[1]), float(e[2]))

    def click(self) -> bool:
        mouse = self.nb.page.mouse
        self.prepare_click()
        point = self.press_point()
        mouse.move(*point)
        if self.split_origin is not None:
            _click_split.clear(self.nb)
        self.settle()
        mouse.down()
        event = self._event("mousedown")
        frame = self.canvas.wait_own_frame_after(event[1])
        got = frame is not None
        self.settle()
        if frame is not None and self.split_origin is not None:
            stages = _click_split.one_click(self.nb, self.split_origin, event[1], frame)
            if stages is not None:
                self.splits.append(stages)
        until = self.canvas.now()
        mouse.up()
        self.settle()
        return got and self._record("click", event, until)

    def after_drag(self) -> None:
        """Put back what the drag changed, so that every round starts alike."""

    def drag(self, moves: int) -> int:
        """A drag of ``moves`` moves of 4 page px to the right (and 1 down), each waiting
        for its frame; returns how many moves drew no frame."""
        mouse = self.nb.page.mouse
        x, y = self.press_point()
        mouse.move(x, y)
        self.settle()
        mouse.down()
        self.settle()
        events: list[tuple[str, float, float]] = []
        missed = 0
        for i in range(1, moves + 1):
            mouse.move(x + 4 * i, y + i)
            events.append(self._event("mousemove"))
            if self.canvas.wait_own_frame_after(events[-1][1], timeout=3.0) is None:
                missed += 1
        self.settle()
        mouse.up()
        ends = [e[1] for e in events[1:]] + [self.canvas.now()]
        for event, until in zip(events, ends, strict=True):
            self._record("drag", event, until)
        self.after_drag()
        self.settle()
        return missed


class Floor(Target):
    def press_point(self) -> tuple[float, float]:
        w, h = self.canvas.size()
        return self.canvas.to_page(w / 3, h / 2)


class Editor(Target):
    def __init__(self, name: str, nb: NotebookPage, editor: EditorHandle, node: str) -> None:
        super().__init__(name, nb, editor.canvas)
        self.editor = editor
        self.node = node

    def prepare_click(self) -> None:
        self.nb.execute("editor.selected_node_ids = []")
        self.settle()

    def press_point(self) -> tuple[float, float]:
        return self.editor.node_grab_point(self.node)

    def after_drag(self) -> None:
        self.nb.execute("editor.undo()")  # the node back where it was (not over a neighbour)


def _middle_node(nb: NotebookPage) -> str:
    """A node with an edge, in view, nearest the middle of the canvas."""
    return str(
        nb.eval_json(
            "min((n.id for n in editor.workflow.nodes), key=lambda i: (lambda b: "
            "(b[0] + b[2] / 2 - editor.width * editor.pixel_ratio / 2) ** 2 "
            "+ (b[1] + b[3] / 2 - editor.height * editor.pixel_ratio / 2) ** 2)(editor.node_bounds(i)))"
        )
    )


# -- a run ---------------------------------------------------------------------------
def measure(
    page: Any,
    root: Path,
    lab_url: Callable[[str], str],
    *,
    nodes: int = 200,
    moves: int = 60,
    clicks: int = 5,
    rounds: int = 3,
    split: bool = False,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Open the two canvases in ``page`` (a JupyterLab serving ``root``), measure, and
    return the samples per canvas and gesture, the kernel's handler times and the graph
    (and with ``split``, each click's stages: ``_click_split.py``)."""
    (root / NOTEBOOK).write_text(json.dumps(notebook(nodes), indent=1))
    page.set_viewport_size(VIEWPORT)  # both canvases in view: no scrolling between gestures
    nb = NotebookPage(page, lab_url(NOTEBOOK), NOTEBOOK)
    nb.open()
    nb.run_all()
    nb.assert_no_errors()
    floor = Floor("floor", nb, nb.canvas(FLOOR_CLASS))
    handle = EditorHandle(nb, "editor", "wf-canvas")
    handle.canvas.wait_nonblank()
    editor = Editor("editor", nb, handle, _middle_node(nb))
    for target in (floor, editor):
        target.canvas.install_probe()
    if split:
        origin = _click_split.install(nb)
        floor.split_origin = editor.split_origin = origin
    graph = nb.eval_json(
        "{'nodes': len(editor.workflow.nodes), 'edges': len(editor.workflow.edges), 'zoom': editor.view.zoom}"
    )
    nb.execute("for _s in _bench_ms.values():\n    for _l in _s.values(): _l.clear()")
    where = f"(lambda p: [p.x, p.y])(editor.workflow.node({editor.node!r}).position)"
    start = nb.eval_json(where)
    missed = {"floor": 0, "editor": 0}
    for r in range(rounds):
        for _ in range(clicks):  # alternately, so that both see the same load
            for target in (floor, editor):
                target.click()
        for target in (floor, editor):
            missed[target.name] += target.drag(moves)
        log(f"round {r + 1}/{rounds} done")
    nb.assert_no_errors()
    return {
        "graph": graph,
        "samples": {t.name: t.samples for t in (floor, editor)},
        "splits": {t.name: t.splits for t in (floor, editor)} if split else None,
        "handler_ms": nb.eval_json("_bench_ms"),
        "missed": missed,
        "node": {"id": editor.node, "put_back": nb.eval_json(where) == start},
        "settings": {"nodes": nodes, "moves": moves, "clicks": clicks, "rounds": rounds},
    }


def _p90(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def summarize(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per canvas and gesture: medians, p90, ratio to the floor, target, met."""
    rows = []
    for gesture, event in (("click", "mouse_down"), ("drag", "mouse_move")):
        floor_median = statistics.median(s["ms"] for s in result["samples"]["floor"][gesture])
        for name in ("floor", "editor"):
            samples = result["samples"][name][gesture]
            ms = [s["ms"] for s in samples]
            median = statistics.median(ms)
            handler = result["handler_ms"][name][event]
            ratio = median / floor_median
            rows.append(
                {
                    "case": f"{name} {gesture}",
                    "n": len(ms),
                    "median_ms": median,
                    "p90_ms": _p90(ms),
                    "ratio": ratio,
                    "target": TARGETS[gesture] if name == "editor" else None,
                    "met": (ratio <= TARGETS[gesture]) if name == "editor" else None,
                    "frames_per_event": statistics.median(s["frames"] for s in samples),
                    "calls_per_event": statistics.median(s["calls"] for s in samples),
                    "handler_ms": statistics.median(handler) if handler else float("nan"),
                    "missed": result["missed"][name] if gesture == "drag" else 0,
                }
            )
    return rows


def table(result: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    g, s = result["graph"], result["settings"]
    lines = [
        f"JupyterLab + headless Chromium; editor: {g['nodes']} nodes, {g['edges']} edges, zoom {g['zoom']:.2f};"
        f" {s['rounds']} rounds of {s['clicks']} clicks and a {s['moves']}-move drag per canvas",
        f"{'case':<14} {'n':>4} {'median ms':>9} {'p90 ms':>7} {'x floor':>7} {'target':>7} {'met':>7}"
        f"  {'frames/ev':>9} {'2D calls/ev':>11} {'kernel ms/ev':>12}",
    ]
    for r in rows:
        target = f"<={r['target']:.1f}x" if r["target"] else ""
        met = "" if r["met"] is None else ("met" if r["met"] else "NOT met")
        lines.append(
            f"{r['case']:<14} {r['n']:>4} {r['median_ms']:>9.1f} {r['p90_ms']:>7.1f} {r['ratio']:>6.2f}x"
            f" {target:>7} {met:>7}  {r['frames_per_event']:>9.0f} {r['calls_per_event']:>11.0f}"
            f" {r['handler_ms']:>12.2f}" + (f"  ({r['missed']} moves drew no frame)" if r["missed"] else "")
        )
    lines += [
        "click: mouse down -> first frame on that canvas; drag: each move -> the next frame (lockstep)",
        "x floor: median over the floor's median, same run; frames/ev: copies onto the visible canvas per event;",
        "2D calls/ev: drawing calls on all canvases from the event to its last frame; kernel ms/ev: the Python",
        "handler (drawing and sending included)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--nodes", type=int, default=200)
    ap.add_argument("--moves", type=int, default=60)
    ap.add_argument("--clicks", type=int, default=5, help="clicks per canvas per round")
    ap.add_argument("--json", action="store_true", help="print the rows and samples as JSON")
    ap.add_argument(
        "--split", action="store_true", help="also split each click's time into stages (_click_split.py)"
    )
    args = ap.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="bench-browser-") as tmp,
        start_lab(Path(tmp)) as server,
        launch_chromium() as browser,
    ):
        context, page = new_page(browser)
        try:
            result = measure(
                page,
                server.root,
                server.lab_url,
                nodes=args.nodes,
                moves=args.moves,
                clicks=args.clicks,
                rounds=args.rounds,
                split=args.split,
                log=lambda m: print(m, file=sys.stderr, flush=True),
            )
        finally:
            context.close()
    rows = summarize(result)
    if args.json:
        print(json.dumps({"rows": rows, **result}, indent=1))
    else:
        print(table(result, rows))
        if result["splits"] is not None:
            print(_click_split.table(result["splits"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
