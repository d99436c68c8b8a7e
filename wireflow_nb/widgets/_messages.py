"""What went wrong and what to do, as ``WorkflowApp`` shows it: one message line, the
problems of a graph (their nodes highlighted), a failed run's nodes, a 402 as a table of
the breakdown.

What this module owns: how errors and problems are drawn (HTML, escaped). What to *do*
about an error is ``wireflow_nb._advice.explain`` (the one home of that advice); the app
decides when to show what. Imports ipywidgets, the error tree and the pure run state.

CSS classes: ``wf-app-message`` (``wf-app-problems``, ``wf-app-credits-error``,
``wf-app-credits-table`` inside).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

import ipywidgets as widgets

from .._advice import explain
from .._exceptions import (
    BadRequestError,
    InsufficientCreditsError,
    Problem,
    UnprocessableEntityError,
)
from ..workflow import Workflow
from ._estimate import format_credits
from ._run_state import RunState

__all__ = ["FAILED_COLOR", "MessageView", "credits_table"]

FAILED_COLOR = "#c62828"


def credits_table(error: InsufficientCreditsError) -> str:
    """The table of a 402 (``wf-app-credits-table``): each node's credits, then what the
    run requires and what is available. The app shows it for a 402 and, before sending,
    for a run the balance cannot cover (``_credits``)."""
    rows = "".join(
        f"<tr><td><code>{html.escape(item.node_id)}</code></td>"
        f"<td>{html.escape(item.node_label or '')}</td><td style='text-align:right'>{format_credits(item.credits)}</td></tr>"
        for item in error.breakdown
    )
    return (
        '<table class="wf-app-credits-table" style="margin:4px 0;color:#333">'
        "<tr><th>node</th><th>label</th><th>credits</th></tr>"
        f"{rows}<tr><td colspan='2'><b>required</b></td><td style='text-align:right'><b>"
        f"{format_credits(error.required_credits)}</b></td></tr>"
        f"<tr><td colspan='2'>available</td><td style='text-align:right'>"
        f"{format_credits(error.available_credits)}</td></tr></table>"
    )


class MessageView(widgets.HTML):
    """The app's message line (``wf-app-message``).

    ``workflow()`` is the workflow being edited (problems of nodes it has are highlighted
    with ``highlight(node_ids, color)``), ``labels()`` its node labels, ``base_url()``
    the API base the advice for connection errors names.
    """

    def __init__(
        self,
        *,
        workflow: Callable[[], Workflow],
        highlight: Callable[[list[str], str | None], None],
        labels: Callable[[], dict[str, str]],
        base_url: Callable[[], str],
    ) -> None:
        super().__init__()
        self._workflow = workflow
        self._highlight = highlight
        self._labels = labels
        self._base_url = base_url
        self._upload_shown: str | None = None
        self.add_class("wf-app-message")

    def clear(self) -> None:
        self.value = ""

    def show_upload(self, text: str | None) -> None:
        """How far a run's media upload is; None clears it (only if it is what is shown)."""
        if text:
            self.show(text)
            self._upload_shown = self.value
        elif self.value and self.value == self._upload_shown:
            self.clear()

    def show(self, text: str, *, error: bool = False) -> None:
        color = FAILED_COLOR if error else "#37474f"
        self.value = (
            f'<div style="color:{color};white-space:pre-wrap;padding:4px 0">{html.escape(text)}</div>'
        )

    def show_problems(self, problems: Sequence[Problem], *, title: str | None = None) -> None:
        heading = title or f"The workflow has {len(problems)} problem(s); nothing was sent:"
        items = "".join(
            "<li>"
            + (f"<code>{html.escape(p.node_id)}</code>: " if p.node_id else "")
            + html.escape(p.message)
            + "</li>"
            for p in problems
        )
        self.value = f'<div class="wf-app-problems" style="color:{FAILED_COLOR}">{html.escape(heading)}<ul>{items}</ul></div>'
        workflow = self._workflow()
        ids = [p.node_id for p in problems if p.node_id and workflow.has_node(p.node_id)]
        self._highlight(list(dict.fromkeys(ids)), FAILED_COLOR)

    def show_failure(self, state: RunState) -> None:
        failed = state.failed_nodes
        labels = self._labels()
        items = "".join(
            f"<li><b>{html.escape(labels.get(nid, nid))}</b> (<code>{html.escape(nid)}</code>): "
            f"{html.escape(error)}</li>"
            for nid, error in failed.items()
        )
        first_error = next((p.error for p in state.ordered_executions() if p.error), None)
        text = html.escape(first_error or "the run failed")
        self.value = (
            f'<div style="color:{FAILED_COLOR}">Run failed: {text}<ul>{items}</ul>'
            "Failed nodes are outlined red; select one to see its error in the Node tab.</div>"
        )

    def show_end(self, state: RunState) -> None:
        """How a run ended, when it is worth saying (nothing after a success)."""
        if state.error is not None:
            self.show_error(state.error)
        elif state.detached:
            self.show(state.message or "Stopped following the run.")
        elif state.status == "FAILED":
            self.show_failure(state)
        elif state.status == "CANCELLED":
            self.show("The run was cancelled; nodes that had not finished were skipped.")
        elif state.status not in ("COMPLETED",):
            self.show(f"The run ended {state.status}.")
        else:
            self.clear()

    def show_error(self, error: BaseException) -> None:
        if isinstance(error, InsufficientCreditsError):
            hint = (
                "Add credits (<code>engine.add_credits(n)</code> on a LocalEngine), "
                "or run fewer paid nodes (Run selected) or a smaller batch."
            )
            self.value = (
                f'<div class="wf-app-credits-error" style="color:{FAILED_COLOR}">Not enough credits: this run needs '
                f"<b>{format_credits(error.required_credits)}</b>, you have "
                f"<b>{format_credits(error.available_credits)}</b>. Nothing ran and nothing was charged."
                f"{credits_table(error)}{hint}</div>"
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
            self.show_problems(problems, title=f"The server refused the workflow: {error.message}")
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
            self.show_problems(problems, title="The server refused the workflow:")
            return
        text = explain(error, base_url=self._base_url())
        self.show(text, error=True)
