"""Hostile JSON against a real ``wireflow-nb serve`` (issue 10, point 4): ``NaN``,
``Infinity``, ``1e999``, 100,000-deep nesting, 5,000-digit integers and floods of values
are each a 400 naming the problem, and nothing is stored that would break poll, details
or the history list afterwards.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests._servers import RunningServer
from tests.security._attack import history, open_home_server, tiny_workflow

__all__ = ["open_home_server"]


@pytest.fixture
def server(open_home_server: RunningServer) -> RunningServer:
    return open_home_server


def _with_text(value: str) -> bytes:
    """The tiny workflow with ``value`` (raw JSON) as the prompt node's text."""
    marker = "__VALUE__"
    return json.dumps(tiny_workflow(marker)).replace(f'"{marker}"', value).encode()


HOSTILE = {
    "nan": (_with_text("NaN"), "NaN"),
    "infinity": (_with_text("Infinity"), "Infinity"),
    "minus-infinity": (_with_text("-Infinity"), "-Infinity"),
    "overflowing-float": (_with_text("1e999"), "out of range"),
    "nan-in-trigger-data": (
        json.dumps({**tiny_workflow(), "triggerData": {"x": "__"}}).replace('"__"', "[1, NaN]").encode(),
        "NaN",
    ),
    "deep-arrays": (b"[" * 100_000 + b"]" * 100_000, "nested more than 64"),
    "deep-arrays-unclosed": (b"[" * 100_000, "nested more than 64"),
    "deep-objects": (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested more than 64"),
    "deep-trigger-data": (
        json.dumps({**tiny_workflow(), "triggerData": "__"}).replace('"__"', "[" * 80 + "]" * 80).encode(),
        "nested more than 64",
    ),
    "huge-integer": (_with_text("9" * 5000), "limited to 40 digits"),
    "long-negative-integer": (_with_text("-" + "1" * 41), "limited to 40 digits"),
    "a-flood-of-numbers": (
        json.dumps({**tiny_workflow(), "triggerData": "__"})
        .replace('"__"', "[" + "0," * 1_100_000 + "0]")
        .encode(),
        "more than 1,000,000 values",
    ),
    "a-flood-of-strings": (
        json.dumps({**tiny_workflow(), "triggerData": [""] * 1_100_000}).encode(),
        "more than 1,000,000 values",
    ),
    "huge-seed": (
        json.dumps(tiny_workflow()).replace('"seed": 1', '"seed": ' + "7" * 4300).encode(),
        "limited to 40 digits",
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_json_is_a_named_400_and_nothing_is_stored(server: RunningServer, name: str) -> None:
    raw, fragment = HOSTILE[name]
    workflow_id = f"hostile-{name}"
    answer = httpx.post(
        f"{server.base_url}/workflows/{workflow_id}/execute",
        content=raw,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert answer.status_code == 400, answer.text[:500]
    body = answer.json()
    assert fragment in body["error"], body["error"][:500]
    assert body["details"] and body["details"][0]["code"]
    assert history(server, workflow_id) == []


def test_json_within_the_limits_runs_and_renders(server: RunningServer) -> None:
    """The control: nesting of 60 levels, 40-digit integers, big finite floats."""
    body = tiny_workflow()
    body["triggerData"] = {"deep": json.loads("[" * 60 + "1.5e308" + "]" * 60), "n": int("9" * 40)}
    answer = httpx.post(f"{server.base_url}/workflows/within/execute", json=body, timeout=60)
    assert answer.status_code == 201, answer.text[:500]
    run_id = answer.json()["executionRuns"][0]["id"]
    with server.client(poll_initial=0.05) as client:
        assert client.wait(run_id, timeout=60).status == "COMPLETED"
    assert httpx.get(f"{server.base_url}/workflows/executions/{run_id}", timeout=30).status_code == 200
    assert [row["id"] for row in history(server, "within")] == [run_id]
