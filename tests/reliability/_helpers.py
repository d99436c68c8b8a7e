"""Shared pieces of the reliability tests: workflows, figures, server-side truth."""

from __future__ import annotations

import os
from typing import Any

import httpx

from wireflow_nb import Workflow

#: The price of one ``model:fal:text-to-image`` node of one image (catalog).
IMAGE_PRICE = 10


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def image_workflow(prompt: str, *, size: int = 64) -> Workflow:
    """text -> text-to-image (one paid node of IMAGE_PRICE credits, seeded, so a new
    prompt is never a cache hit and the same prompt always is)."""
    wf = Workflow("rel")
    wf.add_node("input:text", id="prompt", text=prompt)
    wf.add_node("model:fal:text-to-image", id="image", seed=1, width=size, height=size)
    wf.connect("prompt", "text", "image", "prompt")
    return wf


def chain_workflow(prompt: str, length: int, *, size: int = 64) -> Workflow:
    """text -> text-to-image -> image-to-image x (length-1): ``length`` model nodes in a
    row, so a run takes ``length`` model latencies."""
    wf = image_workflow(prompt, size=size)
    previous = "image"
    for i in range(1, length):
        node = f"step{i}"
        wf.add_node("model:fal:image-to-image", id=node, seed=i, prompt=f"{prompt} {i}")
        wf.connect(previous, "images", node, "image")
        previous = node
    return wf


def format_figures(title: str, rows: dict[str, Any]) -> str:
    """The figures of a test as a small table."""
    width = max(len(k) for k in rows)
    lines = [f"== {title}"] + [f"   {k.ljust(width)}  {v}" for k, v in rows.items()]
    return "\n".join(lines)


def all_executions(http: httpx.Client, workflow_id: str) -> list[dict[str, Any]]:
    """Every history row of ``workflow_id`` on the server, page by page (raw JSON)."""
    rows: list[dict[str, Any]] = []
    offset = 0
    for _ in range(10_000):
        page = http.get(f"/workflows/{workflow_id}/executions", params={"limit": 100, "offset": offset})
        page.raise_for_status()
        body = page.json()
        rows.extend(body)
        if len(body) < 100:
            break
        offset += 100
    return rows


def usage(http: httpx.Client) -> dict[str, Any]:
    answer = http.get("/developer/usage")
    answer.raise_for_status()
    return dict(answer.json())
