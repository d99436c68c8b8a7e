"""The no-I/O parts on their own: backoff, pacing, header parsing, retry policy, URLs."""

from __future__ import annotations

import email.utils
import random
from itertools import islice

import pytest
from _client_fakes import START

from wireflow_nb.client import RetryPolicy, poll_delays
from wireflow_nb.client._headers import parse_rate_limit
from wireflow_nb.client._polling import RateLimit, RequestPacer, min_request_interval
from wireflow_nb.client._retry import parse_retry_after
from wireflow_nb.client._urls import decode_data_url, is_hosted_url, is_loopback_url, mask_key, same_origin


def test_poll_delays_are_the_spec_backoff() -> None:
    assert list(islice(poll_delays(), 9)) == [1.0, 1.5, 2.25, 3.375, 5.0625, 7.59375, 10.0, 10.0, 10.0]


def test_poll_delays_configurable_and_validated() -> None:
    assert list(islice(poll_delays(2.0, 2.0, 5.0), 4)) == [2.0, 4.0, 5.0, 5.0]
    assert list(islice(poll_delays(1.0, 1.0, 10.0), 3)) == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError):
        poll_delays(1.0, 0.5, 10.0)


def _rl(limit: int | None, remaining: int | None, reset_after: float | None, at: float = START) -> RateLimit:
    reset = None if reset_after is None else at + reset_after
    return RateLimit(limit=limit, remaining=remaining, reset=reset, observed_at=at, reset_after=reset_after)


@pytest.mark.parametrize(
    ("rate_limit", "expected"),
    [
        (None, 0.0),
        (_rl(10, 9, 60), 0.0),  # plenty left
        (_rl(10, 5, 50), (50 + 0.5) / 5),  # half spent: spread the rest until the reset
        (_rl(10, 1, 30), 30.5),  # one left: the next request goes after the reset
        (_rl(10, 0, 30), 30.5),  # none left: wait for the reset
        (_rl(10, 0, 0), 0.0),  # window already reset
        (_rl(None, 3, 12), (12 + 0.5) / 3),  # no limit header: a few left counts as low
        (_rl(10, 2, None), 0.0),  # no reset known: nothing to pace by
        (_rl(10, 0, 86_400), 120.0),  # a day away: capped, never freezes a kernel
    ],
)
def test_min_request_interval(rate_limit: RateLimit | None, expected: float) -> None:
    assert min_request_interval(rate_limit, START) == pytest.approx(expected)


def test_pacer_books_slots_for_concurrent_pollers() -> None:
    pacer = RequestPacer()
    pacer.note_send(START)
    pacer.observe(_rl(10, 2, 20))
    first = pacer.delay(START)
    assert first == pytest.approx(10.25)
    pacer.book(START + first)
    # a second poller asking at the same moment is put after the first one's slot
    assert pacer.delay(START) == pytest.approx(2 * 10.25)
    pacer.book(START + 2 * 10.25)
    # that slot is past the reset: a fresh window, no more pacing by stale headers
    assert pacer.delay(START) == pytest.approx(2 * 10.25)


def test_parse_rate_limit_uses_server_date_against_skew() -> None:
    server_now = START + 3600  # our clock is an hour behind the server
    headers = {
        "X-RateLimit-Limit": "10",
        "X-RateLimit-Remaining": "4",
        "X-RateLimit-Reset": str(int(server_now + 30)),
        "Date": email.utils.formatdate(server_now, usegmt=True),
    }
    rl = parse_rate_limit(headers, START)
    assert rl is not None
    assert (rl.limit, rl.remaining) == (10, 4)
    assert rl.seconds_until_reset(START) == pytest.approx(30)
    assert rl.seconds_until_reset(START + 10) == pytest.approx(20)
    assert parse_rate_limit({"Content-Type": "text/plain"}, START) is None


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"Retry-After": "7"}, None, 7.0),
        ({"Retry-After": email.utils.formatdate(START + 12, usegmt=True)}, None, 12.0),
        ({}, {"error": "slow down", "retryAfter": START + 20}, 20.0),
        ({}, {"retryAfter": 15}, 15.0),  # a small number is seconds, not an epoch
        ({"X-RateLimit-Reset": str(int(START + 42))}, {"error": "x"}, 42.0),
        ({"Retry-After": "3", "X-RateLimit-Reset": str(int(START + 42))}, {"retryAfter": START + 9}, 3.0),
        ({"Retry-After": "garbage"}, None, None),
        ({}, None, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], body: object, expected: float | None) -> None:
    got = parse_retry_after(headers, body, START)
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_retry_after_of_non_429_reads_only_the_header() -> None:
    headers = {"X-RateLimit-Reset": str(int(START + 42))}
    assert parse_retry_after(headers, {"retryAfter": START + 5}, START, rate_limited=False) is None


def test_retry_policy_backoff_is_jittered_exponential_and_capped() -> None:
    policy = RetryPolicy(max_retries=10, rng=random.Random(7))
    for n in range(10):
        full = min(8.0, 0.5 * 2**n)
        delay = policy.delay(n)
        assert delay is not None
        assert 0.75 * full <= delay <= full
    assert policy.delay(10) is None  # retries spent


def test_retry_policy_honours_and_bounds_retry_after() -> None:
    policy = RetryPolicy(max_retries=2)
    assert policy.delay(0, 3.0) == 3.0
    assert policy.delay(0, 3600.0) is None  # a quota an hour away is an error, not a sleep
    assert policy.delay(2, 1.0) is None


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_retryable_statuses(status: int) -> None:
    assert RetryPolicy.is_retryable_status(status)


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 413, 422])
def test_never_retried_statuses(status: int) -> None:
    assert not RetryPolicy.is_retryable_status(status)


def test_decode_data_url() -> None:
    assert decode_data_url("data:image/png;base64,aGVsbG8=") == b"hello"
    assert decode_data_url("data:image/png;base64,aGVsbG8") == b"hello"  # padding optional
    assert decode_data_url("data:text/plain,hi%20there") == b"hi there"
    with pytest.raises(ValueError):
        decode_data_url("data:image/png;base64")


def test_urls() -> None:
    assert is_hosted_url("https://www.wireflow.ai/api/v1")
    assert not is_hosted_url("https://evilwireflow.ai/api/v1")
    assert is_loopback_url("http://127.0.0.1:8000/api/v1")
    assert is_loopback_url("http://localhost:8000")
    assert is_loopback_url("http://[::1]:8000")
    assert not is_loopback_url("https://www.wireflow.ai")
    assert same_origin("https://www.wireflow.ai/api/v1", "https://www.wireflow.ai:443/x?y=1")
    assert not same_origin("https://www.wireflow.ai/api/v1", "http://www.wireflow.ai/api/v1")
    assert not same_origin("https://www.wireflow.ai/api/v1", "https://cdn.wireflow.ai/a.png")


def test_mask_key_shows_no_secret_character() -> None:
    assert mask_key("sk-canary-XYZ123") == "sk-***"
    assert mask_key("wf_live_abcdef") == "wf_live_***"
    assert mask_key("whatever-secret") == "***"
    assert mask_key(None) is None
