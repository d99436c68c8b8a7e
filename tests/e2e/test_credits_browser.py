"""Credits in a real JupyterLab in real Chromium: the toolbar shows the balance and the
local engine's estimate (batch included), answered in the background and drawn from the
kernel's loop; Run on a run the balance cannot cover shows the 402 table with "Run
anyway" / "Cancel" and sends nothing; Run anyway sends (the engine's 402); an
affordable run goes straight and the balance follows it."""

from __future__ import annotations

import pytest

from .lab import wait_until

pytestmark = pytest.mark.e2e


def test_balance_estimate_and_the_run_guard(open_notebook):
    nb = open_notebook("credits_app.ipynb")
    nb.run_all()
    balance = nb.panel.locator(".wf-app .wf-credits-balance").first
    estimate = nb.panel.locator(".wf-app .wf-estimate").first
    balance.filter(has_text="Balance: 15 credits").wait_for(timeout=30_000)
    estimate.filter(has_text="Estimate: 10 credits (local engine)").wait_for(timeout=30_000)

    nb.execute("app.set_batch('image', 'seed', [1, 2])")
    estimate.filter(has_text="Estimate: 20 credits (2 runs; local engine)").wait_for(timeout=30_000)

    # 20 > 15: Run asks, nothing is sent
    confirm = nb.panel.locator(".wf-app .wf-credits-confirm").first
    assert not confirm.is_visible()
    nb.widget("wf-app-run").click()
    confirm.wait_for(state="visible", timeout=30_000)
    assert "estimated at 20 credits, the balance is 15" in confirm.inner_text()
    assert confirm.locator(".wf-app-credits-table").count() == 1
    assert nb.eval_json("len(engine.list_executions('credits'))") == 0

    # Run anyway sends: the engine refuses it with its own 402 table
    confirm.locator(".wf-credits-run-anyway").click()
    confirm.wait_for(state="hidden", timeout=30_000)
    nb.panel.locator(".wf-app .wf-app-credits-error").first.wait_for(timeout=30_000)

    # one run (10 <= 15) goes straight; the balance follows it
    nb.execute("app.batch_enabled.value = False")
    estimate.filter(has_text="Estimate: 10 credits (local engine)").wait_for(timeout=30_000)
    nb.widget("wf-app-run").click()
    status = nb.panel.locator(".wf-app .wf-app-status [data-status]").first
    wait_until(lambda: status.get_attribute("data-status") == "COMPLETED", timeout=60, message="run COMPLETED")
    balance.filter(has_text="Balance: 5 credits").wait_for(timeout=30_000)
    assert not confirm.is_visible()
    assert nb.eval_json("len(engine.list_executions('credits'))") == 1
    nb.assert_no_errors()
