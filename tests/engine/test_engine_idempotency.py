"""Idempotency keys: same key + same body within 24 h -> the original response, nothing new."""

from __future__ import annotations

from typing import Any

import pytest
from _engine_helpers import text_to_image_workflow

from wireflow_nb import UnprocessableEntityError
from wireflow_nb.engine import LocalEngine, local


def test_same_key_same_body_returns_the_original_and_starts_nothing(engine: LocalEngine) -> None:
    wf = text_to_image_workflow()
    first = engine.execute("w", wf, idempotency_key="key-1")
    engine.wait(first.execution_id)
    again = engine.execute("w", wf, idempotency_key="key-1")
    assert again.to_wire() == first.to_wire()
    assert [s.id for s in engine.list_executions("w")] == [first.execution_id]
    assert engine.credits_balance() == 990


def test_same_key_other_body_is_a_422(engine: LocalEngine) -> None:
    engine.execute("w", text_to_image_workflow("a"), idempotency_key="key-1")
    with pytest.raises(UnprocessableEntityError) as info:
        engine.execute("w", text_to_image_workflow("b"), idempotency_key="key-1")
    assert info.value.status_code == 422
    assert "key-1" in info.value.body["error"]
    with pytest.raises(UnprocessableEntityError):  # another workflow id is another body too
        engine.execute("other", text_to_image_workflow("a"), idempotency_key="key-1")
    assert len(engine.list_executions("w")) == 1


def test_keys_are_scoped(engine: LocalEngine) -> None:
    a = engine.execute("w", text_to_image_workflow("a"), idempotency_key="k", idempotency_scope="api-key-1")
    b = engine.execute("w", text_to_image_workflow("b"), idempotency_key="k", idempotency_scope="api-key-2")
    assert a.execution_id != b.execution_id


def test_keys_expire_after_24_hours(engine: LocalEngine, monkeypatch: Any) -> None:
    import time

    wf = text_to_image_workflow()
    first = engine.execute("w", wf, idempotency_key="k")
    now = time.time()
    monkeypatch.setattr(local.time, "time", lambda: now + local.IDEMPOTENCY_TTL + 1)
    again = engine.execute("w", text_to_image_workflow("other"), idempotency_key="k")
    assert again.execution_id != first.execution_id


def test_a_refused_request_does_not_use_up_the_key(make_engine: Any) -> None:
    engine = make_engine(credits=0)
    from wireflow_nb import InsufficientCreditsError

    with pytest.raises(InsufficientCreditsError):
        engine.execute("w", text_to_image_workflow(), idempotency_key="k")
    engine.add_credits(10)
    response = engine.execute("w", text_to_image_workflow(), idempotency_key="k")
    assert engine.wait(response.execution_id).status == "COMPLETED"


def test_keys_survive_a_restart(tmp_path: Any, make_engine: Any) -> None:
    first = make_engine(tmp_path)
    response = first.execute("w", text_to_image_workflow(), idempotency_key="k")
    first.wait(response.execution_id)
    first.close()
    second = make_engine(tmp_path)
    assert (
        second.execute("w", text_to_image_workflow(), idempotency_key="k").execution_id
        == response.execution_id
    )
