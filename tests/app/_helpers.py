"""Helpers of the app tests."""

from __future__ import annotations

from wireflow_nb import Workflow


def image_workflow(prompt: str = "a red fox", *, size: int = 64, seed: int = 1) -> Workflow:
    """text -> text-to-image (``prompt`` -> ``image``)."""
    wf = Workflow("demo")
    wf.add_node("input:text", id="prompt", text=prompt)
    wf.add_node("model:fal:text-to-image", id="image", seed=seed, width=size, height=size)
    wf.connect("prompt", "text", "image", "prompt")
    return wf
