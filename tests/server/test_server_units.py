"""The server's pure parts, without a server: rate limiter, bearer auth, error bodies,
request parsing, the OpenAPI document against the routes."""

from __future__ import annotations

import math
from typing import Any

import pytest

from wireflow_nb._exceptions import (
    BadRequestError,
    InsufficientCreditsError,
    NotFoundError,
    Problem,
    UnprocessableEntityError,
)
from wireflow_nb.models import CreditsBreakdownItem
from wireflow_nb.server.account_routes import account_routes
from wireflow_nb.server.auth import BearerAuth, bearer_token, is_loopback_host, key_fingerprint
from wireflow_nb.server.errors import insufficient_credits_body, status_error_body
from wireflow_nb.server.openapi import openapi_document
from wireflow_nb.server.ratelimit import RateLimiter
from wireflow_nb.server.routes import api_routes, parse_execute_request
from wireflow_nb.server.serve import url_host

KEY = "sk-unit-test-key-123456"


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- rate limiter -------------------------------------------------------------------------


def test_rate_limiter_counts_down_then_refuses_until_the_window_resets() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, clock=clock)
    remaining = [limiter.hit("a").remaining for _ in range(3)]
    assert remaining == [2, 1, 0]
    clock.now += 10
    refused = limiter.hit("a")
    assert not refused.allowed
    assert refused.retry_after == 50
    headers = refused.headers()
    assert headers["Retry-After"] == "50"
    assert headers["X-RateLimit-Limit"] == "3"
    assert headers["X-RateLimit-Remaining"] == "0"
    assert headers["X-RateLimit-Reset"] == str(math.ceil(1_700_000_060.0))
    body = refused.body()
    assert set(body) == {"error", "retryAfter"}
    assert body["retryAfter"] == 1_700_000_060
    # another caller has its own budget
    assert limiter.hit("b").allowed
    clock.now += 50
    again = limiter.hit("a")
    assert again.allowed and again.remaining == 2


def test_rate_limiter_refusals_do_not_consume_and_retry_after_is_at_least_one_second() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    assert limiter.hit("a").allowed
    clock.now += 59.9
    refused = limiter.hit("a")
    assert not refused.allowed and refused.retry_after == 1
    assert "Retry-After" not in limiter.hit("b").headers()


def test_rate_limiter_rejects_a_zero_limit() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)


# -- auth -----------------------------------------------------------------------------------


def test_bearer_token_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer   abc  ") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token("Bearer") is None
    assert bearer_token(None) is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("10.0.0.1", False),
        ("0.0.0.0", False),
        ("example.com", False),
        (None, False),
    ],
)
def test_is_loopback_host(host: str | None, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_auth_with_a_key() -> None:
    auth = BearerAuth(KEY)
    ok = auth.authenticate(f"Bearer {KEY}", "10.1.2.3")
    assert ok.ok and ok.scope == key_fingerprint(KEY) and KEY not in ok.identity
    missing = auth.authenticate(None, "127.0.0.1")
    assert not missing.ok and "Missing Authorization header" in (missing.error or "")
    wrong = auth.authenticate("Bearer sk-wrong-key-999", "127.0.0.1")
    assert wrong.error == "Invalid API key"
    malformed = auth.authenticate(f"Token {KEY}", "127.0.0.1")
    assert not malformed.ok and KEY not in (malformed.error or "")
    # public routes need no key, but a wrong key is not held against them
    assert auth.authenticate(None, "127.0.0.1", public=True).ok


def test_auth_without_a_key_lets_only_loopback_clients_in() -> None:
    auth = BearerAuth(None)
    assert not auth.required
    assert auth.authenticate(None, "127.0.0.1").ok
    assert auth.authenticate(None, "::1").ok
    remote = auth.authenticate(None, "192.168.1.20")
    assert not remote.ok and "loopback" in (remote.error or "")
    assert not auth.authenticate(None, "192.168.1.20", public=True).ok
    # a key shown anyway scopes idempotency keys
    a = auth.authenticate("Bearer one", "127.0.0.1")
    b = auth.authenticate("Bearer two", "127.0.0.1")
    assert a.scope != b.scope and a.scope == key_fingerprint("one")


def test_key_compare_uses_hmac_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    from wireflow_nb.server import auth as auth_module

    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth_module.hmac, "compare_digest", spy)
    assert BearerAuth(KEY).matches(KEY)
    assert calls == [(KEY.encode(), KEY.encode())]


# -- error bodies ---------------------------------------------------------------------------


def test_402_body_is_the_spec_body_from_the_error_attributes() -> None:
    exc = InsufficientCreditsError(
        "no credits",
        required_credits=10.0,
        available_credits=3,
        breakdown=[CreditsBreakdownItem(node_id="node-1", node_label="Text to Image", credits=10.0)],
    )
    assert insufficient_credits_body(exc) == {
        "error": "Insufficient credits. Required: 10, Available: 3",
        "insufficientCredits": True,
        "requiredCredits": 10,
        "availableCredits": 3,
        "breakdown": [{"nodeId": "node-1", "nodeLabel": "Text to Image", "credits": 10}],
    }


def test_402_body_keeps_the_engine_body(spec_dir: Any) -> None:
    import json

    spec_body = json.loads((spec_dir / "examples" / "insufficient-credits-402.json").read_text())
    exc = InsufficientCreditsError("x", body=spec_body, required_credits=10, available_credits=3)
    assert insufficient_credits_body(exc) == spec_body


def test_400_body_always_has_details() -> None:
    body = status_error_body(BadRequestError("bad graph"))
    assert body == {"error": "bad graph", "details": []}
    detail = Problem("cycle", "a -> b -> a is a cycle", node_id="a").to_detail()
    body = status_error_body(BadRequestError("bad", body={"error": "bad graph", "details": [detail, "junk"]}))
    assert body == {"error": "bad graph", "details": [detail]}


def test_other_status_errors_have_an_error_string() -> None:
    assert status_error_body(NotFoundError("Execution x not found")) == {"error": "Execution x not found"}
    body = status_error_body(
        UnprocessableEntityError("reused", body={"error": "reused", "code": "idempotency"})
    )
    assert body == {"error": "reused", "code": "idempotency"}


# -- request parsing ------------------------------------------------------------------------


def test_execute_request_parsing_lists_every_problem() -> None:
    with pytest.raises(BadRequestError) as caught:
        parse_execute_request({"nodes": "x"})
    fields = {d["field"] for d in caught.value.details}
    assert fields == {"nodes", "edges"}

    with pytest.raises(BadRequestError) as caught:
        parse_execute_request(
            {"nodes": [{"id": "n1", "data": {}}, {"data": {}}], "edges": [{"source": "n1"}]}
        )
    details = caught.value.details
    assert any(d.get("field") == "nodes.1.id" for d in details)
    assert any(d.get("field") == "edges.0.target" for d in details)

    with pytest.raises(BadRequestError):
        parse_execute_request([1, 2])

    parsed = parse_execute_request({"nodes": [], "edges": [], "targetNodeId": "n1"})
    assert parsed.target_node_id == "n1"


# -- OpenAPI --------------------------------------------------------------------------------


def _openapi_path(route_path: str) -> str:
    path = route_path.removeprefix("/api/v1")
    return (
        path.replace("{workflow_id}", "{id}")
        .replace("{execution_id}", "{executionId}")
        .replace("{webhook_id}", "{webhookId}")
    )


def test_openapi_document_names_every_route_and_nothing_else() -> None:
    document = openapi_document(server_url="http://127.0.0.1:1/api/v1")
    served = {
        (_openapi_path(route.path), method.lower())
        for route in [*api_routes(), *account_routes()]
        for method in (route.methods or ())
        if method != "HEAD"
    }
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert served == documented
    assert document["openapi"].startswith("3.")
    assert document["servers"] == [{"url": "http://127.0.0.1:1/api/v1"}]


def test_openapi_refs_all_resolve() -> None:
    document = openapi_document()

    def refs(value: Any) -> list[str]:
        if isinstance(value, dict):
            found = [value["$ref"]] if "$ref" in value else []
            return found + [r for v in value.values() for r in refs(v)]
        if isinstance(value, list):
            return [r for v in value for r in refs(v)]
        return []

    for ref in refs(document):
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        assert node, ref


def test_url_host() -> None:
    assert url_host("127.0.0.1") == "127.0.0.1"
    assert url_host("0.0.0.0") == "127.0.0.1"
    assert url_host("::1") == "[::1]"
    assert url_host("::") == "[::1]"
    assert url_host("localhost") == "localhost"
