"""API keys of the local server: who gets in, under which identity and idempotency scope,
and what a refused caller is told (never the key).

Written against the mutants of ``wireflow_nb/server/auth.py`` no test caught
(``benchmarks/mutation.py``).
"""

from __future__ import annotations

import hashlib

import pytest

from wireflow_nb.server.auth import AuthResult, BearerAuth, bearer_token, is_loopback_host, key_fingerprint

KEY = "sk-test-ünïcode-0123456789"


def test_the_fingerprint_is_the_sha256_of_the_utf8_key() -> None:
    assert key_fingerprint(KEY) == hashlib.sha256(KEY.encode("utf-8")).hexdigest()
    assert key_fingerprint("a") != key_fingerprint("b")
    assert len(key_fingerprint("")) == 64


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("", False),
        ("LOCALHOST", True),
        ("[127.0.0.1]", True),
        ("::ffff:10.0.0.1", False),
        ("[::ffff:127.0.0.2]", True),
        ("::2", False),
        ("fe80::1", False),
        ("127.0.0.1.example.com", False),
        ("localhost.example.com", False),
        ("not an address", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("", None),
        ("Bearer    ", None),
        ("BEARER abc", "abc"),
        ("  Bearer abc", "abc"),
        ("Bearer a b", "a b"),
        ("Bearerabc", None),
        ("Bear abc", None),
    ],
)
def test_bearer_tokens(header: str, token: str | None) -> None:
    assert bearer_token(header) == token


def test_the_right_key_lets_a_remote_client_in_under_the_keys_fingerprint() -> None:
    auth = BearerAuth(KEY)
    assert auth.required
    result = auth.authenticate(f"Bearer {KEY}", "203.0.113.9")
    assert result == AuthResult(f"key:{key_fingerprint(KEY)}", key_fingerprint(KEY), None)
    assert result.ok


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Missing Authorization header; send 'Authorization: Bearer <your API key>'"),
        ("", "Malformed Authorization header; expected 'Authorization: Bearer <your API key>'"),
        (f"Basic {KEY}", "Malformed Authorization header; expected 'Authorization: Bearer <your API key>'"),
        ("Bearer", "Malformed Authorization header; expected 'Authorization: Bearer <your API key>'"),
        ("Bearer sk-wrong", "Invalid API key"),
        (f"Bearer {KEY}x", "Invalid API key"),
        (f"Bearer {KEY[:-1]}", "Invalid API key"),
        (f"Bearer {KEY.upper()}", "Invalid API key"),
    ],
)
def test_a_refused_caller_is_told_why_never_the_key(header: str | None, message: str) -> None:
    result = BearerAuth(KEY).authenticate(header, "127.0.0.1")
    assert result == AuthResult("client:127.0.0.1", "anonymous", message)
    assert not result.ok
    assert KEY not in repr(result)


def test_public_routes_need_no_key_but_get_no_keys_scope() -> None:
    auth = BearerAuth(KEY)
    for header in (None, "Bearer sk-wrong"):
        result = auth.authenticate(header, "203.0.113.9", public=True)
        assert result == AuthResult("client:203.0.113.9", "anonymous", None)
    # the right key on a public route is still the key's identity
    assert auth.authenticate(f"Bearer {KEY}", "203.0.113.9", public=True).scope == key_fingerprint(KEY)


def test_an_unknown_client_address_is_named_unknown() -> None:
    assert BearerAuth(KEY).authenticate(None, None).identity == "client:unknown"
    refused = BearerAuth(None).authenticate(None, None)
    assert refused.identity == "client:unknown" and not refused.ok


def test_a_keyless_server_answers_loopback_only_and_scopes_by_the_key_shown() -> None:
    auth = BearerAuth(None)
    assert not auth.required
    assert not auth.matches(None) and not auth.matches("anything")
    assert auth.authenticate(None, "127.0.0.1") == AuthResult("client:127.0.0.1", "anonymous", None)
    shown = auth.authenticate("Bearer one", "127.0.0.1")
    assert shown == AuthResult(f"key:{key_fingerprint('one')}", key_fingerprint("one"), None)
    for header in (None, "Bearer one"):
        remote = auth.authenticate(header, "192.0.2.7")
        assert remote.identity == "client:192.0.2.7" and remote.scope == "anonymous"
        assert remote.error == (
            "This server has no API key and answers only loopback clients; "
            "restart it with --api-key (or WIREFLOW_API_KEY) to serve the network"
        )
        assert not remote.ok


def test_an_empty_key_means_no_key() -> None:
    auth = BearerAuth("")
    assert not auth.required
    assert not auth.authenticate(None, "192.0.2.7").ok
    assert auth.authenticate(None, "127.0.0.1").ok


def test_matching_is_exact_and_needs_a_token() -> None:
    auth = BearerAuth(KEY)
    assert auth.matches(KEY)
    assert not auth.matches(None)
    assert not auth.matches("")
    assert not auth.matches(KEY + " ")
    assert not auth.matches(KEY.replace("ü", "u"))


def test_an_auth_result_cannot_be_changed_after_the_decision() -> None:
    import dataclasses

    refused = BearerAuth(KEY).authenticate("Bearer sk-wrong", "127.0.0.1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        refused.error = None  # type: ignore[misc]
    assert not refused.ok
    assert len({refused, BearerAuth(KEY).authenticate("Bearer sk-wrong", "127.0.0.1")}) == 1


def test_authenticate_takes_its_arguments_by_name() -> None:
    result = BearerAuth(KEY).authenticate(
        authorization=f"Bearer {KEY}", client_host="192.0.2.1", public=False
    )
    assert result.ok and result.scope == key_fingerprint(KEY)
