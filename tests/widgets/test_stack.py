"""``LayerStack``: canvas layers stacked by the page, the top one receiving the events."""

from __future__ import annotations

import ipywidgets as widgets
import pytest
from ipycanvas import Canvas, MultiCanvas

from wireflow_nb.testing import EditorDriver
from wireflow_nb.widgets import GraphEditor
from wireflow_nb.widgets._layers import LAYERS
from wireflow_nb.widgets._stack import LayerStack

from .conftest import three_nodes


def test_layers_are_canvases_in_one_grid_cell_each_as_wide_as_the_stack():
    stack = LayerStack(3, width=400, height=200, layout=widgets.Layout(max_width="200px"))
    assert isinstance(stack, widgets.GridBox) and stack.layout.max_width == "200px"
    assert list(stack.children) == list(stack.canvases) and len(stack.canvases) == 3
    assert all(type(c) is Canvas for c in stack.canvases)  # each its own <canvas>, no MultiCanvas
    for c in stack.canvases:
        assert c.layout.grid_area == "1 / 1" and c.layout.width == "100%" and c.layout.height == "auto"
        assert (c.width, c.height) == (400, 200)
    assert stack.layout.grid_template_columns == "minmax(0, 1fr)"
    assert stack[0] is stack.canvases[0] and stack[-1] is stack.top is stack.canvases[2]


def test_size_is_set_on_every_layer():
    stack = LayerStack(2, width=10, height=20)
    stack.width, stack.height = 300, 150
    assert (stack.width, stack.height) == (300, 150)
    assert [(c.width, c.height) for c in stack.canvases] == [(300, 150), (300, 150)]


def test_events_are_the_top_layers():
    stack = LayerStack(3, width=100, height=100)
    seen: list[tuple[str, float, float]] = []
    stack.on_mouse_down(lambda x, y: seen.append(("down", x, y)))
    stack.on_mouse_move(lambda x, y: seen.append(("move", x, y)))
    stack.on_mouse_up(lambda x, y: seen.append(("up", x, y)))
    stack.on_mouse_out(lambda x, y: seen.append(("out", x, y)))
    stack.on_mouse_wheel(lambda dx, dy: seen.append(("wheel", dx, dy)))
    stack.on_key_down(lambda key, *_: seen.append(("key", key, 0)))
    ready: list[int] = []
    stack.on_client_ready(lambda: ready.append(1))
    for layer in stack.canvases[:-1]:  # the layers under the top one receive nothing
        layer._handle_custom_msg({"event": "mouse_down", "x": 1, "y": 1}, [])
    assert seen == []
    top = stack.top
    for event in ("mouse_down", "mouse_move", "mouse_up", "mouse_out", "mouse_wheel"):
        top._handle_custom_msg({"event": event, "x": 3, "y": 4}, [])
    top._handle_custom_msg({"event": "key_down", "key": "a", "shift_key": False, "ctrl_key": False, "meta_key": False}, [])
    top._handle_custom_msg({"event": "client_ready"}, [])
    assert [s[0] for s in seen] == ["down", "move", "up", "out", "wheel", "key"] and ready == [1]
    assert stack._canvas_manager is top._canvas_manager


def test_a_stack_needs_a_layer():
    with pytest.raises(ValueError, match="at least one layer, not 0"):
        LayerStack(0, width=10, height=10)


def test_the_editor_draws_on_a_stack_of_its_layers_and_a_click_reaches_the_state():
    e = GraphEditor(three_nodes())
    assert isinstance(e.canvas, LayerStack) and not isinstance(e.canvas, MultiCanvas)
    assert [e.layers[name] for name in LAYERS] == list(e.canvas.canvases)
    assert "wf-canvas" in e.canvas._dom_classes
    x, y, w, h = e.node_bounds("resize")
    EditorDriver(e).click(x + w / 2, y + h / 2)
    assert e.selected_node_ids == ["resize"]
