"""The executor API: what a node function gets as ``ctx`` (``NodeContext``) and what it
may raise (``NodeError``, ``NodeCancelled``), as docs/INTERNALS.md "Executor contract"
describes.

The scheduler builds one ``NodeContext`` per node run; the built-in executors
(``engine/nodes``) and registered ones only use it. Imports the input reader (``sources``)
and the run records of the engine, nothing of ``nodes`` and (but for type checking) nothing of
the scheduler.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .runs import NodeRunState
from .sources import SourceError, read_source

if TYPE_CHECKING:
    from .planning import PlannedNode
    from .scheduler import RunScheduler, Services

__all__ = ["NodeCancelled", "NodeContext", "NodeError", "error_text"]


class NodeError(Exception):
    """An executor's failure whose message is meant for the user as it is."""


class NodeCancelled(Exception):
    """Raised by ``ctx.sleep`` (and ``ctx.check_cancelled``) once the run is cancelled."""


class NodeContext:
    """What an executor gets as ``ctx``: the artifact store, trigger data, seed, latency,
    cancellation and progress of its node run."""

    __slots__ = ("_inline", "_planned", "_scheduler", "_state", "blocking")

    def __init__(self, scheduler: RunScheduler, planned: PlannedNode, state: NodeRunState) -> None:
        self._scheduler = scheduler
        self._planned = planned
        self._state = state
        self._inline = False
        #: whether the executor did something that may block (sleep, files, downloads)
        self.blocking = False

    @property
    def _services(self) -> Services:
        return self._scheduler.services

    @property
    def _cancel_event(self) -> threading.Event:
        return self._scheduler.record.cancel_event

    @property
    def node_id(self) -> str:
        return self._planned.id

    @property
    def node_type(self) -> str:
        return self._planned.node_type

    @property
    def label(self) -> str:
        return self._planned.label

    @property
    def execution_id(self) -> str:
        return self._scheduler.record.id

    @property
    def workflow_id(self) -> str:
        return self._scheduler.record.workflow_id

    @property
    def trigger_data(self) -> dict[str, Any]:
        """The run's triggerData (empty for a manual run)."""
        return self._scheduler.plan.trigger_data

    @property
    def seed(self) -> int | None:
        """The seed of a generation node (given, or chosen and recorded by the engine)."""
        return self._planned.seed

    @property
    def latency(self) -> float:
        """The simulated latency of a model node, in seconds (0 for other nodes)."""
        return self._services.latency() if self._planned.generative else 0.0

    # -- files -------------------------------------------------------------------------------
    def save_bytes(self, data: bytes, content_type: str | None = None, *, carry: bool = True) -> str:
        """Store an output file; returns its URL. An image or a video carries the workflow
        and inputs of the run (``carried``) unless ``carry=False`` (a file passed on as it is)."""
        self.blocking = True
        name = self._services.artifacts.save(self.carried(data) if carry else data, content_type)
        return self._services.artifacts.url(name, self._services.base_url())

    def carried(self, data: bytes) -> bytes:
        """``data`` carrying the workflow and inputs of this run when it is an image or a
        video (``engine/carry.py``)."""
        origin = self._scheduler.record.origin
        return data if origin is None else origin.carried(data)

    def load_bytes(self, source: Any) -> bytes:
        """The bytes of an input: an output URL, a media dict, a data: URL, a local path,
        an http(s) URL or bytes, as the engine's ``InputPolicy`` allows (a server reads
        no local files). What cannot or may not be read raises ``NodeError``."""
        self.blocking = True
        services = self._services
        try:
            return read_source(source, services.artifacts, services.base_url(), services.input_policy)
        except (SourceError, FileNotFoundError) as exc:
            raise NodeError(str(exc)) from None

    def artifact_path(self, url: str) -> Path | None:
        """The local file of an output URL, when it is one of this engine's."""
        artifacts = self._services.artifacts
        name = artifacts.name_of(url, self._services.base_url())
        return None if name is None or not artifacts.exists(name) else artifacts.root / name

    # -- cancellation and progress ----------------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        return self._cancel_event.is_set()

    def check_cancelled(self) -> None:
        if self._cancel_event.is_set():
            raise NodeCancelled("the execution was cancelled")

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds`` (in a sync executor); raises ``NodeCancelled`` at once on cancel."""
        self.blocking = True
        if not self._inline and threading.current_thread() is self._services.loop_thread:
            raise RuntimeError("ctx.sleep blocks: in an async executor use 'await ctx.asleep(seconds)'")
        if self._cancel_event.wait(max(0.0, seconds)):
            raise NodeCancelled("the execution was cancelled")

    async def asleep(self, seconds: float) -> None:
        """Sleep without blocking (in an async executor); cancelled with the run."""
        self.check_cancelled()
        await asyncio.sleep(max(0.0, seconds))
        self.check_cancelled()

    def progress(self, fraction: float) -> None:
        """Report how far the node is (0..1); shown on its node run while it runs."""
        self._state.progress = min(1.0, max(0.0, float(fraction)))
        self._scheduler.record.version += 1


def error_text(exc: BaseException) -> str:
    """How a failure of an executor reads on its node run: a ``NodeError`` as it is,
    anything else with the name of its exception."""
    if isinstance(exc, NodeError):
        return str(exc)
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
