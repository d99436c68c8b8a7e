"""The "Export" tab of ``WorkflowApp``: the workflow as ``Workflow`` builder code and the
``curl`` command of its execute request, rebuilt on demand.

What this module owns: the tab's widgets and when an export failure is shown instead of
the text. The exports themselves are ``wireflow_nb.export`` (``to_python``, ``to_curl``);
the batch and trigger settings come from the ``BatchPanel``. Imports ipywidgets.

CSS classes: ``wf-app-export-python``, ``wf-app-export-curl``, ``wf-app-export-refresh``.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets

from ..export import to_curl, to_python
from ..workflow import Workflow
from ._batch import BatchPanel
from ._toolbar import button

__all__ = ["ExportPanel"]


class ExportPanel(widgets.VBox):
    """The Python and curl exports of ``workflow()`` with the batch's settings."""

    def __init__(
        self,
        workflow: Callable[[], Workflow],
        batch: BatchPanel,
        *,
        workflow_id: str,
        base_url: Callable[[], str],
    ) -> None:
        self._workflow = workflow
        self._batch = batch
        self.workflow_id = workflow_id  # the app changes it when it opens or saves to the account
        self._base_url = base_url
        self.export_python = widgets.Textarea(layout=widgets.Layout(width="100%", height="220px"))
        self.export_python.add_class("wf-app-export-python")
        self.export_curl = widgets.Textarea(layout=widgets.Layout(width="100%", height="220px"))
        self.export_curl.add_class("wf-app-export-curl")
        refresh = button("Refresh exports", "refresh", "wf-app-export-refresh", self.refresh)
        super().__init__(
            [
                widgets.HTML(
                    "<b>Python</b>: the <code>Workflow</code> builder calls that rebuild this workflow"
                ),
                self.export_python,
                widgets.HTML("<b>curl</b>: its execute request (set <code>$WIREFLOW_API_KEY</code> first)"),
                self.export_curl,
                refresh,
            ]
        )

    def refresh(self) -> None:
        """Rebuild the Python and curl exports from the current workflow and settings."""
        workflow = self._workflow()
        try:
            self.export_python.value = to_python(workflow)
        except Exception as exc:
            self.export_python.value = f"# could not export: {exc}"
        try:
            self.export_curl.value = to_curl(
                workflow,
                self.workflow_id,
                base_url=self._base_url(),
                trigger_data=self._batch.trigger_data(),
                iterator_configs=self._batch.iterator_configs(),
            )
        except Exception as exc:
            self.export_curl.value = f"# could not export: {exc}"
