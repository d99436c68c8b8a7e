"""The background driver behind ``WorkflowApp``: start an execution, follow it, report.

What this module owns:

- ``BackgroundRun``: drives one run. Its coroutine calls ``execute``, then polls with
  the spec's backoff (1 s, x1.5, capped at 10 s) until every execution of the batch is
  terminal, folding every answer into a ``RunState`` (``_run_state``, pure). A backend
  with ``subscribe(callback)`` (``LocalEngine``) also sends events from its own thread;
  they update nodes at once and wake the poller, so a local run shows each node as it
  happens and ends without waiting out a poll delay.
- Where the coroutine runs: as an asyncio task on the notebook kernel's loop when one is
  running (the cell returns at once, the canvas keeps answering, widget updates happen on
  the kernel's thread), else on a shared background thread with its own loop
  (``BackgroundLoop``, ``shared_loop``). A sync backend's blocking calls go through
  ``asyncio.to_thread``. An ``AsyncBackend`` is awaited, always on the background loop,
  so that its connection pool only ever sees one loop (``call_blocking`` sends the
  widgets' other calls there too). ``PendingWork``: a display's background jobs on that
  loop, which a caller can wait for, and the way back to the notebook's thread.
- ``run_sync``: run a coroutine to completion from sync code even inside Jupyter's
  running loop, on a worker thread with its own loop (no nest-asyncio patching).

It imports the pure run state, the poll policy and the error tree: no ipywidgets.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal, TypeVar

from .._exceptions import APIConnectionError, NotFoundError, RateLimitError
from .._polling import PollPolicy
from ..models import ExecuteRequest, PollResponse
from ._run_state import RunState

__all__ = [
    "BackgroundLoop",
    "BackgroundRun",
    "PendingWork",
    "accepts_keyword",
    "PollPolicy",
    "backend_name",
    "call_backend",
    "call_blocking",
    "is_async_backend",
    "run_sync",
    "running_loop",
    "shared_loop",
]

logger = logging.getLogger("wireflow_nb.widgets")

T = TypeVar("T")

#: Consecutive failed polls (connection errors) before a run is given up as unreachable.
MAX_POLL_FAILURES = 5


# -- loops and threads ------------------------------------------------------------------


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in this thread (Jupyter's, in a notebook), if any."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def run_sync(coro: Coroutine[Any, Any, T], *, timeout: float | None = None) -> T:
    """Run ``coro`` to completion from sync code.

    Outside a running loop this is ``asyncio.run``. Inside one (a notebook cell) the
    coroutine runs on a worker thread with its own loop while this thread waits, so a
    blocking helper works in Jupyter without patching the loop.
    """
    if running_loop() is None:
        return asyncio.run(_with_timeout(coro, timeout))
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(_with_timeout(coro, timeout))
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=target, name="wireflow-nb-run-sync", daemon=True)
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


async def _with_timeout(coro: Awaitable[T], timeout: float | None) -> T:
    if timeout is None:
        return await coro
    return await asyncio.wait_for(coro, timeout)


class BackgroundLoop:
    """An event loop on a daemon thread, started on first use and shared.

    Runs are driven here when no loop runs in the caller's thread (scripts, tests) or
    when the caller wants to block until the end. One loop, reused, so an async client's
    connection pool always sees the same loop.
    """

    def __init__(self, name: str = "wireflow-nb-runner") -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                ready = threading.Event()
                loop = asyncio.new_event_loop()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=serve, name=self.name, daemon=True)
                self._loop = loop
                self._thread.start()
                ready.wait()
            return self._loop

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on this loop; a thread-safe future of its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, coro: Coroutine[Any, Any, T], *, timeout: float | None = None) -> T:
        """Run ``coro`` on this loop and wait for its result (never from the loop's own thread)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("BackgroundLoop.call() from its own thread would deadlock; await instead")
        return self.submit(coro).result(timeout)


_SHARED: BackgroundLoop | None = None
_SHARED_LOCK = threading.Lock()


def shared_loop() -> BackgroundLoop:
    """The process-wide background loop of the widgets."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = BackgroundLoop()
        return _SHARED


class PendingWork:
    """The background jobs of a display (credits, thumbnails, a history refresh), on the
    shared loop, remembered until they end so that a caller can wait for all of them.

    ``in_ui(fn, ...)`` brings a result back to the notebook's thread (``ui_loop``, the
    kernel's loop when the display was made under one), where canvas draws must happen.
    """

    def __init__(self, ui_loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.ui_loop = ui_loop
        self._pending: set[concurrent.futures.Future[Any]] = set()
        self._lock = threading.Lock()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        future = shared_loop().submit(coro)
        with self._lock:
            self._pending.add(future)

        def forget(done: concurrent.futures.Future[Any]) -> None:
            with self._lock:
                self._pending.discard(done)

        future.add_done_callback(forget)
        return future

    def in_ui(self, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn`` on the notebook's thread when there is a kernel loop (canvas draws
        from one thread only), else here."""
        loop = self.ui_loop
        if loop is not None and loop.is_running() and running_loop() is not loop:
            loop.call_soon_threadsafe(fn, *args)
        else:
            fn(*args)

    def wait(self, timeout: float | None) -> bool:
        """Wait for the jobs submitted so far; False when some are still going."""
        with self._lock:
            pending = list(self._pending)
        _, not_done = concurrent.futures.wait(pending, timeout=timeout)
        return not not_done

    @property
    def idle(self) -> bool:
        with self._lock:
            return not self._pending


# -- backends ----------------------------------------------------------------------------


def is_async_backend(backend: Any) -> bool:
    """Whether ``backend`` is an ``AsyncBackend`` (its ``execute`` is a coroutine function)."""
    return inspect.iscoroutinefunction(getattr(backend, "execute", None))


async def call_backend(backend: Any, method: str, /, *args: Any, **kwargs: Any) -> Any:
    """``backend.method(*args, **kwargs)`` from async code: awaited for an async backend,
    on a worker thread for a blocking one."""
    fn = getattr(backend, method)
    if inspect.iscoroutinefunction(fn):
        return await fn(*args, **kwargs)
    result = await asyncio.to_thread(fn, *args, **kwargs)
    if inspect.isawaitable(result):
        return await result
    return result


def call_blocking(
    backend: Any, method: str, /, *args: Any, timeout: float | None = None, **kwargs: Any
) -> Any:
    """``backend.method(...)`` from sync code: a direct call for a blocking backend; for an
    ``AsyncBackend``, awaited on the widgets' background loop (every widget call to an
    async backend goes to that one loop, so its connection pool sees a single loop)."""
    fn = getattr(backend, method)
    if not inspect.iscoroutinefunction(fn):
        return fn(*args, **kwargs)
    return shared_loop().call(fn(*args, **kwargs), timeout=timeout)


def accepts_keyword(fn: Any, name: str) -> bool:
    """Whether ``fn`` takes the keyword argument ``name``."""
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def backend_name(backend: Any) -> str:
    """What the toolbar calls a backend: its class, and where it sends requests."""
    kind = type(backend).__name__
    base_url = getattr(backend, "base_url", None)
    if isinstance(base_url, str) and base_url:
        return f"{kind} \u2192 {base_url}"
    home = getattr(backend, "home", None)
    if home is not None and kind == "LocalEngine":
        return f"{kind} ({home})" if str(home) != ":memory:" else f"{kind} (in memory)"
    return kind


# -- driving a run ---------------------------------------------------------------------------

Mode = Literal["auto", "task", "thread"]


class BackgroundRun:
    """One run of a request on a backend, followed in the background.

    ``on_change(state)`` is called after every change, from the thread that drives the
    run (the kernel's thread when the run is a task on its loop). ``start()`` returns at
    once; ``wait()`` blocks (from another thread), ``await wait_async()`` awaits.
    """

    def __init__(
        self,
        backend: Any,
        workflow_id: str,
        request: ExecuteRequest,
        *,
        on_change: Callable[[RunState], None] | None = None,
        poll_policy: PollPolicy | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
        background: BackgroundLoop | None = None,
    ) -> None:
        self.backend = backend
        self.workflow_id = workflow_id
        self.request = request
        self.state = RunState(workflow_id, request)
        self.on_change = on_change
        self.poll_policy = poll_policy or PollPolicy()
        self.idempotency_key = idempotency_key
        self.timeout = timeout
        self._background = background
        self.done = threading.Event()
        self.mode: Literal["task", "thread"] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._finished: asyncio.Event | None = None
        self._future: asyncio.Future[None] | concurrent.futures.Future[None] | None = None
        self._early_events: list[Any] = []
        self._cancel_task: asyncio.Task[None] | None = None

    # -- control -----------------------------------------------------------------------------
    def start(self, *, mode: Mode = "auto") -> BackgroundRun:
        """Start following the run: a task on this thread's running loop (``auto`` when
        there is one, or ``task``), else (``thread``) on the background loop."""
        if self._future is not None:
            raise RuntimeError("this run was already started")
        loop = running_loop()
        if mode == "task" and (loop is None or is_async_backend(self.backend)):
            raise RuntimeError("mode='task' needs a running event loop in this thread and a blocking backend")
        # an AsyncBackend always runs on the background loop: see call_blocking
        if mode != "thread" and loop is not None and not is_async_backend(self.backend):
            self.mode = "task"
            self._loop = loop
            self._future = loop.create_task(self._drive())
        else:
            self.mode = "thread"
            self._future = (self._background or shared_loop()).submit(self._drive())
        return self

    def cancel(self) -> None:
        """Ask the backend to cancel every unfinished execution of the run (any thread)."""
        if self.done.is_set():
            return
        self.state.cancel_requested = True
        loop = self._loop
        if loop is None:
            return  # not driving yet: the driver cancels right after execute
        with contextlib.suppress(RuntimeError):  # loop closed: nothing left to cancel
            loop.call_soon_threadsafe(self._request_cancel)

    def wait(self, timeout: float | None = None) -> RunState:
        """Block until the run ends; the final ``RunState``.

        Not from the thread whose loop drives the run (a notebook cell after ``start()``
        in task mode): that would stop the very loop the run needs; use
        ``await wait_async()`` there, or start with ``mode='thread'``.
        """
        if (
            self.mode == "task"
            and self._loop is not None
            and running_loop() is self._loop
            and not self.done.is_set()
        ):
            raise RuntimeError(
                "this run is a task on the running event loop: blocking here would freeze it. "
                "Use `await run.wait_async()` (or `await app.wait_async()`) in a notebook cell."
            )
        if not self.done.wait(timeout):
            raise TimeoutError(f"the run did not finish within {timeout} s; it goes on in the background")
        return self.state

    async def wait_async(self, timeout: float | None = None) -> RunState:
        if self.done.is_set():
            return self.state
        future = self._future
        if self.mode == "task" and isinstance(future, asyncio.Future) and running_loop() is self._loop:
            await asyncio.wait_for(asyncio.shield(future), timeout)
        else:
            ok = await asyncio.to_thread(self.done.wait, timeout)
            if not ok:
                raise TimeoutError(f"the run did not finish within {timeout} s")
        return self.state

    # -- the driver ------------------------------------------------------------------------------
    def _notify(self) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change(self.state)
        except Exception:  # a display bug must not stop following the run
            logger.exception("updating the display of run %s failed", self.workflow_id)

    def _on_engine_event(self, event: Any) -> None:
        # engine thread -> the driving loop
        loop = self._loop
        if loop is None or getattr(event, "workflow_id", self.workflow_id) != self.workflow_id:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._handle_event, event)

    def _handle_event(self, event: Any) -> None:
        if self.state.response is None:
            self._early_events.append(event)
            return
        if self._apply_event(event):
            self._notify()

    def _apply_event(self, event: Any) -> bool:
        applied = self.state.apply_event(event)
        if applied and getattr(event, "kind", "") == "run_finished" and self._wake is not None:
            self._wake.set()  # poll now for the end state instead of after the delay
        return applied

    def _on_upload(self, progress: Any) -> None:
        # the client's thread (a blocking one runs on a worker thread) -> the driving loop
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._show_upload, str(progress))

    def _show_upload(self, text: str) -> None:
        if self.state.response is None and text != self.state.upload:  # whole percents only
            self.state.upload = text
            self.state.version += 1
            self._notify()

    def _request_cancel(self) -> None:
        if self._wake is not None:
            self._wake.set()
        if self.state.response is not None and self._cancel_task is None:
            self._cancel_task = asyncio.get_running_loop().create_task(self._send_cancel())

    async def _send_cancel(self) -> None:
        for progress in self.state.ordered_executions():
            if progress.finished:
                continue
            try:
                poll = await call_backend(self.backend, "cancel", progress.execution_id)
            except Exception as exc:
                self.state.message = (
                    f"Could not cancel: {exc} Stopped following the run; it may still finish "
                    "(and be charged) on the server; see the history."
                )
                self.state.detached = True
                break
            if isinstance(poll, PollResponse):
                self.state.apply_poll(progress.execution_id, poll)
        self._notify()
        if self._wake is not None:
            self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        assert self._wake is not None
        if not self._wake.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _drive(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        unsubscribe: Callable[[], None] | None = None
        error: BaseException | None = None
        try:
            subscribe = getattr(self.backend, "subscribe", None)
            if callable(subscribe) and not inspect.iscoroutinefunction(subscribe):
                result = subscribe(self._on_engine_event)
                unsubscribe = result if callable(result) else None
            self._notify()
            options: dict[str, Any] = {"idempotency_key": self.idempotency_key}
            if accepts_keyword(self.backend.execute, "on_upload"):  # a client: local media is uploaded
                options["on_upload"] = self._on_upload
            try:
                response = await call_backend(
                    self.backend, "execute", self.workflow_id, self.request, **options
                )
            except Exception as exc:
                error = exc
                return
            finally:
                self.state.upload = None
            self.state.apply_response(response)
            for event in self._early_events:
                self._apply_event(event)
            self._early_events.clear()
            self._notify()
            if self.state.cancel_requested:
                self._request_cancel()
            await self._follow()
        except asyncio.CancelledError:
            self.state.message = "Stopped following the run."
            raise
        except Exception as exc:  # a bug or an unexpected answer: show it, do not hang
            logger.exception("following run of %s failed", self.workflow_id)
            error = exc
        finally:
            if unsubscribe is not None:
                with contextlib.suppress(Exception):
                    unsubscribe()
            if self._cancel_task is not None and not self._cancel_task.done():
                with contextlib.suppress(Exception):
                    await self._cancel_task
            self.state.finish(error, detached=self.state.detached)
            self._notify()
            self.done.set()

    async def _follow(self) -> None:
        delays = self.poll_policy.delays()
        failures = 0
        deadline = None if self.timeout is None else self.state.started_at + self.timeout
        while not self.state.all_terminal and not self.state.detached:
            delay = next(delays)
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"the run did not finish within {self.timeout:g} s; it goes on: see the history"
                    )
                delay = min(delay, left)
            await self._sleep(delay)
            if self.state.detached:
                break
            for progress in self.state.ordered_executions():
                if progress.finished:
                    continue
                try:
                    poll = await call_backend(self.backend, "poll", progress.execution_id)
                except RateLimitError as exc:
                    # the client already waited and retried; back off further before the next poll
                    if exc.retry_after:
                        await self._sleep(float(exc.retry_after))
                    break
                except APIConnectionError:
                    failures += 1
                    if failures >= MAX_POLL_FAILURES:
                        raise
                    break
                except NotFoundError:
                    raise
                failures = 0
                self.state.apply_poll(progress.execution_id, poll)
                self._notify()
