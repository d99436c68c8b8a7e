"""Blueprints in the editor: the toolbar's "Save as blueprint" button and its small form
(name, category, description), the palette's "Blueprints" category (a click inserts the
blueprint in view, one undo step) with an import field, and the editor's methods
``save_blueprint``, ``insert_blueprint``, ``export_blueprint``, ``import_blueprint``,
``refresh_blueprints`` (``BlueprintActions``, mixed into ``GraphEditor``).

The model (files, ids, the group, undo) is ``wireflow_nb.blueprints``; this module only
builds widgets and calls it.

CSS classes: ``wf-blueprint-save`` (the toolbar button), ``wf-blueprint-form`` (the form)
with ``wf-blueprint-name``, ``wf-blueprint-category``, ``wf-blueprint-description``,
``wf-blueprint-form-save``, ``wf-blueprint-form-cancel`` and
``wf-blueprint-form-message``; in the palette ``wf-palette-blueprints`` (the category's
heading), ``wf-palette-blueprint-<slug>`` (a blueprint's button), ``wf-blueprint-import``
(a file upload of ``.json`` blueprints) and ``wf-palette-blueprints-skipped`` (the note
naming files that could not be read).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..blueprints import Blueprint, BlueprintFileError, BlueprintList, blueprints, insert_in_view
from ..editing.quickadd import Choice

if TYPE_CHECKING:
    from ..editing.scene import Redraw
    from ..editing.state import EditorState
    from .palette import NodePalette


def _hidden(widget: widgets.Widget, hide: bool) -> None:
    widget.layout.display = "none" if hide else None


class BlueprintForm(widgets.HBox):
    """Name, category and description of a new blueprint; Save and Cancel."""

    def __init__(self, on_save: Callable[[str, str, str], None], on_cancel: Callable[[], None]) -> None:
        self.name = widgets.Text(placeholder="blueprint name", layout=widgets.Layout(width="180px"))
        self.name.add_class("wf-blueprint-name")
        self.category = widgets.Text(
            value="blueprints", placeholder="category", layout=widgets.Layout(width="120px")
        )
        self.category.add_class("wf-blueprint-category")
        self.description = widgets.Text(
            placeholder="description (optional)", layout=widgets.Layout(width="200px")
        )
        self.description.add_class("wf-blueprint-description")
        self.save = widgets.Button(description="Save blueprint", button_style="primary")
        self.save.add_class("wf-blueprint-form-save")
        self.cancel = widgets.Button(description="Cancel")
        self.cancel.add_class("wf-blueprint-form-cancel")
        self.message = widgets.Label(value="")
        self.message.add_class("wf-blueprint-form-message")
        self.save.on_click(lambda _b: on_save(self.name.value, self.category.value, self.description.value))
        self.cancel.on_click(lambda _b: on_cancel())
        super().__init__(
            [self.name, self.category, self.description, self.save, self.cancel, self.message],
            layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
        )
        self.add_class("wf-blueprint-form")
        _hidden(self, True)


class BlueprintSection(widgets.VBox):
    """The palette's "Blueprints" category: a heading that folds it, a button per
    blueprint (filtered by the palette's search), the files skipped, and an import."""

    def __init__(self, on_pick: Callable[[Blueprint], None], on_upload: Callable[[str, bytes], None]) -> None:
        self.on_pick = on_pick
        self.items = BlueprintList()
        self.buttons: dict[str, widgets.Button] = {}
        self.query = ""
        self.heading = widgets.ToggleButton(
            value=True,
            tooltip="show or hide your blueprints",
            layout=widgets.Layout(width="100%", flex="0 0 auto"),
        )
        self.heading.add_class("wf-palette-blueprints")
        self.heading.observe(lambda _ch: self.show(), names="value")
        self.skipped = widgets.HTML()
        self.skipped.add_class("wf-palette-blueprints-skipped")
        self.upload = widgets.FileUpload(
            accept=".json", multiple=False, description="Import", layout=widgets.Layout(width="100%")
        )
        self.upload.add_class("wf-blueprint-import")
        self.upload.observe(lambda ch: self._uploaded(ch["new"], on_upload), names="value")
        self.list = widgets.VBox(layout=widgets.Layout(overflow="auto", max_height="180px"))
        super().__init__([self.heading, self.list], layout=widgets.Layout(flex="0 0 auto"))
        self.add_class("wf-palette-blueprint-section")

    def _uploaded(self, value: Any, on_upload: Callable[[str, bytes], None]) -> None:
        if not value:
            return
        for item in value:
            on_upload(str(item.get("name", "upload.json")), bytes(item["content"]))
        self.upload.value = ()

    def set_items(self, items: BlueprintList) -> None:
        self.items = items
        self.show()

    def button(self, bp: Blueprint) -> widgets.Button:
        b = self.buttons.get(bp.slug)
        if b is None:
            b = widgets.Button(layout=widgets.Layout(width="100%", flex="0 0 auto"))
            b.add_class(f"wf-palette-blueprint-{bp.slug}")
            self.buttons[bp.slug] = b
            b.on_click(lambda _b, slug=bp.slug: self.on_pick(self.items.named(slug)))
        b.description = bp.name
        b.tooltip = f"{bp.category}: {bp.description or bp.name} ({len(bp)} nodes)"
        return b

    def show(self, query: str | None = None) -> None:
        if query is not None:
            self.query = query
        q = self.query.strip()
        shown = self.items.search(q)
        open_ = self.heading.value or bool(q)
        count = f"{len(shown)} of {len(self.items)}" if q else str(len(self.items))
        arrow = "\u25be" if open_ else "\u25b8"
        self.heading.description = f"{arrow} Blueprints ({count})"
        notes = self.items.skipped
        self.skipped.value = (
            f"<div style='color:#b45309;font-size:11px' title='{html.escape(chr(10).join(notes), quote=True)}'>"
            f"{len(notes)} file{'s' if len(notes) != 1 else ''} skipped: {html.escape(notes[0])}</div>"
            if notes
            else ""
        )
        children: list[widgets.Widget] = [self.button(bp) for bp in shown] if open_ else []
        if open_:
            children += [self.skipped, self.upload] if notes else [self.upload]
        self.list.children = children
        # a search that matches no blueprint hides the category, as the palette does
        _hidden(self, bool(q) and not shown)


class BlueprintActions:
    """Blueprint methods of ``GraphEditor`` (see the module docstring)."""

    #: where blueprints are read and saved (None: ``blueprint_folder()`` of the data home)
    blueprint_folder: Path | None = None

    if TYPE_CHECKING:
        state: EditorState
        toolbar: widgets.HBox
        palette: NodePalette
        children: tuple[widgets.Widget, ...]

        def _do(self, flags: Redraw) -> None: ...

        def _set_message(self, text: str) -> None: ...

        def _guarded(self, action: Callable[[], Any]) -> None: ...

    def _init_blueprints(self) -> None:
        self.blueprint_button = widgets.Button(
            description="Save as blueprint",
            tooltip="Save the selected nodes as a blueprint (shown in the palette's Blueprints)",
        )
        self.blueprint_button.add_class("wf-blueprint-save")
        self.blueprint_button.on_click(lambda _b: self._guarded(self.show_blueprint_form))
        self.toolbar.children = (*self.toolbar.children, self.blueprint_button)
        self.blueprint_form = BlueprintForm(on_save=self._form_saved, on_cancel=self.hide_blueprint_form)
        self.blueprint_section = BlueprintSection(
            on_pick=lambda bp: self._guarded(lambda: self.insert_blueprint(bp)),
            on_upload=lambda name, data: self._guarded(lambda: self._import_bytes(name, data)),
        )
        p = self.palette
        p.children = (*p.children[:-1], self.blueprint_section, p.children[-1])
        p.search.observe(lambda ch: self.blueprint_section.show(ch["new"]), names="value")
        self.children = (self.children[0], self.blueprint_form, *self.children[1:])
        self._blueprints = BlueprintList()
        # quick add with no link (a double-click) lists the blueprints after the types
        self.state.extra_choices = lambda query: [
            Choice(f"blueprint:{bp.slug}", bp.name, "blueprint", item=bp) for bp in self._blueprints.search(query)
        ]
        self.state.insert_item = lambda bp, at: insert_in_view(self.state, bp, at)[1]
        self.refresh_blueprints()

    def _blueprint_path(self, bp: Blueprint) -> Path | None:
        return None if self.blueprint_folder is None else Path(self.blueprint_folder) / f"{bp.slug}.json"

    # -- the list ----------------------------------------------------------------------------
    def blueprint_list(self) -> BlueprintList:
        """The blueprints of the folder (read now; bad files in ``.skipped``)."""
        return blueprints(self.blueprint_folder)

    def refresh_blueprints(self) -> BlueprintList:
        """Read the folder again and show its blueprints in the palette."""
        items = self._blueprints = self.blueprint_list()
        self.blueprint_section.set_items(items)
        return items

    # -- saving --------------------------------------------------------------------------------
    def show_blueprint_form(self) -> None:
        """Open the form that saves the selection (a message when nothing is selected)."""
        if not self.state.selected_ids:
            self._set_message("select nodes to save as a blueprint first")
            return
        form = self.blueprint_form
        form.message.value = f"{len(self.state.selected_ids)} selected node(s)"
        _hidden(form, False)

    def hide_blueprint_form(self) -> None:
        _hidden(self.blueprint_form, True)

    def _form_saved(self, name: str, category: str, description: str) -> None:
        try:
            self.save_blueprint(name, category=category, description=description)
        except (ValueError, KeyError, FileExistsError, OSError) as exc:
            self.blueprint_form.message.value = str(exc).strip("'\"")
            return
        self.blueprint_form.name.value = ""
        self.blueprint_form.description.value = ""
        self.hide_blueprint_form()

    def save_blueprint(
        self,
        name: str,
        *,
        category: str = "blueprints",
        description: str = "",
        node_ids: list[str] | None = None,
        overwrite: bool = False,
    ) -> Blueprint:
        """Save the selected nodes (or ``node_ids``) as a blueprint in the folder."""
        ids = list(node_ids) if node_ids is not None else self.state.selected_ids
        bp = Blueprint.from_selection(
            self.state.workflow, ids, name=name, category=category, description=description
        )
        path = bp.save(self._blueprint_path(bp), overwrite=overwrite)
        self.refresh_blueprints()
        note = f"; left out local file paths: {', '.join(bp.left_out)}" if bp.left_out else ""
        self._set_message(f"saved blueprint {bp.name} ({len(bp)} nodes) to {path}{note}")
        return bp

    # -- inserting -------------------------------------------------------------------------------
    def insert_blueprint(
        self, blueprint: Blueprint | str, *, position: tuple[float, float] | None = None
    ) -> list[str]:
        """Insert a blueprint (or the one of that name) at ``position`` (world) or a free
        spot in view, inside a new group: one undo step. Returns the new node ids."""
        bp = blueprint if isinstance(blueprint, Blueprint) else self.blueprint_list().named(blueprint)
        ids, flags = insert_in_view(self.state, bp, position)
        self._do(flags)
        return ids

    # -- files -------------------------------------------------------------------------------------
    def export_blueprint(self, name: str, path: str | Path) -> Path:
        """Write the blueprint called ``name`` to ``path`` (to share it)."""
        target = self.blueprint_list().named(name).save(path, overwrite=True)
        self._set_message(f"exported blueprint {name} to {target}")
        return target

    def import_blueprint(self, path: str | Path, *, overwrite: bool = False) -> Blueprint:
        """Copy the blueprint file at ``path`` into the folder and show it in the palette."""
        return self._imported(Blueprint.load(path), overwrite)

    def _import_bytes(self, name: str, data: bytes) -> Blueprint:
        try:
            body = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BlueprintFileError(f"{name}: not JSON ({exc})") from None
        return self._imported(Blueprint.from_dict(body, where=name), False)

    def _imported(self, bp: Blueprint, overwrite: bool) -> Blueprint:
        bp.save(self._blueprint_path(bp), overwrite=overwrite)
        self.refresh_blueprints()
        self._set_message(f"imported blueprint {bp.name} ({len(bp)} nodes)")
        return bp
