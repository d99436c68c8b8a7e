"""``NodePalette``: the node types of a catalog, by category, with a search box.

A click on a type calls ``on_pick(node_type)`` (the ``GraphEditor`` adds that node in
view). CSS classes: ``wf-palette`` (the panel), ``wf-palette-search``,
``wf-palette-<category>`` (a category heading), ``wf-palette-<nodeType with every ':'
replaced by '-'>`` (a type's button, e.g. ``wf-palette-model-fal-text-to-image``).
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets

from ..catalog import Catalog
from .inspector import css_name


class NodePalette(widgets.VBox):
    """Buttons of the catalog's node types under their category, filtered by a search."""

    def __init__(self, catalog: Catalog, *, on_pick: Callable[[str], None], height: int = 600) -> None:
        self.catalog = catalog
        self.search = widgets.Text(
            placeholder="search nodes", continuous_update=True, layout=widgets.Layout(width="100%")
        )
        self.search.add_class("wf-palette-search")
        self.buttons: dict[str, widgets.Button] = {}
        self._groups: list[tuple[widgets.HTML, list[str]]] = []
        for category, specs in catalog.by_category().items():
            heading = widgets.HTML(f"<b>{category.title()}</b>")
            heading.add_class(f"wf-palette-{css_name(category)}")
            names = []
            for spec in specs:
                b = widgets.Button(
                    description=spec.label,
                    tooltip=f"{spec.node_type}: {spec.description}".strip(": "),
                    layout=widgets.Layout(width="100%"),
                )
                b.add_class(f"wf-palette-{spec.node_type.replace(':', '-')}")
                b.on_click(lambda _b, t=spec.node_type: on_pick(t))
                self.buttons[spec.node_type] = b
                names.append(spec.node_type)
            self._groups.append((heading, names))
        #: the headings and buttons shown (those matching the search)
        self.items = widgets.VBox(layout=widgets.Layout(overflow="auto", max_height=f"{height - 40}px"))
        self.search.observe(lambda ch: self.filter(ch["new"]), names="value")
        super().__init__(
            [self.search, self.items],
            layout=widgets.Layout(width="160px", min_width="160px", flex="0 0 160px", padding="0 6px 0 0"),
        )
        self.add_class("wf-palette")
        self.filter("")

    def filter(self, query: str) -> None:
        """Show the types matching ``query`` (all when it is blank)."""
        matches = {s.node_type for s in self.catalog.search(query)} if query.strip() else None
        children: list[widgets.Widget] = []
        for heading, names in self._groups:
            shown = [n for n in names if matches is None or n in matches]
            if shown:
                children.append(heading)
                children.extend(self.buttons[n] for n in shown)
        if not children:
            children = [widgets.HTML("<i>no node type matches</i>")]
        self.items.children = children
