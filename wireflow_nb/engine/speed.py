"""Executor speed: which sync executors are trivial enough to run inline, on the loop
thread, instead of hopping to the thread pool (``engine.inline_budget``; 0 disables it).

Pure bookkeeping of measured times; imports nothing of the engine but, for type
checking, the node context.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import NodeContext

__all__ = ["INLINE_BUDGET", "ExecutorSpeed", "timed"]


#: Sync executors that ran faster than this on their last runs, and never blocked, run on
#: the loop thread: a thread hop costs more than a trivial node (an input, a template).
INLINE_BUDGET = 0.0005
#: Fast, non-waiting runs in a row needed before an executor runs inline.
INLINE_AFTER = 3
#: An inline run slower than this sends the executor back to the pool for a while; after
#: INLINE_STRIKES of those, if they are more than 1 run in 20, it stays there.
INLINE_SLOW = 0.005
INLINE_STRIKES = 3
#: Off-CPU time of a run above which it counts as having waited (on a lock, an event,
#: I/O). An executor that waits in more than 1 run in 20 never runs inline, so a
#: node that blocks on something the loop must provide cannot stall the loop.
WAIT_SLACK = 0.0001


class ExecutorSpeed:
    """How fast a sync executor is, and whether it waits: decides whether it may run
    inline (on the loop thread, without a hop to the pool)."""

    __slots__ = ("executor", "inline", "never_inline", "recent", "runs", "strikes", "waits")

    def __init__(self, executor: Callable[..., Any]) -> None:
        self.executor = executor  # keeps the id it is filed under alive
        self.inline = False
        self.never_inline = False
        self.recent = 0
        self.runs = 0
        self.waits = 0
        self.strikes = 0

    def record(self, wall: float, cpu: float, blocked: bool, budget: float, waited: bool = False) -> None:
        self.runs += 1
        if blocked:  # it sleeps, reads or writes files: always on the pool
            self.never_inline = True
        off_cpu = wall - cpu
        if waited or (off_cpu > WAIT_SLACK and off_cpu > wall / 2):
            self.waits += 1
            self.recent = 0
        elif cpu > (max(INLINE_SLOW, budget) if self.inline else budget):
            self.recent = 0
            if self.inline:  # a pause (another process took the CPU) or real work
                self.strikes += 1
                self.never_inline = self.never_inline or (
                    self.strikes >= INLINE_STRIKES and self.strikes * 20 > self.runs
                )
        else:
            self.recent += 1
        self.inline = not self.never_inline and self.recent >= INLINE_AFTER and self.waits * 20 <= self.runs


try:  # the calling thread's resource usage, where the system keeps it per thread (Linux)
    import resource

    _THREAD: int | None = getattr(resource, "RUSAGE_THREAD", None)
except ImportError:  # (Windows: the off-CPU time alone tells)
    _THREAD = None


def _switches() -> int:
    """Voluntary context switches of this thread so far (0 where not known)."""
    return 0 if _THREAD is None else int(resource.getrusage(_THREAD).ru_nvcsw)


def timed(fn: Callable[..., Any], ctx: NodeContext, inputs: dict[str, Any]) -> tuple[Any, float, float, bool]:
    """``fn(ctx, inputs)`` with its wall and CPU time, and whether it waited: the thread
    gave up the CPU (a lock, an event, I/O), however short the wait, so a node that waits
    on another never looks trivial (inline, it would block the loop)."""
    switches = _switches()
    wall, cpu = time.perf_counter(), time.thread_time()
    result = fn(ctx, inputs)
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    return result, wall, cpu, _switches() > switches
