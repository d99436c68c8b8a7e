"""The background run: RunState folding, polling, engine events, cancel, errors, and the
task-on-the-running-loop vs. thread modes. Fake backends, no sleeps for timing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from wireflow_nb import APIConnectionError, InsufficientCreditsError, NotFoundError, Workflow
from wireflow_nb.models import ExecuteRequest, ExecuteResponse, PollResponse
from wireflow_nb.widgets._estimate import estimate_credits
from wireflow_nb.widgets._run_state import RunState, batch_size, final_node_ids, nodes_to_run
from wireflow_nb.widgets._runner import BackgroundRun, PollPolicy, run_sync

FAST = PollPolicy(initial=0.01, factor=1.0, maximum=0.01)


def two_step() -> Workflow:
    wf = Workflow("w")
    a = wf.add_node("input:text", text="fox")
    b = wf.add_node("model:fal:text-to-image", seed=1)
    c = wf.add_node("image:filter")
    wf.connect(a, "text", b, "prompt")
    wf.connect(b, "images", c, "image")
    wf.add_node("input:text", id="lonely", text="x")
    return wf


def poll(status: str, **nodes: str) -> PollResponse:
    return PollResponse.model_validate(
        {
            "status": status,
            "nodeResults": {
                "nodeRuns": [
                    {
                        "nodeId": n.replace("_", "-"),
                        "status": s,
                        "output": {"text": n} if s == "COMPLETED" else None,
                        **({"error": "boom"} if s == "FAILED" else {}),
                    }
                    for n, s in nodes.items()
                ]
            },
        }
    )


def test_planning_helpers() -> None:
    wf = two_step()
    request = wf.to_request(target_node_id="node-2")
    assert nodes_to_run(request) == ["node-1", "node-2"]
    assert final_node_ids(request) == ["node-2"]
    full = wf.to_request()
    assert final_node_ids(full) == ["node-3", "lonely"]
    assert batch_size(full) == 1
    batch = wf.to_request(
        iterator_configs=[{"nodeId": "node-1", "field": "text", "values": [1, 2, 3], "repeat": 2}]
    )
    assert batch_size(batch) == 6
    estimate = estimate_credits(batch)
    assert estimate.per_run == 10 and estimate.total == 60 and estimate.runs == 6
    assert "60 credits" in estimate.describe()
    hosted = Workflow("h")
    hosted.add({"id": "x", "type": "basedNode", "data": {"nodeType": "generate:flux_2"}})
    assert "price unknown for generate:flux_2" in estimate_credits(hosted.to_request()).describe()


def test_run_state_badges_never_go_back() -> None:
    wf = two_step()
    state = RunState(
        "w", wf.to_request(iterator_configs=[{"nodeId": "node-1", "field": "text", "values": ["a", "b"]}])
    )
    assert state.status == "STARTING"
    assert state.progress == (0, 8)
    assert state.node_badge("node-1") == "PENDING"
    state.apply_response(
        ExecuteResponse.model_validate(
            {
                "workflowId": "w",
                "executionRuns": [
                    {"id": "e1", "status": "RUNNING", "runIndexInBatch": 0},
                    {"id": "e2", "status": "RUNNING", "runIndexInBatch": 1},
                ],
            }
        )
    )
    assert state.status == "RUNNING"

    @dataclass
    class Ev:
        kind: str
        execution_id: str
        workflow_id: str = "w"
        node_id: str | None = None
        status: str | None = None
        output: Any = None
        error: str | None = None
        cached: bool = False

    state.apply_event(Ev("node_finished", "e1", node_id="node-1", status="COMPLETED", output={"text": "a"}))
    # a poll taken before that event arrives late: it must not undo it
    state.apply_poll("e1", poll("RUNNING", node_1="RUNNING"))
    assert state.executions["e1"].nodes["node-1"].status == "COMPLETED"
    assert state.node_badge("node-1") == "RUNNING"  # one run of the batch still to go
    state.apply_event(Ev("node_finished", "e2", node_id="node-1", status="COMPLETED", cached=True))
    assert state.node_badge("node-1") == "COMPLETED"
    state.apply_poll(
        "e1",
        poll("COMPLETED", node_1="COMPLETED", node_2="COMPLETED", node_3="COMPLETED", lonely="COMPLETED"),
    )
    state.apply_poll("e2", poll("FAILED", node_1="COMPLETED", node_2="FAILED"))
    assert state.all_terminal
    assert state.status == "FAILED"
    assert state.node_badge("node-2") == "FAILED"
    assert state.node_badge("node-3") == "SKIPPED"  # settled: never ran in e2
    assert state.failed_nodes == {"node-2": "boom"}
    assert state.progress == (8, 8)
    assert [o for _, o in state.outputs_of("node-1")] == [{"text": "node_1"}, {"text": "node_1"}]
    assert state.apply_event(Ev("node_started", "other")) is False


class FakeClient:
    """A sync backend whose executions end after ``steps`` polls (or on cancel)."""

    def __init__(self, *, steps: int = 3, cancellable: bool = True, execute_error: Exception | None = None):
        self.steps = steps
        self.cancellable = cancellable
        self.execute_error = execute_error
        self.polls: dict[str, int] = {}
        self.cancelled: set[str] = set()
        self.threads: set[str] = set()
        self.poll_errors: list[Exception] = []

    def execute(self, workflow_id: str, request: ExecuteRequest, **kw: Any) -> ExecuteResponse:
        self.threads.add(threading.current_thread().name)
        if self.execute_error is not None:
            raise self.execute_error
        runs = max(1, len((request.iterator_configs or [None])[0].values) if request.iterator_configs else 1)
        return ExecuteResponse.model_validate(
            {
                "workflowId": workflow_id,
                "executionRuns": [
                    {"id": f"e{i}", "status": "PENDING", "runIndexInBatch": i} for i in range(runs)
                ],
            }
        )

    def poll(self, execution_id: str) -> PollResponse:
        if self.poll_errors:
            raise self.poll_errors.pop(0)
        if execution_id in self.cancelled:
            return poll("CANCELLED", node_1="COMPLETED", node_2="CANCELLED")
        n = self.polls[execution_id] = self.polls.get(execution_id, 0) + 1
        if self.steps and n >= self.steps:
            return poll("COMPLETED", node_1="COMPLETED", node_2="COMPLETED")
        return poll("RUNNING", node_1="COMPLETED", node_2="RUNNING")

    def cancel(self, execution_id: str) -> PollResponse:
        if not self.cancellable:
            raise NotFoundError(
                "Cannot cancel execution: this server has no cancel endpoint.", status_code=404
            )
        self.cancelled.add(execution_id)
        return poll("CANCELLED", node_1="COMPLETED", node_2="CANCELLED")


def small() -> ExecuteRequest:
    wf = Workflow("w")
    a = wf.add_node("input:text", text="x")
    b = wf.add_node("model:fal:text-to-image")
    wf.connect(a, "text", b, "prompt")
    return wf.to_request()


def recorder() -> tuple[list[str], Callable[[RunState], None]]:
    seen: list[str] = []
    return seen, lambda s: seen.append(s.status)


def test_thread_mode_polls_to_the_end() -> None:
    backend = FakeClient(steps=3)
    seen, on_change = recorder()
    run = BackgroundRun(backend, "w", small(), on_change=on_change, poll_policy=FAST).start()
    assert run.mode == "thread"
    state = run.wait(10)
    assert state.status == "COMPLETED"
    assert backend.polls == {"e0": 3}
    assert seen[0] == "STARTING" and "RUNNING" in seen and seen[-1] == "COMPLETED"
    assert state.node_badge("node-2") == "COMPLETED"
    assert [p.status for p in state.polls] == ["COMPLETED"]


def test_task_mode_returns_at_once_and_keeps_the_loop_free() -> None:
    async def main() -> None:
        backend = FakeClient(steps=4)
        run = BackgroundRun(backend, "w", small(), poll_policy=FAST).start()
        assert run.mode == "task"
        assert not run.done.is_set()
        with pytest.raises(RuntimeError, match="wait_async"):
            run.wait(1)
        ticks = 0
        while not run.done.is_set():  # the loop keeps serving other work meanwhile
            ticks += 1
            await asyncio.sleep(0)
        state = await run.wait_async(10)
        assert state.status == "COMPLETED"
        assert ticks > 0
        # blocking calls went to worker threads, never the loop's own
        assert threading.current_thread().name not in backend.threads

    asyncio.run(main())


class FakeEngine(FakeClient):
    """Like LocalEngine: events from an engine thread; poll only tells the end."""

    def __init__(self) -> None:
        super().__init__(steps=0)
        self.subscribers: list[Callable[[Any], None]] = []
        self.finished = threading.Event()
        #: set by the test once the runner has the execute answer, so events arrive live
        self.go = threading.Event()

    def subscribe(self, cb: Callable[[Any], None]) -> Callable[[], None]:
        self.subscribers.append(cb)
        return lambda: self.subscribers.remove(cb)

    def execute(self, workflow_id: str, request: ExecuteRequest, **kw: Any) -> ExecuteResponse:
        response = super().execute(workflow_id, request, **kw)

        @dataclass
        class Ev:
            kind: str
            node_id: str | None = None
            status: str | None = None
            execution_id: str = "e0"
            workflow_id: str = "w"
            output: Any = None
            error: str | None = None
            cached: bool = False

        def engine() -> None:
            self.go.wait(10)
            for ev in (
                Ev("run_started"),
                Ev("node_started", "node-1"),
                Ev("node_finished", "node-1", "COMPLETED", output={"text": "x"}, cached=True),
                Ev("node_started", "node-2"),
                Ev("node_failed", "node-2", "FAILED", error="model exploded"),
                Ev("node_started", "elsewhere", workflow_id="other"),
            ):
                for cb in list(self.subscribers):
                    cb(ev)
            self.finished.set()
            for cb in list(self.subscribers):
                cb(Ev("run_finished", status="FAILED", error="node-2 failed: model exploded"))

        threading.Thread(target=engine).start()
        return response

    def poll(self, execution_id: str) -> PollResponse:
        if self.finished.is_set():
            return PollResponse.model_validate(
                {
                    "status": "FAILED",
                    "error": "node-2 failed: model exploded",
                    "nodeResults": {
                        "nodeRuns": [
                            {
                                "nodeId": "node-1",
                                "status": "COMPLETED",
                                "output": {"text": "x"},
                                "cached": True,
                            },
                            {"nodeId": "node-2", "status": "FAILED", "error": "model exploded"},
                        ]
                    },
                }
            )
        return poll("RUNNING")


def test_engine_events_drive_badges_and_wake_the_poller() -> None:
    engine = FakeEngine()
    badges: list[tuple[str | None, str | None]] = []
    # a first poll only after 60 s: the run_finished event must wake it
    slow = PollPolicy(initial=60, factor=1, maximum=60)

    def on_change(s: RunState) -> None:
        badges.append((s.node_badge("node-1"), s.node_badge("node-2")))
        if s.response is not None:
            engine.go.set()

    run = BackgroundRun(engine, "w", small(), poll_policy=slow, on_change=on_change).start()
    state = run.wait(10)
    assert state.status == "FAILED"
    assert ("cached", "RUNNING") in badges
    assert badges[-1] == ("cached", "FAILED")
    assert state.node_error("node-2") == "model exploded"
    assert "elsewhere" not in state.node_ids
    assert engine.subscribers == []  # unsubscribed at the end


def test_cancel_and_cancel_refused() -> None:
    backend = FakeClient(steps=0)  # never ends by itself
    started = threading.Event()
    run = BackgroundRun(
        backend,
        "w",
        small(),
        poll_policy=FAST,
        on_change=lambda s: started.set() if s.status == "RUNNING" else None,
    ).start()
    assert started.wait(10)
    run.cancel()
    state = run.wait(10)
    assert state.status == "CANCELLED"
    assert state.node_badge("node-2") == "SKIPPED"

    refusing = FakeClient(steps=0, cancellable=False)
    started.clear()
    run = BackgroundRun(
        refusing,
        "w",
        small(),
        poll_policy=FAST,
        on_change=lambda s: started.set() if s.status == "RUNNING" else None,
    ).start()
    assert started.wait(10)
    run.cancel()
    state = run.wait(10)
    assert state.status == "DETACHED"
    assert state.message is not None and "no cancel endpoint" in state.message


def test_cancel_before_execute_answers() -> None:
    gate = threading.Event()

    class Slow(FakeClient):
        def execute(self, *a: Any, **kw: Any) -> ExecuteResponse:
            gate.wait(10)
            return super().execute(*a, **kw)

    backend = Slow(steps=0)
    run = BackgroundRun(backend, "w", small(), poll_policy=FAST).start()
    run.cancel()
    gate.set()
    assert run.wait(10).status == "CANCELLED"
    assert backend.cancelled == {"e0"}


def test_execute_errors_and_lost_connection() -> None:
    refusal = InsufficientCreditsError("Insufficient credits", required_credits=10, available_credits=3)
    state = BackgroundRun(FakeClient(execute_error=refusal), "w", small(), poll_policy=FAST).start().wait(10)
    assert state.status == "ERROR" and state.error is refusal

    flaky = FakeClient(steps=2)
    flaky.poll_errors = [APIConnectionError("reset")] * 2
    assert BackgroundRun(flaky, "w", small(), poll_policy=FAST).start().wait(10).status == "COMPLETED"

    gone = FakeClient(steps=0)
    gone.poll_errors = [APIConnectionError("refused")] * 10
    state = BackgroundRun(gone, "w", small(), poll_policy=FAST).start().wait(10)
    assert state.status == "ERROR" and isinstance(state.error, APIConnectionError)


def test_timeout_gives_up_following() -> None:
    state = BackgroundRun(FakeClient(steps=0), "w", small(), poll_policy=FAST, timeout=0.05).start().wait(10)
    assert state.status == "ERROR" and isinstance(state.error, TimeoutError)


def test_run_sync_inside_a_running_loop() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert run_sync(answer()) == 42

    async def main() -> int:
        return run_sync(answer())  # would raise "asyncio.run() cannot be called from a running loop"

    assert asyncio.run(main()) == 42


def test_engine_events_before_the_execute_answer_are_kept() -> None:
    engine = FakeEngine()
    engine.go.set()  # the engine runs ahead of the runner
    slow = PollPolicy(initial=60, factor=1, maximum=60)
    state = BackgroundRun(engine, "w", small(), poll_policy=slow).start().wait(10)
    assert state.status == "FAILED"
    assert (state.node_badge("node-1"), state.node_badge("node-2")) == ("cached", "FAILED")
