"""Property tests: random payloads of every response shape, with unknown fields and odd
status spellings, are written back exactly as they were read."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from wireflow_nb.models import (
    ExecuteRequest,
    ExecuteResponse,
    Execution,
    ExecutionSummary,
    InsufficientCredits,
    PollResponse,
)

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**40), 2**40),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=12),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
statuses = st.one_of(
    st.sampled_from(
        [
            "PENDING",
            "RUNNING",
            "COMPLETED",
            "FAILED",
            "CANCELLED",
            "TIMEOUT",
            "queued",
            "running",
            "IN_PROGRESS",
        ]
    ),
    st.text(min_size=1, max_size=10),
)
#: Keys no model declares, so they exercise the "unknown fields are kept" rule.
extra_keys = st.dictionaries(
    st.sampled_from(["zExtra", "queuePosition", "region", "costCents"]), json_values, max_size=2
)
times = st.one_of(st.none(), st.just("2025-03-20T12:01:00.000Z"))
errors = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.fixed_dictionaries({"type": st.text(max_size=5), "message": st.text(max_size=10)}),
)


@st.composite
def node_runs(draw: st.DrawFn) -> dict[str, Any]:
    run: dict[str, Any] = {"nodeId": draw(st.text(min_size=1, max_size=8)), "status": draw(statuses)}
    if draw(st.booleans()):
        run["output"] = draw(
            st.one_of(
                st.none(),
                st.fixed_dictionaries(
                    {"images": st.lists(st.fixed_dictionaries({"url": st.text(max_size=20)}), max_size=2)}
                ),
                st.fixed_dictionaries({"text": st.text(max_size=20)}),
                st.text(max_size=20),
            )
        )
    if draw(st.booleans()):
        run["error"] = draw(errors)
    run.update(draw(extra_keys))
    return run


@st.composite
def polls(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {"status": draw(statuses)}
    if draw(st.booleans()):
        body["nodeResults"] = {"nodeRuns": draw(st.lists(node_runs(), max_size=3))}
    if draw(st.booleans()):
        body["error"] = draw(errors)
    body.update(draw(extra_keys))
    if draw(st.booleans()):
        return {
            "data": body,
            **draw(st.dictionaries(st.sampled_from(["requestId", "meta"]), json_values, max_size=2)),
        }
    return body


@st.composite
def execute_responses(draw: st.DrawFn) -> dict[str, Any]:
    runs = []
    for i in range(draw(st.integers(0, 3))):
        runs.append(
            {
                "id": f"exec_{i}",
                "startTime": draw(times),
                "endTime": draw(times),
                "status": draw(statuses),
                "error": draw(errors),
                "nodeRuns": draw(st.lists(node_runs(), max_size=2)),
                "batchId": "b",
                "runIndexInBatch": i,
                "inputIndex": i,
                **draw(extra_keys),
            }
        )
    return {
        "workflowId": draw(st.text(min_size=1, max_size=8)),
        "batchId": "b",
        "executionRuns": runs,
        **draw(extra_keys),
    }


@st.composite
def executions(draw: st.DrawFn) -> dict[str, Any]:
    body = {
        "id": draw(st.text(min_size=1, max_size=8)),
        "workflowId": "wf",
        "status": draw(statuses),
        "triggeredBy": draw(st.sampled_from(["manual", "trigger", "api"])),
        "triggerData": draw(st.dictionaries(st.text(max_size=5), json_values, max_size=2)),
        "nodeResults": {"nodeRuns": draw(st.lists(node_runs(), max_size=2))},
        "error": draw(errors),
        "executionTime": draw(st.one_of(st.none(), st.integers(0, 10**7))),
        "creditsUsed": draw(st.integers(0, 1000)),
        "startedAt": draw(times),
        "completedAt": draw(times),
        **draw(extra_keys),
    }
    return body


def _same_after_json(model_cls: Any, payload: Any) -> None:
    payload = json.loads(json.dumps(payload))
    assert (
        model_cls.model_validate(payload).model_dump(mode="json", by_alias=True, exclude_unset=True)
        == payload
    )


@settings(max_examples=80, deadline=None)
@given(polls())
def test_poll_bodies_round_trip(payload: dict[str, Any]) -> None:
    _same_after_json(PollResponse, payload)


@settings(max_examples=60, deadline=None)
@given(execute_responses())
def test_execute_responses_round_trip(payload: dict[str, Any]) -> None:
    _same_after_json(ExecuteResponse, payload)


@settings(max_examples=60, deadline=None)
@given(executions())
def test_executions_round_trip(payload: dict[str, Any]) -> None:
    _same_after_json(Execution, payload)
    summary = {
        k: payload[k]
        for k in (
            "id",
            "workflowId",
            "status",
            "triggeredBy",
            "executionTime",
            "creditsUsed",
            "startedAt",
            "completedAt",
            "error",
        )
    }
    _same_after_json(ExecutionSummary, summary)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "nodeId": st.text(min_size=1, max_size=5),
                "nodeLabel": st.text(max_size=8),
                "credits": st.integers(0, 100),
            }
        ),
        max_size=4,
    ),
    st.integers(0, 1000),
)
def test_insufficient_credit_bodies_round_trip(breakdown: list[dict[str, Any]], available: int) -> None:
    required = sum(item["credits"] for item in breakdown)
    _same_after_json(
        InsufficientCredits,
        {
            "error": f"Insufficient credits. Required: {required}, Available: {available}",
            "insufficientCredits": True,
            "requiredCredits": required,
            "availableCredits": available,
            "breakdown": breakdown,
        },
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "id": st.text(min_size=1, max_size=6),
                "type": st.sampled_from(["model", "basedNode", "input"]),
                "position": st.fixed_dictionaries(
                    {"x": st.integers(-999, 999), "y": st.floats(-999, 999, allow_nan=False)}
                ),
                "data": st.dictionaries(st.text(max_size=8), json_values, max_size=4),
            }
        ),
        min_size=1,
        max_size=4,
    ),
    extra_keys,
)
def test_execute_requests_round_trip(nodes: list[dict[str, Any]], extra: dict[str, Any]) -> None:
    _same_after_json(ExecuteRequest, {"nodes": nodes, "edges": [], **extra})
