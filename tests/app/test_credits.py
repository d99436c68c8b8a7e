"""Credits before the surprise: the toolbar's balance (``usage()``) and estimate (the
backend's ``estimate()`` with the batch, else the catalog's prices, labelled), and Run
asking before a run the balance cannot cover (the 402 table, Run anyway / Cancel).

On a ``LocalEngine`` with a small balance, on a ``WireflowClient`` to a real
``wireflow-nb serve`` (executions counted on the server), and on a client whose server
is an ``httpx.MockTransport`` (an estimate that fails, one that is slow and overtaken).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._servers import RunningServer, running_server, wait_until
from wireflow_nb import InsufficientCreditsError
from wireflow_nb.client import WireflowClient
from wireflow_nb.engine import LocalEngine
from wireflow_nb.models import Usage
from wireflow_nb.widgets._runner import PollPolicy
from wireflow_nb.widgets.app import WorkflowApp

from ._helpers import RecordingEditor, image_workflow

FAST = PollPolicy(initial=0.05, factor=1.5, maximum=0.3)
SECRET = "sk-test-credits-0123456789abcdef"


def make_app(backend: Any, workflow_id: str = "credits", **kw: Any) -> Any:
    editor = RecordingEditor(kw.pop("workflow", None) or image_workflow())
    return WorkflowApp(backend, editor=editor, workflow_id=workflow_id, poll_policy=FAST, **kw)


def confirm_text(app: Any) -> str:
    assert app.credits_confirm.asking, "Run did not ask"
    text: str = app.credits_confirm.table.value
    return text


# -- on a LocalEngine ------------------------------------------------------------------------


class UsageEngine(LocalEngine):
    """An engine whose ``usage()`` and ``credits_balance()`` disagree: which one the
    toolbar shows is visible."""

    def usage(self) -> Usage:
        return Usage(credits_balance=1234, credits_used=0)


class NoUsageEngine(LocalEngine):
    usage = None  # type: ignore[assignment]


class GatedEngine(LocalEngine):
    """An engine whose ``estimate()`` answers only while ``gate`` is open."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()
        self.gate.set()

    def estimate(self, *args: Any, **kwargs: Any) -> Any:
        assert self.gate.wait(20)
        return super().estimate(*args, **kwargs)


def test_the_balance_comes_from_usage_else_credits_balance(tmp_path: Path) -> None:
    with UsageEngine(tmp_path / "a", credits=7, model_latency=0) as engine:
        app = make_app(engine)
        assert app.wait_idle(10)
        assert "wf-credits-balance" in app.credits_label._dom_classes
        assert app.credits_label.value == "Balance: <b>1,234</b> credits"
        assert app.credits == 1234
    with NoUsageEngine(tmp_path / "b", credits=7, model_latency=0) as engine:
        app = make_app(engine)
        assert app.wait_idle(10)
        assert app.credits_label.value == "Balance: <b>7</b> credits"


def test_local_engine_affordable_runs_straight_unaffordable_asks(tmp_path: Path) -> None:
    with LocalEngine(tmp_path / "home", credits=15, model_latency=0) as engine:
        app = make_app(engine)
        assert app.wait_idle(10)
        assert "<b>10 credits</b> (local engine)" in app.estimate_label.value
        assert "wf-estimate" in app.estimate_label._dom_classes

        # 10 <= 15: sent at once, and the balance is read again when the run ends
        run = app.run(wait=True)
        assert run is not None and run.state.status == "COMPLETED"
        assert not app.credits_confirm.asking
        assert app.wait_idle(10)
        assert app.credits_label.value == "Balance: <b>5</b> credits"
        assert "(cached; local engine)" in app.estimate_label.value  # the same run again is free

        # a new prompt costs 10 > 5: not sent, the 402 table asks
        app.workflow.set_input("prompt", "text", "a blue owl")
        assert app.wait_idle(10)
        assert "<b>10 credits</b> (local engine)" in app.estimate_label.value
        assert app.run(wait=True) is None
        table = confirm_text(app)
        assert "estimated at <b>10</b> credits, the balance is <b>5</b>. It was not sent." in table
        assert "wf-app-credits-table" in table and "<code>image</code>" in table
        assert len(engine.list_executions("credits")) == 1  # only the first run
        assert app.message.value == ""

        # Cancel: nothing sent, the question goes away
        app.credits_confirm.cancel_button.click()
        assert not app.credits_confirm.asking
        assert len(engine.list_executions("credits")) == 1

        # the balance grew behind the app's back: Run still judges by what it read...
        engine.add_credits(100)
        assert app.run() is None and app.credits_confirm.asking
        # ... Run anyway sends, and the engine (which has the credits) runs it
        app.credits_confirm.run_anyway_button.click()
        assert not app.credits_confirm.asking
        assert app.last_run is not None
        state = app.wait(20)
        assert state is not None and state.status == "COMPLETED"
        assert len(engine.list_executions("credits")) == 2
        assert app.wait_idle(10)
        assert app.credits_label.value == "Balance: <b>95</b> credits"


def test_the_guard_uses_the_catalog_before_the_engine_answers(tmp_path: Path) -> None:
    """From code: with the balance known but no estimate of this request yet, the catalog's
    prices judge it; ``check_credits=False`` sends (and the engine's own 402 shows)."""
    with GatedEngine(tmp_path / "home", credits=5, model_latency=0) as engine:
        app = make_app(engine)
        assert app.wait_idle(10)
        engine.gate.clear()  # the engine's answer for the next edit waits
        app.workflow.set_input("prompt", "text", "a grey heron")
        assert "\u224810 credits</b> (catalog prices; asking the local engine\u2026)" in app.estimate_label.value
        assert app.run() is None
        assert "at the catalog&#x27;s prices" in confirm_text(app)
        engine.gate.set()
        run = app.run(wait=True, check_credits=False)
        assert run is not None and isinstance(run.state.error, InsufficientCreditsError)
        assert not app.credits_confirm.asking
        assert "wf-app-credits-error" in app.message.value and "Nothing ran" in app.message.value


# -- on a real server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def poor_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("credits-serve"), credits=25, model_latency=0) as running:
        yield running


def test_served_balance_estimate_with_batch_and_guard(poor_server: RunningServer) -> None:
    client = poor_server.client(poll_initial=0.02, poll_max=0.1)
    app = make_app(client, "srv-credits")
    assert app.wait_idle(10)
    assert app.credits_label.value == "Balance: <b>25</b> credits"
    assert "<b>10 credits</b> (from the server)" in app.estimate_label.value

    # the server's estimate includes the batch's runs
    app.set_batch("image", "seed", [1, 2, 3])
    assert app.wait_idle(10)
    assert "<b>30 credits</b> (3 runs; from the server)" in app.estimate_label.value

    # 30 > 25: not sent (the server has no execution), the table says why
    assert app.run() is None
    table = confirm_text(app)
    assert "estimated at <b>30</b> credits, the balance is <b>25</b>" in table
    assert "at the catalog" not in table  # judged by the server's figure
    assert "<td style='text-align:right'>30</td>" in table
    assert client.list_executions("srv-credits") == []

    # Run anyway sends: the server decides (402: nothing ran)
    app.credits_confirm.run_anyway_button.click()
    state = app.wait(20)
    assert state is not None and isinstance(state.error, InsufficientCreditsError)
    assert "wf-app-credits-error" in app.message.value
    assert client.list_executions("srv-credits") == []

    # one run (10 <= 25) goes straight, and the balance follows it
    app.batch_enabled.value = False
    run = app.run(wait=True)
    assert run is not None and run.state.status == "COMPLETED"
    assert not app.credits_confirm.asking
    assert len(client.list_executions("srv-credits")) == 1
    assert app.wait_idle(10)
    assert app.credits_label.value == "Balance: <b>15</b> credits"
    client.close()


# -- on a mocked server -------------------------------------------------------------------------


def mock_client(estimate: Callable[[httpx.Request], httpx.Response], usage: httpx.Response | None = None) -> Any:
    """A client whose server answers ``/developer/usage`` (1,000 credits unless ``usage``),
    the history (empty) and ``estimate`` with the given handler."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/developer/usage"):
            return usage or httpx.Response(200, json={"creditsBalance": 1000, "creditsUsed": 0})
        if path.endswith("/estimate"):
            return estimate(request)
        if path.endswith("/executions"):
            return httpx.Response(200, json=[])
        return httpx.Response(404, json={"error": "not found"})

    return WireflowClient(
        api_key=SECRET,
        base_url="http://wireflow.test/api/v1",
        transport=httpx.MockTransport(handler),
        max_retries=0,
    )


def answer_by_num_images(request: httpx.Request) -> httpx.Response:
    """An estimate of 10 credits per image of the ``image`` node, from the request sent."""
    body = json.loads(request.content)
    [node] = [n for n in body["nodes"] if n["id"] == "image"]
    count = int(node["data"].get("numImages", 1))
    return httpx.Response(200, json={"totalCredits": 10 * count, "breakdown": []})


@pytest.mark.parametrize(
    ("status", "reason", "remembered"),
    [(404, "not offered by this server (404)", True), (503, "HTTP 503", False)],
)
def test_a_failing_estimate_falls_back_to_catalog_prices(status: int, reason: str, remembered: bool) -> None:
    asked: list[int] = []

    def failing(request: httpx.Request) -> httpx.Response:
        asked.append(1)
        return httpx.Response(status, json={"error": "no estimate here"})

    app = make_app(mock_client(failing))
    assert app.wait_idle(10)
    label = app.estimate_label.value
    assert "Estimate: <b>\u224810 credits</b> (catalog prices)</span>" in label
    assert 'data-source="catalog prices"' in label
    assert f'title="the backend&#x27;s estimate failed: {reason}"' in label
    assert "from the server" not in label
    # the next edit: a 404 (no estimate endpoint) is not asked again; a 503 is
    app.workflow.set_input("image", "numImages", 2)
    assert app.wait_idle(10)
    assert "\u224820 credits</b> (catalog prices)</span>" in app.estimate_label.value
    assert len(asked) == (1 if remembered else 2)


class SlowFirstEstimate:
    """An estimate handler whose first answer waits until ``release`` is set."""

    def __init__(self) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls == 1:
            self.entered.set()
            assert self.release.wait(20)
        return answer_by_num_images(request)


def test_a_stale_estimate_never_overwrites_a_newer_one() -> None:
    slow = SlowFirstEstimate()
    app = make_app(mock_client(slow))
    shown: list[str] = []
    app.estimate_label.observe(lambda change: shown.append(change["new"]), names="value")
    wait_until(slow.entered.is_set, timeout=10, message="the first estimate to be asked")
    # three edits while the first question (numImages 1) is out
    for count in (2, 3, 4):
        app.workflow.set_input("image", "numImages", count)
    assert "\u224840 credits" in app.estimate_label.value  # the catalog's figure at once
    slow.release.set()
    assert app.wait_idle(10)
    assert "<b>40 credits</b> (from the server)" in app.estimate_label.value
    from_server = [value for value in shown if "from the server" in value]
    assert from_server == [app.estimate_label.value]  # the first answer (10) was never shown
    assert slow.calls == 2  # the edits were coalesced: one more question, for the newest


def test_an_answer_never_replaces_the_reason_there_is_no_estimate() -> None:
    slow = SlowFirstEstimate()
    app = make_app(mock_client(slow))
    wait_until(slow.entered.is_set, timeout=10, message="the first estimate to be asked")
    app.batch_enabled.value = True  # an incomplete batch: nothing to estimate
    problem = app.estimate_label.value
    assert problem.startswith("Estimate: <i>") and "batch" in problem
    slow.release.set()
    assert app.wait_idle(10)
    assert app.estimate_label.value == problem
    assert "from the server" not in app.estimate_label.value


def test_balance_errors_are_brief_and_never_show_the_key() -> None:
    usage = httpx.Response(500, json={"error": f"key {SECRET} broke the ledger"})
    app = make_app(mock_client(answer_by_num_images, usage=usage))
    assert app.wait_idle(10)
    assert app.credits_label.value.startswith("Balance: ")
    assert "unavailable, HTTP 500" in app.credits_label.value
    assert SECRET not in app.credits_label.value and "sk-test" not in app.credits_label.value
    assert app.credits is None
    assert app.run() is not None  # the balance is not known: Run sends, the server decides
    app.wait(20)


def test_an_answer_overtaken_on_its_way_to_the_notebook_thread_is_dropped() -> None:
    """In a notebook the answer comes back to the kernel's loop (``PendingWork.in_ui``); an
    edit made before that loop runs it makes it stale too."""
    import asyncio

    async def in_a_notebook() -> None:
        app = make_app(mock_client(answer_by_num_images))
        shown: list[str] = []
        app.estimate_label.observe(lambda change: shown.append(change["new"]), names="value")
        # this thread blocks: the answer (10 credits) waits on the kernel's loop
        assert app.wait_idle(10)
        assert not any("from the server" in value for value in shown)
        app.workflow.set_input("image", "numImages", 2)
        for _ in range(10_000):  # let the loop run what waits, until the newest answer shows
            if "from the server" in app.estimate_label.value:
                break
            await asyncio.sleep(0)
            app.wait_idle(10)
        assert [value for value in shown if "from the server" in value] == [app.estimate_label.value]
        assert "<b>20 credits</b> (from the server)" in app.estimate_label.value

    asyncio.run(in_a_notebook())
