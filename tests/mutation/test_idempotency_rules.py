"""Idempotency keys: the same key with the same body gets the original answer; another
body gets a 422; keys are scoped (per API key on the server) and kept 24 hours.

Written against the mutants of ``idempotency_hash``, ``LocalEngine.execute`` and the
store's idempotency table that no test caught (``benchmarks/mutation.py``).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from wireflow_nb import UnprocessableEntityError, Workflow
from wireflow_nb.engine import LocalEngine, local
from wireflow_nb.models import ExecuteRequest


def _request(prompt: str = "a fox", *, data_order: tuple[str, ...] = ("text", "label")) -> dict[str, Any]:
    values = {"text": prompt, "label": "Prompt"}
    return {
        "nodes": [
            {
                "id": "prompt",
                "type": "input",
                "data": {"nodeType": "input:text", **{k: values[k] for k in data_order}},
            }
        ],
        "edges": [],
    }


def test_the_same_body_with_its_keys_in_another_order_is_the_same_request(
    make_engine: Callable[..., LocalEngine],
) -> None:
    engine = make_engine()
    first = engine.execute("w", _request(data_order=("text", "label")), idempotency_key="k")
    again = engine.execute("w", _request(data_order=("label", "text")), idempotency_key="k")
    assert again.to_wire() == first.to_wire()
    assert len(engine.list_executions("w")) == 1


def test_a_retry_that_adds_a_field_is_another_request(make_engine: Callable[..., LocalEngine]) -> None:
    """The key covers the body as sent: a field given the second time (even an explicit
    null, the value it has when left out) makes it another request, refused rather than
    answered with the response of something else."""
    engine = make_engine()
    engine.execute("w", ExecuteRequest.model_validate(_request()), idempotency_key="k")
    explicit_null = ExecuteRequest.model_validate({**_request(), "targetNodeId": None})
    with pytest.raises(UnprocessableEntityError):
        engine.execute("w", explicit_null, idempotency_key="k")


def test_every_other_body_is_refused_whatever_its_hash(make_engine: Callable[..., LocalEngine]) -> None:
    engine = make_engine()
    first = engine.execute("w", _request("the first"), idempotency_key="k")
    for i in range(12):
        with pytest.raises(UnprocessableEntityError):
            engine.execute("w", _request(f"another body {i}"), idempotency_key="k")
    assert engine.execute("w", _request("the first"), idempotency_key="k").to_wire() == first.to_wire()


def test_a_refused_key_names_the_key_and_the_24_hours(make_engine: Callable[..., LocalEngine]) -> None:
    engine = make_engine()
    engine.execute("w", _request("a"), idempotency_key="retry-7")
    with pytest.raises(UnprocessableEntityError) as info:
        engine.execute("w", _request("b"), idempotency_key="retry-7")
    assert info.value.body == {
        "error": "Idempotency-Key 'retry-7' was already used with a different request in the last 24 hours; "
        "send a new key for a new request"
    }


def test_without_a_key_every_request_runs(make_engine: Callable[..., LocalEngine]) -> None:
    engine = make_engine()
    first = engine.execute("w", _request())
    second = engine.execute("w", _request())
    assert first.execution_id != second.execution_id
    # and a request without a key does not use up a key for the same body
    keyed = engine.execute("w", _request(), idempotency_key="k")
    assert keyed.execution_id not in (first.execution_id, second.execution_id)


def test_a_key_is_honoured_until_24_hours_have_passed(
    make_engine: Callable[..., LocalEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine()
    now = time.time()
    monkeypatch.setattr(local.time, "time", lambda: now)
    first = engine.execute("w", _request(), idempotency_key="k")
    monkeypatch.setattr(local.time, "time", lambda: now + local.IDEMPOTENCY_TTL - 60)
    assert engine.execute("w", _request(), idempotency_key="k").execution_id == first.execution_id
    with pytest.raises(UnprocessableEntityError):
        engine.execute("w", _request("other"), idempotency_key="k")
    monkeypatch.setattr(local.time, "time", lambda: now + local.IDEMPOTENCY_TTL + 60)
    later = engine.execute("w", _request(), idempotency_key="k")  # expired: a new run
    assert later.execution_id != first.execution_id
    # and the new run now owns the key
    assert engine.execute("w", _request(), idempotency_key="k").execution_id == later.execution_id


def _stored_keys(home: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(home / "wireflow_nb.sqlite3") as conn:
        return sorted(conn.execute("SELECT scope, key FROM idempotency").fetchall())


def test_expired_keys_are_deleted_when_a_home_is_opened(
    tmp_path: Path, make_engine: Callable[..., LocalEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No key is kept longer than its 24 hours: the next engine on the home drops it."""
    now = time.time()
    monkeypatch.setattr(local.time, "time", lambda: now)
    first = make_engine(tmp_path)
    first.execute("w", _request("old"), idempotency_key="old")
    monkeypatch.setattr(local.time, "time", lambda: now + local.IDEMPOTENCY_TTL - 3600)
    first.execute("w", _request("young"), idempotency_key="young")
    first.close()
    monkeypatch.setattr(local.time, "time", lambda: now + local.IDEMPOTENCY_TTL + 60)
    make_engine(tmp_path)
    assert _stored_keys(tmp_path) == [("local", "young")]


def test_scopes_keep_keys_apart_in_both_directions(make_engine: Callable[..., LocalEngine]) -> None:
    engine = make_engine()
    a = engine.execute("w", _request("a"), idempotency_key="k", idempotency_scope="key-a")
    b = engine.execute("w", _request("b"), idempotency_key="k", idempotency_scope="key-b")
    assert a.execution_id != b.execution_id
    # each scope still answers its own retry with its own response
    assert (
        engine.execute("w", _request("a"), idempotency_key="k", idempotency_scope="key-a").to_wire()
        == a.to_wire()
    )
    assert (
        engine.execute("w", _request("b"), idempotency_key="k", idempotency_scope="key-b").to_wire()
        == b.to_wire()
    )
    # the same body under a third scope is a new run, not another scope's answer
    c = engine.execute("w", _request("a"), idempotency_key="k", idempotency_scope="key-c")
    assert c.execution_id not in (a.execution_id, b.execution_id)
    with pytest.raises(UnprocessableEntityError):
        engine.execute("w", _request("b"), idempotency_key="k", idempotency_scope="key-a")


def test_the_answer_to_a_retry_is_the_original_batch(make_engine: Callable[..., LocalEngine]) -> None:
    engine = make_engine()
    flow = Workflow("w")
    flow.add_node("input:text", id="p", text="x")
    configs = [{"nodeId": "p", "field": "text", "values": ["a", "b", "c"]}]
    first = engine.execute("w", flow, iterator_configs=configs, idempotency_key="batch")
    again = engine.execute("w", flow, iterator_configs=configs, idempotency_key="batch")
    assert again.to_wire() == first.to_wire()
    assert len(again.execution_ids) == 3
    assert len(engine.list_executions("w")) == 3
