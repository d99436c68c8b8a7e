"""wait and run: the spec's backoff, updates, terminal states, timeouts, interrupts,
hosted poll shapes, and pacing by the rate-limit headers. Each test runs on both clients."""

from __future__ import annotations

import asyncio
import json
import logging
import math
from pathlib import Path
from typing import Any

import httpx
import pytest
from _client_fakes import HOSTED, KEY, START, FakeTime, Recorder, poll_body, sequence

from wireflow_nb import (
    APIError,
    ExecutionCancelledError,
    ExecutionFailedError,
    ExecutionStatus,
    InternalServerError,
    PollResponse,
    WaitTimeoutError,
)
from wireflow_nb.client import AsyncWireflowClient, poll_delays

SPEC_BACKOFF = [1.0, 1.5, 2.25, 3.375, 5.0625, 7.59375, 10.0, 10.0, 10.0]


def polls(*statuses: str) -> Recorder:
    return Recorder(sequence(*(httpx.Response(200, json=poll_body(s)) for s in statuses)))


# -- backoff ----------------------------------------------------------------------------


def test_backoff_delays_are_exactly_the_spec(make_client: Any, fake_time: FakeTime) -> None:
    server = polls(*["RUNNING"] * 9, "COMPLETED")
    result = make_client(server).wait("exec_1")
    assert result.state == ExecutionStatus.COMPLETED
    assert fake_time.sleeps == SPEC_BACKOFF
    assert len(server.requests) == 10
    assert all(p == "/api/v1/workflows/executions/exec_1/poll" for p in server.paths())


def test_backoff_is_configurable(make_client: Any, fake_time: FakeTime) -> None:
    server = polls(*["PENDING"] * 4, "COMPLETED")
    make_client(server, poll_initial=0.5, poll_factor=2.0, poll_max=3.0).wait("exec_1")
    assert fake_time.sleeps == [0.5, 1.0, 2.0, 3.0]


def test_a_completed_execution_returns_at_once(make_client: Any, fake_time: FakeTime, spec_dir: Path) -> None:
    body = json.loads((spec_dir / "examples" / "poll-completed.json").read_text())
    result = make_client(Recorder(sequence(httpx.Response(200, json=body)))).wait("exec_456")
    assert fake_time.sleeps == []
    assert result.node_run("node-1") is not None
    assert result.node_runs[0].images[0].url == "https://cdn.atomu.ai/generated-image.png"


# -- updates ----------------------------------------------------------------------------


def test_on_update_fires_only_when_something_changed(make_client: Any) -> None:
    def running(node_status: str, output: Any = None) -> httpx.Response:
        runs = [{"nodeId": "n1", "status": node_status, "output": output}]
        return httpx.Response(200, json=poll_body("RUNNING", node_runs=runs))

    done = poll_body(
        "COMPLETED", node_runs=[{"nodeId": "n1", "status": "COMPLETED", "output": {"text": "hi"}}]
    )
    server = Recorder(
        sequence(
            running("PENDING"),
            running("PENDING"),
            running("RUNNING"),
            running("RUNNING"),
            running("RUNNING", {"text": "h"}),
            httpx.Response(200, json=done),
        )
    )
    seen: list[PollResponse] = []
    make_client(server).wait("exec_1", on_update=seen.append)
    assert len(server.requests) == 6
    assert [(str(p.state), str(p.node_runs[0].state), p.node_runs[0].text) for p in seen] == [
        ("RUNNING", "PENDING", None),
        ("RUNNING", "RUNNING", None),
        ("RUNNING", "RUNNING", "h"),
        ("COMPLETED", "COMPLETED", "hi"),
    ]


# -- terminal states --------------------------------------------------------------------


def test_failed_raises_with_the_failing_nodes(make_client: Any, spec_dir: Path) -> None:
    body = json.loads((spec_dir / "examples" / "poll-failed.json").read_text())
    server = Recorder(
        sequence(httpx.Response(200, json=poll_body("RUNNING")), httpx.Response(200, json=body))
    )
    with pytest.raises(ExecutionFailedError) as info:
        make_client(server).wait("exec_456")
    err = info.value
    assert err.execution_id == "exec_456"
    assert err.poll.state == ExecutionStatus.FAILED
    assert [r.node_id for r in err.failed_node_runs] == ["node-1"]
    text = str(err)
    assert "exec_456 failed: Model inference failed" in text
    assert "node-1: Provider returned 500" in text


def test_server_timeout_is_a_failure(make_client: Any) -> None:
    body = {"status": "timeout", "error": {"type": "timeout", "message": "Model took too long"}}
    with pytest.raises(ExecutionFailedError) as info:
        make_client(Recorder(sequence(httpx.Response(200, json=body)))).wait("exec_1")
    assert "timed out on the server: Model took too long" in str(info.value)


def test_cancelled_raises(make_client: Any) -> None:
    with pytest.raises(ExecutionCancelledError) as info:
        make_client(polls("RUNNING", "CANCELLED")).wait("exec_1")
    assert info.value.execution_id == "exec_1"
    assert info.value.poll.state == ExecutionStatus.CANCELLED


def test_unknown_statuses_keep_polling(make_client: Any, fake_time: FakeTime) -> None:
    result = make_client(polls("queued", "WARMING_UP", "IN_PROGRESS", "succeeded")).wait("exec_1")
    assert result.state == ExecutionStatus.COMPLETED
    assert fake_time.sleeps == [1.0, 1.5, 2.25]


def test_hosted_wrapped_poll_with_lowercase_statuses(make_client: Any) -> None:
    running = {
        "data": {"status": "running", "nodeStates": [{"nodeId": "gen", "status": "running", "progress": 0.5}]}
    }
    done = {
        "data": {
            "status": "completed",
            "nodeStates": [
                {
                    "nodeId": "gen",
                    "label": "Flux",
                    "status": "completed",
                    "outputUrl": "https://cdn.example/a.png",
                },
                {"nodeId": "vid", "status": "completed", "outputUrls": ["https://cdn.example/b.mp4"]},
            ],
            "finalOutput": {"url": "https://cdn.example/b.mp4"},
        }
    }
    server = Recorder(sequence(httpx.Response(200, json=running), httpx.Response(200, json=done)))
    seen: list[PollResponse] = []
    result = make_client(server).wait("exec_1", on_update=seen.append)
    assert result.state == ExecutionStatus.COMPLETED
    assert result.node_run("gen").images[0].url == "https://cdn.example/a.png"  # type: ignore[union-attr]
    assert result.node_run("vid").videos[0].url == "https://cdn.example/b.mp4"  # type: ignore[union-attr]
    assert len(seen) == 2


def test_hosted_failed_poll_with_nested_error(make_client: Any) -> None:
    body = {
        "data": {
            "status": "failed",
            "error": {"type": "provider_error", "message": "Provider down"},
            "nodeStates": [{"nodeId": "gen", "status": "failed", "error": "HTTP 503 from fal"}],
        }
    }
    with pytest.raises(ExecutionFailedError) as info:
        make_client(Recorder(sequence(httpx.Response(200, json=body)))).wait("exec_1")
    assert "Provider down" in str(info.value) and "gen: HTTP 503 from fal" in str(info.value)


# -- timeouts and interrupts ------------------------------------------------------------


def test_wait_timeout_says_how_to_resume(make_client: Any, fake_time: FakeTime, kind: str) -> None:
    server = polls("RUNNING")
    with pytest.raises(WaitTimeoutError) as info:
        make_client(server).wait("exec_1", timeout=10)
    err = info.value
    assert err.execution_id == "exec_1"
    assert err.last is not None and err.last.state == ExecutionStatus.RUNNING
    # backoff until the deadline, one last poll right at it, then give up
    assert fake_time.sleeps == [1.0, 1.5, 2.25, 3.375, 1.875]
    assert fake_time.now - START == pytest.approx(10)
    resume = "await client.wait('exec_1')" if kind == "async" else "client.wait('exec_1')"
    assert resume in str(err)
    assert "keeps running" in str(err)


def test_wait_timeout_zero_polls_once(make_client: Any, fake_time: FakeTime) -> None:
    server = polls("RUNNING")
    with pytest.raises(WaitTimeoutError):
        make_client(server).wait("exec_1", timeout=0)
    assert len(server.requests) == 1 and fake_time.sleeps == []


def test_keyboard_interrupt_leaves_the_run_going(
    make_client: Any, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    server = polls("RUNNING")

    def interrupt_second(seconds: float) -> None:
        if len(fake_time.sleeps) == 1:
            raise KeyboardInterrupt

    fake_time.on_sleep = interrupt_second
    client = make_client(server)
    with caplog.at_level(logging.WARNING, logger="wireflow_nb.client"), pytest.raises(KeyboardInterrupt):
        client.wait("exec_1")
    assert server.paths() == ["/api/v1/workflows/executions/exec_1/poll"] * 2  # no cancel sent
    assert (
        "exec_1" in caplog.text and "client.wait('exec_1')" in caplog.text and "keeps running" in caplog.text
    )


def test_cancelling_an_async_wait_leaves_the_run_going(caplog: pytest.LogCaptureFixture) -> None:
    server = polls("RUNNING")

    async def scenario() -> None:
        polled = asyncio.Event()

        async def slow_sleep(seconds: float) -> None:
            polled.set()
            await asyncio.sleep(3600)

        client = AsyncWireflowClient(KEY, transport=httpx.MockTransport(server), sleep=slow_sleep)
        task = asyncio.create_task(client.wait("exec_1"))
        await polled.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await client.close()

    with caplog.at_level(logging.WARNING, logger="wireflow_nb.client"):
        asyncio.run(scenario())
    assert len(server.requests) == 1
    assert "await client.wait('exec_1')" in caplog.text


# -- rate limits ------------------------------------------------------------------------


def test_rate_limit_headers_are_kept(make_client: Any) -> None:
    headers = {
        "X-RateLimit-Limit": "60",
        "X-RateLimit-Remaining": "57",
        "X-RateLimit-Reset": str(int(START) + 42),
    }
    client = make_client(Recorder(sequence(httpx.Response(200, json=poll_body("RUNNING"), headers=headers))))
    assert client.rate_limit is None
    client.poll("exec_1")
    rl = client.rate_limit
    assert (rl.limit, rl.remaining, rl.reset) == (60, 57, START + 42)
    assert rl.seconds_until_reset(START) == pytest.approx(42)


def test_polling_slows_down_when_remaining_runs_low(make_client: Any, fake_time: FakeTime) -> None:
    remaining = iter(range(9, -1, -1))

    def handler(request: httpx.Request) -> httpx.Response:
        left = next(remaining)
        headers = {
            "X-RateLimit-Limit": "10",
            "X-RateLimit-Remaining": str(left),
            "X-RateLimit-Reset": str(int(START) + 60),
        }
        return httpx.Response(200, json=poll_body("RUNNING" if left > 3 else "COMPLETED"), headers=headers)

    make_client(Recorder(handler)).wait("exec_1")
    # remaining 9..6: the spec's backoff; at 5 and 4 the budget is low: spread until the reset
    assert fake_time.sleeps[:4] == [1.0, 1.5, 2.25, 3.375]
    t = 1.0 + 1.5 + 2.25 + 3.375
    assert fake_time.sleeps[4] == pytest.approx((60 - t + 0.5) / 5)
    assert fake_time.sleeps[4] > 5.0625


def test_polling_keeps_the_spec_backoff_with_plenty_of_budget(make_client: Any, fake_time: FakeTime) -> None:
    statuses = iter(["RUNNING"] * 6 + ["COMPLETED"])

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {
            "X-RateLimit-Limit": "1000",
            "X-RateLimit-Remaining": "990",
            "X-RateLimit-Reset": str(int(fake_time.now) + 60),
        }
        return httpx.Response(200, json=poll_body(next(statuses)), headers=headers)

    make_client(Recorder(handler)).wait("exec_1")
    assert fake_time.sleeps == SPEC_BACKOFF[:6]


def test_a_429_during_wait_is_waited_out(make_client: Any, fake_time: FakeTime) -> None:
    limited = httpx.Response(429, json={"error": "Too many requests"}, headers={"Retry-After": "3"})
    server = Recorder(
        sequence(
            httpx.Response(200, json=poll_body("RUNNING")),
            limited,
            limited,
            limited,
            httpx.Response(200, json=poll_body("COMPLETED")),
        )
    )
    make_client(server).wait("exec_1")
    # backoff 1 s; two retries of 3 s inside poll; then wait keeps the server's 3 s
    assert fake_time.sleeps == [1.0, 3.0, 3.0, 3.0]
    assert len(server.requests) == 5


class FreePlanAPI:
    """A fake hosted API on the free plan: 10 requests per 60 s window (fixed windows, as
    ``X-RateLimit-Reset`` implies), answering 429 past that. Executions take 5 minutes."""

    def __init__(
        self, time: FakeTime, *, limit: int = 10, window: int = 60, run_seconds: float = 300
    ) -> None:
        self.time = time
        self.limit = limit
        self.window = window
        self.run_seconds = run_seconds
        self.counts: dict[int, int] = {}
        self.rejected = 0
        self.polls = 0
        self.started: float | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        now = self.time.now
        window = math.floor(now / self.window)
        reset = (window + 1) * self.window
        self.counts[window] = self.counts.get(window, 0) + 1
        used = self.counts[window]
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - used)),
            "X-RateLimit-Reset": str(reset),
            "X-Request-Id": f"req-{sum(self.counts.values())}",
        }
        if used > self.limit:
            self.rejected += 1
            return httpx.Response(
                429,
                json={"error": "Rate limit exceeded", "retryAfter": reset},
                headers={**headers, "Retry-After": str(math.ceil(reset - now))},
            )
        if request.url.path.endswith("/execute"):
            self.started = now
            return httpx.Response(
                201,
                json={"workflowId": "wf", "executionRuns": [{"id": "exec_v", "status": "RUNNING"}]},
                headers=headers,
            )
        self.polls += 1
        assert self.started is not None
        done = now - self.started >= self.run_seconds
        return httpx.Response(200, json=poll_body("COMPLETED" if done else "RUNNING"), headers=headers)


@pytest.mark.parametrize("offset", [0.0, 17.0, 59.5], ids=["window-start", "mid-window", "window-end"])
def test_free_plan_five_minute_run_gets_no_429(
    make_client: Any, fake_time: FakeTime, request_body: dict[str, Any], offset: float
) -> None:
    fake_time.now = math.floor(START / 60) * 60 + 60 + offset
    api = FreePlanAPI(fake_time)
    [result] = make_client(Recorder(api), max_retries=0).run("wf", request_body)
    assert result.state == ExecutionStatus.COMPLETED
    assert api.rejected == 0
    assert max(api.counts.values()) <= 10
    assert fake_time.now - api.started >= 300  # type: ignore[operator]
    # and it does not crawl either: done within a poll interval or so of the 5 minutes
    assert fake_time.now - api.started <= 300 + 15  # type: ignore[operator]


def test_the_reference_backoff_would_hit_429_on_the_free_plan(fake_time: FakeTime) -> None:
    """The scenario above is a real test: polling by the spec's backoff alone, started at
    the beginning of a window, spends the 10 requests in under a minute and gets 429s."""
    fake_time.now = math.floor(START / 60) * 60 + 60
    api = FreePlanAPI(fake_time)
    api(httpx.Request("POST", f"{HOSTED}/workflows/wf/execute"))
    for delay in poll_delays():
        response = api(httpx.Request("GET", f"{HOSTED}/workflows/executions/exec_v/poll"))
        if response.status_code == 200 and response.json()["status"] == "COMPLETED":
            break
        fake_time.sleep(delay)
    assert api.rejected > 0


# -- run --------------------------------------------------------------------------------


class BatchAPI:
    """Execute starts three runs; each completes after its own number of polls."""

    def __init__(self, polls_needed: dict[str, int], *, fail: str | None = None) -> None:
        self.polls_needed = polls_needed
        self.fail = fail
        self.polled: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/execute"):
            runs = [
                {"id": rid, "status": "PENDING", "runIndexInBatch": i, "inputIndex": i}
                for i, rid in enumerate(self.polls_needed)
            ]
            return httpx.Response(201, json={"workflowId": "wf", "batchId": "b", "executionRuns": runs})
        rid = request.url.path.split("/")[-2]
        self.polled.append(rid)
        if rid == self.fail:
            return httpx.Response(200, json={"status": "FAILED", "error": f"{rid} broke"})
        done = self.polled.count(rid) >= self.polls_needed[rid]
        output = {"nodeId": "n", "status": "COMPLETED", "output": {"text": rid}}
        return httpx.Response(
            200, json=poll_body("COMPLETED" if done else "RUNNING", node_runs=[output] if done else [])
        )


def test_run_waits_for_every_run_of_the_batch(make_client: Any, request_body: dict[str, Any]) -> None:
    api = BatchAPI({"r0": 2, "r1": 1, "r2": 3})
    updates: list[PollResponse] = []
    results = make_client(Recorder(api)).run(
        "wf",
        request_body,
        iterator_configs=[{"nodeId": "node-1", "field": "prompt", "values": ["a", "b", "c"]}],
        on_update=updates.append,
    )
    assert [r.node_runs[0].text for r in results] == ["r0", "r1", "r2"]
    assert all(r.state == ExecutionStatus.COMPLETED for r in results)
    assert api.polled == ["r0", "r0", "r1", "r2", "r2", "r2"]
    assert len(updates) == 5  # r0: RUNNING, COMPLETED; r1: COMPLETED; r2: RUNNING, COMPLETED


def test_run_raises_on_the_first_failure(make_client: Any, request_body: dict[str, Any]) -> None:
    api = BatchAPI({"r0": 1, "r1": 1, "r2": 1}, fail="r1")
    with pytest.raises(ExecutionFailedError) as info:
        make_client(Recorder(api)).run("wf", request_body)
    assert info.value.execution_id == "r1"
    assert "r1 broke" in str(info.value)
    assert api.polled == ["r0", "r1"]


def test_run_uses_end_states_already_in_the_execute_answer(
    make_client: Any, request_body: dict[str, Any]
) -> None:
    body = {
        "workflowId": "wf",
        "executionRuns": [
            {
                "id": "e1",
                "status": "COMPLETED",
                "nodeRuns": [{"nodeId": "n", "status": "COMPLETED", "output": {"text": "x"}}],
            }
        ],
    }
    server = Recorder(sequence(httpx.Response(201, json=body)))
    [result] = make_client(server).run("wf", request_body)
    assert result.node_runs[0].text == "x"
    assert len(server.requests) == 1


def test_run_timeout_bounds_the_whole_batch(
    make_client: Any, fake_time: FakeTime, request_body: dict[str, Any]
) -> None:
    api = BatchAPI({"r0": 4, "r1": 100})
    with pytest.raises(WaitTimeoutError) as info:
        make_client(Recorder(api)).run("wf", request_body, timeout=12)
    assert info.value.execution_id == "r1"
    assert fake_time.now - START == pytest.approx(12)


# -- robustness -------------------------------------------------------------------------


def test_wait_rides_out_a_network_blip(make_client: Any, fake_time: FakeTime) -> None:
    down = httpx.Response(503, json={"error": "upstream down"})
    cut = httpx.ConnectError("network unreachable")
    server = Recorder(
        sequence(
            httpx.Response(200, json=poll_body("RUNNING")),
            down,
            down,
            down,  # one failed poll (three attempts)
            cut,
            cut,
            cut,  # and another
            httpx.Response(200, json=poll_body("COMPLETED")),
        )
    )
    assert make_client(server).wait("exec_1").state == ExecutionStatus.COMPLETED
    assert len(server.requests) == 8


def test_wait_gives_up_when_polls_keep_failing(
    make_client: Any, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    server = Recorder(sequence(httpx.Response(200, json=poll_body("RUNNING")), httpx.Response(500, json={})))
    with caplog.at_level(logging.WARNING, logger="wireflow_nb.client"), pytest.raises(InternalServerError):
        make_client(server, max_retries=0).wait("exec_1")
    assert len(server.requests) == 1 + 4  # three failed polls forgiven, the fourth raises
    resume = "await client.wait('exec_1')" if kind == "async" else "client.wait('exec_1')"
    assert resume in caplog.text


def test_a_non_json_answer_is_an_error_not_an_endless_wait(make_client: Any) -> None:
    page = httpx.Response(
        200, text="<html>Sign in to the hotel wifi</html>", headers={"content-type": "text/html"}
    )
    server = Recorder(sequence(page))
    with pytest.raises(APIError) as info:
        # the timeout (fake time) keeps a regression from hanging the suite
        make_client(server).wait("exec_1", timeout=60)
    assert len(server.requests) == 1
    assert "not JSON" in str(info.value) and "base_url" in str(info.value)
