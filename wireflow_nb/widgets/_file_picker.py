"""The app's file picker: load a workflow from a file of the user's computer (a notebook has
no drag and drop into widgets), a ``.json`` workflow or an output that carries one (``.png``,
``.jpg``, ``.webp``, ``.mp4``: ``wireflow_nb.provenance``).

``FilePicker`` is an ipywidgets ``FileUpload`` (``wf-app-load-file``) and the question asked
before the workflow in the editor is replaced while it has unsaved changes (the account
panel's rule, ``AccountPanel.has_unsaved_changes``): ``wf-load-file-confirm`` holding
the one question of ``_unsaved.replace_question`` (``wf-replace-confirm-ok`` / ``-cancel``). The picked bytes are read
from a private temporary file (the browser sends the file's name, never its folder).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any

import ipywidgets as widgets

from .._exceptions import WorkflowValidationError
from ..provenance import MEDIA_SUFFIXES
from ..workflow import Workflow
from ._messages import MessageView
from ._unsaved import replace_question

__all__ = ["ACCEPT", "FilePicker", "read_workflow"]

#: What the picker offers.
ACCEPT = ",".join((".json", *MEDIA_SUFFIXES))


def read_workflow(name: str, data: bytes, *, id: str | None = None) -> Workflow:
    """The workflow in the bytes of a file named ``name`` (``Workflow.from_file``'s rules;
    its errors name the file as the user knows it)."""
    base = PurePath(name.replace("\\", "/")).name
    if base in ("", ".", ".."):
        base = "picked" + PurePath(name).suffix
    with tempfile.TemporaryDirectory(prefix="wireflow-pick-") as folder:
        path = Path(folder) / base
        path.write_bytes(data)
        workflow = Workflow.from_file(path, id=id)
    if id is None and workflow.extra.get("__has_id__") is False:
        workflow.id = PurePath(base).stem
    return workflow


class FilePicker(widgets.VBox):
    """``workflow_id()``: the id a loaded workflow gets; ``unsaved()``: whether the editor
    holds changes a load would drop; ``adopt(workflow, name)``: put it into the editor."""

    def __init__(
        self,
        *,
        message: MessageView,
        workflow_id: Callable[[], str],
        unsaved: Callable[[], bool],
        adopt: Callable[[Workflow, str], Any],
    ) -> None:
        self._message, self._workflow_id, self._unsaved, self._adopt = message, workflow_id, unsaved, adopt
        self.upload = widgets.FileUpload(accept=ACCEPT, multiple=False, description="Load file")
        self.upload.tooltip = (
            "load a workflow from a .json file or an output that carries one (.png, .jpg, .webp, .mp4)"
        )
        self.upload.add_class("wf-app-load-file")
        self.upload.observe(self._picked, names="value")
        self.confirm = widgets.VBox()
        self.confirm.add_class("wf-load-file-confirm")
        self.confirm.layout.display = "none"
        #: the workflow waiting for the user's answer, and its file name
        self.pending: tuple[Workflow, str] | None = None
        super().__init__([self.upload, self.confirm])

    def _picked(self, change: dict[str, Any]) -> None:
        files = change["new"]
        if not files:
            return
        picked = files[0]
        self.upload.value = ()  # the same file may be picked again
        self.load(str(picked["name"]), bytes(picked["content"]))

    def load(self, name: str, data: bytes) -> Workflow | None:
        """Read a picked file; load it, or ask first when the editor has unsaved changes."""
        try:
            workflow = read_workflow(name, data, id=self._workflow_id())
        except (WorkflowValidationError, OSError) as exc:
            self._message.show(f"Could not load {name}: {exc}", error=True)
            return None
        if self._unsaved():
            self._ask(workflow, name)
            return None
        return self._take(workflow, name)

    def _ask(self, workflow: Workflow, name: str) -> None:
        self.pending = (workflow, name)
        self.confirm.children = (
            replace_question(
                None, name, what="to a file or the account", on_ok=self.accept, on_cancel=self.cancel
            ),
        )
        self.confirm.layout.display = None

    def accept(self) -> Workflow | None:
        """The question's OK: load the file picked."""
        pending, self.pending = self.pending, None
        self._hide()
        return None if pending is None else self._take(*pending)

    def cancel(self) -> None:
        self.pending = None
        self._hide()
        self._message.show("Kept the workflow in the editor.")

    def _hide(self) -> None:
        self.confirm.children = ()
        self.confirm.layout.display = "none"

    def _take(self, workflow: Workflow, name: str) -> Workflow:
        self._adopt(workflow, name)
        self._message.show(f"Loaded {name} ({len(workflow.nodes)} nodes).")
        return workflow
