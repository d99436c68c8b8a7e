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


def RecordingEditor(workflow: Workflow | None = None) -> Any:
    """The real ``GraphEditor``, recording what the app asked of it."""
    from wireflow_nb.widgets.editor import GraphEditor

    class _Recording(GraphEditor):  # type: ignore[misc]
        def __init__(self, workflow: Workflow | None) -> None:
            self.status_history: list[tuple[str, str | None]] = []
            self.thumbnails: dict[str, bytes | None] = {}
            self.highlighted: tuple[list[str], str | None] = ([], None)
            super().__init__(workflow, width=640, height=400)

        def set_node_status(self, node_id: str, status: str | None) -> None:
            self.status_history.append((node_id, status))
            super().set_node_status(node_id, status)

        def set_node_thumbnail(self, node_id: str, png: bytes | None) -> None:
            self.thumbnails[node_id] = png
            super().set_node_thumbnail(node_id, png)

        def highlight_nodes(self, ids: Any, color: str = "#f59e0b") -> None:
            self.highlighted = (list(ids), color)
            super().highlight_nodes(ids, color)

    return _Recording(workflow)


def select(app: Any, *ids: str) -> None:
    """Select nodes in the app's editor, as a click would."""
    app.editor.select(list(ids))
