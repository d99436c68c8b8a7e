"""The toolbar of ``WorkflowApp``: which backend, the credits, the estimate, Run / Run
selected / Cancel, Save / Load, and the status, progress and elapsed time of a run.

What this module owns: the toolbar's widgets and how they show a ``RunState``, a credits
balance and a cost estimate. It runs nothing and asks the backend nothing: the app calls
``set_status``, ``show_credits``, ``show_estimate`` with what it learnt (``tick`` keeps
the elapsed time moving during a run), and the buttons call the actions the app passes
in. It imports ipywidgets, the pure run state and the background driver's loops.

CSS classes: ``wf-app-toolbar``, ``wf-app-backend``, ``wf-app-credits`` (also
``wf-credits-balance``), ``wf-app-estimate`` (also ``wf-estimate``; its ``data-source``
says whose figure it is), ``wf-app-run``, ``wf-app-run-selected``, ``wf-app-cancel``,
``wf-app-make-form``, ``wf-app-save``, ``wf-app-load``, ``wf-app-path``, ``wf-app-status``,
``wf-app-progress``, ``wf-app-elapsed``.
"""

from __future__ import annotations

import asyncio
import html
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..models._html import STATUS_COLORS
from ._estimate import ShownEstimate, format_credits
from ._run_state import RunState
from ._runner import BackgroundRun, backend_name, shared_loop

__all__ = ["Toolbar", "button", "format_elapsed", "show_status"]


def format_elapsed(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def status_widgets(prefix: str) -> tuple[widgets.HTML, widgets.IntProgress, widgets.HTML]:
    """The run's status label, progress bar and elapsed time that ``show_status`` fills,
    with CSS classes ``<prefix>-status``, ``-progress`` and ``-elapsed``."""
    status, elapsed = widgets.HTML(), widgets.HTML()
    progress = widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(width="180px"))
    for made, name in ((status, "status"), (progress, "progress"), (elapsed, "elapsed")):
        made.add_class(f"{prefix}-{name}")
    return status, progress, elapsed


def show_status(
    status_label: widgets.HTML,
    progress: widgets.IntProgress,
    elapsed_label: widgets.HTML,
    state: RunState | None,
) -> None:
    """The status, progress (nodes done / all) and elapsed time of ``state`` (None:
    ready), in the toolbar's widgets or the form's."""
    if state is None:
        status_label.value = '<span data-status="IDLE" style="color:#777">ready</span>'
        progress.value = 0
        elapsed_label.value = ""
        return
    status = state.status
    color = STATUS_COLORS.get(status, "#607d8b")
    status_label.value = (
        f'<span data-status="{html.escape(status)}" style="color:{color};font-weight:bold">'
        f"{html.escape(status)}</span>"
    )
    done, total = state.progress
    progress.max = max(1, total)
    progress.value = min(done, progress.max)
    progress.bar_style = {"COMPLETED": "success", "FAILED": "danger", "ERROR": "danger"}.get(status, "info")
    elapsed_label.value = format_elapsed(state.elapsed)


def button(text: str, icon: str, css: str, action: Callable[[], Any], *, style: str = "") -> widgets.Button:
    """A button with CSS class ``css`` that calls ``action()`` when clicked."""
    made = widgets.Button(
        description=text, icon=icon, button_style=style, layout=widgets.Layout(width="auto")
    )
    made.add_class(css)
    made.on_click(lambda _: action())
    return made


def _editor_button(editor: Any, css: str) -> widgets.Button | None:
    """A button of the editor's toolbar with CSS class ``css``, if it has one."""
    toolbar = getattr(editor, "toolbar", None)
    stack: list[Any] = [toolbar] if toolbar is not None else []
    while stack:
        item = stack.pop()
        if isinstance(item, widgets.Button) and css in item._dom_classes:
            return item
        stack.extend(getattr(item, "children", ()))
    return None


class Toolbar(widgets.VBox):
    """The toolbar rows: backend, credits and estimate; Run, Run selected, Cancel and the
    run's status; Save / Load with the file name (unless the editor has its own)."""

    def __init__(
        self,
        backend: Any,
        editor: Any,
        *,
        workflow_id: str,
        path: str | None,
        on_run: Callable[[], Any],
        on_run_selected: Callable[[], Any],
        on_cancel: Callable[[], Any],
        on_save: Callable[[], Any],
        on_load: Callable[[], Any],
        on_make_form: Callable[[], Any] | None = None,
    ) -> None:
        self.backend_label = widgets.HTML(f"<b>{html.escape(backend_name(backend))}</b>")
        self.backend_label.add_class("wf-app-backend")
        self.credits_label = widgets.HTML("Balance: \u2026")
        self.credits_label.add_class("wf-app-credits")
        self.credits_label.add_class("wf-credits-balance")
        self.estimate_label = widgets.HTML()
        self.estimate_label.add_class("wf-app-estimate")
        self.estimate_label.add_class("wf-estimate")
        self.run_button = button("Run", "play", "wf-app-run", on_run, style="success")
        self.run_selected_button = button(
            "Run selected", "step-forward", "wf-app-run-selected", on_run_selected
        )
        self.cancel_button = button("Cancel", "stop", "wf-app-cancel", on_cancel, style="danger")
        self.cancel_button.disabled = True
        self.make_form_button = button("Make form", "list-alt", "wf-app-make-form", on_make_form or (lambda: None))
        self.make_form_button.tooltip = "A form of the fields ticked 'In form' in the inspector (FormApp)"
        # the editor's own Save/Load (and file name) when it has them, else ours
        editor_path = getattr(editor, "path", None)
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
        editor_save, editor_load = (
            _editor_button(editor, "wf-btn-save"),
            _editor_button(editor, "wf-btn-load"),
        )
        own_file_buttons = editor_save is None or editor_load is None
        if editor_save is None or editor_load is None:
            self.save_button = button("Save", "save", "wf-app-save", on_save)
            self.load_button = button("Load", "folder-open", "wf-app-load", on_load)
        else:
            self.save_button, self.load_button = editor_save, editor_load
            self.save_button.add_class("wf-app-save")
            self.load_button.add_class("wf-app-load")
        self.status_label, self.progress, self.elapsed_label = status_widgets("wf-app")

        info_row = widgets.HBox(
            [self.backend_label, self.credits_label, self.estimate_label],
            layout=widgets.Layout(align_items="center"),
        )
        action_row = widgets.HBox(
            [
                self.run_button,
                self.run_selected_button,
                self.cancel_button,
                *([self.make_form_button] if on_make_form is not None else []),
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
        super().__init__(rows)
        self.add_class("wf-app-toolbar")

    # -- a run ------------------------------------------------------------------------------
    def set_status(self, state: RunState | None) -> None:
        """Show the status, progress and elapsed time of ``state`` (None: ready)."""
        show_status(self.status_label, self.progress, self.elapsed_label, state)

    def set_elapsed(self, seconds: float) -> None:
        self.elapsed_label.value = format_elapsed(seconds)

    def tick(self, run: BackgroundRun, ui_loop: asyncio.AbstractEventLoop | None) -> threading.Event:
        """Keep the elapsed time moving while nothing else happens (a long model node),
        until ``run`` ends or the returned event is set."""
        stop = threading.Event()

        async def tick() -> None:
            while not run.done.is_set() and not stop.is_set():
                self.set_elapsed(run.state.elapsed)
                await asyncio.sleep(0.5)

        if run.mode == "task" and ui_loop is not None:
            ui_loop.create_task(tick())
        else:
            shared_loop().submit(tick())
        return stop

    # -- credits and the estimate ----------------------------------------------------------------
    def show_credits(self, balance: float | None, *, reported: bool = True) -> None:
        """``Balance: 1,234 credits``; nothing when the backend has no balance to ask."""
        if not reported:
            self.credits_label.value = ""
        elif balance is None:
            self.credits_label.value = "Balance: <i>not reported</i>"
        else:
            self.credits_label.value = f"Balance: <b>{format_credits(balance)}</b> credits"

    def show_credits_error(self, reason: str) -> None:
        """The balance could not be read: ``reason`` in a few words (``_advice.brief``)."""
        self.credits_label.value = (
            f'Balance: <span style="color:#999">unavailable, {html.escape(reason)}</span>'
        )

    def show_estimate(self, shown: ShownEstimate) -> None:
        """``Estimate: 12 credits (from the server)`` / ``≈12 credits (catalog prices)``;
        the reason there is no backend figure as a tooltip."""
        title = f' title="{html.escape(shown.reason)}"' if shown.reason else ""
        detail = f" ({html.escape(shown.detail)})" if shown.detail else ""
        self.estimate_label.value = (
            f'<span data-source="{html.escape(shown.source)}"{title}>Estimate: '
            f"<b>{html.escape(shown.figure)}</b>{detail}</span>"
        )

    def show_estimate_problem(self, error: BaseException) -> None:
        """Why there is no estimate (the batch or trigger settings do not parse)."""
        self.estimate_label.value = f"Estimate: <i>{html.escape(str(error).splitlines()[0])}</i>"
