"""How fast the palette is for a catalogue of hundreds of node types, next to the built-ins.

Issue 11 (item 8): the palette from a catalogue of 500 node types must stay instant. This
prints, for the 15 built-in types and for the built-ins plus 500 generated ones
(``wireflow_nb.testing.node_types_module``, the module the tests serve):

- the median time to build the ``NodePalette`` (folded categories over 40 types, buttons
  made when first shown), and the same for a palette that makes every button at once (what
  the palette did before, the peer);
- the median time of one ``filter`` call while typing a search (``k``, ``ki``, ... ``kind_042``,
  a category, a word every type has, nothing, back to blank): each keystroke is one call;
- the ratio 500 / built-ins of each.

    .venv/bin/python benchmarks/bench_palette.py [--repeats 15] [--types 500]

Figures only: no test asserts a time (CONTRIBUTING: benchmarks are scripts).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ipywidgets as widgets

from wireflow_nb.catalog import Catalog, builtin_catalog, default_catalog
from wireflow_nb.testing import node_types_module
from wireflow_nb.widgets.palette import NodePalette

QUERIES = [
    *("kind_042"[: i + 1] for i in range(len("kind_042"))),
    "upscale",
    "kind",
    "zzz-nothing",
    "",
]


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def eager_palette(catalog: Catalog) -> list[widgets.Widget]:
    """The peer: one heading and one button per type, all made at once."""
    made: list[widgets.Widget] = []
    for category, specs in catalog.by_category().items():
        made.append(widgets.HTML(f"<b>{category.title()}</b>"))
        for spec in specs:
            b = widgets.Button(description=spec.label, tooltip=spec.node_type)
            b.on_click(lambda _b: None)
            made.append(b)
    return made


def figures(catalog: Catalog, repeats: int) -> dict[str, float]:
    palettes: list[NodePalette] = []

    def build() -> None:
        palettes.append(NodePalette(catalog, on_pick=lambda _t: None, source="benchmark"))

    out = {
        "build": median_ms(build, repeats),
        "build, every button at once (peer)": median_ms(lambda: eager_palette(catalog), repeats),
    }
    palette = palettes[-1]
    times = []
    for _ in range(repeats):
        for query in QUERIES:
            started = time.perf_counter()
            palette.filter(query)
            times.append((time.perf_counter() - started) * 1000)
    out["filter, one keystroke"] = statistics.median(times)
    out["filter, slowest keystroke"] = max(times)
    for p in palettes:
        p.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--types", type=int, default=500)
    args = parser.parse_args()

    small = builtin_catalog()
    exec(compile(node_types_module(args.types), "many_node_types", "exec"), {})  # registers them
    big = default_catalog().copy()
    rows = {f"{len(small)} built-in types": figures(small, args.repeats)}
    rows[f"{len(big)} types"] = figures(big, args.repeats)
    (small_name, small_row), (big_name, big_row) = rows.items()
    print(
        f"NodePalette: median of {args.repeats} runs, milliseconds (filter: {len(QUERIES)} keystrokes a run)"
    )
    print(f"{'':38} {small_name:>18} {big_name:>18} {'ratio':>8}")
    for what in small_row:
        a, b = small_row[what], big_row[what]
        print(f"{what:38} {a:18.2f} {b:18.2f} {b / a if a else float('nan'):8.1f}")
    print(f"\nbig catalogue: {len(big.by_category())} categories, folded; buttons made at build: 0")


if __name__ == "__main__":
    main()
