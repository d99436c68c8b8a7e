"""The inspector's form of a node type read from a function's signature: a dropdown for
``Literal``, a slider for ``Annotated[..., wf.Range]``, a text area for a prompt."""

from __future__ import annotations

from typing import Annotated, Literal

import ipywidgets as widgets

import wireflow_nb as wf
from tests.widgets.test_inspector import field
from wireflow_nb import Workflow
from wireflow_nb.catalog import builtin_catalog
from wireflow_nb.widgets import GraphEditor


def test_literal_is_a_dropdown_and_range_a_slider_that_write_the_node() -> None:
    catalog = builtin_catalog()

    @wf.node_type("sig:draw", catalog=catalog)
    def draw(
        prompt: str,
        style: Literal["photo", "anime", "sketch"] = "anime",
        steps: Annotated[int, wf.Range(1, 10)] = 4,
        strength: Annotated[float, wf.Range(0, 1, 0.05)] = 0.5,
        width: int = 512,
    ) -> str:
        return prompt

    flow = Workflow()
    flow.add_node("sig:draw", id="d", prompt="a fox")
    editor = GraphEditor(flow, catalog=catalog)
    editor.select(["d"])

    assert isinstance(field(editor, "prompt"), widgets.Textarea)
    style = field(editor, "style")
    assert isinstance(style, widgets.Dropdown)
    assert (list(style.options), style.value) == (["photo", "anime", "sketch"], "anime")
    steps = field(editor, "steps")
    assert isinstance(steps, widgets.IntSlider)
    assert (steps.min, steps.max, steps.step, steps.value) == (1, 10, 1, 4)
    strength = field(editor, "strength")
    assert isinstance(strength, widgets.FloatSlider)
    assert (strength.min, strength.max, strength.step, strength.value) == (0, 1, 0.05, 0.5)
    assert isinstance(field(editor, "width"), widgets.BoundedIntText)  # no Range: no slider

    style.value = "sketch"
    steps.value = 9
    strength.value = 0.75
    assert flow.node("d").inputs == {"prompt": "a fox", "style": "sketch", "steps": 9, "strength": 0.75}
    editor.undo()
    assert "strength" not in flow.node("d").inputs and strength.value == 0.5 and steps.value == 9

    flow.set_input("d", "steps", 2)  # from Python: the slider follows, not rebuilt
    assert field(editor, "steps") is steps and steps.value == 2
