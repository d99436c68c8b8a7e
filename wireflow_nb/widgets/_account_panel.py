"""Open and save the account's workflows from ``WorkflowApp``: the Open / Save / Save as
new buttons and the panels they show (the list of saved workflows, the name of a new one,
the choice after a version conflict, the question before unsaved changes are dropped).

What this module owns: when the app reads or writes a saved workflow and what it shows
meanwhile. The calls go to ``backend.workflows`` (``client.workflows`` or
``engine.workflows``, sync or async) in the background (``PendingWork``): the notebook's
thread never waits on the network, and results are drawn back on it (``in_ui``). The
version an update sends is ``account.saved_info``'s (the record a workflow was read or
saved as, remembered with ``account.remember_saved``); a stale one is a
``VersionConflictError``, never retried, shown as a choice: reload theirs, or save ours as
a copy. A client uploads local media before it saves (the server gets their URLs; the
editor's workflow keeps its paths), shown as "Uploading photo.png 40%". Python methods do
the same as the buttons (``open_saved``, ``save_to_account``, ``save_as_new``;
``wait=True`` blocks and returns the result); ``AccountActions`` gives them to the app.

CSS classes: ``wf-app-open``, ``wf-app-account-save``, ``wf-app-save-new`` (the buttons;
``wf-app-save`` is the file Save), ``wf-account-panel`` (where the panels show);
``wf-open-panel`` with ``wf-open-filter``, ``wf-open-status`` (loading, errors, counts),
``wf-open-row`` (``wf-open-name``, ``wf-open-when``, ``wf-open-nodes``,
``wf-open-row-open``), ``wf-open-refresh``, ``wf-open-cancel``; ``wf-replace-confirm``
(``-ok``, ``-cancel``); ``wf-save-name-panel`` (``wf-save-name``, ``wf-save-name-ok``,
``wf-save-name-cancel``); ``wf-conflict`` (``wf-conflict-reload``, ``wf-conflict-copy``,
``wf-conflict-cancel``).
"""

from __future__ import annotations

import asyncio
import html
import itertools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets

from .._advice import explain
from .._exceptions import VersionConflictError
from ..account import remember_saved, saved_info, workflow_from_saved
from ..models import SavedWorkflow, WorkflowSummary
from ..workflow import Workflow
from ._messages import MessageView
from ._runner import PendingWork, accepts_keyword, backend_name, call_backend
from ._toolbar import button
from ._unsaved import CleanMark, replace_question
from .history import format_started

__all__ = ["AccountActions", "AccountPanel", "Conflict", "default_name", "last_change", "list_saved"]

#: Rows per page asked of the backend when listing (the API's maximum).
PAGE_SIZE = 100


def last_change(iso: str | None) -> str:
    """``updatedAt`` as people read it: ``2026-12-01 21:39:22 UTC``."""
    text = format_started(iso)
    return f"{text} UTC" if text and str(iso).endswith("Z") else text or "unknown"


def default_name(workflow: Workflow) -> str:
    """The name a workflow is saved under unless the user types another: its saved name,
    else the ``name`` of its JSON, else its id."""
    info = saved_info(workflow)
    if info is not None and info.name:
        return info.name
    name = workflow.extra.get("name")
    return name if isinstance(name, str) and name.strip() else workflow.id


async def list_saved(workflows: Any) -> list[WorkflowSummary]:
    """Every saved workflow, page after page (``workflows.list`` of any backend)."""
    listing = workflows.list(page_size=PAGE_SIZE)
    if hasattr(listing, "__aiter__"):
        return [row async for row in listing]
    rows: list[WorkflowSummary] = await asyncio.to_thread(list, listing)
    return rows


@dataclass(frozen=True)
class Conflict:
    """A Save refused because someone saved a newer version since ours was read."""

    workflow: Workflow
    saved: WorkflowSummary  # what ours was read as
    error: VersionConflictError

    @property
    def theirs(self) -> int | None:
        return self.error.current_version


def _css(widget: widgets.Widget, css: str) -> widgets.Widget:
    widget.add_class(css)
    return widget


class AccountPanel(widgets.VBox):
    """The account's buttons (``buttons``) and the panel they open (``panel``).

    ``workflow()`` is the workflow being edited; ``adopt(workflow, saved, replace)`` makes
    the app work on a saved workflow (``replace``: put ``workflow`` into the editor; else
    it is already there and was just saved). ``base_url()`` is what connection advice names.
    """

    def __init__(
        self,
        backend: Any,
        *,
        work: PendingWork,
        message: MessageView,
        workflow: Callable[[], Workflow],
        adopt: Callable[[Workflow, WorkflowSummary, bool], None],
        base_url: Callable[[], str],
        timeout: float = 60.0,
    ) -> None:
        self.backend = backend
        self.available = getattr(backend, "workflows", None) is not None
        self._work = work
        self._message = message
        self._workflow = workflow
        self._adopt = adopt
        self._base_url = base_url
        self.timeout = timeout
        #: The saved workflows last listed (all pages), newest change first.
        self.rows: list[WorkflowSummary] = []
        #: The Save refused for a newer version, until the user chooses.
        self.conflict: Conflict | None = None
        self._listing = itertools.count()
        self._current_listing = -1
        # the workflow and its JSON when last opened or saved: what "unsaved changes" compare to
        self.clean = CleanMark()
        first = workflow()
        if saved_info(first) is not None:
            self.clean.mark(first)

        self.open_button = button("Open\u2026", "folder-open", "wf-app-open", self.show_open)
        self.save_button = button("Save", "cloud-upload", "wf-app-account-save", self._save_clicked)
        self.save_new_button = button("Save as new", "clone", "wf-app-save-new", self.ask_name)
        for made, tip in (
            (self.open_button, "open a workflow saved in the account"),
            (self.save_button, "save to the account (a new version of the workflow you opened)"),
            (self.save_new_button, "save to the account as a new workflow"),
        ):
            made.tooltip = tip
        self.buttons = widgets.HBox(
            [widgets.HTML("<b>Account:</b>"), self.open_button, self.save_button, self.save_new_button],
            layout=widgets.Layout(align_items="center"),
        )

        # -- Open: the list -----------------------------------------------------------------
        self.filter_text = _css(
            widgets.Text(placeholder="filter by name", layout=widgets.Layout(width="260px")), "wf-open-filter"
        )
        self.filter_text.observe(lambda _: self._render_rows(), names="value")
        self.open_status = _css(widgets.HTML(), "wf-open-status")
        self.open_rows = widgets.VBox(layout=widgets.Layout(max_height="300px", overflow="auto"))
        self.open_panel = _css(
            widgets.VBox(
                [
                    widgets.HTML("<b>Open a saved workflow</b>"),
                    widgets.HBox(
                        [
                            self.filter_text,
                            button("Refresh", "refresh", "wf-open-refresh", self.refresh_list),
                            button("Cancel", "times", "wf-open-cancel", self.close_panel),
                        ]
                    ),
                    self.open_status,
                    self.open_rows,
                ],
                layout=widgets.Layout(border="1px solid #ccc", padding="4px"),
            ),
            "wf-open-panel",
        )
        # -- Save as new: the name -----------------------------------------------------------
        self.name_text = _css(widgets.Text(layout=widgets.Layout(width="300px")), "wf-save-name")
        self.name_panel = _css(
            widgets.HBox(
                [
                    widgets.HTML("Save as a new workflow named "),
                    self.name_text,
                    button("OK", "check", "wf-save-name-ok", self._name_ok, style="primary"),
                    button("Cancel", "times", "wf-save-name-cancel", self.close_panel),
                ],
                layout=widgets.Layout(align_items="center"),
            ),
            "wf-save-name-panel",
        )
        super().__init__([self.buttons])
        self.add_class("wf-account-panel")

    # -- panels --------------------------------------------------------------------------------
    @property
    def panel(self) -> widgets.Widget | None:
        """The panel shown under the buttons (None: none)."""
        return self.children[1] if len(self.children) > 1 else None

    def _show_panel(self, panel: widgets.Widget | None) -> None:
        self.children = (self.buttons,) if panel is None else (self.buttons, panel)

    def close_panel(self) -> None:
        self._show_panel(None)
        self.conflict = None

    def _busy(self, busy: bool) -> None:
        self.save_button.disabled = self.save_new_button.disabled = busy

    def _workflows(self) -> Any:
        """``backend.workflows``, or None (said in the message line) when it has none."""
        workflows = getattr(self.backend, "workflows", None)
        if workflows is None:
            self._message.show(
                f"{backend_name(self.backend)} keeps no saved workflows: Open and Save need a backend "
                "with the account API (a LocalEngine, or a client of wireflow-nb serve or the hosted API).",
                error=True,
            )
        return workflows

    def _error(self, what: str, exc: BaseException) -> None:
        self._message.show(f"{what}: {explain(exc, base_url=self._base_url())}", error=True)

    def _background(
        self,
        fetch: Coroutine[Any, Any, Any],
        done: Callable[[Any], Any],
        failed: Callable[[BaseException], Any],
        *,
        wait: bool,
    ) -> Any:
        """Run ``fetch`` in the background, then ``done(result)`` or ``failed(error)`` on the
        notebook's thread. ``wait``: block for it here and return what ``done`` returns."""
        if wait:
            try:
                result = self._work.submit(fetch).result(self.timeout)
            except Exception as exc:
                return failed(exc)
            return done(result)

        async def job() -> None:
            try:
                result = await fetch
            except Exception as exc:
                self._work.in_ui(failed, exc)
                return
            self._work.in_ui(done, result)

        self._work.submit(job())
        return None

    # -- unsaved changes ---------------------------------------------------------------------
    def has_unsaved_changes(self) -> bool:
        """Whether the workflow in the editor differs from what was last opened or saved
        here (a workflow never opened nor saved here counts as changed unless empty)."""
        return self.clean.changed(self._workflow())

    # -- Open ------------------------------------------------------------------------------------
    def show_open(self) -> None:
        """Show the list of saved workflows (loaded in the background)."""
        self.conflict = None
        self._show_panel(self.open_panel)
        self.refresh_list()

    def refresh_list(self, *, wait: bool = False) -> list[WorkflowSummary] | None:
        workflows = self._workflows()
        if workflows is None:
            return None
        listing = next(self._listing)
        self._current_listing = listing
        self.open_status.value = "<i>Loading the saved workflows\u2026</i>"
        self.open_rows.children = ()

        def done(rows: list[WorkflowSummary]) -> list[WorkflowSummary]:
            if listing == self._current_listing:  # a later Refresh wins
                self.rows = rows
                self._render_rows()
            return rows

        def failed(exc: BaseException) -> None:
            if listing == self._current_listing:
                text = explain(exc, base_url=self._base_url())
                self.open_status.value = (
                    '<span style="color:#c62828;white-space:pre-wrap">Could not list the saved workflows: '
                    f"{html.escape(text)}</span>"
                )

        return self._background(list_saved(workflows), done, failed, wait=wait)  # type: ignore[no-any-return]

    def fetch(
        self, workflow_id: str | None, done: Callable[[Any], Any], failed: Callable[[BaseException], Any]
    ) -> None:
        """In the background: every saved workflow (``workflow_id`` None) or that one; then
        ``done(rows or saved)`` or ``failed(error)`` on the notebook's thread."""
        workflows = self._workflows()
        if workflows is not None:
            fetch = (
                list_saved(workflows)
                if workflow_id is None
                else call_backend(workflows, "get_saved", workflow_id)
            )
            self._background(fetch, done, failed, wait=False)

    def shown_rows(self) -> list[WorkflowSummary]:
        """The listed workflows whose name contains the filter (any case)."""
        needle = self.filter_text.value.strip().casefold()
        return [row for row in self.rows if needle in row.name.casefold()]

    def _render_rows(self) -> None:
        shown = self.shown_rows()
        if not self.rows:
            self.open_status.value = "<i>No saved workflows yet: press Save as new to save this one.</i>"
        elif not shown:
            self.open_status.value = (
                f"<i>No saved workflow has {html.escape(self.filter_text.value.strip())} in its name "
                f"({len(self.rows)} saved).</i>"
            )
        else:
            self.open_status.value = f"{len(shown)} of {len(self.rows)} saved workflows"
        self.open_rows.children = tuple(self._row(row) for row in shown)

    def _row(self, row: WorkflowSummary) -> widgets.HBox:
        nodes = "?" if row.node_count is None else str(row.node_count)
        name = _css(
            widgets.HTML(
                f'<b title="{html.escape(row.id)}">{html.escape(row.name or row.id)}</b>'
                f' <span style="color:#777">v{row.version}</span>',
                layout=widgets.Layout(width="320px"),
            ),
            "wf-open-name",
        )
        when = _css(
            widgets.HTML(html.escape(last_change(row.updated_at)), layout=widgets.Layout(width="200px")),
            "wf-open-when",
        )
        count = _css(
            widgets.HTML(f"{nodes} node{'' if nodes == '1' else 's'}", layout=widgets.Layout(width="80px")),
            "wf-open-nodes",
        )
        opener = button("Open", "folder-open", "wf-open-row-open", lambda: self.choose(row.id))
        return _css(  # type: ignore[return-value]
            widgets.HBox([name, when, count, opener], layout=widgets.Layout(align_items="center")),
            "wf-open-row",
        )

    def choose(self, workflow_id: str) -> None:
        """A row's Open: ask first when the editor holds unsaved changes."""
        if not self.has_unsaved_changes():
            self.open_saved(workflow_id)
            return
        name = next((row.name for row in self.rows if row.id == workflow_id), workflow_id)
        confirm = replace_question(
            default_name(self._workflow()),
            name,
            what="to the account",
            on_ok=lambda: self.open_saved(workflow_id),
            on_cancel=self.show_open,
        )
        self._show_panel(confirm)

    def open_saved(self, workflow_id: str, *, wait: bool = False) -> Workflow | None:
        """Read a saved workflow and put it into the editor (what was there is replaced,
        unsaved changes included: the Open button asks first; this method does not)."""
        workflows = self._workflows()
        if workflows is None:
            return None
        self._message.show(f"Opening {workflow_id}\u2026")

        def done(saved: SavedWorkflow) -> Workflow:
            workflow = workflow_from_saved(saved)
            self.clean.mark(workflow)
            self.close_panel()
            self._adopt(workflow, saved, True)
            nodes = len(workflow.nodes)
            self._message.show(
                f"Opened {saved.name} (version {saved.version}, {nodes} node{'' if nodes == 1 else 's'})."
            )
            return workflow

        def failed(exc: BaseException) -> None:
            self._error(f"Could not open {workflow_id}", exc)

        fetch = call_backend(workflows, "get_saved", workflow_id)
        return self._background(fetch, done, failed, wait=wait)  # type: ignore[no-any-return]

    # -- Save ------------------------------------------------------------------------------------
    def _save_clicked(self) -> None:
        if saved_info(self._workflow()) is None:
            self.ask_name()  # never saved to the account: Save is Save as new
        else:
            self.save(None)

    def ask_name(self) -> None:
        """Show the name field of Save as new (default: ``default_name``)."""
        self.conflict = None
        self.name_text.value = default_name(self._workflow())
        self._show_panel(self.name_panel)

    def _name_ok(self) -> None:
        self.save_as_new(self.name_text.value)

    def _saved(
        self, workflow: Workflow, body: dict[str, Any], saved: SavedWorkflow, what: str
    ) -> SavedWorkflow:
        remember_saved(workflow, saved)
        self.clean.mark(workflow, body)
        self._busy(False)
        self.close_panel()
        if self._workflow() is workflow:  # else another was opened meanwhile: it stays
            self._adopt(workflow, saved, False)
        self._message.show(f"{what} {saved.name} (version {saved.version}).")
        return saved

    def _upload_options(self, workflows: Any, method: str) -> dict[str, Any]:
        """``on_upload`` of a client's save (it uploads local media first and sends their
        URLs): the message line shows "Uploading photo.png 40%" while the save travels."""
        if not accepts_keyword(getattr(workflows, method, None), "on_upload"):
            return {}

        def shown(text: str) -> None:
            if self.save_button.disabled:  # still saving: a late report never hides the result
                self._message.show_upload(text)

        return {"on_upload": lambda progress: self._work.in_ui(shown, str(progress))}

    def _save_failed(self, what: str, exc: BaseException) -> None:
        self._busy(False)
        self._error(what, exc)

    def save(self, name: str | None = None, *, wait: bool = False) -> SavedWorkflow | None:
        """Save the workflow in the editor: an update of the saved workflow it was opened or
        saved as (with that version; ``name`` renames it), or, when it never was, a new one
        named ``name`` (default: ``default_name``). A newer version saved by someone else
        shows the conflict panel and returns None."""
        workflow = self._workflow()
        info = saved_info(workflow)
        if info is None:
            return self.save_as_new(name, wait=wait)
        workflows = self._workflows()
        if workflows is None:
            return None
        body = workflow.to_dict()  # what is on screen now; edits made while it travels stay unsaved
        self._busy(True)
        self._message.show(f"Saving {info.name}\u2026")
        extra = {} if name is None else {"name": name}

        def failed(exc: BaseException) -> None:
            if isinstance(exc, VersionConflictError):
                self._busy(False)
                self._show_conflict(Conflict(workflow, info, exc))
                return
            self._save_failed(f"Could not save {info.name}", exc)

        extra.update(self._upload_options(workflows, "update"))
        fetch = call_backend(workflows, "update", info.id, body, version=info.version, **extra)
        return self._background(  # type: ignore[no-any-return]
            fetch, lambda saved: self._saved(workflow, body, saved, "Saved"), failed, wait=wait
        )

    def save_as_new(self, name: str | None = None, *, wait: bool = False) -> SavedWorkflow | None:
        """Save the workflow in the editor as a new saved workflow named ``name`` (default:
        ``default_name``); Save then updates that one."""
        workflows = self._workflows()
        if workflows is None:
            return None
        workflow = self._workflow()
        name = default_name(workflow) if name is None else name
        body = workflow.to_dict()
        self._busy(True)
        self._message.show(f"Saving {name} as a new workflow\u2026")
        options = self._upload_options(workflows, "create")
        fetch = call_backend(workflows, "create", body, name=name, **options)
        return self._background(  # type: ignore[no-any-return]
            fetch,
            lambda saved: self._saved(workflow, body, saved, "Saved"),
            lambda exc: self._save_failed(f"Could not save {name!r} as a new workflow", exc),
            wait=wait,
        )

    # -- a version conflict ----------------------------------------------------------------------
    def _show_conflict(self, conflict: Conflict) -> None:
        self.conflict = conflict
        name, ours = conflict.saved.name, conflict.saved.version
        theirs = conflict.theirs
        theirs_text = f"version {theirs}" if theirs is not None else "a newer version"
        text = (
            f"Not saved: someone saved <b>{html.escape(name)}</b> as {theirs_text}; yours was made "
            f"from version {ours}. Nothing was overwritten. Reload theirs (your changes are dropped) or "
            f"save yours as a copy named <b>{html.escape(name)} (copy)</b>?"
        )
        panel = _css(
            widgets.VBox(
                [
                    widgets.HTML(f'<div style="color:#8a5300">{text}</div>'),
                    widgets.HBox(
                        [
                            button(
                                f"Reload theirs ({theirs_text})",
                                "download",
                                "wf-conflict-reload",
                                self.reload_theirs,
                            ),
                            button(
                                "Save as a copy", "clone", "wf-conflict-copy", self.save_copy, style="primary"
                            ),
                            button("Keep editing", "times", "wf-conflict-cancel", self.close_panel),
                        ]
                    ),
                ],
                layout=widgets.Layout(border="1px solid #f0b429", padding="4px"),
            ),
            "wf-conflict",
        )
        self._show_panel(panel)
        self._message.show(
            f"Not saved: {name} has {theirs_text} (you had version {ours}); choose below.", error=True
        )

    def reload_theirs(self, *, wait: bool = False) -> Workflow | None:
        """After a conflict: open the saved (newer) version, dropping the editor's changes."""
        if self.conflict is None:
            self._message.show("There is no version conflict to resolve.")
            return None
        return self.open_saved(self.conflict.saved.id, wait=wait)

    def save_copy(self, *, wait: bool = False) -> SavedWorkflow | None:
        """After a conflict: save the editor's workflow as a new one, ``<name> (copy)``
        (theirs stays as it is)."""
        if self.conflict is None:
            self._message.show("There is no version conflict to resolve.")
            return None
        return self.save_as_new(f"{self.conflict.saved.name} (copy)", wait=wait)


class AccountActions:
    """What ``WorkflowApp`` gets of the account (mixed in; the app provides the attributes)."""

    account: AccountPanel
    workflow: Workflow
    workflow_id: str
    history: Any
    exports: Any
    _work: PendingWork

    def open_saved(self, workflow_id: str, *, wait: bool = False) -> Workflow | None:
        """Open the account's workflow ``workflow_id`` in the editor (runs and history then
        go under its id). Replaces the editor's workflow without asking (the Open button
        asks when there are unsaved changes). ``wait``: block and return it."""
        return self.account.open_saved(workflow_id, wait=wait)

    def save_to_account(self, name: str | None = None, *, wait: bool = False) -> SavedWorkflow | None:
        """Save to the account: a new version of the workflow opened or saved here (a
        stale version shows the conflict choice), else a new one (``name``, default the
        workflow's name or id). ``wait``: block and return the saved record."""
        return self.account.save(name, wait=wait)

    def save_as_new(self, name: str | None = None, *, wait: bool = False) -> SavedWorkflow | None:
        """Save the workflow as a new one in the account, named ``name``."""
        return self.account.save_as_new(name, wait=wait)

    def _adopt_saved(self, workflow: Workflow, saved: WorkflowSummary, replace: bool) -> None:
        if replace:
            self.workflow = workflow
        self.workflow_id = self.history.workflow_id = self.exports.workflow_id = saved.id
        self.history.offset = 0
        self.exports.refresh()
        self._work.submit(asyncio.to_thread(self.history.refresh))
