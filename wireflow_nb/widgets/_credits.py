"""Credits before the surprise: the balance and the next run's estimate in the toolbar,
and the question Run asks before sending a run the balance cannot cover.

What this module owns:

- ``CreditsWatch``: asks the backend, in the background (``PendingWork``: never on the
  notebook's thread), for the balance (``usage()``, else ``credits_balance()``, else
  nothing is shown) and for the estimate of the next run (``estimate()`` with the graph
  and the batch's iterator configs). Estimates are coalesced: one question is in flight
  at a time, a change while it is out only marks the newest request as wanted, and an
  answer is shown only if no newer request was made since (a stale answer never
  overwrites a newer figure). Until the backend answers, and when it has no estimate or
  it fails (offline, 404), the toolbar shows the catalog's prices, labelled as such
  (``_estimate.toolbar_estimate`` writes the words). A 404/405/501 is remembered: that
  backend is not asked again.
- ``CreditsWatch.shortfall``: the run guard's rule. When the balance is known and the
  estimate of the request about to be sent exceeds it (the backend's figure for exactly
  that request when it has one, else the catalog's), the 402 error the server would
  answer, built here, so the app shows the same table (``_messages.credits_table``).
- ``CreditsConfirm``: that table with "Run anyway" (send: the server decides) and
  "Cancel" (``wf-credits-confirm``, ``wf-credits-run-anyway``, ``wf-credits-cancel``).

It imports ipywidgets, the error tree, the pure estimate and the background driver.
"""

from __future__ import annotations

import asyncio
import html
import json
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from .._advice import brief
from .._exceptions import APIStatusError, InsufficientCreditsError, NotFoundError
from ..models import ExecuteRequest
from ._estimate import ShownEstimate, format_credits, toolbar_estimate
from ._messages import FAILED_COLOR, credits_table
from ._runner import PendingWork, call_backend

__all__ = ["CreditsConfirm", "CreditsWatch", "estimate_source", "fetch_balance", "fetch_estimate"]

#: Statuses that say the backend has no estimate endpoint: not asked again.
_NOT_OFFERED = (404, 405, 501)


def estimate_source(backend: Any) -> str:
    """How the toolbar labels a backend's own estimate."""
    if isinstance(getattr(backend, "base_url", None), str):
        return "from the server"
    if callable(getattr(backend, "estimate_cost", None)):
        return "local engine"
    return "from the backend"


def request_key(request: ExecuteRequest) -> str:
    """One string per request content: which request an estimate answered."""
    return json.dumps(request.to_wire(), sort_keys=True, default=str)


async def fetch_balance(backend: Any) -> tuple[bool, float | None]:
    """``(reported, balance)``: the balance from ``usage()`` when the backend has it, else
    ``credits_balance()``; ``(False, None)`` when it has neither (nothing to show). A 404
    (no usage endpoint) is ``(True, None)``: not reported."""
    if callable(getattr(backend, "usage", None)):
        try:
            usage = await call_backend(backend, "usage")
        except NotFoundError:
            return True, None
        return True, usage.credits_balance
    if callable(getattr(backend, "credits_balance", None)):
        return True, await call_backend(backend, "credits_balance")
    return False, None


async def fetch_estimate(
    backend: Any, request: ExecuteRequest, *, workflow_id: str, catalog: Any = None
) -> ShownEstimate:
    """What the toolbar shows for ``request`` on ``backend``: its ``estimate()`` (the graph
    with its batch), else, when it has none or it fails, the prices of ``catalog`` (the
    editor's: the backend's types; default ``default_catalog()``) with the reason. The one
    path of the app's estimate (``CreditsWatch`` calls it)."""
    if not callable(getattr(backend, "estimate", None)):
        return toolbar_estimate(request, reason="this backend gives no estimate", catalog=catalog)
    answer = await call_backend(
        backend,
        "estimate",
        request,
        workflow_id=workflow_id,
        iterator_configs=request.iterator_configs,
    )
    return toolbar_estimate(request, answer, source=estimate_source(backend), catalog=catalog)


class CreditsWatch:
    """The balance and the next run's estimate of ``backend``, fetched in the background
    on ``work`` and shown by ``toolbar`` (``show_credits(balance, reported=)``,
    ``show_credits_error(reason)``, ``show_estimate(shown)``,
    ``show_estimate_problem(error)``; called on the notebook's
    thread when there is a kernel loop), and the question before a run it cannot cover
    (``confirm``). ``debounce``: seconds to wait before asking, so that a burst of
    edits costs one request."""

    def __init__(
        self,
        backend: Any,
        toolbar: Any,
        *,
        work: PendingWork,
        workflow_id: str,
        debounce: float = 0.1,
        catalog: Any = None,
    ) -> None:
        self.backend = backend
        #: whose prices make the figure when the backend gives none (the editor's catalogue)
        self.catalog = catalog
        self.workflow_id = workflow_id
        self.debounce = debounce
        self.confirm = CreditsConfirm()
        self._work = work
        self._show_balance: Callable[..., None] = toolbar.show_credits
        self._show_balance_error: Callable[[str], None] = toolbar.show_credits_error
        self._show_estimate: Callable[[ShownEstimate], None] = toolbar.show_estimate
        self._show_problem: Callable[[BaseException], None] = toolbar.show_estimate_problem
        self._lock = threading.RLock()
        #: The last balance read (None: not known yet, or not reported).
        self.balance: float | None = None
        self._balance_asked = 0
        #: The estimate shown now.
        self.shown: ShownEstimate | None = None
        self._generation = 0
        self._wanted: ExecuteRequest | None = None
        self._asking = False
        #: (request key, the backend's figure) of the last answer shown.
        self._answered: tuple[str, ShownEstimate] | None = None
        #: Why the backend is not asked for estimates ("": it is).
        self._not_offered = "" if callable(getattr(backend, "estimate", None)) else "this backend gives no estimate"

    # -- the balance -----------------------------------------------------------------------
    def refresh_balance(self) -> None:
        """Ask for the balance again (at start, after each run); the newest answer wins."""
        with self._lock:
            self._balance_asked += 1
            asked = self._balance_asked

        async def fetch() -> None:
            try:
                reported, balance = await fetch_balance(self.backend)
            except Exception as exc:
                self._work.in_ui(self._balance_failed, asked, brief(exc))
                return
            self._work.in_ui(self._balance_read, asked, reported, balance)

        self._work.submit(fetch())

    def _balance_read(self, asked: int, reported: bool, balance: float | None) -> None:
        with self._lock:
            if asked != self._balance_asked:
                return
            self.balance = balance
            self._show_balance(balance, reported=reported)

    def _balance_failed(self, asked: int, reason: str) -> None:
        with self._lock:
            if asked != self._balance_asked:
                return
            self.balance = None
            self._show_balance_error(reason)

    # -- the estimate ----------------------------------------------------------------------
    def refresh_estimate(self, request: ExecuteRequest) -> None:
        """Show the catalog's figure for ``request`` now and ask the backend for its own
        in the background (unless it has none); only the newest request's answer shows."""
        with self._lock:
            self._generation += 1
            generation = self._generation
            self._wanted = request
            ask = not self._not_offered
            start = ask and not self._asking
            if start:
                self._asking = True
            pending = f"asking the {estimate_source(self.backend).removeprefix('from the ')}\u2026"
            self._show(
                generation,
                toolbar_estimate(
                    request, catalog=self.catalog, pending=pending if ask else "", reason=self._not_offered
                ),
            )
        if start:
            self._work.submit(self._ask_until_current())

    def show_problem(self, error: BaseException) -> None:
        """No request to estimate (the batch or trigger settings do not parse): say why,
        and let no answer still on its way replace it."""
        with self._lock:
            self._generation += 1
            self._wanted = None
            self.shown = None
            self._show_problem(error)

    async def _ask_until_current(self) -> None:
        """Ask for the newest wanted request until the answer is for the newest one."""
        try:
            while True:
                if self.debounce > 0:
                    await asyncio.sleep(self.debounce)
                with self._lock:
                    generation, request = self._generation, self._wanted
                    if request is None:  # nothing to estimate now (show_problem)
                        self._asking = False
                        return
                shown = await self._ask(request)
                with self._lock:
                    if generation == self._generation:
                        self._asking = False
                        self._work.in_ui(self._show, generation, shown, request)
                        return
                # the graph changed while the question was out: ask again for the newest
        except BaseException:
            with self._lock:
                self._asking = False
            raise

    async def _ask(self, request: ExecuteRequest) -> ShownEstimate:
        if self._not_offered:
            return toolbar_estimate(request, catalog=self.catalog, reason=self._not_offered)
        try:
            return await fetch_estimate(
                self.backend, request, workflow_id=self.workflow_id, catalog=self.catalog
            )
        except Exception as exc:
            reason = f"the backend's estimate failed: {brief(exc)}"
            if isinstance(exc, APIStatusError) and exc.status_code in _NOT_OFFERED:
                with self._lock:
                    self._not_offered = reason
            return toolbar_estimate(request, catalog=self.catalog, reason=reason)

    def _show(self, generation: int, shown: ShownEstimate, request: ExecuteRequest | None = None) -> None:
        with self._lock:
            if generation != self._generation:
                return  # a newer request was made since: its figure shows, not this one
            self.shown = shown
            if request is not None and shown.from_backend:
                self._answered = (request_key(request), shown)
            self._show_estimate(shown)

    def estimate_for(self, request: ExecuteRequest) -> ShownEstimate:
        """The estimate of ``request`` known now, without asking anyone: the backend's
        answer when it was for this very request, else the catalog's."""
        answered = self._answered
        if answered is not None and answered[0] == request_key(request):
            return answered[1]
        return toolbar_estimate(request, catalog=self.catalog)

    # -- the run guard ---------------------------------------------------------------------
    def shortfall(self, request: ExecuteRequest) -> InsufficientCreditsError | None:
        """The 402 the server would answer for ``request``, when the balance is known and
        the estimate exceeds it; None when it looks affordable (or nobody knows)."""
        balance = self.balance
        if balance is None:
            return None
        shown = self.estimate_for(request)
        if shown.total <= balance:
            return None
        return InsufficientCreditsError(
            f"Insufficient credits. Required: {format_credits(shown.total)}, "
            f"Available: {format_credits(balance)}",
            status_code=402,
            required_credits=shown.total,
            available_credits=balance,
            breakdown=list(shown.breakdown),
        )

    def ask_if_short(self, request: ExecuteRequest, run_anyway: Callable[[], Any]) -> bool:
        """The run guard: when ``request`` looks unaffordable, show the 402 table with "Run
        anyway" (calls ``run_anyway()``) / "Cancel", read the balance again (the next Run
        judges by a fresh one) and return True: do not send. False: send."""
        short = self.shortfall(request)
        if short is None:
            return False
        self.confirm.ask(short, self.estimate_for(request), run_anyway)
        self.refresh_balance()
        return True


class CreditsConfirm(widgets.VBox):
    """A run the balance cannot cover: the 402 table, "Run anyway" and "Cancel"
    (hidden until ``ask``)."""

    def __init__(self) -> None:
        self.table = widgets.HTML()
        self.run_anyway_button = widgets.Button(
            description="Run anyway", icon="play", button_style="warning", layout=widgets.Layout(width="auto")
        )
        self.run_anyway_button.add_class("wf-credits-run-anyway")
        self.cancel_button = widgets.Button(description="Cancel", layout=widgets.Layout(width="auto"))
        self.cancel_button.add_class("wf-credits-cancel")
        self._run_anyway: Callable[[], Any] | None = None
        self.run_anyway_button.on_click(lambda _: self._choose(True))
        self.cancel_button.on_click(lambda _: self._choose(False))
        super().__init__(
            [self.table, widgets.HBox([self.run_anyway_button, self.cancel_button])],
            layout=widgets.Layout(display="none"),
        )
        self.add_class("wf-credits-confirm")

    @property
    def asking(self) -> bool:
        return self.layout.display != "none"

    def ask(self, error: InsufficientCreditsError, shown: ShownEstimate, run_anyway: Callable[[], Any]) -> None:
        """Show why the run was not sent (``shown``: the estimate it was judged by) and
        call ``run_anyway()`` if the user says so."""
        source = "" if shown.from_backend else " at the catalog's prices"
        self.table.value = (
            f'<div style="color:{FAILED_COLOR}">Not enough credits: this run is estimated at '
            f"<b>{format_credits(error.required_credits)}</b> credits{html.escape(source)}, the balance is "
            f"<b>{format_credits(error.available_credits)}</b>. It was not sent.</div>"
            f"{credits_table(error)}"
            '<div style="color:#37474f">Run anyway sends it: the server decides (a run it cannot '
            "cover is refused, and nothing is charged).</div>"
        )
        self._run_anyway = run_anyway
        self.layout.display = "flex"

    def dismiss(self) -> None:
        self._run_anyway = None
        self.layout.display = "none"

    def _choose(self, run: bool) -> None:
        action = self._run_anyway
        self.dismiss()
        if run and action is not None:
            action()
