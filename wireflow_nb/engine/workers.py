"""The worker threads of sync executors: a thread pool whose stuck workers can be
abandoned.

A sync executor may block in a way nothing can interrupt from outside (a read from a
pipe nobody writes to, a hung network file system). When its run is cancelled, the
scheduler abandons that worker (``NodeWorkers.abandon``): the worker no longer counts
against the pool, a fresh one takes its place at once, and the stuck thread exits
whenever its function returns. ``stuck`` counts the abandoned threads still alive.
Workers are daemon threads, so a stuck one never keeps the process from exiting (a
``ThreadPoolExecutor`` joins its workers at exit). Imports nothing of the engine.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

__all__ = ["NodeWorkers"]

_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class NodeWorkers(Executor):
    """At most ``max_workers`` working threads, started on demand; ``abandon(future)``
    gives up on the worker running ``future`` and starts a fresh one."""

    def __init__(self, max_workers: int, *, name: str = "wireflow-node") -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.max_workers = max_workers
        self._name = name
        self._numbers = itertools.count(1)
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._workers: set[threading.Thread] = set()
        self._abandoned: set[threading.Thread] = set()
        self._running: dict[Future[Any], threading.Thread] = {}
        self._idle = 0
        self._pending = 0
        self._closed = False
        #: workers given up on since the pool started (stuck or not)
        self.abandoned_total = 0

    @property
    def stuck(self) -> int:
        """Abandoned workers whose function has not returned yet."""
        with self._lock:
            return len(self._abandoned)

    @property
    def size(self) -> int:
        """Workers that count against ``max_workers`` (abandoned ones do not)."""
        with self._lock:
            return len(self._workers)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to a pool that was shut down")
            self._pending += 1
            self._queue.put((future, fn, args, kwargs))
            if self._pending > self._idle and len(self._workers) < self.max_workers:
                self._start_worker()
        return future

    def abandon(self, future: Future[Any]) -> bool:
        """Give up on the worker running ``future`` (its run was cancelled while it was
        stuck): a fresh worker replaces it now. False when ``future`` is not running."""
        with self._lock:
            thread = self._running.get(future)
            if thread is None or thread in self._abandoned:
                return False
            self._abandoned.add(thread)
            self._workers.discard(thread)
            self.abandoned_total += 1
            if not self._closed and self._pending > self._idle and len(self._workers) < self.max_workers:
                self._start_worker()
        return True

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            if cancel_futures:
                while True:
                    try:
                        job = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if job is not None:
                        self._pending -= 1
                        job[0].cancel()
            for _ in workers:
                self._queue.put(None)
        if wait:
            for thread in workers:
                thread.join()

    def join(self, timeout: float) -> int:
        """After ``shutdown``: wait up to ``timeout`` seconds for every thread to finish what
        it runs, abandoned ones too (they may still write); the number still running then."""
        deadline = time.monotonic() + timeout
        with self._lock:
            workers = list(self._workers | self._abandoned)
        for thread in workers:
            thread.join(max(0.0, deadline - time.monotonic()))
        return sum(thread.is_alive() for thread in workers)

    # -- workers ---------------------------------------------------------------------------------
    def _start_worker(self) -> None:  # (with the lock held)
        thread = threading.Thread(target=self._work, name=f"{self._name}-{next(self._numbers)}", daemon=True)
        self._workers.add(thread)
        thread.start()

    def _work(self) -> None:
        me = threading.current_thread()
        while True:
            with self._lock:
                self._idle += 1
            job = self._queue.get()
            with self._lock:
                self._idle -= 1
                if job is None:
                    self._workers.discard(me)
                    return
                self._pending -= 1
                future = job[0]
                if not future.set_running_or_notify_cancel():
                    continue
                self._running[future] = me
            _call(job)
            del job  # (nothing of a finished job is kept while idle)
            with self._lock:
                self._running.pop(future, None)
                if me in self._abandoned:  # a fresh worker took this one's place
                    self._abandoned.discard(me)
                    return
            del future


def _call(job: _Job) -> None:
    future, fn, args, kwargs = job
    try:
        result = fn(*args, **kwargs)
    except BaseException as exc:
        future.set_exception(exc)
    else:
        future.set_result(result)
