"""The browser set-up itself works: a plain ipywidgets + ipycanvas notebook renders in
JupyterLab, its canvas draws, and a real click reaches the kernel."""

from __future__ import annotations

import pytest

from .lab import VOILA_NOISE, console_errors

pytestmark = pytest.mark.e2e


def test_widgets_render_and_clicks_reach_the_kernel(open_notebook):
    nb = open_notebook("smoke_widgets.ipynb")
    nb.run_all()
    canvas = nb.canvas("wf-smoke-canvas")
    stats = canvas.wait_nonblank()
    nb.assert_no_errors()
    assert stats["width"] == 600 and stats["height"] == 300

    # a button click goes to Python and back to the DOM
    nb.widget("wf-smoke-button").click()
    nb.page.locator(".wf-smoke-label", has_text="presses: 1").wait_for()
    assert nb.eval_json("button_presses") == 1

    # a click on the canvas at known event coordinates arrives there (mapping is right)
    box = canvas.stable_box()
    px, py = canvas.to_page(250.0, 100.0, box)
    nb.page.mouse.click(px, py)
    clicks = nb.wait_python("clicks", lambda c: len(c) == 1)
    x, y = clicks[0]
    assert abs(x - 250) <= 2 and abs(y - 100) <= 2, clicks
    nb.assert_no_errors()

    # an exception in an event handler shows in no output area: the helpers still see it
    nb.execute("def boom(x, y):\n    raise RuntimeError('boom in a handler')\ncanvas.on_mouse_down(boom)")
    nb.page.mouse.click(px, py)
    nb.wait_python("len(clicks)", lambda n: n == 2)
    assert any("boom in a handler" in e for e in nb.kernel_errors()), nb.kernel_errors()
    assert nb.errors() == []  # not in the outputs


def test_canvas_redraws_after_page_reload(open_notebook):
    nb = open_notebook("smoke_widgets.ipynb")
    nb.run_all()
    nb.canvas("wf-smoke-canvas").wait_nonblank()
    nb.save()  # the reloaded page shows the file: keep the widget view's output in it
    nb.reload()
    # a new browser-side model for the same kernel-side canvas: it must be redrawn
    stats = nb.canvas("wf-smoke-canvas").wait_nonblank()
    assert stats["fraction"] > 0.05
    nb.assert_no_errors()


def test_notebook_renders_and_draws_under_voila(open_voila, page):
    view = open_voila("smoke_widgets.ipynb")
    view.canvas("wf-smoke-canvas").wait_nonblank()
    view.widget("wf-smoke-button").click()
    page.locator(".wf-smoke-label", has_text="presses: 1").wait_for()
    view.assert_no_errors()
    assert not console_errors(page, ignore=VOILA_NOISE)


def test_the_lab_loads_our_server_extension(open_notebook, jupyter_server):
    """The JupyterLab users start from the package's environment loads ``_server_ext``
    (kernel websockets without Nagle's delay): its line is in the server's log once a
    notebook's kernel is connected."""
    nb = open_notebook("smoke_widgets.ipynb")
    nb.wait_python("1 + 1", lambda n: n == 2)
    assert "wireflow_nb: kernel websockets send without delay" in jupyter_server.log_text()
