"""Helpers of the app tests."""

from __future__ import annotations

from typing import Any

from wireflow_nb import Workflow


def image_workflow(prompt: str = "a red fox", *, size: int = 64, seed: int = 1) -> Workflow:
    """text -> text-to-image (``prompt`` -> ``image``)."""
    wf = Workflow("demo")
    wf.add_node("input:text", id="prompt", text=prompt)
    wf.add_node("model:fal:text-to-image", id="image", seed=seed, width=size, height=size)
    wf.connect("prompt", "text", "image", "prompt")
    return wf


class FakeEditor:
    """Stands in for ``GraphEditor`` (its app hooks), recording what the app asked."""

    def __new__(cls, workflow: Workflow | None = None) -> Any:
        import ipywidgets as widgets

        class _Editor(widgets.VBox):
            def __init__(self, workflow: Workflow | None) -> None:
                super().__init__()
                self.workflow = workflow or Workflow("demo")
                self.statuses: dict[str, str | None] = {}
                self.status_history: list[tuple[str, str | None]] = []
                self.thumbnails: dict[str, bytes | None] = {}
                self.highlighted: tuple[list[str], str | None] = ([], None)
                self.selected_node_ids: list[str] = []
                self._selection_callbacks: list[Any] = []

            def set_node_status(self, node_id: str, status: str | None) -> None:
                self.statuses[node_id] = status
                self.status_history.append((node_id, status))

            def set_node_thumbnail(self, node_id: str, png: bytes | None) -> None:
                self.thumbnails[node_id] = png

            def highlight_nodes(self, ids: list[str], color: str | None = None) -> None:
                self.highlighted = (list(ids), color)

            def on_selection_change(self, callback: Any) -> None:
                self._selection_callbacks.append(callback)

            def select(self, *ids: str) -> None:
                self.selected_node_ids = list(ids)
                for callback in self._selection_callbacks:
                    callback(self.selected_node_ids)

        return _Editor(workflow)
