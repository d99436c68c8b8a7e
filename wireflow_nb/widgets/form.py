"""``FormApp``: a workflow as a simple app, only the inputs you choose, a Run button, the
progress and the outputs; no canvas. Made for a page others use (``voila notebook.ipynb``)
or for a class: they fill a prompt and press Run.

>>> form = FormApp(flow, inputs=["prompt.text", "image.seed"])
>>> form                                   # shows it; fill the fields, press Run
>>> form.run(wait=True)                    # or from code

``inputs`` names fields as ``node_id.field``; ``None`` (the default) shows every field of
the workflow's input nodes. ``WorkflowApp.make_form()`` (its "Make form" button) makes
one of the fields ticked "In form" in the inspector (``Workflow.form_inputs``, saved
with the workflow).

Reused, not rewritten: the fields are the inspector's (``_fields``; sliders for ranges,
a file picker for media: ``_form_fields``), a run goes through the same checks as the
app's (``_preflight``), the credits run guard (``_credits``), the background runner
(``_runner``: the notebook never waits), the message line (``_messages``), the status
and progress of the toolbar (``_toolbar.show_status``) and ``OutputView`` (a gallery per
run of a batch). Each Run runs a copy of the workflow with the form's values; the
workflow itself is not changed.

CSS classes: ``wf-form`` (the form), ``wf-form-title``, ``wf-form-fields``,
``wf-form-run`` (the button), ``wf-form-status``, ``wf-form-progress``,
``wf-form-elapsed``, ``wf-form-message``, ``wf-form-outputs`` (also ``wf-app-outputs``
inside); one field: see ``_form_fields``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets

from .._exceptions import WorkflowValidationError
from ..models import ExecuteRequest, IteratorConfig
from ..workflow import Workflow
from ._catalog import editor_catalog
from ._credits import CreditsWatch
from ._fields import UNSET
from ._form_fields import FormField, form_inputs
from ._messages import MessageView
from ._preflight import run_problems
from ._run_state import RunState
from ._runner import BackgroundRun, PendingWork, PollPolicy, running_loop
from ._static import StaticFallback, outputs_html
from ._toolbar import button, format_elapsed, show_status, status_widgets
from .outputs import MediaFetcher, OutputView

__all__ = ["FormApp", "form_for_app"]


class _NoCreditsLine:
    """The form shows no balance or estimate: the run guard only needs the balance."""

    def show_credits(self, balance: float | None, *, reported: bool = True) -> None:
        pass

    def show_credits_error(self, reason: str) -> None:
        pass

    def show_estimate(self, shown: Any) -> None:
        pass

    def show_estimate_problem(self, error: BaseException) -> None:
        pass


class FormApp(StaticFallback, widgets.VBox):
    """The chosen inputs of ``workflow`` as a form, a Run button, progress and outputs.

    ``backend``: a ``Backend`` or ``AsyncBackend`` (default: ``LocalEngine()``).
    ``inputs``: ``["node_id.field", ...]`` (None: the input nodes' fields); a bad entry is
    a ``ValueError`` naming it and listing the valid ones. ``title``: the heading
    (default: the workflow's name or id). ``workflow_id``: the id runs are filed under
    (default: the workflow's). ``catalog``: the node types (default: the backend's).
    ``iterator_configs``: a batch each Run sends (the outputs: a gallery per run).
    """

    _static_parts = ("outputs",)

    def static_html(self) -> str:
        """The picture where widgets cannot run (``_static.py``): the outputs shown."""
        return outputs_html(self.outputs)

    def __init__(
        self,
        workflow: Workflow,
        backend: Any = None,
        inputs: Sequence[str] | None = None,
        *,
        title: str | None = None,
        workflow_id: str | None = None,
        catalog: Any = None,
        poll_policy: PollPolicy | None = None,
        timeout: float | None = None,
        iterator_configs: Sequence[IteratorConfig | Mapping[str, Any]] | None = None,
    ) -> None:
        if not isinstance(workflow, Workflow):
            raise TypeError(f"FormApp needs a Workflow, got {type(workflow).__name__}")
        if backend is None:
            from ..engine import LocalEngine

            backend = LocalEngine()
        self.backend = backend
        self.workflow = workflow
        self.workflow_id = workflow_id or workflow.id
        self.catalog = editor_catalog(backend, catalog).catalog
        self.inputs = form_inputs(workflow, self.catalog, inputs)
        self.poll_policy = poll_policy or PollPolicy()
        self.timeout = timeout
        #: the batch every Run sends (``iteratorConfigs``; None: one run)
        self.iterator_configs = list(iterator_configs) if iterator_configs else None
        self._ui_loop = running_loop()
        self._work = PendingWork(self._ui_loop)
        self._run: BackgroundRun | None = None
        self._finished: set[int] = set()

        heading = title if title is not None else str(workflow.extra.get("name") or workflow.id)
        self.title = widgets.HTML(f"<h3 style='margin:4px 0'>{html.escape(heading)}</h3>")
        self.title.add_class("wf-form-title")
        values = {n.id: n.inputs for n in workflow.nodes}
        self.fields = [
            FormField(item, values[item.node_id].get(item.spec.name, item.spec.default))
            for item in self.inputs
        ]
        field_box = widgets.VBox(self.fields, layout=widgets.Layout(max_width="640px"))
        field_box.add_class("wf-form-fields")
        self.run_button = button("Run", "play", "wf-form-run", lambda: self.run(), style="success")
        self.status_label, self.progress, self.elapsed_label = status_widgets("wf-form")
        actions = widgets.HBox(
            [self.run_button, self.status_label, self.progress, self.elapsed_label],
            layout=widgets.Layout(align_items="center", flex_flow="row wrap"),
        )
        self.message = MessageView(
            workflow=lambda: self.workflow,
            highlight=lambda ids, color: None,  # no canvas: the problems name their nodes
            labels=self._labels,
            base_url=lambda: str(getattr(self.backend, "base_url", "") or ""),
        )
        self.message.add_class("wf-form-message")
        self.credits_watch = CreditsWatch(
            backend, _NoCreditsLine(), work=self._work, workflow_id=self.workflow_id, catalog=self.catalog
        )
        # no Save outputs row: a form is a page for others (Voila), who must not write server files
        self.outputs = OutputView(fetcher=MediaFetcher(backend), labels=self._labels, folder=None)
        self.outputs.add_class("wf-form-outputs")
        super().__init__(
            [self.title, field_box, actions, self.message, self.credits_watch.confirm, self.outputs]
        )
        self.add_class("wf-form")
        show_status(self.status_label, self.progress, self.elapsed_label, None)
        self.credits_watch.refresh_balance()

    def _labels(self) -> dict[str, str]:
        return {node.id: node.label for node in self.workflow.nodes}

    # -- values ------------------------------------------------------------------------------
    def field(self, entry: str) -> FormField:
        """The field of ``node_id.field`` (``form.field("prompt.text").widget.value = ...``)."""
        for f in self.fields:
            if f.item.entry == entry:
                return f
        raise KeyError(
            f"no field {entry!r} in this form; fields: {', '.join(f.item.entry for f in self.fields)}"
        )

    @property
    def values(self) -> dict[str, Any]:
        """``node_id.field`` -> the value the next run sends (fields that do not parse left out)."""
        out: dict[str, Any] = {}
        for f in self.fields:
            try:
                value = f.value()
            except ValueError:
                continue
            if value is not UNSET:
                out[f.item.entry] = value
        return out

    def filled_workflow(self) -> Workflow:
        """A copy of the workflow with the form's values (``ValueError`` naming the fields
        that do not parse)."""
        wrong: list[str] = []
        workflow = self.workflow.copy()
        for f in self.fields:
            try:
                value = f.value()
            except ValueError as exc:
                wrong.append(f"{f.label}: {str(exc).split(': ', 1)[-1]}")
                continue
            node = workflow.node(f.item.node_id)
            if value is UNSET:
                node.remove_input(f.item.spec.name)
            else:
                node.set_input(f.item.spec.name, value)
        if wrong:
            raise ValueError("Fix the form first: " + "; ".join(wrong))
        return workflow

    # -- running -------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._run is not None and not self._run.done.is_set()

    @property
    def state(self) -> RunState | None:
        """The state of the current or last run."""
        return self._run.state if self._run is not None else None

    def run(
        self, *, wait: bool = False, timeout: float | None = None, check_credits: bool = True
    ) -> BackgroundRun | None:
        """Run the workflow with the form's values, in the background (``wait=True``
        blocks until it ends). None when the run was refused (the message says why)."""
        if self.running:
            assert self._run is not None
            self.message.show(
                f"A run is already going ({format_elapsed(self._run.state.elapsed)} so far): wait for it to end."
            )
            return None
        try:
            filled = self.filled_workflow()
            request = filled.to_request(iterator_configs=self.iterator_configs)
        except WorkflowValidationError as exc:
            self.message.show_problems(exc.problems)
            return None
        except ValueError as exc:
            self.message.show(str(exc), error=True)
            return None
        problems = run_problems(filled, request, self.backend, self.catalog)
        if problems:
            self.message.show_problems(problems)
            return None
        if check_credits and self.credits_watch.ask_if_short(
            request, lambda: self.run(timeout=timeout, check_credits=False)
        ):
            self.message.clear()
            return None
        self.credits_watch.confirm.dismiss()
        self.message.clear()
        self._start(request, wait=wait, timeout=timeout)
        assert self._run is not None
        if wait:
            self._run.wait(None)
            self.wait_idle(timeout if timeout is not None else 60)
            self.refresh_static()  # here: the cell's own message, which nbclient applies too
        return self._run

    def _start(self, request: ExecuteRequest, *, wait: bool, timeout: float | None) -> None:
        run = BackgroundRun(
            self.backend,
            self.workflow_id,
            request,
            on_change=self._on_change,
            poll_policy=self.poll_policy,
            timeout=timeout if timeout is not None else self.timeout,
        )
        self._run = run
        self.run_button.disabled = True
        self.outputs.clear("Running\u2026")
        run.start(mode="thread" if wait else "auto")

    def _on_change(self, state: RunState) -> None:
        self.message.show_upload(state.upload)
        show_status(self.status_label, self.progress, self.elapsed_label, state)
        self.outputs.show_run(state)
        if state.finished and id(state) not in self._finished:
            self._finished.add(id(state))
            self.run_button.disabled = False
            if not self.outputs.groups and state.status == "COMPLETED":
                self.outputs.set_message("The run finished without outputs.")
            self.message.show_end(state)
            self.credits_watch.refresh_balance()
            self._work.in_ui(self.refresh_static)  # the saved notebook shows this run

    def wait(self, timeout: float | None = None) -> RunState | None:
        """Block until the current run ends and its outputs are loaded."""
        if self._run is None:
            return None
        state = self._run.wait(timeout)
        self.wait_idle(timeout)
        return state

    def wait_idle(self, timeout: float | None = 30) -> bool:
        """Wait for the display's background work (the balance, output bytes)."""
        return self._work.wait(timeout) and self.outputs.wait_loaded(timeout)

    def close(self) -> None:
        outputs = getattr(self, "outputs", None)  # None when __init__ failed
        if outputs is not None:
            outputs.close()
        super().close()


def form_for_app(app: Any) -> FormApp | None:
    """``WorkflowApp.make_form()``: a ``FormApp`` of the inputs ticked "In form" (else of
    the input nodes' fields) with the app's batch when it is on, shown under the app (``wf-app-form``) and returned; None
    with the reason on the app's message line when no form can be made."""
    workflow = app.workflow
    ticked = workflow.form_inputs
    try:
        batch = app.batch_panel.iterator_configs()  # the app's batch, when it is on
        form = FormApp(
            workflow,
            app.backend,
            ticked or None,
            workflow_id=app.workflow_id,
            catalog=getattr(app.editor, "catalog", None),
            poll_policy=app.poll_policy,
            iterator_configs=batch,
        )
    except ValueError as exc:
        app.message.show(f"Could not make the form: {exc}", error=True)
        return None
    area = getattr(app, "form_area", None)
    if area is None:
        area = app.form_area = widgets.VBox()
        area.add_class("wf-app-form")
        app.children = (*app.children, area)
    for old in area.children:
        old.close()
    area.children = (form,)
    app.message.show(
        f"Made a form of {len(form.fields)} field(s), below"
        + ("." if ticked else ": no field is ticked 'In form', so it shows the input nodes' fields.")
    )
    return form
