"""Contract tests: every example payload of the API reference parses and is written back
unchanged, and every variant of HOSTED-NOTES.md parses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wireflow_nb.models import (
    ExecuteRequest,
    ExecuteResponse,
    Execution,
    ExecutionStatus,
    ExecutionSummary,
    InsufficientCredits,
    NodeRunStatus,
    PollResponse,
    WireModel,
)

MODELS: dict[str, type[WireModel]] = {
    "execute-request.json": ExecuteRequest,
    "execute-response-201.json": ExecuteResponse,
    "execution-details.json": Execution,
    "insufficient-credits-402.json": InsufficientCredits,
    "poll-completed.json": PollResponse,
    "poll-failed.json": PollResponse,
    "poll-running.json": PollResponse,
}


def _examples(spec_dir: Path) -> Path:
    # the order (WIREFLOW_SPEC_DIR, ../shared/spec, tests/spec) is resolve_spec_dir's
    return spec_dir / "examples"


def test_every_example_file_has_a_model(spec_dir: Path) -> None:
    names = {p.name for p in _examples(spec_dir).glob("*.json")}
    assert names == set(MODELS) | {"executions-list.json"}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_example_round_trips(spec_dir: Path, name: str) -> None:
    payload = json.loads((_examples(spec_dir) / name).read_text())
    model = MODELS[name].model_validate(payload)
    assert model.model_dump(mode="json", by_alias=True, exclude_unset=True) == payload


def test_history_list_round_trips(spec_dir: Path) -> None:
    payload = json.loads((_examples(spec_dir) / "executions-list.json").read_text())
    rows = [ExecutionSummary.model_validate(row) for row in payload]
    assert [r.to_wire() for r in rows] == payload
    assert rows[0].state is ExecutionStatus.COMPLETED
    assert rows[0].execution_time == 15000


def test_snake_case_attributes_and_population_by_name() -> None:
    resp = ExecuteResponse(workflow_id="wf", batch_id="b", execution_runs=[])
    assert resp.to_wire() == {"workflowId": "wf", "batchId": "b", "executionRuns": []}
    parsed = ExecuteResponse.model_validate(
        {"workflowId": "wf", "executionRuns": [{"id": "x", "status": "RUNNING"}]}
    )
    assert parsed.execution_runs[0].id == "x"
    assert parsed.execution_id == "x"


def test_unknown_fields_are_kept_and_written_back() -> None:
    payload: dict[str, Any] = {
        "status": "COMPLETED",
        "queuePosition": 3,
        "nodeResults": {"nodeRuns": [{"nodeId": "a", "status": "COMPLETED", "costCents": 4, "output": None}]},
        "meta": {"region": "eu"},
    }
    model = PollResponse.model_validate(payload)
    assert model.to_wire() == payload
    assert model.extra_fields["queuePosition"] == 3


@pytest.mark.parametrize("status", ["RUNNING", "running", "IN_PROGRESS", "in_progress"])
def test_running_spellings(status: str) -> None:
    poll = PollResponse.model_validate({"status": status})
    assert poll.state is ExecutionStatus.RUNNING
    assert poll.to_wire() == {"status": status}
    assert not poll.is_terminal


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("queued", ExecutionStatus.PENDING),
        ("completed", ExecutionStatus.COMPLETED),
        ("TIMEOUT", ExecutionStatus.TIMEOUT),
        ("cancelled", ExecutionStatus.CANCELLED),
    ],
)
def test_status_spellings_normalize(status: str, state: ExecutionStatus) -> None:
    assert PollResponse.model_validate({"status": status}).state is state


def test_unknown_status_is_kept_as_string() -> None:
    poll = PollResponse.model_validate({"status": "WARMING_UP"})
    assert poll.status == "WARMING_UP"
    assert poll.state == "WARMING_UP"
    assert not poll.is_terminal
    assert poll.to_wire() == {"status": "WARMING_UP"}


@pytest.mark.parametrize("status", ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "failed", "timeout"])
def test_terminal_statuses(status: str) -> None:
    assert PollResponse.model_validate({"status": status}).is_terminal


def test_wrapped_poll_with_node_states() -> None:
    body = {
        "data": {
            "status": "running",
            "nodeStates": [
                {"nodeId": "n1", "label": "Prompt", "status": "completed", "text": "hello", "progress": 1},
                {
                    "nodeId": "n2",
                    "label": "Img",
                    "status": "running",
                    "outputUrls": ["https://x/a.png", "https://x/b.mp4"],
                    "requestId": "r1",
                },
                {"nodeId": "n3", "status": "failed", "error": {"message": "boom", "code": "E1"}},
            ],
            "finalOutput": {"url": "https://x/final.png"},
        },
        "requestId": "req-1",
    }
    poll = PollResponse.model_validate(body)
    assert poll.state is ExecutionStatus.RUNNING
    runs = {r.node_id: r for r in poll.node_runs}
    assert runs["n1"].text == "hello"
    assert runs["n1"].state is NodeRunStatus.COMPLETED
    assert [i.url for i in runs["n2"].images] == ["https://x/a.png"]
    assert [v.url for v in runs["n2"].videos] == ["https://x/b.mp4"]
    assert runs["n3"].error_message == "boom"
    assert [r.node_id for r in poll.failed_node_runs] == ["n3"]
    assert poll.to_wire() == body


def test_nested_error_bodies() -> None:
    poll = PollResponse.model_validate(
        {"status": "FAILED", "error": {"type": "provider_error", "message": "Model crashed", "code": "E500"}}
    )
    assert poll.error_message == "Model crashed"
    flat = PollResponse.model_validate({"status": "FAILED", "error": "Model inference failed"})
    assert flat.error_message == "Model inference failed"


def test_output_helpers_read_every_shape() -> None:
    from wireflow_nb.models import NodeRun

    full = NodeRun.model_validate(
        {
            "nodeId": "a",
            "status": "COMPLETED",
            "output": {
                "images": [
                    {"url": "https://x/1.png", "width": 512, "height": 256, "contentType": "image/png"}
                ],
                "text": "caption",
            },
        }
    )
    assert full.images[0].width == 512 and full.images[0].content_type == "image/png"
    assert full.text == "caption"
    assert full.videos == []
    bare_url = NodeRun.model_validate(
        {"nodeId": "b", "status": "COMPLETED", "output": {"url": "https://x/v.mp4"}}
    )
    assert [v.url for v in bare_url.videos] == ["https://x/v.mp4"] and bare_url.images == []
    bare_str = NodeRun.model_validate({"nodeId": "c", "status": "COMPLETED", "output": "https://x/i.webp"})
    assert [i.url for i in bare_str.images] == ["https://x/i.webp"]
    text_only = NodeRun.model_validate({"nodeId": "d", "status": "COMPLETED", "output": "just words"})
    assert text_only.text == "just words" and text_only.images == []
    empty = NodeRun.model_validate({"nodeId": "e", "status": "RUNNING", "output": None})
    assert (empty.images, empty.videos, empty.text) == ([], [], None)
    video = NodeRun.model_validate(
        {"nodeId": "f", "status": "COMPLETED", "output": {"videos": [{"url": "u", "durationSeconds": 2.5}]}}
    )
    assert video.videos[0].duration_seconds == 2.5


def test_based_node_shapes_parse_and_read_inputs() -> None:
    from wireflow_nb.models import Edge, Node

    params_node = Node.model_validate(
        {
            "id": "n1",
            "type": "basedNode",
            "position": {"x": 10, "y": 20},
            "data": {
                "label": "Flux",
                "nodeType": "generate:flux_2",
                "category": "model",
                "params": {"prompt": "a cat", "steps": 4},
                "inputs": [{"id": "prompt", "label": "Prompt", "type": "TEXT"}],
                "outputs": [{"id": "image", "label": "Image", "type": "IMAGE"}],
                "result": {"url": "stale"},
            },
            "selected": True,
            "width": 240,
        }
    )
    assert params_node.node_type == "generate:flux_2"
    assert params_node.inputs == {"prompt": "a cat", "steps": 4}
    assert [p["id"] for p in params_node.declared_outputs] == ["image"]
    params_node.set_input("prompt", "a dog")
    assert params_node.data["params"]["prompt"] == "a dog"
    assert "prompt" not in params_node.data
    assert params_node.to_wire()["selected"] is True

    config_node = Node.model_validate(
        {
            "id": "n2",
            "type": "basedNode",
            "position": {"x": 0, "y": 0},
            "data": {
                "nodeType": "input:text",
                "category": "input",
                "config": {"text": "hi"},
                "params": {"text": "hi"},
            },
        }
    )
    config_node.set_input("text", "yo")
    assert config_node.data["config"]["text"] == "yo" and config_node.data["params"]["text"] == "yo"

    edge = Edge.model_validate(
        {
            "id": "e1",
            "source": "n2",
            "target": "n1",
            "sourceHandle": "out-prompt",
            "targetHandle": "in-prompt",
        }
    )
    assert (edge.source_port, edge.target_port) == ("prompt", "prompt")
    assert edge.to_wire()["sourceHandle"] == "out-prompt"


def test_insufficient_credits_body() -> None:
    body = InsufficientCredits.model_validate(
        {
            "error": "Insufficient credits. Required: 60, Available: 3",
            "insufficientCredits": True,
            "requiredCredits": 60,
            "availableCredits": 3,
            "breakdown": [
                {"nodeId": "a", "nodeLabel": "Text to Image", "credits": 10},
                {"nodeId": "b", "nodeLabel": "Image to Video", "credits": 50},
            ],
        }
    )
    assert sum(item.credits for item in body.breakdown) == body.required_credits
