"""A node type read from a function's signature, in the page: its ``Literal`` input is a
dropdown and its ``wf.Range`` input a slider in the inspector, and changing them in the
browser writes the node's inputs in the kernel."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_literal_dropdown_and_range_slider_edit_the_node(open_notebook) -> None:
    nb = open_notebook("signature_nodes.ipynb")
    nb.run_all()
    page = nb.page
    style = nb.panel.locator(".wf-inspector .wf-field-style select")
    style.wait_for()
    assert [o.strip() for o in style.locator("option").all_text_contents()] == ["photo", "anime", "sketch"]
    style.select_option("sketch")
    nb.wait_python("flow.node('d').inputs.get('style')", lambda v: v == "sketch")

    slider = nb.panel.locator(".wf-inspector .wf-field-steps")
    handle = slider.locator(".noUi-handle")
    handle.wait_for()
    assert slider.locator(".widget-readout").text_content().strip() == "4"
    handle.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    nb.wait_python("flow.node('d').inputs.get('steps')", lambda v: v == 7)
    assert slider.locator(".widget-readout").text_content().strip() == "7"
    for _ in range(9):  # the slider stops at the Range's upper bound
        page.keyboard.press("ArrowRight")
    nb.wait_python("flow.node('d').inputs.get('steps')", lambda v: v == 10)
    nb.assert_no_errors()
