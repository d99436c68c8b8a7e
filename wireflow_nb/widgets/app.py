"""``WorkflowApp``: build, run, watch, look at results and go back in history, in one cell.

The app puts a toolbar, live run status, the ``GraphEditor``, the outputs, the history and
the exports together, and talks to any ``Backend``: a ``LocalEngine`` (the default: no key,
no network), a ``WireflowClient`` or an ``AsyncWireflowClient``.

A run never blocks the notebook: it is followed in the background (``_runner``), and every
change of its ``RunState`` is drawn here: node badges (PENDING, RUNNING, COMPLETED, cached,
FAILED, SKIPPED) on the canvas and in the badge strip, the progress bar (nodes done / all),
the elapsed time, the outputs, thumbnails on the nodes. A second Run while one goes on is
refused with a message. A run the known balance cannot cover is not sent: the 402 table
asks "Run anyway" / "Cancel" (``_credits``; from code ``run()`` returns None with the
question shown, ``run(check_credits=False)`` sends). Errors say what to do: a 402 as a
table of the breakdown, problems of the graph listed and their nodes highlighted before
anything is sent, a failed node outlined red with its error in the node panel,
connection problems with what to check.

The app wires parts, each of one concept: ``_toolbar.Toolbar``, ``_messages.MessageView``,
``_run_view.RunView`` (badges, thumbnails, node panel), ``_batch.BatchPanel``,
``_export_panel.ExportPanel``, ``OutputView`` and ``HistoryView``. It owns the workflow
being edited, building the request, starting and cancelling runs, and files.

CSS classes (for tests and styling) and more: ``docs/WIDGETS.md``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from .._exceptions import Problem, WorkflowValidationError
from ..account import saved_info
from ..export import HOSTED_BASE_URL
from ..models import ExecuteRequest, PollResponse
from ..workflow import Workflow
from ._account_panel import AccountActions, AccountPanel
from ._batch import BatchPanel
from ._batch import parse_batch_values as parse_batch_values  # re-exported: tests import it from here
from ._batch import parse_trigger as parse_trigger  # re-exported: tests import it from here
from ._credits import CreditsWatch
from ._export_panel import ExportPanel
from ._file_picker import FilePicker
from ._messages import MessageView
from ._preflight import run_problems
from ._run_state import RunState, nodes_to_run
from ._run_view import RunView
from ._runner import BackgroundRun, PendingWork, PollPolicy, running_loop
from ._static import StaticFallback, app_html
from ._templates import attach_account
from ._toolbar import Toolbar, format_elapsed
from .history import HistoryView
from .outputs import MediaFetcher, OutputView

__all__ = ["WorkflowApp"]

logger = logging.getLogger("wireflow_nb.widgets")


def _default_backend() -> Any:
    from ..engine import LocalEngine

    return LocalEngine()


def _make_editor(workflow: Workflow, backend: Any, catalog: Any) -> Any:
    from ._catalog import editor_catalog
    from .editor import GraphEditor

    return GraphEditor(workflow, catalog=editor_catalog(backend, catalog))


class WorkflowApp(StaticFallback, AccountActions, widgets.VBox):
    """An editor with a Run button, live status, outputs, history and exports.

    >>> app = WorkflowApp(workflow=wf)            # a LocalEngine in your data folder
    >>> app                                       # shows it; press Run
    >>> app.run(wait=True)                        # or run from code and wait

    ``backend``: a ``Backend`` or ``AsyncBackend`` (default: ``LocalEngine()``).
    ``workflow``: what to edit (default: an empty one). ``workflow_id``: the id runs and
    history are filed under (default: the saved id of a workflow read from the account,
    else ``"notebook"``). ``editor``: an editor widget to use instead of a new
    ``GraphEditor``. ``poll_policy``: polling backoff for clients (the spec's 1 s x1.5
    up to 10 s by default). ``base_url``: the API base shown in the curl export.
    ``catalog``: the node types to offer (default: the backend's, ``catalog_for``).
    """

    def __init__(
        self,
        backend: Any = None,
        *,
        workflow: Workflow | None = None,
        workflow_id: str | None = None,
        editor: Any = None,
        poll_policy: PollPolicy | None = None,
        history_page_size: int = 10,
        base_url: str | None = None,
        path: str | None = None,
        timeout: float | None = None,
        catalog: Any = None,
    ) -> None:
        self.backend = backend if backend is not None else _default_backend()
        saved = saved_info(workflow) if workflow is not None else None
        workflow_id = self.workflow_id = workflow_id or (saved.id if saved else "notebook")
        self.poll_policy = poll_policy or PollPolicy()
        self.timeout = timeout
        self.editor = (
            editor
            if editor is not None
            else _make_editor(workflow or Workflow(workflow_id), self.backend, catalog)
        )
        if editor is not None and workflow is not None:
            self.editor.workflow = workflow
        self._ui_loop = running_loop()
        self._run: BackgroundRun | None = None
        self._runs: list[BackgroundRun] = []
        self._shown_version = -1
        self._finished_handled: set[int] = set()
        self._work = PendingWork(self._ui_loop)
        self._observed: Workflow | None = None
        self._unobserve: Callable[[], None] | None = None
        self._ticker_stop: threading.Event | None = None
        self.fetcher = MediaFetcher(self.backend)
        self.base_url = base_url or getattr(self.backend, "base_url", None) or HOSTED_BASE_URL

        # -- the parts: toolbar, message line, batch & trigger, exports ---------------------------
        self.toolbar = Toolbar(
            self.backend,
            self.editor,
            workflow_id=workflow_id,
            path=path,
            on_run=lambda: self.run(),
            on_run_selected=lambda: self.run_selected(),
            on_cancel=lambda: self.cancel(),
            on_save=lambda: self.save(),
            on_load=lambda: self.load(),
            on_make_form=lambda: self.make_form(),
        )
        # the toolbar's widgets under the names the app always had
        self.backend_label = self.toolbar.backend_label
        self.credits_label = self.toolbar.credits_label
        self.estimate_label = self.toolbar.estimate_label
        self.run_button = self.toolbar.run_button
        self.run_selected_button = self.toolbar.run_selected_button
        self.cancel_button = self.toolbar.cancel_button
        self.path_text = self.toolbar.path_text
        self.save_button = self.toolbar.save_button
        self.load_button = self.toolbar.load_button
        self.status_label = self.toolbar.status_label
        self.progress = self.toolbar.progress
        self.elapsed_label = self.toolbar.elapsed_label
        self.credits_watch = CreditsWatch(
            self.backend,
            self.toolbar,
            work=self._work,
            workflow_id=workflow_id,
            catalog=getattr(self.editor, "catalog", None),
        )
        self.credits_confirm = self.credits_watch.confirm
        self.run_view = RunView(self.editor, labels=self._labels, fetcher=self.fetcher, work=self._work)
        self.badges = self.run_view.badges
        self.node_detail = self.run_view.node_detail
        self.message = MessageView(
            workflow=lambda: self.workflow,
            highlight=self.run_view.highlight,
            labels=self._labels,
            base_url=lambda: self.base_url,
        )

        # -- tabs --------------------------------------------------------------------------
        self.outputs = OutputView(fetcher=self.fetcher, labels=self._labels)
        self.batch_panel = BatchPanel(lambda: self.editor.workflow, self.refresh_estimate)
        self.batch_enabled = self.batch_panel.batch_enabled
        self.batch_node = self.batch_panel.batch_node
        self.batch_field = self.batch_panel.batch_field
        self.batch_values = self.batch_panel.batch_values
        self.batch_repeat = self.batch_panel.batch_repeat
        self.trigger_text = self.batch_panel.trigger_text
        self.history = HistoryView(
            self.backend,
            workflow_id,
            editor=self.editor,
            page_size=history_page_size,
            fetcher=self.fetcher,
            on_restore=lambda wf, ex: self._workflow_replaced(),
            autoload=False,
        )
        self.exports = ExportPanel(
            lambda: self.workflow, self.batch_panel, workflow_id=workflow_id, base_url=lambda: self.base_url
        )
        self.export_python = self.exports.export_python
        self.export_curl = self.exports.export_curl
        self.tabs = widgets.Tab(
            children=[self.outputs, self.node_detail, self.batch_panel, self.history, self.exports]
        )
        for i, title in enumerate(["Outputs", "Node", "Batch & trigger", "History", "Export"]):
            self.tabs.set_title(i, title)
        self.tabs.add_class("wf-app-tabs")
        self.tabs.observe(self._tab_changed, names="selected_index")

        self.account = AccountPanel(  # Open / Save / Save as new of the account's workflows
            self.backend, work=self._work, message=self.message, workflow=lambda: self.workflow,
            adopt=self._adopt_saved, base_url=lambda: self.base_url,
        )  # fmt: skip
        if self.account.available:
            self.toolbar.children = (*self.toolbar.children, self.account)
        attach_account(self.editor, self.account)  # its saved workflows in "New from template"
        self.load_file = FilePicker(  # Load file: a .json, or an output carrying its workflow
            message=self.message, workflow_id=lambda: self.workflow_id, unsaved=self.account.has_unsaved_changes,
            adopt=lambda workflow, _name: setattr(self, "workflow", workflow),
        )  # fmt: skip
        self.toolbar.children = (*self.toolbar.children, self.load_file)
        super().__init__([self.toolbar, self.message, self.credits_confirm, self.badges, self.editor, self.tabs])
        self.add_class("wf-app")

        on_selection = getattr(self.editor, "on_selection_change", None)
        if callable(on_selection):
            on_selection(lambda *_: self._selection_changed())
        on_replaced = getattr(self.editor, "on_workflow_replaced", None)
        if callable(on_replaced):
            on_replaced(lambda *_: self._workflow_replaced())  # the editor's Load
        self._observe_workflow()
        self.toolbar.set_status(None)
        self.refresh_estimate()
        self.refresh_exports()
        self.refresh_credits()
        # in the background: an unreachable server must not hold the cell for its timeout
        self._work.submit(asyncio.to_thread(self.history.refresh))

    # -- the workflow in the editor ----------------------------------------------------------------
    @property
    def workflow(self) -> Workflow:
        """The workflow being edited (the editor's)."""
        workflow: Workflow = self.editor.workflow
        if workflow is not self._observed:
            self._observe_workflow()
        return workflow

    @workflow.setter
    def workflow(self, workflow: Workflow) -> None:
        self.editor.workflow = workflow
        self._workflow_replaced()

    static_html = app_html  # the picture where widgets cannot run (_static.py)
    _static_parts = ("editor", "outputs", "history")

    def _observe_workflow(self) -> None:
        if self._unobserve is not None:
            self._unobserve()
        workflow: Workflow = self.editor.workflow
        self._observed = workflow
        self._unobserve = workflow.observe(self._workflow_changed)
        self.batch_panel.refresh_nodes()

    def _workflow_replaced(self) -> None:
        self._observe_workflow()
        self.run_view.forget()
        self.refresh_estimate()
        self.refresh_exports()
        self.run_view.render_badges()

    def _workflow_changed(self, workflow: Workflow, what: str) -> None:
        if what == "move_node":
            return  # positions change neither the cost nor the batch choices
        self.batch_panel.refresh_nodes()
        self.refresh_estimate()
        if self.tabs.selected_index == 4:
            self.refresh_exports()

    def _labels(self) -> dict[str, str]:
        return {node.id: node.label for node in self.editor.workflow.nodes}

    def _selected_ids(self) -> list[str]:
        ids = getattr(self.editor, "selected_node_ids", None)
        if callable(ids):
            ids = ids()
        return [str(i) for i in (ids or [])]

    # -- toolbar information ---------------------------------------------------------------------------
    @property
    def credits(self) -> float | None:
        """The last balance read (None: not known)."""
        return self.credits_watch.balance

    def refresh_credits(self) -> None:
        """Ask the backend for the balance (``usage``), in the background."""
        self.credits_watch.refresh_balance()

    def _build_request(self, *, target_node_id: str | None = None) -> ExecuteRequest:
        return self.workflow.to_request(
            target_node_id=target_node_id,
            trigger_data=self.batch_panel.trigger_data(),
            iterator_configs=self.batch_panel.iterator_configs(),
        )

    def refresh_estimate(self) -> None:
        """The next run's estimate: the backend's ``estimate()`` of the graph and batch, in
        the background (``_credits.CreditsWatch``), else the catalog's prices, labelled."""
        try:
            request = self._build_request()
        except (ValueError, WorkflowValidationError) as exc:
            self.credits_watch.show_problem(exc)
            return
        self.credits_watch.refresh_estimate(request)

    def refresh_exports(self) -> None:
        """Rebuild the Python and curl exports from the current workflow and settings."""
        self.exports.refresh()

    def _tab_changed(self, change: Mapping[str, Any]) -> None:
        if change.get("new") == 4:
            self.refresh_exports()
        elif change.get("new") == 3:
            self.history.refresh()

    # -- batch settings --------------------------------------------------------------------------------
    def set_batch(self, node_id: str, field: str, values: Sequence[Any], *, repeat: int = 1) -> None:
        """Turn the batch on: one run per value of ``field`` of ``node_id``."""
        self.batch_panel.set_batch(node_id, field, values, repeat=repeat)

    def set_trigger(self, data: Mapping[str, Any] | None) -> None:
        """Trigger data for the next runs (None: none)."""
        self.batch_panel.set_trigger(data)

    # -- running --------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._run is not None and not self._run.done.is_set()

    @property
    def last_run(self) -> BackgroundRun | None:
        return self._run

    @property
    def state(self) -> RunState | None:
        """The state of the current or last run."""
        return self._run.state if self._run is not None else None

    @property
    def results(self) -> list[PollResponse]:
        """The last poll of each execution of the last run, in batch order."""
        return self._run.state.polls if self._run is not None else []

    def run_selected(
        self, *, wait: bool = False, timeout: float | None = None, check_credits: bool = True
    ) -> BackgroundRun | None:
        """Run the selected node and what feeds it (``targetNodeId``)."""
        selected = self._selected_ids()
        if len(selected) != 1:
            self.message.show(
                "Select one node on the canvas first (click it), then press Run selected."
                if not selected
                else f"{len(selected)} nodes are selected; Run selected runs one node (and what feeds it)."
            )
            return None
        return self.run(target_node_id=selected[0], wait=wait, timeout=timeout, check_credits=check_credits)

    def run(
        self,
        target_node_id: str | None = None,
        *,
        wait: bool = False,
        timeout: float | None = None,
        check_credits: bool = True,
    ) -> BackgroundRun | None:
        """Start a run in the background; ``wait=True`` blocks until it ends (works in a
        notebook cell too). Returns the ``BackgroundRun`` (``.state``, ``.wait()``,
        ``await .wait_async()``), or None when the run was refused (see the message). A
        run the known balance cannot cover is not sent: the 402 table asks "Run anyway?";
        ``check_credits=False`` sends it anyway (the server decides)."""
        if self.running:
            assert self._run is not None
            self.message.show(
                f"A run is already going ({format_elapsed(self._run.state.elapsed)} so far): wait for it to end, "
                "or press Cancel. Runs are not queued."
            )
            return None
        try:
            request = self._build_request(target_node_id=target_node_id)
        except WorkflowValidationError as exc:  # a bypassed node that cannot pass through
            self.message.show_problems(exc.problems)
            return None
        except ValueError as exc:
            self.message.show(str(exc))
            return None
        problems = self._problems(request)
        if problems:
            self.message.show_problems(problems)
            return None
        if check_credits and self.credits_watch.ask_if_short(
            request, lambda: self.run(target_node_id=target_node_id, timeout=timeout, check_credits=False)
        ):
            self.message.clear()
            return None
        self.credits_confirm.dismiss()
        self.message.clear()
        self.run_view.highlight([], None)
        self._start(request, wait=wait, timeout=timeout)
        assert self._run is not None
        if wait:
            self._run.wait(None)
            if self._ticker_stop is not None:
                self._ticker_stop.set()
            self.wait_idle(timeout if timeout is not None else 60)
            self.refresh_static()  # here: the cell's own message, which nbclient applies too
        return self._run

    def _problems(self, request: ExecuteRequest) -> list[Problem]:
        return run_problems(self.workflow, request, self.backend, getattr(self.editor, "catalog", None))

    def _start(self, request: ExecuteRequest, *, wait: bool, timeout: float | None) -> None:
        self.run_view.start([node.id for node in self.workflow.nodes], set(nodes_to_run(request)))
        self._shown_version = -1
        run = BackgroundRun(
            self.backend,
            self.workflow_id,
            request,
            on_change=self._on_change,
            poll_policy=self.poll_policy,
            timeout=timeout if timeout is not None else self.timeout,
        )
        self._run = run
        self._runs.append(run)
        self.cancel_button.disabled = False
        self.outputs.clear("Running\u2026")
        run.start(mode="thread" if wait else "auto")
        self._ticker_stop = self.toolbar.tick(run, self._ui_loop)

    def cancel(self) -> None:
        """Cancel the current run (every execution of its batch)."""
        if not self.running:
            self.message.show("Nothing is running.")
            return
        assert self._run is not None
        self._run.cancel()
        self.cancel_button.disabled = True
        self.message.show("Cancelling\u2026")

    def wait(self, timeout: float | None = None) -> RunState | None:
        """Block until the current run ends (not in the cell that started it without
        ``wait=True``: there ``await app.wait_async()``)."""
        if self._run is None:
            return None
        state = self._run.wait(timeout)
        self.wait_idle(timeout)
        return state

    async def wait_async(self, timeout: float | None = None) -> RunState | None:
        if self._run is None:
            return None
        state = await self._run.wait_async(timeout)
        await asyncio.to_thread(self.wait_idle, timeout)
        return state

    def wait_idle(self, timeout: float | None = 30) -> bool:
        """Wait for background work of the display (credits, thumbnails, output bytes)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._work.wait(left):
                return False
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self.outputs.wait_loaded(left):
                return False
            if self._work.idle:
                return True

    # -- drawing a run --------------------------------------------------------------------------------
    @property
    def node_badges(self) -> dict[str, str]:
        """Node id -> badge shown now (nodes without a badge left out)."""
        return self.run_view.node_badges

    def _on_change(self, state: RunState) -> None:
        self.message.show_upload(state.upload)  # "Uploading photo.png 40%" before execute
        self.run_view.show_badges(state)
        self.toolbar.set_status(state)
        self._show_outputs(state)
        self.run_view.update_thumbnails(state)
        self.run_view.outline_failed(state)
        self.run_view.render_node_detail(state, self._selected_ids())
        if state.finished and id(state) not in self._finished_handled:
            self._finished_handled.add(id(state))
            self._finished(state)

    def _show_outputs(self, state: RunState) -> None:
        selected = self._selected_ids()
        node_id = selected[0] if len(selected) == 1 and selected[0] in state.node_ids else None
        self.outputs.show_run(state, node_id)
        if state.finished and not self.outputs.groups and state.status == "COMPLETED":
            self.outputs.set_message("The run finished without outputs.")

    def _finished(self, state: RunState) -> None:
        self.cancel_button.disabled = True
        if self._ticker_stop is not None:
            self._ticker_stop.set()
        self.message.show_end(state)
        self.refresh_credits()
        self.refresh_estimate()
        # off this thread: it may be the background loop an async backend needs
        self._work.submit(asyncio.to_thread(self.history.refresh))
        self._work.in_ui(self.refresh_static)  # the saved notebook shows this run (_static.py)

    # -- selection and the node panel -----------------------------------------------------------
    def _selection_changed(self) -> None:
        self.run_view.render_node_detail(self.state, self._selected_ids())
        if self.state is not None:
            self._show_outputs(self.state)

    def make_form(self) -> Any:
        """A ``FormApp`` of the fields ticked "In form" (else the input nodes'), shown
        under the app and returned (the "Make form" button; ``form.form_for_app``)."""
        from .form import form_for_app

        return form_for_app(self)

    # -- files --------------------------------------------------------------------------------------------
    def new_from_template(self, name: Any) -> Workflow:
        """Open a new workflow of a template or blueprint ``name`` (the editor's)."""
        return self.editor.new_from_template(name)  # type: ignore[no-any-return]

    def save(self, path: str | Path | None = None) -> Path | None:
        """Save the workflow as JSON (default: the file name in the toolbar)."""
        target = Path(path if path is not None else self.path_text.value).expanduser()
        try:
            saver = getattr(self.editor, "save", None)
            if callable(saver):
                result = saver(target)
                written = Path(result) if isinstance(result, (str, Path)) else target
            else:
                written = self.workflow.save(target)
        except Exception as exc:
            self.message.show(f"Could not save to {target}: {exc}", error=True)
            return None
        self.message.show(f"Saved the workflow to {written}.")
        return written

    def load(self, path: str | Path | None = None) -> Workflow | None:
        """Load a workflow file into the editor (default: the file name in the toolbar)."""
        source = Path(path if path is not None else self.path_text.value).expanduser()
        try:
            workflow = Workflow.from_file(source, id=self.workflow_id)
        except FileNotFoundError:
            self.message.show(
                f"No file {source}: check the path (relative to the notebook's folder).", error=True
            )
            return None
        except (WorkflowValidationError, OSError) as exc:
            self.message.show(f"Could not load {source}: {exc}", error=True)
            return None
        self.workflow = workflow
        self.message.show(f"Loaded {source} ({len(workflow.nodes)} nodes).")
        return workflow

    def close(self) -> None:
        """Close the app and every widget shown in it (no live one keeps a closed child)."""
        unobserve = getattr(self, "_unobserve", None)  # None too when __init__ failed
        if unobserve is not None:
            unobserve()
        self.outputs.close()
        shown, seen = [self], set()
        while shown:
            widget = shown.pop()
            if id(widget) not in seen:
                seen.add(id(widget))
                shown.extend(getattr(widget, "children", ()))
                if widget is not self:
                    widget.close()
        super().close()
