"""Engine events: the ``EngineEvent`` record and the subscriber list that delivers them.

Subscribers are called on the engine thread as things happen (no polling delay); a
subscriber that raises is logged and never disturbs a run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["EVENT_KINDS", "EngineEvent", "EventBus", "EventCallback"]

logger = logging.getLogger("wireflow_nb.engine")

#: Every ``EngineEvent.kind``, in the order they happen for one run.
EVENT_KINDS = (
    "run_started",
    "node_started",
    "node_finished",
    "node_failed",
    "node_skipped",
    "run_finished",
)


@dataclass(frozen=True)
class EngineEvent:
    """Something that happened in a run.

    ``kind``: one of ``EVENT_KINDS``. ``node_id`` is None for ``run_*`` events.
    ``status``: the execution status (``run_*``) or the node run status (``node_*``:
    ``RUNNING``, ``COMPLETED``, ``FAILED``, ``SKIPPED`` or ``CANCELLED``).
    ``output``: a finished node's output (URLs rendered as ``poll`` renders them).
    ``cached``: the node was served from the cache. ``timestamp``: ISO 8601 UTC.
    """

    kind: str
    execution_id: str
    workflow_id: str
    node_id: str | None = None
    status: str | None = None
    output: Any = None
    error: str | None = None
    cached: bool = False
    timestamp: str = ""


EventCallback = Callable[[EngineEvent], None]


class EventBus:
    """The subscribers of one engine."""

    def __init__(self) -> None:
        self._subscribers: tuple[EventCallback, ...] = ()
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        """Whether anyone listens (events are not even built otherwise)."""
        return bool(self._subscribers)

    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback(event)`` for every event; returns the unsubscribe function."""
        with self._lock:
            self._subscribers = (*self._subscribers, callback)

        def unsubscribe() -> None:
            with self._lock:
                subs = list(self._subscribers)
                if callback in subs:
                    subs.remove(callback)
                self._subscribers = tuple(subs)

        return unsubscribe

    def emit(self, event: EngineEvent) -> None:
        for callback in self._subscribers:
            try:
                callback(event)
            except Exception:  # a broken subscriber must not break the run
                logger.exception("engine event subscriber %r failed on %s", callback, event.kind)
