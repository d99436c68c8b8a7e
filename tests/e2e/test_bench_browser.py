"""The browser benchmark (``benchmarks/bench_browser.py``) measures something real: run
once, small, it gets frames after every event on both canvases. Its speed is printed by
the benchmark, never asserted here."""

from __future__ import annotations

import math

import pytest

from benchmarks import _click_split
from benchmarks.bench_browser import measure, summarize

pytestmark = pytest.mark.e2e


def test_the_browser_benchmark_times_frames_after_real_events(page, jupyter_server) -> None:
    result = measure(
        page, jupyter_server.root, jupyter_server.lab_url, nodes=6, moves=4, clicks=2, rounds=1, split=True
    )
    assert result["graph"]["nodes"] == 6 and result["graph"]["edges"] == 3
    assert result["missed"] == {"floor": 0, "editor": 0}  # every move drew a frame
    assert result["node"]["put_back"]  # every round drags the same node from the same place
    for name in ("floor", "editor"):
        for gesture, count in (("click", 2), ("drag", 4)):
            samples = result["samples"][name][gesture]
            assert len(samples) == count, (name, gesture, samples)
            for s in samples:  # a frame on that very canvas, after the event, from drawing calls
                assert 0 < s["ms"] < 30_000 and s["frames"] >= 1 and s["calls"] >= 1, (name, gesture, s)
        handlers = result["handler_ms"][name]
        assert len(handlers["mouse_down"]) >= 2 and len(handlers["mouse_move"]) >= 4, (name, handlers)
        # --split: each click's stages, in order on one clock, add up to its sample
        splits, clicks = result["splits"][name], result["samples"][name]["click"]
        assert len(splits) == len(clicks) == 2, (name, splits)
        for st, click in zip(splits, clicks, strict=True):
            assert all(st[k] >= 0 for k in ("send", "kernel", "draw")), (name, st)
            assert st["to_kernel"] > -2 and st["to_page"] > -2, (name, st)  # two clocks, one machine
            total = sum(st[k] for k in _click_split.STAGES)
            assert abs(total - click["ms"]) < 0.01, (name, st, click)
            assert "comm_msg:custom" in st["received"], (name, st)  # the canvas batch came back
    assert "editor" in _click_split.table(result["splits"])
    rows = summarize(result)
    assert [r["case"] for r in rows] == ["floor click", "editor click", "floor drag", "editor drag"]
    for r in rows:
        assert r["median_ms"] > 0 and math.isfinite(r["ratio"]) and r["ratio"] > 0, r
