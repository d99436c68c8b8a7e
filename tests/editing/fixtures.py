"""Workflows and fixtures shared by the tests of the editor's model (``tests/editing``)
and of its widgets (``tests/widgets``): the e2e notebook's three nodes, a hosted export in
every shape the hosted app writes, a fresh clipboard per test, an ``EditorState`` whose
world coordinates are screen coordinates, and helpers that drive its gestures. Both
conftests take the fixtures from here."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from wireflow_nb import Workflow
from wireflow_nb.catalog import default_catalog
from wireflow_nb.editing.clipboard import CLIPBOARD
from wireflow_nb.editing.scene import Redraw
from wireflow_nb.editing.state import EditorState

# Shapes 1-3 of HOSTED-NOTES.md in one file: inputs in data / params / config, typed
# port lists, prefixed handles, stale UI caches, React Flow extras and a viewport.
HOSTED: dict[str, Any] = {
    "name": "hosted export",
    "viewport": {"x": 12.5, "y": -40, "zoom": 0.75},
    "nodes": [
        {
            "id": "txt",
            "type": "basedNode",
            "position": {"x": 0, "y": 0},
            "positionAbsolute": {"x": 0, "y": 0},
            "width": 320,
            "height": 180,
            "selected": False,
            "data": {
                "label": "Prompt",
                "nodeType": "input:text",
                "category": "input",
                "config": {"text": "a lighthouse"},
                "params": {"text": "a lighthouse"},
            },
        },
        {
            "id": "flux",
            "type": "basedNode",
            "position": {"x": 420.5, "y": 10},
            "dragging": False,
            "data": {
                "label": "Flux 2",
                "nodeType": "generate:flux_2",
                "category": "generate",
                "params": {"prompt": "", "steps": 4},
                "inputs": [
                    {"id": "prompt", "label": "Prompt", "type": "TEXT"},
                    {"id": "image", "label": "Image", "type": "IMAGE"},
                ],
                "outputs": [{"id": "image", "label": "Image", "type": "IMAGE"}],
                "result": {"url": "https://example.invalid/stale.png"},
                "selectedOutput": 0,
            },
        },
        {
            "id": "kling",
            "type": "basedNode",
            "position": {"x": 840, "y": 0},
            "data": {
                "label": "Kling",
                "nodeType": "video:kling_video_v2_6_pro_image_to_video",
                "category": "video",
                "config": {"duration": "5"},
            },
        },
        {
            "id": "m1",
            "type": "model",
            "position": {"x": 420, "y": 300},
            "data": {
                "label": "Text to Image",
                "nodeType": "model:fal:text-to-image",
                "category": "model",
                "prompt": "A sunset over mountains",
            },
        },
    ],
    "edges": [
        {
            "id": "e1",
            "source": "txt",
            "target": "flux",
            "sourceHandle": "out-prompt",
            "targetHandle": "in-prompt",
        },
        {
            "id": "e2",
            "source": "flux",
            "target": "kling",
            "sourceHandle": "out-image",
            "targetHandle": "in-start_image",
            "animated": True,
        },
    ],
}


@pytest.fixture
def hosted() -> dict[str, Any]:
    return copy.deepcopy(HOSTED)


def three_nodes() -> Workflow:
    """The e2e notebook's graph: prompt -> image, and resize alone."""
    wf = Workflow(id="e2e")
    wf.add_node("input:text", id="prompt", position=(40, 40), text="a red fox")
    wf.add_node("model:fal:text-to-image", id="image", position=(360, 40), seed=1)
    wf.add_node("image:resize", id="resize", position=(360, 320))
    wf.connect("prompt", "text", "image", "prompt")
    return wf


@pytest.fixture
def wf() -> Workflow:
    return three_nodes()


@pytest.fixture(autouse=True)
def _fresh_clipboard():
    CLIPBOARD.nodes.clear()
    CLIPBOARD.edges.clear()
    CLIPBOARD.pastes = 0
    CLIPBOARD.bypassed.clear()
    yield


@pytest.fixture
def state(wf) -> EditorState:
    s = EditorState(wf, default_catalog(), width=960, height=600)
    s.set_view(0, 0, 1)  # world == screen
    return s


# -- gesture helpers ----------------------------------------------------------------
def header(state: EditorState, node_id: str) -> tuple[float, float]:
    b = state.boxes[node_id]
    return state.view.to_screen(b.x + b.w / 2, b.y + 12)


def drag(state: EditorState, start, end, steps: int = 5) -> Redraw:
    flags = state.pointer_down(*start)
    for i in range(1, steps + 1):
        t = i / steps
        flags |= state.pointer_move(start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t)
    return flags | state.pointer_up(*end)


def positions(wf: Workflow) -> dict[str, tuple[float, float]]:
    return {n.id: (n.position.x, n.position.y) for n in wf.nodes}
