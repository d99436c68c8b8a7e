"""Workflows exported from the hosted app run locally when their node types are known:
``basedNode`` nodes with inputs in ``data.params`` or ``data.config``, ``in-``/``out-``
handles, typed port lists."""

from __future__ import annotations

import copy
from typing import Any

from wireflow_nb import Workflow
from wireflow_nb.engine import LocalEngine

PORTS_TEXT = [{"id": "text", "label": "Text", "type": "TEXT"}]


def hosted_workflow() -> dict[str, Any]:
    return {
        "nodes": [
            {
                "id": "prompt",
                "type": "basedNode",
                "position": {"x": 0, "y": 0},
                "width": 240,
                "selected": True,
                "data": {
                    "label": "Prompt",
                    "nodeType": "input:text",
                    "category": "input",
                    "config": {"text": "a quiet harbour"},
                    "outputs": [{"id": "prompt", "label": "Prompt", "type": "TEXT"}, *PORTS_TEXT],
                    "result": {"stale": "ui cache"},
                },
            },
            {
                "id": "t2i",
                "type": "basedNode",
                "position": {"x": 300, "y": 0},
                "data": {
                    "label": "Text to Image",
                    "nodeType": "model:fal:text-to-image",
                    "category": "model",
                    "params": {"width": 64, "height": 64, "seed": 7},
                    "inputs": [{"id": "prompt", "label": "Prompt", "type": "TEXT"}],
                    "outputs": [{"id": "images", "label": "Images", "type": "IMAGE"}],
                },
            },
            {
                "id": "caption",
                "type": "model",
                "position": {"x": 600, "y": 0},
                "data": {"label": "Caption", "nodeType": "image:caption", "text": "from data"},
            },
        ],
        "edges": [
            {
                "id": "e1",
                "source": "prompt",
                "target": "t2i",
                "sourceHandle": "out-prompt",
                "targetHandle": "in-prompt",
            },
            {
                "id": "e2",
                "source": "t2i",
                "target": "caption",
                "sourceHandle": "out-images",
                "targetHandle": "in-image",
            },
        ],
        "viewport": {"x": 0, "y": 0, "zoom": 1},
    }


def test_a_hosted_export_runs_locally(engine: LocalEngine) -> None:
    body = hosted_workflow()
    original = copy.deepcopy(body)
    wf = Workflow.from_dict(body, id="harbour")
    [poll] = engine.run("harbour", wf)
    assert poll.status == "COMPLETED"
    assert poll.node_run("prompt").output["prompt"] == "a quiet harbour"
    image = poll.node_run("t2i")
    assert image.output["seed"] == 7
    assert (image.images[0].width, image.images[0].height) == (64, 64)
    assert poll.node_run("caption").images[0].width == 64
    assert body == original  # the caller's workflow is not modified
    snapshot = engine.get_execution(engine.list_executions("harbour")[0].id).workflow_snapshot
    assert snapshot["nodes"][0]["width"] == 240 and snapshot["nodes"][0]["selected"] is True
    assert snapshot["nodes"][1]["data"]["inputs"] == [{"id": "prompt", "label": "Prompt", "type": "TEXT"}]
    assert snapshot["edges"][0]["sourceHandle"] == "out-prompt"


def test_params_win_over_config_and_config_over_data(engine: LocalEngine) -> None:
    body = {
        "nodes": [
            {
                "id": "a",
                "type": "basedNode",
                "data": {
                    "nodeType": "input:text",
                    "text": "data",
                    "config": {"text": "config"},
                    "params": {"text": "params"},
                },
            },
            {
                "id": "b",
                "type": "basedNode",
                "data": {"nodeType": "input:text", "text": "data", "config": {"text": "config"}},
            },
        ],
        "edges": [],
    }
    [poll] = engine.run("w", body)
    assert poll.node_run("a").text == "params"
    assert poll.node_run("b").text == "config"


def test_a_plain_dict_request_with_handles_in_either_form(engine: LocalEngine) -> None:
    body = {
        "nodes": [
            {"id": "a", "type": "input", "data": {"nodeType": "input:text", "text": "x"}},
            {"id": "b", "type": "utility", "data": {"nodeType": "text:template", "template": "<{{v}}>"}},
            {"id": "c", "type": "utility", "data": {"nodeType": "text:template", "template": "[{{v}}]"}},
        ],
        "edges": [
            {"source": "a", "target": "b", "sourceHandle": "out-text", "targetHandle": "in-v"},
            {"source": "b", "target": "c", "sourceHandle": "text", "targetHandle": "v"},
        ],
    }
    [poll] = engine.run("w", body)
    assert poll.node_run("c").text == "[<x>]"


def test_an_unknown_hosted_type_is_named_in_the_400(engine: LocalEngine) -> None:
    import pytest

    from wireflow_nb import BadRequestError

    body = hosted_workflow()
    body["nodes"][1]["data"]["nodeType"] = "video:kling_video_v2_6_pro_image_to_video"
    with pytest.raises(BadRequestError) as info:
        engine.execute("w", body)
    [detail] = info.value.details
    assert "video:kling_video_v2_6_pro_image_to_video" in detail["message"]
    assert detail["nodeId"] == "t2i"
