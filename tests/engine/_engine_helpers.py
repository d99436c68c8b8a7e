"""Helpers of the engine tests (plain functions; fixtures are in conftest.py)."""

from __future__ import annotations

from typing import Any

from wireflow_nb import Workflow


def text_to_image_workflow(prompt: str = "a red fox", **image_inputs: Any) -> Workflow:
    """input:text -> text-to-image (64x64 so it is fast)."""
    wf = Workflow("t2i")
    text = wf.add_node("input:text", id="prompt", text=prompt)
    image_inputs.setdefault("width", 64)
    image_inputs.setdefault("height", 64)
    image = wf.add_node("model:fal:text-to-image", id="image", **image_inputs)
    wf.connect(text, "text", image, "prompt")
    return wf


def statuses(poll_or_execution: Any) -> dict[str, str]:
    return {run.node_id: str(run.status) for run in poll_or_execution.node_runs}
