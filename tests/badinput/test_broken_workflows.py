"""Property tests: hypothesis-generated broken workflows (cycles, dangling edges,
duplicate ids, wrong types, unknown handles and types, missing inputs, huge strings,
unicode, chains thousands of nodes deep) against ``Workflow.validate``,
``LocalEngine.execute`` and a real server. Always a ``WorkflowValidationError`` /
``BadRequestError`` / 400 that names the problem, quickly; never a 500, another
exception, or a hang."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests._servers import RunningServer, running_server
from wireflow_nb import Workflow
from wireflow_nb._exceptions import BadRequestError, WorkflowValidationError
from wireflow_nb.engine import LocalEngine

from ._graphs import Broken, broken_workflows, chains

#: Seconds one refusal may take, however big or deep the workflow.
QUICK = 10.0
SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


def strings(value: Any) -> str:
    """Every string inside a JSON value, raw (not JSON-escaped), one per line."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(strings(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(strings(v) for v in value)
    return ""


def names_everything(broken: Broken, text: str) -> None:
    for needle in broken.names:
        variants = {needle, repr(needle)[1:-1], json.dumps(needle)[1:-1], needle[:60]}
        assert any(v and v in text for v in variants), (
            f"{broken.kind}: the error does not name {needle[:80]!r}:\n{text[:2000]}"
        )


@pytest.fixture(scope="module")
def engine() -> Iterator[LocalEngine]:
    with LocalEngine(":memory:", model_latency=0, credits=1_000_000) as local:
        yield local


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("badinput-home"), credits=1_000_000) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with server.http() as client:
        yield client


@SETTINGS
@given(broken=broken_workflows())
def test_validate_names_the_problem(broken: Broken) -> None:
    started = time.monotonic()
    try:
        workflow = Workflow.from_dict(broken.body)
        workflow.validate(target_node_id=broken.body.get("targetNodeId"))
    except WorkflowValidationError as exc:
        assert exc.problems
        names_everything(broken, str(exc) + strings([p.to_detail() for p in exc.problems]))
    else:
        assert not broken.structural, f"{broken.kind} passed Workflow.validate"
    assert time.monotonic() - started < QUICK


@SETTINGS
@given(broken=broken_workflows())
def test_engine_refuses_with_a_bad_request(engine: LocalEngine, broken: Broken) -> None:
    started = time.monotonic()
    with pytest.raises(BadRequestError) as caught:
        engine.execute("broken", broken.body)
    elapsed = time.monotonic() - started
    error = caught.value
    assert error.status_code == 400
    assert isinstance(error.body, dict) and error.body.get("error")
    names_everything(broken, str(error) + strings(error.body))
    assert elapsed < QUICK


@SETTINGS
@given(broken=broken_workflows())
def test_server_answers_400_naming_the_problem(http: httpx.Client, broken: Broken) -> None:
    started = time.monotonic()
    answer = http.post("/workflows/broken/execute", json=broken.body)
    elapsed = time.monotonic() - started
    assert answer.status_code == 400, answer.text[:500]
    body = answer.json()
    assert isinstance(body.get("error"), str) and body["error"]
    assert isinstance(body.get("details"), list) and body["details"]
    names_everything(broken, strings(body))
    assert elapsed < QUICK


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=chains(min_size=1, max_size=6))
def test_valid_workflows_with_unicode_ids_run_everywhere(
    engine: LocalEngine, http: httpx.Client, body: Any
) -> None:
    """The flip side: odd but valid ids and texts (RTL, emoji, NUL, combining marks) run."""
    [result] = engine.run("unicode", body, timeout=30)
    assert result.status == "COMPLETED"
    answer = http.post("/workflows/unicode/execute", json=body)
    assert answer.status_code == 201, answer.text[:500]
    run_id = answer.json()["executionRuns"][0]["id"]
    deadline = time.monotonic() + 30
    while True:
        poll = http.get(f"/workflows/executions/{run_id}/poll").json()
        if poll["status"] not in ("PENDING", "RUNNING") or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert poll["status"] == "COMPLETED", poll
    details = http.get(f"/workflows/executions/{run_id}").json()
    assert [n["id"] for n in details["workflowSnapshot"]["nodes"]] == [n["id"] for n in body["nodes"]]


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=30,
)
_KEYED_JSON = st.fixed_dictionaries(
    {},
    optional={
        "nodes": _JSON,
        "edges": _JSON,
        "targetNodeId": _JSON,
        "triggerData": _JSON,
        "iteratorConfigs": _JSON,
    },
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=st.one_of(_JSON, _KEYED_JSON))
def test_any_json_body_is_never_a_server_error(http: httpx.Client, payload: Any) -> None:
    answer = http.post("/workflows/junk/execute", json=payload)
    assert answer.status_code in (201, 400, 402), answer.text[:500]
    if answer.status_code == 400:
        assert answer.json()["error"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=200))
def test_any_bytes_body_is_never_a_server_error(http: httpx.Client, raw: bytes) -> None:
    answer = http.post("/workflows/junk/execute", content=raw, headers={"Content-Type": "application/json"})
    assert answer.status_code in (201, 400, 402), answer.text[:500]


LONE_SURROGATES = ["\ud800", "a\udfffb", "\udc00" * 3]


@pytest.mark.parametrize("where", ["id", "label", "text", "edge", "triggerData"])
@pytest.mark.parametrize("surrogate", LONE_SURROGATES, ids=["high", "low-inside", "lows"])
def test_lone_surrogates_are_a_bad_request(
    engine: LocalEngine, http: httpx.Client, where: str, surrogate: str
) -> None:
    """JSON may escape a lone surrogate (``"\\ud800"``) though no UTF-8 text can hold it:
    a clear 400 naming where it is, not a 500 from deep inside the store."""
    node: dict[str, Any] = {"id": "p", "type": "input", "position": {"x": 0, "y": 0}}
    node["data"] = {"nodeType": "input:text", "label": "l", "text": "t"}
    body: dict[str, Any] = {"nodes": [node], "edges": []}
    if where == "id":
        node["id"] = "p" + surrogate
    elif where == "edge":
        body["nodes"].append(
            {**node, "id": "q", "data": {"nodeType": "text:template", "template": "{{text}}"}}
        )
        body["edges"].append(
            {
                "id": "e" + surrogate,
                "source": "p",
                "target": "q",
                "sourceHandle": "text",
                "targetHandle": "text",
            }
        )
    elif where == "triggerData":
        body["triggerData"] = {"name": surrogate}
    else:
        node["data"][where] = surrogate
    raw = json.dumps(body)  # ensure_ascii: "\ud800" is escaped, so this is valid JSON
    answer = http.post(
        "/workflows/surrogates/execute", content=raw, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400, answer.text[:500]
    error = answer.json()["error"]
    assert "lone surrogate" in error, error
    expected = {
        "id": "nodes[0]",
        "label": "data.label",
        "text": "data.text",
        "edge": "edges[0].id",
        "triggerData": "triggerData",
    }
    assert expected[where] in error, error
    with pytest.raises(BadRequestError) as caught:
        engine.execute("surrogates", body)
    assert "lone surrogate" in str(caught.value)
    assert [d.get("code") for d in caught.value.details] == ["invalid_unicode"]
