"""The "New from template" gallery: workflows to start from, in the editor and the app.

Three sections of cards, each card with the workflow's static picture (``_svg``, scaled
down), its name, a one-line description and an Open button:

- the package's templates (``wireflow_nb.templates``);
- the user's blueprints (``blueprints()``, read when the gallery opens): a blueprint
  opens as a new workflow of its nodes (``Blueprint.workflow``), not inserted;
- when the app's backend keeps saved workflows, the account's (listed in the background
  when the gallery opens, by ``AccountPanel.fetch``, the listing the Open panel uses; each
  card's picture is fetched after).

Picking a card replaces the editor's workflow; when it has unsaved changes, the one
question of ``_unsaved.replace_question`` asks first. What counts as unsaved: a workflow
opened from this gallery, or saved or loaded by the editor's file Save / Load, and not
changed since is not; the app's account decides for the
others (``AccountPanel.has_unsaved_changes``); in a bare editor, any non-empty workflow
is. ``new_from_template(name)`` (Python) opens a template or blueprint without asking, as
``open_saved`` does. ``TemplateActions`` gives the editor ``show_templates``,
``hide_templates`` and ``new_from_template``; the toolbar's button is ``toolbar.ACTIONS``'
``templates``.

CSS classes: ``wf-templates`` (the gallery), ``wf-templates-close``,
``wf-templates-question`` (where the question shows), ``wf-templates-section`` and
``wf-templates-section-<kind>`` (kind: ``package``, ``blueprints``, ``saved``),
``wf-templates-status`` (a section's note: loading, none, an error), ``wf-template-card``
and ``wf-template-card-<kind>`` (its text holds an element with ``data-name``: the slug
of the template or blueprint, the id of a saved workflow; in a page
``.wf-template-card:has([data-name="image-pipeline"])``),
``wf-template-picture``, ``wf-template-open`` (a card's button).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .._advice import explain
from ..account import workflow_from_saved
from ..blueprints import Blueprint, BlueprintList
from ..templates import Template, templates
from ..workflow import Workflow
from ._account_panel import default_name
from ._toolbar import button
from ._unsaved import CleanMark, replace_question

if TYPE_CHECKING:
    from ._account_panel import AccountPanel

__all__ = ["Card", "TemplateActions", "TemplateGallery", "attach_account"]

#: Widest card picture, CSS px.
PICTURE_WIDTH = 240.0
#: Saved workflows whose picture is fetched when the gallery opens (one request each).
MAX_SAVED_PICTURES = 24


@dataclass(frozen=True)
class Card:
    """One entry of the gallery: ``make()`` builds its workflow (None: a saved workflow,
    opened through the account by ``key``, its id)."""

    kind: str  # "package", "blueprints" or "saved"
    key: str  # data-name
    name: str
    description: str
    make: Callable[[], Workflow] | None = None


def _picture(svg: str) -> str:
    return f'<div style="max-height:140px;overflow:hidden">{svg}</div>'


def _svg_of(workflow: Workflow) -> str:
    from .._svg import workflow_svg

    return workflow_svg(workflow, max_width=PICTURE_WIDTH)


class TemplateGallery(widgets.VBox):
    """The gallery (see the module docstring). ``current()`` is the editor's workflow,
    ``replace(workflow)`` puts another in its place, ``blueprints()`` reads the user's."""

    def __init__(
        self,
        *,
        current: Callable[[], Workflow],
        replace: Callable[[Workflow], None],
        blueprints: Callable[[], BlueprintList],
        message: Callable[[str], None],
    ) -> None:
        self._current = current
        self._replace = replace
        self._blueprints = blueprints
        self._message = message
        #: the app's account (saved workflows; its rule of unsaved changes), if any
        self.account: AccountPanel | None = None
        #: the API base that connection advice names (the app's)
        self.base_url: Callable[[], object] = lambda: None
        #: the workflow last opened from the gallery and its JSON then
        self.clean = CleanMark()
        #: data-name -> the card widget, of what is shown now
        self.cards: dict[str, widgets.VBox] = {}
        self.question = widgets.VBox()
        self.question.add_class("wf-templates-question")
        self.sections: dict[str, widgets.VBox] = {}
        self.header = widgets.HBox(
            [
                widgets.HTML("<b>New from template</b>: pick a workflow to start from"),
                button("Close", "times", "wf-templates-close", self.hide),
            ],
            layout=widgets.Layout(align_items="center", justify_content="space-between"),
        )
        super().__init__(
            [self.header, self.question],
            layout=widgets.Layout(border="1px solid #ccc", padding="4px", display="none"),
        )
        self.add_class("wf-templates")

    # -- showing -----------------------------------------------------------------------------
    @property
    def shown(self) -> bool:
        return self.layout.display != "none"

    def show(self) -> None:
        """Open the gallery: the templates, the blueprints read now, the saved workflows
        listed in the background (when there is an account)."""
        self.cards = {}
        self.question.children = ()
        found = self._blueprints()
        package = [
            Card("package", t.slug, t.name, f"{t.category}: {t.description}", t.workflow) for t in templates()
        ]
        kept = [
            Card("blueprints", b.slug, b.name, f"{b.category}: {b.description or b.name}", b.workflow)
            for b in found
        ]
        self.sections = {"package": self._section("package", "Templates", package, "")}
        none = "No blueprints yet: select nodes and press Save as blueprint."
        skipped = f" ({len(found.skipped)} file(s) skipped: {found.skipped[0]})" if found.skipped else ""
        self.sections["blueprints"] = self._section("blueprints", "Your blueprints", kept, none + skipped)
        if self.account is not None and self.account.available:
            self.sections["saved"] = self._section(
                "saved", "Saved workflows", [], "Loading the saved workflows\u2026"
            )
            self.account.fetch(None, self._listed, self._list_failed)
        self.children = (self.header, self.question, *self.sections.values())
        self.layout.display = None

    def hide(self) -> None:
        self.layout.display = "none"
        self.question.children = ()

    def _section(self, kind: str, title: str, cards: list[Card], empty: str) -> widgets.VBox:
        status = widgets.HTML("" if cards else f"<i>{html.escape(empty)}</i>")
        status.add_class("wf-templates-status")
        row = widgets.HBox(
            [self._card(c) for c in cards], layout=widgets.Layout(flex_flow="row wrap", overflow="auto")
        )
        section = widgets.VBox([widgets.HTML(f"<b>{html.escape(title)}</b>"), status, row])
        section.add_class("wf-templates-section")
        section.add_class(f"wf-templates-section-{kind}")
        return section

    def _card(self, card: Card, picture: str | None = None) -> widgets.VBox:
        if picture is None and card.make is not None:
            picture = _svg_of(card.make())
        image = widgets.HTML(_picture(picture) if picture else "<i>picture loading\u2026</i>")
        image.add_class("wf-template-picture")
        text = widgets.HTML(
            f'<div data-name="{html.escape(card.key, quote=True)}"><b>{html.escape(card.name)}</b><br>'
            f'<span style="color:#555;font-size:12px">{html.escape(card.description)}</span></div>'
        )
        opener = button("Open", "folder-open", "wf-template-open", lambda: self.pick(card))
        made = widgets.VBox(
            [image, text, opener],
            layout=widgets.Layout(width="260px", border="1px solid #ddd", padding="4px", margin="2px"),
        )
        made.add_class("wf-template-card")
        made.add_class(f"wf-template-card-{card.kind}")
        self.cards[card.key] = made
        return made

    # -- the account's saved workflows ----------------------------------------------------------
    def _listed(self, rows: list[Any]) -> None:
        section = self.sections.get("saved")
        if section is None or self.account is None:
            return
        status, row = section.children[1], section.children[2]
        cards = [
            Card("saved", r.id, r.name or r.id, f"version {r.version}, {r.node_count or '?'} nodes")
            for r in rows
        ]
        status.value = "" if cards else "<i>No saved workflows yet.</i>"  # type: ignore[attr-defined]
        row.children = tuple(self._card(c) for c in cards)  # type: ignore[attr-defined]
        for card in cards[:MAX_SAVED_PICTURES]:
            self.account.fetch(card.key, self._drawn, lambda _e: None)

    def _drawn(self, saved: Any) -> None:
        made = self.cards.get(saved.id)
        if made is not None:
            made.children[0].value = _picture(_svg_of(workflow_from_saved(saved)))  # type: ignore[attr-defined]

    def _list_failed(self, exc: BaseException) -> None:
        section = self.sections.get("saved")
        if section is not None:
            text = f"Could not list the saved workflows: {explain(exc, base_url=self.base_url())}"
            section.children[1].value = f'<span style="color:#c62828">{html.escape(text)}</span>'  # type: ignore[attr-defined]

    # -- picking -------------------------------------------------------------------------------
    def has_unsaved_changes(self) -> bool:
        """Whether opening another workflow would drop changes (module docstring's rule)."""
        workflow = self._current()
        if self.account is not None and self.account.available and not self.clean.holds(workflow):
            return self.account.has_unsaved_changes()
        return self.clean.changed(workflow)

    def pick(self, card: Card) -> None:
        """A card's Open: ask first when the editor's workflow has unsaved changes."""
        if not self.has_unsaved_changes():
            self.open_card(card)
            return
        name = default_name(self._current())  # its saved name, else its JSON's name, else its id
        where = "to the account" if self.account is not None and self.account.available else "to a file"
        self.question.children = (
            replace_question(
                name, card.name, what=where, on_ok=lambda: self.open_card(card), on_cancel=self._unask
            ),
        )

    def _unask(self) -> None:
        self.question.children = ()

    def open_card(self, card: Card) -> Workflow | None:
        """Open ``card`` in the editor without asking; the gallery closes."""
        self.hide()
        if card.make is None:  # a saved workflow: the account opens it (and files runs under it)
            return self.account.open_saved(card.key) if self.account is not None else None
        workflow = card.make()
        self.clean.mark(workflow)
        self._replace(workflow)
        self._message(f"opened {card.name} ({len(workflow.nodes)} nodes) from the gallery")
        return workflow


def attach_account(editor: Any, account: AccountPanel) -> None:
    """The app's part: the gallery of its editor lists the account's saved workflows."""
    gallery = getattr(editor, "template_gallery", None)
    if isinstance(gallery, TemplateGallery):
        gallery.account = account
        gallery.base_url = account._base_url


class TemplateActions:
    """The editor's "New from template" (mixed into ``GraphEditor``)."""

    if TYPE_CHECKING:
        children: tuple[widgets.Widget, ...]
        workflow: Workflow

        def blueprint_list(self) -> BlueprintList: ...

        def _set_message(self, text: str) -> None: ...

    def _init_templates(self) -> None:
        def replace(workflow: Workflow) -> None:
            self.workflow = workflow

        self.template_gallery = TemplateGallery(
            current=lambda: self.workflow,
            replace=replace,
            blueprints=self.blueprint_list,
            message=self._set_message,
        )
        self.children = (self.children[0], self.template_gallery, *self.children[1:])

    def show_templates(self) -> None:
        """Open the "New from template" gallery (the toolbar's button)."""
        self.template_gallery.show()

    def hide_templates(self) -> None:
        self.template_gallery.hide()

    def new_from_template(self, name: str | Template | Blueprint) -> Workflow:
        """Replace the edited workflow by a new one of the package's template ``name``, else
        of the user's blueprint ``name`` (unsaved changes are dropped without asking: the
        gallery's Open asks)."""
        if isinstance(name, (Template, Blueprint)):
            found: Template | Blueprint = name
        else:
            try:
                found = templates().named(name)
            except KeyError as no_template:
                try:
                    found = self.blueprint_list().named(name)
                except KeyError:
                    raise KeyError(f"{no_template.args[0]}; nor is it a blueprint's name") from None
        card = Card("package", found.slug, found.name, found.description, found.workflow)
        opened = self.template_gallery.open_card(card)
        assert opened is not None
        return opened
