"""Drive a ``GraphEditor`` from Python with the browser's own messages.

``EditorDriver(editor)`` sends exactly what the ipycanvas front-end sends
(``{"event": "mouse_down", "x": ..., "y": ...}``, ``{"event": "mouse_wheel", "x": dx,
"y": dy}``, ``{"event": "key_down", "key": ..., "shift_key": ..., "ctrl_key": ...,
"meta_key": ...}``) into the widget that receives events (the canvas's top layer), so a script or test exercises the same code path as a
user. Coordinates are event coordinates: canvas buffer pixels, as ``node_bounds`` and
``port_position`` return them.

``count_messages()`` records every message the kernel sends to the front-end meanwhile
(all widgets, not only canvases), with its size in bytes.

``node_types_module(500)`` is the source of a module of 500 ``@node_type`` functions with
typed inputs (text, image port, bounded integer and number, choices, boolean) for a
palette of hundreds of types: ``wireflow-nb serve --nodes`` serves it, a benchmark imports it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .widgets.editor import GraphEditor

__all__ = [
    "NODE_FAMILIES",
    "EditorDriver",
    "MessageLog",
    "SentMessage",
    "count_messages",
    "node_types_module",
]

Point = tuple[float, float]


@dataclass
class SentMessage:
    widget: Any
    content: dict[str, Any]
    nbytes: int
    buffers: list[Any]

    def canvas_commands(self) -> list[Any]:
        """The drawing commands of an ipycanvas batch (``[]`` for other messages)."""
        from ipycanvas.canvas import _CanvasManager

        if not isinstance(self.widget, _CanvasManager) or not self.buffers:
            return []
        commands = json.loads(bytes(self.buffers[0]).decode("utf-8"))
        if commands and isinstance(commands[0], list):
            return list(commands)
        return [commands]


@dataclass
class MessageLog:
    """Messages sent to the front-end, with their size in bytes."""

    messages: list[SentMessage] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.messages)

    @property
    def bytes(self) -> int:
        return sum(m.nbytes for m in self.messages)

    def canvas_commands(self) -> list[Any]:
        return [c for m in self.messages for c in m.canvas_commands()]

    def clear(self) -> None:
        self.messages.clear()


def _size(msg: Any, buffers: Any) -> int:
    try:
        n = len(json.dumps(msg, default=str))
    except Exception:
        n = 0
    for b in buffers or ():
        try:
            n += memoryview(b).nbytes
        except TypeError:
            n += len(b)
    return n


@contextmanager
def count_messages() -> Iterator[MessageLog]:
    """Record every widget message sent while the block runs (``Widget._send``)."""
    from ipywidgets import Widget

    log = MessageLog()
    original = Widget._send

    def spy(self: Any, msg: Any, buffers: Any = None) -> Any:
        log.messages.append(SentMessage(self, msg, _size(msg, buffers), list(buffers or ())))
        return original(self, msg, buffers=buffers)

    Widget._send = spy  # type: ignore[method-assign]
    try:
        yield log
    finally:
        Widget._send = original  # type: ignore[method-assign]


class EditorDriver:
    """Mouse and keyboard for a ``GraphEditor``, in event coordinates."""

    def __init__(self, editor: GraphEditor) -> None:
        self.editor = editor
        self.position: Point = (0.0, 0.0)

    # -- raw messages -----------------------------------------------------------------------
    def send(self, content: dict[str, Any]) -> None:
        """Deliver one front-end message to the event-receiving widget."""
        self.editor.canvas[-1]._handle_custom_msg(content, [])

    def _mouse(self, event: str, x: float, y: float) -> None:
        self.position = (float(x), float(y))
        self.send({"event": event, "x": float(x), "y": float(y)})

    def move(self, x: float, y: float) -> None:
        self._mouse("mouse_move", x, y)

    def down(self, x: float, y: float) -> None:
        self._mouse("mouse_down", x, y)

    def up(self, x: float, y: float) -> None:
        self._mouse("mouse_up", x, y)

    def out(self, x: float, y: float) -> None:
        self._mouse("mouse_out", x, y)

    def client_ready(self) -> None:
        """What a new browser view's canvas model sends when it starts."""
        self.editor.canvas[-1]._handle_custom_msg({"event": "client_ready"}, [])

    # -- gestures ------------------------------------------------------------------------------
    def click(self, x: float, y: float) -> None:
        self.move(x, y)
        self.down(x, y)
        self.up(x, y)

    def double_click(self, x: float, y: float) -> None:
        """Two clicks at once (ipycanvas has no double-click event: the editor takes two
        presses within 0.4 s on its clock, ``editor.state.clock``, as one)."""
        self.click(x, y)
        self.click(x, y)

    def drag(self, start: Point, end: Point, steps: int = 10) -> None:
        """Press at ``start``, move in ``steps`` equal steps, release at ``end``."""
        (x0, y0), (x1, y1) = start, end
        self.move(x0, y0)
        self.down(x0, y0)
        n = max(1, int(steps))
        for i in range(1, n + 1):
            t = i / n
            self.move(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t)
        self.up(x1, y1)

    def key(self, name: str, ctrl: bool = False, shift: bool = False, meta: bool = False) -> None:
        """A key press as the browser reports it (``"Delete"``, ``"z"``, ``"Escape"``...)."""
        key = name.upper() if shift and len(name) == 1 and name.isalpha() else name
        self.send({"event": "key_down", "key": key, "shift_key": shift, "ctrl_key": ctrl, "meta_key": meta})

    def wheel(self, x: float, y: float, dy: float, dx: float = 0.0) -> None:
        """Point at ``(x, y)``, then turn the wheel (the browser sends only deltas)."""
        self.move(x, y)
        self.send({"event": "mouse_wheel", "x": float(dx), "y": float(dy)})

    # -- conveniences ---------------------------------------------------------------------------
    def node_center(self, node_id: str) -> Point:
        """A point on the node's header (grabs the node, not a port)."""
        x, y, w, h = self.editor.node_bounds(node_id)
        return (x + w / 2, y + min(h / 2, 18 * self.editor.view.zoom * self.editor.pixel_ratio))

    def click_node(self, node_id: str) -> None:
        self.click(*self.node_center(node_id))

    def drag_node(self, node_id: str, dx: float, dy: float, steps: int = 10) -> None:
        """Drag a node by ``(dx, dy)`` event pixels."""
        x, y = self.node_center(node_id)
        self.drag((x, y), (x + dx, y + dy), steps)

    def connect(
        self, source: str, source_handle: str, target: str, target_handle: str, steps: int = 10
    ) -> None:
        """Drag from an output port to an input port."""
        start = self.editor.port_position(source, source_handle, "out")
        end = self.editor.port_position(target, target_handle, "in")
        self.drag(start, end, steps)

    def group_title(self, group_id: str) -> Point:
        """A point on a group's title bar (dragging it moves the group's nodes)."""
        from .editing.canvas_edits import GROUP_TITLE_HEIGHT

        e = self.editor
        e.state.sync()
        frame = e.state.group_frame(e.workflow.get_group(group_id))
        if frame is None:
            raise KeyError(f"group {group_id!r} has no node in the editor")
        sx, sy = e.state.view.to_screen(frame[0] + 12, frame[1] + GROUP_TITLE_HEIGHT / 2)
        return (sx * e.pixel_ratio, sy * e.pixel_ratio)

    def note_corner(self, note_id: str) -> Point:
        """A point on a note's resize corner (its bottom-right)."""
        e = self.editor
        _x0, _y0, x1, y1 = e.state.note_rect(e.workflow.note(note_id))
        sx, sy = e.state.view.to_screen(x1, y1)
        return ((sx - 4) * e.pixel_ratio, (sy - 4) * e.pixel_ratio)

    def empty_point(self) -> Point:
        """An event-coordinate point over no node, port or edge."""
        e = self.editor
        pr = e.pixel_ratio
        step = 20.0
        y = step
        while y < e.height:
            x = step
            while x < e.width:
                if e.state.hit(x, y).kind == "none" and e.state.hit_canvas_item(x, y) is None:
                    return (x * pr, y * pr)
                x += step
            y += step
        raise RuntimeError("no empty spot in view")


#: The categories of ``node_types_module``'s types (the hosted service's, and more).
NODE_FAMILIES = (
    "generate",
    "llm",
    "compose",
    "utility",
    "process",
    "logic",
    "video",
    "audio",
    "upscale",
    "mask",
)
_OUTPUT_KINDS = ("image", "text", "video", "audio")


def node_types_module(count: int = 500) -> str:
    """Python source defining ``count`` node types ``<family>:kind_<NNN>`` (label ``Kind NNN
    <family>``), spread over ``NODE_FAMILIES``, each with the inputs ``prompt`` (text),
    ``image`` (an image port), ``steps`` (integer 1..50), ``strength`` (number 0..1),
    ``style`` (a choice of photo / anime / sketch) and ``seamless`` (boolean), and one
    output ``result`` whose kind goes round image, text, video, audio."""
    chunks = ["import wireflow_nb", "from wireflow_nb.catalog import InputSpec", ""]
    for i in range(count):
        family = NODE_FAMILIES[i % len(NODE_FAMILIES)]
        chunks.append(
            f"""
@wireflow_nb.node_type(
    "{family}:kind_{i:03d}",
    label="Kind {i:03d} {family}",
    category="{family}",
    description="Test type {i:03d} of the {family} family",
    price={i % 7},
    inputs={{
        "prompt": str,
        "image": "image",
        "steps": InputSpec("steps", "integer", default=20, minimum=1, maximum=50, port=False),
        "strength": InputSpec("strength", "number", default=0.5, minimum=0, maximum=1, port=False),
        "style": InputSpec("style", "choice", default="photo", choices=("photo", "anime", "sketch"), port=False),
        "seamless": bool,
    }},
    outputs={{"result": "{_OUTPUT_KINDS[i % len(_OUTPUT_KINDS)]}"}},
)
def kind_{i:03d}(prompt: str, image: str = "", seamless: bool = False) -> str:
    return prompt
"""
        )
    return "\n".join(chunks)
