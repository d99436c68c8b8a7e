"""``WorkflowApp``: build, run, watch, look at results and go back in history, in one cell.

The app puts a toolbar, live run status, the ``GraphEditor``, the outputs, the history and
the exports together, and talks to any ``Backend``: a ``LocalEngine`` (the default: no key,
no network), a ``WireflowClient`` or an ``AsyncWireflowClient``.

A run never blocks the notebook: it is followed in the background (``_runner``), and every
change of its ``RunState`` is drawn here: node badges (PENDING, RUNNING, COMPLETED, cached,
FAILED, SKIPPED) on the canvas and in the badge strip, the progress bar (nodes done / all),
the elapsed time, the outputs, thumbnails on the nodes. A second Run while one goes on is
refused with a message. Errors say what to do: a 402 as a table of the breakdown, problems
of the graph listed and their nodes highlighted before anything is sent, a failed node
outlined red with its error in the node panel, connection problems with what to check.

CSS classes (for tests and styling):

================================  ========================================================
``wf-app``                        the whole app
``wf-app-toolbar``                the toolbar rows
``wf-app-backend``                which backend (class and URL or home)
``wf-app-credits``                the credits balance, when known
``wf-app-estimate``               the estimated cost of the next run
``wf-app-run``                    Run
``wf-app-run-selected``           Run selected (sends ``targetNodeId``)
``wf-app-cancel``                 Cancel
``wf-app-save`` / ``wf-app-load`` Save / Load the workflow (``wf-app-path``: the file)
``wf-app-status``                 run status; its ``<span data-status="...">`` says which
``wf-app-progress``               progress bar (nodes done / all)
``wf-app-elapsed``                elapsed time of the run
``wf-app-message``                what went wrong and what to do (``wf-app-problems``,
                                  ``wf-app-credits-table`` inside)
``wf-app-badges``                 one ``wf-app-badge`` per node (``data-node``,
                                  ``data-status``), the canvas badges as text
``wf-app-tabs``                   Outputs / Node / Batch & trigger / History / Export
``wf-app-node-detail``            the selected node; its error in ``wf-app-node-error``
``wf-app-batch-enabled``          batch on/off; ``wf-app-batch-node``, ``-field``,
                                  ``-values`` (one per line or a JSON list), ``-repeat``
``wf-app-trigger``                trigger data (a JSON object)
``wf-app-export-python``          the workflow as ``Workflow`` builder code
``wf-app-export-curl``            the curl command of its execute request
``wf-app-export-refresh``         rebuild both exports
================================  ========================================================

and those of ``OutputView`` (``wf-app-outputs``, ``wf-app-output-image``,
``wf-app-output-video``, ...) and ``HistoryView`` (``wf-app-history``,
``wf-app-history-row``, ``wf-app-history-restore``, ...).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import html
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from .._advice import explain
from .._exceptions import (
    BadRequestError,
    InsufficientCreditsError,
    Problem,
    UnprocessableEntityError,
    WorkflowValidationError,
)
from .._html import STATUS_COLORS
from ..export import HOSTED_BASE_URL, to_curl, to_python
from ..models import ExecuteRequest, IteratorConfig, PollResponse, images_of
from ..workflow import Workflow
from ._estimate import estimate_credits
from ._run_state import RunState, nodes_to_run
from ._runner import (
    BackgroundRun,
    PollPolicy,
    backend_name,
    call_backend,
    running_loop,
    shared_loop,
)
from .history import HistoryView
from .outputs import MediaFetcher, OutputView, thumbnail_png

__all__ = ["WorkflowApp"]

logger = logging.getLogger("wireflow_nb.widgets")

FAILED_COLOR = "#c62828"
_TEXT_FIELD_TYPES = ("text", "choice", "image", "video")
_BADGE_COLORS = {**STATUS_COLORS, "cached": "#00897b"}


def _fmt_credits(value: float | int | None) -> str:
    if value is None:
        return "?"
    return f"{value:g}" if isinstance(value, float) else str(value)


def format_elapsed(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def parse_batch_values(text: str, *, as_text: bool) -> list[Any]:
    """The values of a batch: a JSON list, or one value per line (each read as JSON when
    it is JSON and the field is not a text field: ``7`` -> 7, ``a fox`` -> "a fox")."""
    stripped = text.strip()
    if not stripped:
        return []
    if stripped.startswith("["):
        try:
            values = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"the batch values look like a JSON list but are not valid JSON: {exc}"
            ) from None
        if not isinstance(values, list):
            raise ValueError("the batch values must be a JSON list")
        return values
    values = []
    for line in stripped.splitlines():
        line = line.strip()
        if not line:
            continue
        if as_text:
            values.append(line)
            continue
        try:
            values.append(json.loads(line))
        except json.JSONDecodeError:
            values.append(line)
    return values


def parse_trigger(text: str) -> dict[str, Any] | None:
    """Trigger data from its text box: None when empty; a JSON object otherwise."""
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"trigger data is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None
    if not isinstance(value, dict):
        raise ValueError('trigger data must be a JSON object, like {"topic": "foxes"}')
    return value


def _default_backend() -> Any:
    from ..engine import LocalEngine

    return LocalEngine()


def _make_editor(workflow: Workflow) -> Any:
    from .editor import GraphEditor

    return GraphEditor(workflow)


class WorkflowApp(widgets.VBox):
    """An editor with a Run button, live status, outputs, history and exports.

    >>> app = WorkflowApp(workflow=wf)            # a LocalEngine in your data folder
    >>> app                                       # shows it; press Run
    >>> app.run(wait=True)                        # or run from code and wait

    ``backend``: a ``Backend`` or ``AsyncBackend`` (default: ``LocalEngine()``).
    ``workflow``: what to edit (default: an empty one). ``workflow_id``: the id runs and
    history are filed under. ``editor``: an editor widget to use instead of a new
    ``GraphEditor``. ``poll_policy``: polling backoff for clients (the spec's 1 s x1.5
    up to 10 s by default). ``base_url``: the API base shown in the curl export.
    """

    def __init__(
        self,
        backend: Any = None,
        *,
        workflow: Workflow | None = None,
        workflow_id: str = "notebook",
        editor: Any = None,
        poll_policy: PollPolicy | None = None,
        history_page_size: int = 10,
        base_url: str | None = None,
        path: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.backend = backend if backend is not None else _default_backend()
        self.workflow_id = workflow_id
        self.poll_policy = poll_policy or PollPolicy()
        self.timeout = timeout
        self.editor = editor if editor is not None else _make_editor(workflow or Workflow(workflow_id))
        if editor is not None and workflow is not None:
            self.editor.workflow = workflow
        self._ui_loop = running_loop()
        self._run: BackgroundRun | None = None
        self._runs: list[BackgroundRun] = []
        self._badges: dict[str, str | None] = {}
        self._thumbs: dict[str, str] = {}
        self._shown_version = -1
        self._finished_handled: set[int] = set()
        self._pending: set[concurrent.futures.Future[Any]] = set()
        self._pending_lock = threading.Lock()
        self._observed: Workflow | None = None
        self._unobserve: Callable[[], None] | None = None
        self._ticker_stop: threading.Event | None = None
        self.credits: float | None = None
        self.fetcher = MediaFetcher(self.backend)
        self.base_url = base_url or getattr(self.backend, "base_url", None) or HOSTED_BASE_URL

        # -- toolbar ----------------------------------------------------------------------
        self.backend_label = widgets.HTML(f"<b>{html.escape(backend_name(self.backend))}</b>")
        self.backend_label.add_class("wf-app-backend")
        self.credits_label = widgets.HTML("credits: \u2026")
        self.credits_label.add_class("wf-app-credits")
        self.estimate_label = widgets.HTML()
        self.estimate_label.add_class("wf-app-estimate")
        self.run_button = self._button("Run", "play", "wf-app-run", lambda: self.run(), style="success")
        self.run_selected_button = self._button(
            "Run selected", "step-forward", "wf-app-run-selected", lambda: self.run_selected()
        )
        self.cancel_button = self._button(
            "Cancel", "stop", "wf-app-cancel", lambda: self.cancel(), style="danger"
        )
        self.cancel_button.disabled = True
        # the editor's own Save/Load (and file name) when it has them, else ours
        editor_path = getattr(self.editor, "path", None)
        if isinstance(editor_path, widgets.Text):
            self.path_text = editor_path
            if path is not None:
                self.path_text.value = path
        else:
            self.path_text = widgets.Text(
                value=path or f"{workflow_id}.json",
                layout=widgets.Layout(width="200px"),
                tooltip="workflow file",
            )
        self.path_text.add_class("wf-app-path")
        editor_save, editor_load = self._editor_button("wf-btn-save"), self._editor_button("wf-btn-load")
        own_file_buttons = editor_save is None or editor_load is None
        if editor_save is None or editor_load is None:
            self.save_button = self._button("Save", "save", "wf-app-save", lambda: self.save())
            self.load_button = self._button("Load", "folder-open", "wf-app-load", lambda: self.load())
        else:
            self.save_button, self.load_button = editor_save, editor_load
            self.save_button.add_class("wf-app-save")
            self.load_button.add_class("wf-app-load")
        self.status_label = widgets.HTML()
        self.status_label.add_class("wf-app-status")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(width="180px"))
        self.progress.add_class("wf-app-progress")
        self.elapsed_label = widgets.HTML()
        self.elapsed_label.add_class("wf-app-elapsed")
        self.message = widgets.HTML()
        self.message.add_class("wf-app-message")
        self.badges = widgets.HTML()
        self.badges.add_class("wf-app-badges")

        info_row = widgets.HBox(
            [self.backend_label, self.credits_label, self.estimate_label],
            layout=widgets.Layout(align_items="center"),
        )
        action_row = widgets.HBox(
            [
                self.run_button,
                self.run_selected_button,
                self.cancel_button,
                self.status_label,
                self.progress,
                self.elapsed_label,
            ],
            layout=widgets.Layout(align_items="center", flex_flow="row wrap"),
        )
        rows: list[widgets.Widget] = [info_row, action_row]
        if own_file_buttons:
            rows.append(
                widgets.HBox([self.path_text, self.save_button, self.load_button], layout=widgets.Layout())
            )
        toolbar = widgets.VBox(rows)
        toolbar.add_class("wf-app-toolbar")

        # -- tabs --------------------------------------------------------------------------
        self.outputs = OutputView(fetcher=self.fetcher, labels=self._labels)
        self.node_detail = widgets.HTML("<i>Select a node to see its status and error.</i>")
        self.node_detail.add_class("wf-app-node-detail")
        self._build_batch_panel()
        self.history = HistoryView(
            self.backend,
            workflow_id,
            editor=self.editor,
            page_size=history_page_size,
            fetcher=self.fetcher,
            on_restore=lambda wf, ex: self._workflow_replaced(),
            autoload=False,
        )
        self.export_python = widgets.Textarea(layout=widgets.Layout(width="100%", height="220px"))
        self.export_python.add_class("wf-app-export-python")
        self.export_curl = widgets.Textarea(layout=widgets.Layout(width="100%", height="220px"))
        self.export_curl.add_class("wf-app-export-curl")
        export_refresh = self._button(
            "Refresh exports", "refresh", "wf-app-export-refresh", self.refresh_exports
        )
        export_box = widgets.VBox(
            [
                widgets.HTML(
                    "<b>Python</b>: the <code>Workflow</code> builder calls that rebuild this workflow"
                ),
                self.export_python,
                widgets.HTML("<b>curl</b>: its execute request (set <code>$WIREFLOW_API_KEY</code> first)"),
                self.export_curl,
                export_refresh,
            ]
        )
        self.tabs = widgets.Tab(
            children=[self.outputs, self.node_detail, self.batch_panel, self.history, export_box]
        )
        for i, title in enumerate(["Outputs", "Node", "Batch & trigger", "History", "Export"]):
            self.tabs.set_title(i, title)
        self.tabs.add_class("wf-app-tabs")
        self.tabs.observe(self._tab_changed, names="selected_index")

        super().__init__([toolbar, self.message, self.badges, self.editor, self.tabs])
        self.add_class("wf-app")

        on_selection = getattr(self.editor, "on_selection_change", None)
        if callable(on_selection):
            on_selection(lambda *_: self._selection_changed())
        on_replaced = getattr(self.editor, "on_workflow_replaced", None)
        if callable(on_replaced):
            on_replaced(lambda *_: self._workflow_replaced())  # the editor's Load
        self._observe_workflow()
        self._set_status(None)
        self.refresh_estimate()
        self.refresh_exports()
        self.refresh_credits()
        # in the background: an unreachable server must not hold the cell for its timeout
        self._submit(asyncio.to_thread(self.history.refresh))

    # -- small builders -------------------------------------------------------------------------
    @staticmethod
    def _button(
        text: str, icon: str, css: str, action: Callable[[], Any], *, style: str = ""
    ) -> widgets.Button:
        button = widgets.Button(
            description=text, icon=icon, button_style=style, layout=widgets.Layout(width="auto")
        )
        button.add_class(css)
        button.on_click(lambda _: action())
        return button

    def _build_batch_panel(self) -> None:
        self.batch_enabled = widgets.Checkbox(value=False, description="Run as a batch", indent=False)
        self.batch_enabled.add_class("wf-app-batch-enabled")
        self.batch_node = widgets.Dropdown(description="Node", options=[])
        self.batch_node.add_class("wf-app-batch-node")
        self.batch_field = widgets.Combobox(description="Field", options=[], ensure_option=False)
        self.batch_field.add_class("wf-app-batch-field")
        self.batch_values = widgets.Textarea(
            description="Values",
            placeholder="one value per line, or a JSON list",
            layout=widgets.Layout(width="420px"),
        )
        self.batch_values.add_class("wf-app-batch-values")
        self.batch_repeat = widgets.BoundedIntText(value=1, min=1, max=100, description="Repeat")
        self.batch_repeat.add_class("wf-app-batch-repeat")
        self.trigger_text = widgets.Textarea(
            description="Trigger",
            placeholder='trigger data, a JSON object: {"topic": "foxes"}',
            layout=widgets.Layout(width="420px"),
        )
        self.trigger_text.add_class("wf-app-trigger")
        self.batch_node.observe(lambda _: self._batch_node_changed(), names="value")
        for control in (
            self.batch_enabled,
            self.batch_node,
            self.batch_field,
            self.batch_values,
            self.batch_repeat,
        ):
            control.observe(lambda _: self.refresh_estimate(), names="value")
        self.batch_panel = widgets.VBox(
            [
                widgets.HTML(
                    "A batch runs the workflow once per value, with the node's field set to it "
                    "(<code>iteratorConfigs</code>). Trigger data fills <code>{{trigger.x}}</code> "
                    "and the outputs of a Trigger node (<code>triggerData</code>)."
                ),
                self.batch_enabled,
                self.batch_node,
                self.batch_field,
                self.batch_values,
                self.batch_repeat,
                self.trigger_text,
            ]
        )

    def _editor_button(self, css: str) -> widgets.Button | None:
        """A button of the editor's toolbar with CSS class ``css``, if it has one."""
        toolbar = getattr(self.editor, "toolbar", None)
        stack: list[Any] = [toolbar] if toolbar is not None else []
        while stack:
            item = stack.pop()
            if isinstance(item, widgets.Button) and css in item._dom_classes:
                return item
            stack.extend(getattr(item, "children", ()))
        return None

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

    def _observe_workflow(self) -> None:
        if self._unobserve is not None:
            self._unobserve()
        workflow: Workflow = self.editor.workflow
        self._observed = workflow
        self._unobserve = workflow.observe(self._workflow_changed)
        self._refresh_batch_nodes()

    def _workflow_replaced(self) -> None:
        self._observe_workflow()
        self._badges = {}
        self._thumbs = {}
        self.refresh_estimate()
        self.refresh_exports()
        self._render_badges()

    def _workflow_changed(self, workflow: Workflow, what: str) -> None:
        if what == "move_node":
            return  # positions change neither the cost nor the batch choices
        self._refresh_batch_nodes()
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
    def _submit(self, coro: Any) -> concurrent.futures.Future[Any]:
        future = shared_loop().submit(coro)
        with self._pending_lock:
            self._pending.add(future)

        def forget(done: concurrent.futures.Future[Any]) -> None:
            with self._pending_lock:
                self._pending.discard(done)

        future.add_done_callback(forget)
        return future

    def _in_ui(self, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn`` on the notebook's thread when there is a kernel loop (canvas draws
        from one thread only), else here."""
        loop = self._ui_loop
        if loop is not None and loop.is_running() and running_loop() is not loop:
            loop.call_soon_threadsafe(fn, *args)
        else:
            fn(*args)

    def refresh_credits(self) -> None:
        """Ask the backend for the credits balance, in the background."""

        async def fetch() -> None:
            try:
                balance = await call_backend(self.backend, "credits_balance")
            except AttributeError:
                balance = None
            except Exception as exc:
                self.credits_label.value = (
                    f'credits: <span title="{html.escape(str(exc))}" style="color:#999">unavailable</span>'
                )
                return
            self.credits = balance
            if balance is None:
                self.credits_label.value = "credits: <i>not reported</i>"
            else:
                self.credits_label.value = f"credits: <b>{_fmt_credits(balance)}</b>"

        self._submit(fetch())

    def _build_request(self, *, target_node_id: str | None = None) -> ExecuteRequest:
        return self.workflow.to_request(
            target_node_id=target_node_id,
            trigger_data=parse_trigger(self.trigger_text.value),
            iterator_configs=self._iterator_configs(),
        )

    def refresh_estimate(self) -> None:
        """The estimated cost of the next run (from the backend, else the catalog's prices)."""
        try:
            request = self._build_request()
        except (ValueError, WorkflowValidationError) as exc:
            self.estimate_label.value = f"estimate: <i>{html.escape(str(exc).splitlines()[0])}</i>"
            return
        text = estimate_credits(request).describe()
        estimator = getattr(self.backend, "estimate_cost", None)
        if callable(estimator) and not asyncio.iscoroutinefunction(estimator):
            try:
                total, _ = estimator(request)
            except Exception:
                pass  # an invalid graph: the catalog's figure, problems show on Run
            else:
                text = f"{_fmt_credits(total)} credits"
                if total == 0 and estimate_credits(request).total > 0:
                    text += " (cached)"
        self.estimate_label.value = f"estimated cost: <b>{html.escape(text)}</b>"

    def refresh_exports(self) -> None:
        """Rebuild the Python and curl exports from the current workflow and settings."""
        workflow = self.workflow
        try:
            self.export_python.value = to_python(workflow)
        except Exception as exc:
            self.export_python.value = f"# could not export: {exc}"
        try:
            self.export_curl.value = to_curl(
                workflow,
                self.workflow_id,
                base_url=self.base_url,
                trigger_data=parse_trigger(self.trigger_text.value),
                iterator_configs=self._iterator_configs(),
            )
        except Exception as exc:
            self.export_curl.value = f"# could not export: {exc}"

    def _tab_changed(self, change: Mapping[str, Any]) -> None:
        if change.get("new") == 4:
            self.refresh_exports()
        elif change.get("new") == 3:
            self.history.refresh()

    # -- batch settings --------------------------------------------------------------------------------
    def _refresh_batch_nodes(self) -> None:
        options = [(f"{n.label} ({n.id})", n.id) for n in self.editor.workflow.nodes]
        current = self.batch_node.value
        self.batch_node.options = options
        if current in [v for _, v in options]:
            self.batch_node.value = current
        self._batch_node_changed()

    def _batch_node_changed(self) -> None:
        node_id = self.batch_node.value
        fields: list[str] = []
        if node_id and self.editor.workflow.has_node(node_id):
            node = self.editor.workflow.node(node_id)
            spec = self._spec(node.node_type)
            fields = [s.name for s in spec.inputs] if spec is not None else list(node.inputs)
        self.batch_field.options = fields
        if not self.batch_field.value and fields:
            self.batch_field.value = fields[0]

    @staticmethod
    def _spec(node_type: str) -> Any:
        from ..catalog import default_catalog

        return default_catalog().get(node_type)

    def set_batch(self, node_id: str, field: str, values: Sequence[Any], *, repeat: int = 1) -> None:
        """Turn the batch on: one run per value of ``field`` of ``node_id``."""
        self.batch_node.value = node_id
        self.batch_field.value = field
        self.batch_values.value = json.dumps(list(values), ensure_ascii=False)
        self.batch_repeat.value = repeat
        self.batch_enabled.value = True

    def set_trigger(self, data: Mapping[str, Any] | None) -> None:
        """Trigger data for the next runs (None: none)."""
        self.trigger_text.value = json.dumps(dict(data), ensure_ascii=False, indent=2) if data else ""

    def _iterator_configs(self) -> list[IteratorConfig] | None:
        if not self.batch_enabled.value:
            return None
        node_id, field = self.batch_node.value, (self.batch_field.value or "").strip()
        if not node_id or not field:
            raise ValueError("pick the batch's node and field, or untick 'Run as a batch'")
        as_text = True
        if self.editor.workflow.has_node(node_id):
            spec = self._spec(self.editor.workflow.node(node_id).node_type)
            field_spec = spec.input(field) if spec is not None else None
            as_text = field_spec is None or field_spec.type in _TEXT_FIELD_TYPES
        values = parse_batch_values(self.batch_values.value, as_text=as_text)
        if not values:
            raise ValueError("the batch has no values: give one per line, or untick 'Run as a batch'")
        return [
            IteratorConfig(node_id=node_id, field=field, values=values, repeat=int(self.batch_repeat.value))
        ]

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

    def run_selected(self, *, wait: bool = False, timeout: float | None = None) -> BackgroundRun | None:
        """Run the selected node and what feeds it (``targetNodeId``)."""
        selected = self._selected_ids()
        if len(selected) != 1:
            self._show_message(
                "Select one node on the canvas first (click it), then press Run selected."
                if not selected
                else f"{len(selected)} nodes are selected; Run selected runs one node (and what feeds it)."
            )
            return None
        return self.run(target_node_id=selected[0], wait=wait, timeout=timeout)

    def run(
        self,
        target_node_id: str | None = None,
        *,
        wait: bool = False,
        timeout: float | None = None,
    ) -> BackgroundRun | None:
        """Start a run in the background; ``wait=True`` blocks until it ends (works in a
        notebook cell too). Returns the ``BackgroundRun`` (``.state``, ``.wait()``,
        ``await .wait_async()``), or None when the run was refused (see the message)."""
        if self.running:
            assert self._run is not None
            self._show_message(
                f"A run is already going ({format_elapsed(self._run.state.elapsed)} so far): wait for it to end, "
                "or press Cancel. Runs are not queued."
            )
            return None
        try:
            request = self._build_request(target_node_id=target_node_id)
        except ValueError as exc:
            self._show_message(str(exc))
            return None
        problems = self._problems(request)
        if problems:
            self._show_problems(problems)
            return None
        self._clear_message()
        self._highlight([], None)
        self._start(request, wait=wait, timeout=timeout)
        assert self._run is not None
        if wait:
            self._run.wait(None)
            if self._ticker_stop is not None:
                self._ticker_stop.set()
            self.wait_idle(timeout if timeout is not None else 60)
        return self._run

    def _problems(self, request: ExecuteRequest) -> list[Problem]:
        found = list(self.workflow.problems(target_node_id=request.target_node_id))
        checker = getattr(self.backend, "problems", None)
        if callable(checker) and not asyncio.iscoroutinefunction(checker):
            try:
                extra = checker(request)
            except Exception:
                extra = []
            seen = {p.message for p in found}
            found += [p for p in extra if isinstance(p, Problem) and p.message not in seen]
        return found

    def _start(self, request: ExecuteRequest, *, wait: bool, timeout: float | None) -> None:
        self._badges = {}
        running = set(nodes_to_run(request))
        for node in self.workflow.nodes:
            self._set_badge(node.id, "PENDING" if node.id in running else None)
            if node.id in running and node.id in self._thumbs:
                self._thumbs.pop(node.id, None)
                self._editor_call("set_node_thumbnail", node.id, None)
        self._render_badges()
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
        self._start_ticker(run)

    def _start_ticker(self, run: BackgroundRun) -> None:
        """Keep the elapsed time moving while nothing else happens (a long model node)."""
        stop = threading.Event()
        self._ticker_stop = stop

        async def tick() -> None:
            while not run.done.is_set() and not stop.is_set():
                self.elapsed_label.value = format_elapsed(run.state.elapsed)
                await asyncio.sleep(0.5)

        if run.mode == "task" and self._ui_loop is not None:
            self._ui_loop.create_task(tick())
        else:
            shared_loop().submit(tick())

    def cancel(self) -> None:
        """Cancel the current run (every execution of its batch)."""
        if not self.running:
            self._show_message("Nothing is running.")
            return
        assert self._run is not None
        self._run.cancel()
        self.cancel_button.disabled = True
        self._show_message("Cancelling\u2026")

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
            with self._pending_lock:
                pending = list(self._pending)
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            _, not_done = concurrent.futures.wait(pending, timeout=left)
            if not_done:
                return False
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self.outputs.wait_loaded(left):
                return False
            with self._pending_lock:
                if not self._pending:
                    return True

    # -- drawing a run --------------------------------------------------------------------------------
    def _editor_call(self, method: str, *args: Any) -> None:
        fn = getattr(self.editor, method, None)
        if callable(fn):
            try:
                fn(*args)
            except Exception:
                logger.exception("editor.%s failed", method)

    def _set_badge(self, node_id: str, badge: str | None) -> None:
        if self._badges.get(node_id, "unset") == badge:
            return
        self._badges[node_id] = badge
        self._editor_call("set_node_status", node_id, badge)

    @property
    def node_badges(self) -> dict[str, str]:
        """Node id -> badge shown now (nodes without a badge left out)."""
        return {k: v for k, v in self._badges.items() if v is not None}

    def _render_badges(self) -> None:
        labels = self._labels()
        spans = []
        for node_id, badge in self._badges.items():
            if badge is None:
                continue
            color = _BADGE_COLORS.get(badge, "#607d8b")
            spans.append(
                f'<span class="wf-app-badge" data-node="{html.escape(node_id)}" data-status="{html.escape(badge)}" '
                f'style="border:1px solid {color};color:{color};border-radius:8px;padding:0 6px;margin-right:4px;'
                f'font-size:11px">{html.escape(labels.get(node_id, node_id))}: {html.escape(badge)}</span>'
            )
        self.badges.value = "".join(spans)

    def _set_status(self, state: RunState | None) -> None:
        if state is None:
            self.status_label.value = '<span data-status="IDLE" style="color:#777">ready</span>'
            self.progress.value = 0
            self.elapsed_label.value = ""
            return
        status = state.status
        color = STATUS_COLORS.get(status, "#607d8b")
        self.status_label.value = (
            f'<span data-status="{html.escape(status)}" style="color:{color};font-weight:bold">'
            f"{html.escape(status)}</span>"
        )
        done, total = state.progress
        self.progress.max = max(1, total)
        self.progress.value = min(done, self.progress.max)
        self.progress.bar_style = {"COMPLETED": "success", "FAILED": "danger", "ERROR": "danger"}.get(
            status, "info"
        )
        self.elapsed_label.value = format_elapsed(state.elapsed)

    def _on_change(self, state: RunState) -> None:
        for node_id in state.node_ids:
            self._set_badge(node_id, state.node_badge(node_id))
        self._render_badges()
        self._set_status(state)
        self._show_outputs(state)
        self._update_thumbnails(state)
        failed = state.failed_nodes
        if failed:
            self._highlight(list(failed), FAILED_COLOR)
        self._render_node_detail()
        if state.finished and id(state) not in self._finished_handled:
            self._finished_handled.add(id(state))
            self._finished(state)

    def _show_outputs(self, state: RunState) -> None:
        selected = self._selected_ids()
        node_id = selected[0] if len(selected) == 1 and selected[0] in state.node_ids else None
        self.outputs.show_run(state, node_id)
        if state.finished and not self.outputs.groups and state.status == "COMPLETED":
            self.outputs.set_message("The run finished without outputs.")

    def _update_thumbnails(self, state: RunState) -> None:
        if not callable(getattr(self.editor, "set_node_thumbnail", None)):
            return
        for node_id in state.node_ids:
            found = state.outputs_of(node_id)
            urls = [img.url for _, output in found for img in images_of(output)]
            if not urls or self._thumbs.get(node_id) == urls[0]:
                continue
            self._thumbs[node_id] = urls[0]
            self._submit(self._thumbnail(node_id, urls[0]))

    async def _thumbnail(self, node_id: str, url: str) -> None:
        try:
            data = await asyncio.to_thread(self.fetcher.fetch, url)
            png = await asyncio.to_thread(thumbnail_png, data)
        except Exception as exc:
            logger.info("no thumbnail for %s: %s", node_id, exc)
            return
        self._in_ui(self._editor_call, "set_node_thumbnail", node_id, png)

    def _highlight(self, node_ids: list[str], color: str | None) -> None:
        fn = getattr(self.editor, "highlight_nodes", None)
        if not callable(fn):
            return
        try:
            if color is None:
                fn(node_ids)
            else:
                fn(node_ids, color)
        except Exception:
            logger.exception("editor.highlight_nodes failed")

    def _finished(self, state: RunState) -> None:
        self.cancel_button.disabled = True
        if self._ticker_stop is not None:
            self._ticker_stop.set()
        if state.error is not None:
            self._show_error(state.error)
        elif state.detached:
            self._show_message(state.message or "Stopped following the run.")
        elif state.status == "FAILED":
            self._show_failure(state)
        elif state.status == "CANCELLED":
            self._show_message("The run was cancelled; nodes that had not finished were skipped.")
        elif state.status not in ("COMPLETED",):
            self._show_message(f"The run ended {state.status}.")
        else:
            self._clear_message()
        self.refresh_credits()
        self.refresh_estimate()
        # off this thread: it may be the background loop an async backend needs
        self._submit(asyncio.to_thread(self.history.refresh))

    # -- messages -----------------------------------------------------------------------------------
    def _clear_message(self) -> None:
        self.message.value = ""

    def _show_message(self, text: str, *, error: bool = False) -> None:
        color = FAILED_COLOR if error else "#37474f"
        self.message.value = (
            f'<div style="color:{color};white-space:pre-wrap;padding:4px 0">{html.escape(text)}</div>'
        )

    def _show_problems(self, problems: Sequence[Problem], *, title: str | None = None) -> None:
        heading = title or f"The workflow has {len(problems)} problem(s); nothing was sent:"
        items = "".join(
            "<li>"
            + (f"<code>{html.escape(p.node_id)}</code>: " if p.node_id else "")
            + html.escape(p.message)
            + "</li>"
            for p in problems
        )
        self.message.value = f'<div class="wf-app-problems" style="color:{FAILED_COLOR}">{html.escape(heading)}<ul>{items}</ul></div>'
        ids = [p.node_id for p in problems if p.node_id and self.workflow.has_node(p.node_id)]
        self._highlight(list(dict.fromkeys(ids)), FAILED_COLOR)

    def _show_failure(self, state: RunState) -> None:
        failed = state.failed_nodes
        labels = self._labels()
        items = "".join(
            f"<li><b>{html.escape(labels.get(nid, nid))}</b> (<code>{html.escape(nid)}</code>): "
            f"{html.escape(error)}</li>"
            for nid, error in failed.items()
        )
        first_error = next((p.error for p in state.ordered_executions() if p.error), None)
        text = html.escape(first_error or "the run failed")
        self.message.value = (
            f'<div style="color:{FAILED_COLOR}">Run failed: {text}<ul>{items}</ul>'
            "Failed nodes are outlined red; select one to see its error in the Node tab.</div>"
        )

    def _show_error(self, error: BaseException) -> None:
        if isinstance(error, InsufficientCreditsError):
            rows = "".join(
                f"<tr><td><code>{html.escape(item.node_id)}</code></td>"
                f"<td>{html.escape(item.node_label or '')}</td><td style='text-align:right'>{_fmt_credits(item.credits)}</td></tr>"
                for item in error.breakdown
            )
            hint = (
                "Add credits (<code>engine.add_credits(n)</code> on a LocalEngine), "
                "or run fewer paid nodes (Run selected) or a smaller batch."
            )
            self.message.value = (
                f'<div class="wf-app-credits-error" style="color:{FAILED_COLOR}">Not enough credits: this run needs '
                f"<b>{_fmt_credits(error.required_credits)}</b>, you have "
                f"<b>{_fmt_credits(error.available_credits)}</b>. Nothing ran and nothing was charged."
                '<table class="wf-app-credits-table" style="margin:4px 0;color:#333">'
                "<tr><th>node</th><th>label</th><th>credits</th></tr>"
                f"{rows}<tr><td colspan='2'><b>required</b></td><td style='text-align:right'><b>"
                f"{_fmt_credits(error.required_credits)}</b></td></tr>"
                f"<tr><td colspan='2'>available</td><td style='text-align:right'>"
                f"{_fmt_credits(error.available_credits)}</td></tr></table>{hint}</div>"
            )
            return
        if isinstance(error, BadRequestError) and error.details:
            problems = [
                Problem(
                    str(d.get("code") or "invalid"),
                    str(d.get("message") or d),
                    node_id=d.get("nodeId") if isinstance(d.get("nodeId"), str) else None,
                    field=d.get("field") if isinstance(d.get("field"), str) else None,
                )
                for d in error.details
            ]
            self._show_problems(problems, title=f"The server refused the workflow: {error.message}")
            return
        if isinstance(error, UnprocessableEntityError) and error.violations:
            problems = [
                Problem(
                    str(v.get("rule") or "violation"),
                    str(v.get("message") or v) + (f" Fix: {v['fix']}" if v.get("fix") else ""),
                    node_id=v.get("nodeId") if isinstance(v.get("nodeId"), str) else None,
                )
                for v in error.violations
            ]
            self._show_problems(problems, title="The server refused the workflow:")
            return
        text = explain(error, base_url=self.base_url)
        self._show_message(text, error=True)

    # -- selection and the node panel -----------------------------------------------------------
    def _selection_changed(self) -> None:
        self._render_node_detail()
        if self.state is not None:
            self._show_outputs(self.state)

    def _render_node_detail(self) -> None:
        selected = self._selected_ids()
        state = self.state
        if len(selected) != 1:
            self.node_detail.value = "<i>Select a node to see its status and error.</i>"
            return
        node_id = selected[0]
        workflow = self.editor.workflow
        label = workflow.node(node_id).label if workflow.has_node(node_id) else node_id
        badge = self._badges.get(node_id)
        parts = [f"<b>{html.escape(label)}</b> <code>{html.escape(node_id)}</code>"]
        if badge:
            parts.append(f"status: <b>{html.escape(badge)}</b>")
        error = state.node_error(node_id) if state is not None else None
        text = " \u00b7 ".join(parts)
        if error:
            text += (
                f'<div class="wf-app-node-error" style="color:{FAILED_COLOR};white-space:pre-wrap;'
                f'border-left:3px solid {FAILED_COLOR};padding-left:6px">{html.escape(error)}</div>'
            )
        self.node_detail.value = text
        inspector = getattr(self.editor, "inspector", None)
        show_error = getattr(inspector, "show_error", None)
        if callable(show_error):
            try:
                show_error(error)
            except Exception:
                logger.exception("inspector.show_error failed")

    # -- files --------------------------------------------------------------------------------------------
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
            self._show_message(f"Could not save to {target}: {exc}", error=True)
            return None
        self._show_message(f"Saved the workflow to {written}.")
        return written

    def load(self, path: str | Path | None = None) -> Workflow | None:
        """Load a workflow file into the editor (default: the file name in the toolbar)."""
        source = Path(path if path is not None else self.path_text.value).expanduser()
        try:
            workflow = Workflow.load(source, id=self.workflow_id)
        except FileNotFoundError:
            self._show_message(
                f"No file {source}: check the path (relative to the notebook's folder).", error=True
            )
            return None
        except (WorkflowValidationError, OSError) as exc:
            self._show_message(f"Could not load {source}: {exc}", error=True)
            return None
        self.workflow = workflow
        self._show_message(f"Loaded {source} ({len(workflow.nodes)} nodes).")
        return workflow

    def close(self) -> None:
        if self._unobserve is not None:
            self._unobserve()
        self.outputs.close()
        super().close()
