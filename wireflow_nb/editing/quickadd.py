"""Quick add: a search box at the pointer that adds a node, connected to a dragged link.

A link dropped on empty canvas, or a double-click there, opens a ``QuickAddMenu``
listing the node types that can take the link (every type for a double-click), ranked by
name, then category match (``choices``); typing filters, arrows move, Enter adds, Escape
closes. The new node goes to the drop point (the connected port on it) and node + edge
are one undo step (``History.grouped``).

Which types match a query is ``Catalog.search``'s rule (the palette's); which output may
feed which input is ``catalog.can_feed``; the edge itself is checked and written by
``Edits.connect``. Here: the ranking, the double-click timer (ipycanvas reports no
double-click: two presses within ``DOUBLE_CLICK_SECONDS`` at most ``DOUBLE_CLICK_DISTANCE``
px apart, judged on press only, so no move handler does more work) and ``QuickAdd``, the
state's part that opens, filters and commits the menu.

Imports ``catalog``, ``models`` and ``editing`` modules; never a widget library.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..catalog import Catalog, NodeSpec, can_feed
from ..models import Node
from .geometry import build_box
from .gestures import BoxSelect, Connect, Gestures, Pan
from .scene import Redraw

if TYPE_CHECKING:
    from ..workflow import Workflow

#: Two presses at most this far apart in time (the usual system setting) make a double-click.
DOUBLE_CLICK_SECONDS = 0.4
#: ... and at most this far apart on screen (CSS px).
DOUBLE_CLICK_DISTANCE = 4.0
#: Types listed at most (the rest are counted in the hint).
MAX_CHOICES = 12


class DoubleClick:
    """Tells a double-click from the presses' times and places (on press only)."""

    def __init__(
        self, seconds: float = DOUBLE_CLICK_SECONDS, distance: float = DOUBLE_CLICK_DISTANCE
    ) -> None:
        self.seconds = seconds
        self.distance = distance
        self._last: tuple[float, float, float] | None = None

    def press(self, x: float, y: float, now: float) -> bool:
        """Record a press; True when it completes a double-click (a third press starts over)."""
        last = self._last
        if (
            last is not None
            and 0 <= now - last[2] <= self.seconds
            and math.dist(last[:2], (x, y)) <= self.distance
        ):
            self._last = None
            return True
        self._last = (x, y, now)
        return False


@dataclass(frozen=True)
class Link:
    """The port a link was dragged from: ``side`` is ``"out"`` (an output) or ``"in"``."""

    node_id: str
    side: str
    port: str
    kind: str


@dataclass(frozen=True)
class Choice:
    """A type the menu lists, and its port the link connects to (None: no link)."""

    node_type: str
    label: str
    category: str
    port: str | None = None
    #: something else than a node type to insert (a blueprint: ``QuickAdd.extra_choices``)
    item: Any = None


def link_port(spec: NodeSpec, link: Link) -> tuple[str, bool] | None:
    """The port of a new ``spec`` node that can take ``link`` and whether its kind is the
    link's own (else it takes it loosely, as json or any); None when no port can."""
    if link.side == "out":
        ports = [(p.name, p.kind) for p in spec.input_ports()]
        fits = [(name, kind) for name, kind in ports if can_feed(link.kind, kind)]
    else:
        ports = [(o.name, o.kind) for o in spec.outputs]
        fits = [(name, kind) for name, kind in ports if can_feed(kind, link.kind)]
    for name, kind in fits:
        if kind == link.kind:
            return name, True
    return (fits[0][0], False) if fits else None


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def match_rank(spec: NodeSpec, query: str) -> int:
    """0 the name (label, type or the type's last part) is the query, 1 starts with it,
    2 every word starts a word of the name, 3 the words left are in the category, 4 other
    hits of ``Catalog.search`` (description, ...)."""
    q = " ".join(query.lower().split())
    if not q:
        return 0
    label, node_type = spec.label.lower(), spec.node_type.lower()
    short = node_type.rsplit(":", 1)[-1]
    if q in (label, node_type, short):
        return 0
    if label.startswith(q) or short.startswith(q):
        return 1
    # the name: the label and the type's last part (its first parts are a category)
    names = _words(spec.label) + _words(short)
    words = _words(q)

    def in_name(w: str) -> bool:
        return any(n.startswith(w) for n in names)

    if words and all(in_name(w) for w in words):
        return 2
    category = spec.category.lower()
    if words and all(in_name(w) or w in category for w in words):
        return 3
    return 4


def choices(catalog: Catalog, link: Link | None, query: str = "") -> list[Choice]:
    """Every type matching ``query`` (``Catalog.search``) that can take ``link`` (every type
    for None), best first: by ``match_rank``, a port of the link's own kind before a loose
    one, then category and name."""
    ranked: list[tuple[tuple[int, int, str, str], Choice]] = []
    for spec in catalog.search(query):
        port: str | None = None
        loose = False
        if link is not None:
            fit = link_port(spec, link)
            if fit is None:
                continue
            port, loose = fit[0], not fit[1]
        key = (match_rank(spec, query), int(loose), spec.category.lower(), spec.label.lower())
        ranked.append((key, Choice(spec.node_type, spec.label, spec.category, port)))
    ranked.sort(key=lambda item: item[0])
    return [c for _, c in ranked]


@dataclass
class QuickAddMenu:
    """An open quick-add box: where it was opened, for which link, what it lists."""

    at: tuple[float, float]  # screen (CSS px) point of the drop or double-click
    world: tuple[float, float]  # the same point in world units: where the node goes
    link: Link | None
    query: str = ""
    found: list[Choice] = field(default_factory=list)  # every match, best first
    index: int = 0

    @property
    def shown(self) -> list[Choice]:
        return self.found[:MAX_CHOICES]

    @property
    def more(self) -> int:
        """Matches past the list's cap."""
        return max(0, len(self.found) - MAX_CHOICES)

    @property
    def chosen(self) -> Choice | None:
        shown = self.shown
        return shown[self.index] if 0 <= self.index < len(shown) else None

    def hint(self) -> str:
        if not self.found:
            return "no node type takes this link" if self.link is not None and not self.query else "no match"
        if self.more:
            return f"{self.more} more: type to narrow"
        return ""


class QuickAdd(Gestures):
    """Quick add in the editor's state: ``quick_add`` is the open menu, or None."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.quick_add: QuickAddMenu | None = None
        self.double_click = DoubleClick()
        #: the clock of the double-click timer (tests give their own)
        self.clock: Callable[[], float] = time.monotonic
        #: more entries for a menu with no link (query -> choices whose ``item`` is set),
        #: listed after the types, and how to insert one at a world point; the widget sets
        #: them for blueprints (``editing`` cannot import ``blueprints``)
        self.extra_choices: Callable[[str], list[Choice]] | None = None
        self.insert_item: Callable[[Any, tuple[float, float]], Redraw] | None = None

    def set_workflow(self, workflow: Workflow) -> None:
        self.quick_add = None
        super().set_workflow(workflow)

    def pointer_down(self, sx: float, sy: float) -> Redraw:
        double = self.double_click.press(sx, sy, self.clock())
        flags = self.close_quick_add()
        flags |= super().pointer_down(sx, sy)
        # the gestures' own judgement of "empty space": the press started a box or a pan
        if double and isinstance(self.gesture, BoxSelect | Pan):
            self.gesture = None
            return flags | self.open_quick_add(sx, sy)
        return flags

    def link_dropped(self, g: Connect, sx: float, sy: float) -> Redraw:
        """A link dropped on no node opens the menu there (a picked-up edge end dropped so
        is put back, as before)."""
        if g.replacing is not None:
            return Redraw.NONE
        box = self.boxes.get(g.node_id)
        i = box.find_port(g.side, g.port) if box is not None else None
        if box is None or i is None:
            return Redraw.NONE
        kind = (box.outputs if g.side == "out" else box.inputs)[i].kind
        return self.open_quick_add(sx, sy, Link(g.node_id, g.side, g.port, kind))

    # the menu ------------------------------------------------------------------------------
    def open_quick_add(self, sx: float, sy: float, link: Link | None = None) -> Redraw:
        """Open the menu at the screen point ``(sx, sy)`` for ``link`` (None: every type)."""
        if self.catalog is None:
            return Redraw.NONE
        self.quick_add = QuickAddMenu((sx, sy), self.view.to_world(sx, sy), link)
        self.quick_add_query("")
        return Redraw.MENU

    def close_quick_add(self) -> Redraw:
        if self.quick_add is None:
            return Redraw.NONE
        self.quick_add = None
        return Redraw.MENU

    def quick_add_query(self, query: str) -> Redraw:
        """Filter the open menu by ``query`` (its text field, or keys typed on the canvas)."""
        m = self.quick_add
        if m is None or self.catalog is None or (query == m.query and m.found):
            return Redraw.NONE
        m.query = query
        m.found = choices(self.catalog, m.link, query)
        if m.link is None and self.extra_choices is not None:
            # typed words that a blueprint's name or category holds: it comes first
            extra = self.extra_choices(query)
            m.found = [*extra, *m.found] if query.strip() else [*m.found, *extra]
        m.index = 0
        return Redraw.MENU

    def quick_add_key(self, key: str, ctrl: bool = False, meta: bool = False) -> Redraw:
        """A key while the menu is open: it takes them all (none reaches the editor)."""
        m = self.quick_add
        if m is None:
            return Redraw.NONE
        if key == "Escape":
            return self.close_quick_add()
        if key == "Enter":
            return self.quick_add_pick()
        if key in ("ArrowDown", "ArrowUp"):
            n = len(m.shown)
            if not n:
                return Redraw.NONE
            m.index = (m.index + (1 if key == "ArrowDown" else -1)) % n
            return Redraw.MENU
        if key == "Backspace":
            return self.quick_add_query(m.query[:-1])
        if len(key) == 1 and not (ctrl or meta):
            return self.quick_add_query(m.query + key)
        return Redraw.NONE

    def quick_add_pick(self, index: int | None = None) -> Redraw:
        """Add the listed type at ``index`` (default: the highlighted one) at the menu's
        point, connected to its link: one undo step. The menu closes."""
        m = self.quick_add
        if m is None:
            return Redraw.NONE
        if index is not None:
            m.index = index
        choice = m.chosen
        if choice is None:
            return Redraw.NONE
        self.quick_add = None
        if choice.item is not None and self.insert_item is not None:
            return self.insert_item(choice.item, m.world) | Redraw.MENU | Redraw.STATUS
        link = m.link if m.link is not None and m.link.node_id in self.boxes else None
        x, y = m.world
        if link is not None and choice.port is not None:
            # the new node's connected port lands on the drop point
            side = "in" if link.side == "out" else "out"
            probe = build_box(Node(id="probe", data={"nodeType": choice.node_type}), self.catalog, (), ())
            px, py = probe.port_point(side, choice.port)
            x, y = x - px, y - py
        with self.history.grouped(f"add {choice.node_type}" + (" and connect" if link else "")):
            node_id, flags = self.add_node(choice.node_type, position=self._snapped(x, y))
            added = self.message
            if link is not None and choice.port is not None:
                if link.side == "out":
                    flags |= self.connect(link.node_id, link.port, node_id, choice.port)
                else:
                    flags |= self.connect(node_id, choice.port, link.node_id, link.port)
                self.message = f"{added}; {self.message}"
        return flags | Redraw.MENU | Redraw.STATUS
