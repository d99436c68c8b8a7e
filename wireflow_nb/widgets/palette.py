"""``NodePalette``: the node types of a catalog, by category, with a search box.

Built for catalogues of hundreds of types: a category's heading is a button that folds it
(all categories start folded when there are more than ``fold_over`` types), a type's
button is made only when it is first shown (its category unfolded, or a search hit), and a
search shows at most ``max_hits`` hits, then "N more: refine the search". A click on a
type calls ``on_pick(node_type)`` (the ``GraphEditor`` adds that node in view).

CSS classes: ``wf-palette`` (the panel), ``wf-palette-source`` (where the catalogue came
from, with its age: see ``wireflow_nb.catalog_source``), ``wf-palette-search``,
``wf-palette-<category>`` (a category's heading button), ``wf-palette-<nodeType with
every ':' replaced by '-'>`` (a type's button, e.g. ``wf-palette-model-fal-text-to-image``),
``wf-palette-more`` (the "N more" note).
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as widgets

from ..catalog import Catalog, NodeSpec
from .inspector import css_name

#: More types than this: categories start folded.
FOLD_OVER = 40
#: Search hits shown at most (the rest are counted).
MAX_HITS = 60


class NodePalette(widgets.VBox):
    """Buttons of the catalog's node types under their category, filtered by a search."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        on_pick: Callable[[str], None],
        height: int = 600,
        source: object = None,
        fold_over: int = FOLD_OVER,
        max_hits: int = MAX_HITS,
    ) -> None:
        self.catalog = catalog
        self.on_pick = on_pick
        self.max_hits = max_hits
        text = str(source) if source is not None else "node types"
        #: where the catalogue came from (the source's text) and how many types it has
        self.source = widgets.HTML(
            f"<div title='{html.escape(text, quote=True)}' style='color:#6b7280;font-size:11px;"
            f"line-height:1.3;margin:2px 0 4px'>{len(catalog)} type{'' if len(catalog) == 1 else 's'}: "
            f"{html.escape(text)}</div>",
            layout=widgets.Layout(width="100%"),
        )
        self.source.add_class("wf-palette-source")
        self.search = widgets.Text(
            placeholder="search nodes", continuous_update=True, layout=widgets.Layout(width="100%")
        )
        self.search.add_class("wf-palette-search")
        #: the type buttons made so far (node type -> button), filled as they are shown
        self.buttons: dict[str, widgets.Button] = {}
        # one layout and one style model for every button: a third of the time to make one
        # (never shrunk: in a scrolling column of many, flex would squash them to slivers)
        self._layout = widgets.Layout(width="100%", flex="0 0 auto")
        self._style = widgets.ButtonStyle()
        self._specs = catalog.by_category()
        #: category -> its heading, pressed (``value``) while the category is unfolded
        self.headings: dict[str, widgets.ToggleButton] = {}
        self.unfolded: set[str] = set() if len(catalog) > fold_over else set(self._specs)
        for category in self._specs:
            heading = widgets.ToggleButton(
                value=category in self.unfolded,
                tooltip=f"show or hide the {category} types",
                layout=self._layout,
            )
            heading.add_class(f"wf-palette-{css_name(category)}")
            heading.observe(lambda ch, c=category: self.toggle(c, bool(ch["new"])), names="value")
            self.headings[category] = heading
        self._more = widgets.HTML()
        self._more.add_class("wf-palette-more")
        self._query = ""
        #: the headings and buttons shown (those matching the search)
        self.items = widgets.VBox(layout=widgets.Layout(overflow="auto", max_height=f"{height - 70}px"))
        self.search.observe(lambda ch: self.filter(ch["new"]), names="value")
        super().__init__(
            [self.source, self.search, self.items],
            layout=widgets.Layout(width="160px", min_width="160px", flex="0 0 160px", padding="0 6px 0 0"),
        )
        self.add_class("wf-palette")
        self.filter("")

    def button(self, node_type: str) -> widgets.Button:
        """The button of ``node_type`` (made now if it was never shown)."""
        b = self.buttons.get(node_type)
        if b is None:
            spec = self.catalog[node_type]
            b = widgets.Button(
                description=spec.label,
                tooltip=f"{spec.node_type}: {spec.description}".strip(": "),
                layout=self._layout,
                style=self._style,
            )
            b.add_class(f"wf-palette-{spec.node_type.replace(':', '-')}")
            b.on_click(lambda _b, t=spec.node_type: self.on_pick(t))
            self.buttons[node_type] = b
        return b

    def toggle(self, category: str, unfold: bool | None = None) -> None:
        """Fold or unfold ``category`` (flip it when ``unfold`` is None)."""
        if unfold is None:
            unfold = category not in self.unfolded
        if unfold == (category in self.unfolded):
            return
        if unfold:
            self.unfolded.add(category)
        else:
            self.unfolded.discard(category)
        self.headings[category].value = unfold
        self.filter(self._query)

    def filter(self, query: str) -> None:
        """Show the types matching ``query``; a blank query shows the unfolded categories."""
        self._query = query
        searching = bool(query.strip())
        hits: dict[str, list[NodeSpec]] = {}
        for spec in self.catalog.search(query) if searching else ():
            hits.setdefault(spec.category, []).append(spec)
        children: list[widgets.Widget] = []
        left = self.max_hits
        hidden = 0
        more_in: list[str] = []  # categories whose hits are past the cap
        for category, specs in self._specs.items():
            shown = hits.get(category, []) if searching else specs
            if searching and not shown:
                continue
            if searching and left <= 0:
                hidden += len(shown)
                more_in.append(category)
                continue
            open_ = searching or category in self.unfolded
            heading = self.headings[category]
            count = f"{len(shown)} of {len(specs)}" if searching else str(len(specs))
            arrow = "\u25be" if open_ else "\u25b8"
            heading.description = f"{arrow} {category.title()} ({count})"
            children.append(heading)
            if not open_:
                continue
            if searching:
                hidden += max(0, len(shown) - left)
                shown = shown[:left]
                left -= len(shown)
            children.extend(self.button(s.node_type) for s in shown)
        if hidden:
            where = (
                f" (also in {', '.join(more_in[:4])}{', ...' if len(more_in) > 4 else ''})" if more_in else ""
            )
            self._more.value = f"<i>{hidden} more{html.escape(where)}: refine the search</i>"
            children.append(self._more)
        if not children:
            children = [widgets.HTML("<i>no node type matches</i>")]
        self.items.children = children
