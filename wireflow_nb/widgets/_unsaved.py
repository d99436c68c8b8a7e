"""Unsaved changes: what a workflow is compared to, and the one question asked before
they are dropped (the account's Open, and "New from template").

``CleanMark`` remembers a workflow and its JSON when it was opened or saved; ``changed``
says whether the editor's workflow differs from it (a workflow it does not hold counts as
changed unless empty). ``replace_question`` is the panel that asks: "The workflow in the
editor (<b>current</b>) has changes that are not saved ... Open <b>name</b> and drop
them?", with ``wf-replace-confirm`` (``-ok``, ``-cancel``) as CSS classes.
"""

from __future__ import annotations

import html
import weakref
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..workflow import Workflow
from ._toolbar import button

__all__ = ["CleanMark", "replace_question"]


class CleanMark:
    """The workflow last opened or saved, and its JSON then."""

    def __init__(self) -> None:
        self._clean: tuple[weakref.ref[Workflow], dict[str, Any]] | None = None

    def mark(self, workflow: Workflow, body: dict[str, Any] | None = None) -> None:
        """``workflow`` is clean as ``body`` (default: as it is now)."""
        self._clean = (weakref.ref(workflow), workflow.to_dict() if body is None else body)

    def holds(self, workflow: Workflow) -> bool:
        """Whether ``workflow`` is the one marked."""
        return self._clean is not None and self._clean[0]() is workflow

    def changed(self, workflow: Workflow) -> bool:
        """Whether ``workflow`` differs from what was marked (not marked: unless empty)."""
        if self._clean is not None and self._clean[0]() is workflow:
            return workflow.to_dict() != self._clean[1]
        return bool(workflow.nodes)


def replace_question(
    current: str | None, name: str, *, what: str, on_ok: Callable[[], Any], on_cancel: Callable[[], Any]
) -> widgets.VBox:
    """Ask before the editor's unsaved changes (of the workflow named ``current``) are
    dropped for ``name``; ``what`` is where they are not saved (e.g. "to the account").
    ``current`` None: the workflow is not named."""
    named = "" if current is None else f" (<b>{html.escape(current)}</b>)"
    panel = widgets.VBox(
        [
            widgets.HTML(
                f"The workflow in the editor{named} has changes that are not "
                f"saved {html.escape(what)}. Open <b>{html.escape(name)}</b> and drop them?"
            ),
            widgets.HBox(
                [
                    button(
                        "Open and drop my changes",
                        "folder-open",
                        "wf-replace-confirm-ok",
                        on_ok,
                        style="warning",
                    ),
                    button("Cancel", "times", "wf-replace-confirm-cancel", on_cancel),
                ]
            ),
        ]
    )
    panel.add_class("wf-replace-confirm")
    return panel
