"""300 ``client.run(...)`` calls through a proxy that drops, fails, rate-limits and delays
requests at random (seeded): every call completes or raises a typed error, the server
holds at most one execution per logical call (exactly one for every call that completed),
and the credits charged are exactly the price of the executions that ran.

Figures: ``WIREFLOW_FAULT_CALLS`` (default 300) calls, seed ``WIREFLOW_FAULT_SEED``.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from tests._servers import RunningServer, running_server
from tests._servers import wait_until as wait_for
from wireflow_nb import WireflowClient
from wireflow_nb._exceptions import APIStatusError, WireflowError

from ._helpers import IMAGE_PRICE, all_executions, env_int, image_workflow, usage
from ._proxy import FaultProxy
from .conftest import Figures

CALLS = env_int("WIREFLOW_FAULT_CALLS", 300)
SEED = env_int("WIREFLOW_FAULT_SEED", 20240)
CREDITS = 1_000_000
CLIENT_TIMEOUT = 0.75
#: Types of error a call may end with: the proxy's faults outlasted the retries.
TRANSIENT = (429, 502, 503)


class _RetryLog(logging.Handler):
    """Counts the client's retries from its own log lines (``...; retrying in X s``)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.retries = 0
        self.after_429: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        match = re.search(r"retrying in ([0-9.]+) s", text)
        if not match:
            return
        self.retries += 1
        if " -> 429 " in text:
            self.after_429.append(float(match.group(1)))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    home = tmp_path_factory.mktemp("fault-home")
    with running_server(home, credits=CREDITS, model_latency=0.05) as running:
        yield running


def test_runs_through_a_faulty_proxy_hold_idempotency_and_credits(
    server: RunningServer, figures: Figures
) -> None:
    retry_log = _RetryLog()
    client_logger = logging.getLogger("wireflow_nb.client")
    old_level = client_logger.level
    client_logger.setLevel(logging.DEBUG)
    client_logger.addHandler(retry_log)
    asked_sleeps: list[float] = []

    def quick_sleep(seconds: float) -> None:
        # the client's backoff and Retry-After waits are recorded as asked, then kept
        # short so that 300 calls take seconds, not minutes; the server sees real traffic
        asked_sleeps.append(seconds)
        time.sleep(min(seconds, 0.02))

    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    started = time.monotonic()
    try:
        with (
            FaultProxy(upstream=server.root_url, seed=SEED, delay_seconds=1.0) as proxy,
            WireflowClient(
                api_key=server.api_key,
                base_url=proxy.base_url + "/api/v1",
                timeout=CLIENT_TIMEOUT,
                max_retries=4,
                poll_initial=0.05,
                poll_factor=1.5,
                poll_max=0.2,
                sleep=quick_sleep,
            ) as client,
        ):
            for i in range(CALLS):
                try:
                    [result] = client.run(f"fault-{SEED}-{i}", image_workflow(f"call {i} of seed {SEED}"))
                except WireflowError as exc:  # a typed error is an allowed outcome
                    outcomes[type(exc).__name__] += 1
                    if isinstance(exc, APIStatusError):
                        assert exc.status_code in TRANSIENT, f"call {i}: {exc!r}"
                    failures.append(f"call {i}: {type(exc).__name__}: {str(exc)[:120]}")
                else:
                    assert result.status == "COMPLETED", f"call {i}: {result.status}"
                    outcomes["completed"] += 1
            elapsed = time.monotonic() - started
            events = list(proxy.events)
    finally:
        client_logger.removeHandler(retry_log)
        client_logger.setLevel(old_level)

    # -- the truth on the server, read directly (not through the proxy) ---------------------
    with server.http() as http:

        def settled() -> list[list[dict[str, object]]] | None:
            rows = [all_executions(http, f"fault-{SEED}-{i}") for i in range(CALLS)]
            running = [r for rs in rows for r in rs if r["status"] in ("PENDING", "RUNNING")]
            return None if running else rows

        rows_per_call: list[list[dict[str, object]]] = wait_for(
            settled, timeout=60, message="every execution to end", interval=0.2
        )
        spent = usage(http)

    counts = [len(rows) for rows in rows_per_call]
    duplicates = sum(max(0, c - 1) for c in counts)
    executions = sum(counts)
    statuses = Counter(str(r["status"]) for rows in rows_per_call for r in rows)
    charged = sum(float(r["creditsUsed"] or 0) for rows in rows_per_call for r in rows)

    posts = [e for e in events if e.method == "POST"]
    keys_per_call = Counter(e.idempotency_key for e in posts)
    faults = Counter(e.fault for e in events if e.fault != "ok")
    figures(
        f"fault proxy: {CALLS} client.run calls, seed {SEED}",
        {
            "calls": CALLS,
            "completed": outcomes["completed"],
            "typed errors": sum(v for k, v in outcomes.items() if k != "completed"),
            "error types": dict(sorted((k, v) for k, v in outcomes.items() if k != "completed")) or "-",
            "requests seen by proxy": len(events),
            "faults injected": sum(faults.values()),
            "faults by kind": dict(sorted(faults.items())),
            "client retries": retry_log.retries,
            "POST attempts (one key per call)": f"{len(posts)} for {len(keys_per_call)} keys",
            "executions on server": executions,
            "duplicates": duplicates,
            "statuses on server": dict(statuses),
            "credits used (server)": spent["creditsUsed"],
            "sum of executions' price": charged,
            "balance + used": f"{spent['creditsBalance']} + {spent['creditsUsed']} (started {CREDITS})",
            "wall time": f"{elapsed:.1f} s",
        },
    )

    # every logical call: exactly one execution when it completed, at most one otherwise
    assert duplicates == 0, [i for i, c in enumerate(counts) if c > 1]
    assert outcomes["completed"] + sum(v for k, v in outcomes.items() if k != "completed") == CALLS
    assert outcomes["completed"] >= CALLS * 0.9, failures
    assert sum(1 for c in counts if c == 1) >= outcomes["completed"]
    # the faults really happened, of every kind, and the client really retried
    assert sum(faults.values()) >= CALLS * 0.3
    assert set(faults) == {
        "drop_before",
        "drop_after",
        "status_502",
        "status_503",
        "gateway_502_after",
        "status_429",
        "delay",
    }
    assert retry_log.retries >= sum(faults.values()) * 0.8
    # a retried POST reached the server again with the same key, and started nothing new
    resent = [k for k, n in keys_per_call.items() if n > 1]
    assert resent
    # Retry-After was honoured: every retry after a 429 waited what the proxy asked (>= 1 s)
    assert retry_log.after_429 and min(retry_log.after_429) >= 1.0
    # no double charge, no credit lost: each completed execution paid its one image
    assert statuses.keys() <= {"COMPLETED"}
    assert charged == IMAGE_PRICE * statuses["COMPLETED"]
    assert float(spent["creditsUsed"]) == charged
    assert float(spent["creditsBalance"]) + float(spent["creditsUsed"]) == CREDITS


def test_proxy_passes_traffic_unchanged_without_faults(server: RunningServer) -> None:
    """The proxy itself is transparent: with no faults, a run goes through untouched."""
    with (
        FaultProxy(upstream=server.root_url, faults={}) as proxy,
        httpx.Client(base_url=proxy.base_url + "/api/v1", headers=server.headers, timeout=10) as http,
    ):
        answer = http.get("/developer/usage")
        assert answer.status_code == 200
        assert answer.headers["x-request-id"].startswith("req_")
        assert "creditsBalance" in answer.json()
        assert [e.fault for e in proxy.events] == ["ok"]
