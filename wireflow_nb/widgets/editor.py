"""``GraphEditor``: build a workflow by hand on an ipycanvas canvas.

``GraphEditor(workflow=None, *, catalog=None, source=None, width=960, height=600,
pixel_ratio=2)`` shows a toolbar, a palette of node types, the canvas and an inspector.
``catalog`` (default ``default_catalog()``) may be ``catalog_for(backend)``'s answer,
whose source the palette then shows (``source`` says it for a plain ``Catalog``).
``editor.workflow`` is the live ``Workflow``: gestures change it, and changes made to it
from Python redraw the canvas.

Gestures, coordinates and CSS classes: ``docs/WIDGETS.md``.

Hooks for an app built on top: ``set_node_status`` / ``set_node_statuses`` /
``clear_node_statuses`` (badges; FAILED also outlines the node in red),
``set_node_thumbnail``, ``highlight_nodes`` / ``clear_highlights``,
``selected_node_ids`` (settable), ``on_selection_change``, ``view`` (settable),
``batch()`` (one redraw for many calls), ``toolbar`` (an ``HBox`` to extend),
``on_workflow_replaced``. Scripting: ``add_node``, ``connect`` (checked like a drag),
``select``, ``undo``/``redo``, ``fit``, ``auto_layout``, ``save``, ``GraphEditor.load``,
``open_file``, ``redraw``, ``resize``; ``minimap_visible``, ``minimap_rect``,
``minimap_point`` (event coordinates, ``_minimap.py``). A node added from code is
brought into view.

The model (state, gestures, undo) is ``wireflow_nb.editing``; this widget routes the
browser's events to it and draws what its ``Redraw`` flags name on three ipycanvas layers
(``_layers.py``): each browser event is answered by at most one ``hold_canvas`` batch,
i.e. one message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from ..catalog import Catalog, default_catalog
from ..catalog_source import BackendCatalog, CatalogSource
from ..editing.geometry import View
from ..editing.scene import Redraw
from ..editing.state import EditorState
from ..editing.viewport import saved_view, viewport_to_save
from ..models import Node
from ..workflow import Workflow
from ._blueprints import BlueprintActions
from ._fit_width import FitWidth
from ._layers import EditorCanvas
from ._minimap import MinimapControls, editor_body, minimap_toggle
from ._quickadd import QuickAddBox
from ._static import StaticFallback, editor_html
from ._templates import TemplateActions
from .inspector import NodeInspector
from .palette import NodePalette
from .toolbar import EditorToolbar, editor_actions

log = logging.getLogger(__name__)

SelectionListener = Callable[[list[str]], None]
WorkflowListener = Callable[[Workflow], None]


class GraphEditor(StaticFallback, TemplateActions, BlueprintActions, MinimapControls, widgets.VBox):
    """A canvas editor of a ``Workflow`` (see the module docstring for gestures)."""

    def __init__(
        self,
        workflow: Workflow | None = None,
        *,
        catalog: Catalog | BackendCatalog | None = None,
        source: CatalogSource | str | None = None,
        width: int = 960,
        height: int = 600,
        pixel_ratio: float = 2.0,
    ) -> None:
        wf = workflow if workflow is not None else Workflow()
        if isinstance(catalog, BackendCatalog):  # catalog_for(backend)'s answer, whole
            found = catalog
            catalog, source = found.catalog, source or found.source
        self.catalog = catalog if catalog is not None else default_catalog()
        #: where the catalogue came from (shown at the palette's top)
        self.catalog_source = source or ("built-in types" if catalog is None else "the catalogue given")
        self.width = int(width)
        self.height = int(height)
        #: canvas buffer pixels per CSS pixel
        self.pixel_ratio = float(pixel_ratio)
        self.state = EditorState(wf, self.catalog, width=self.width, height=self.height)
        self._workflow = wf
        self._unsubscribe: Callable[[], None] | None = None
        self._selection_listeners: list[SelectionListener] = []
        self._workflow_listeners: list[WorkflowListener] = []
        self._batch_depth = 0
        self._pending = Redraw.NONE
        self._panels_pending = False
        self._external_pending = False
        self._view_dirty = False
        self._loaded_view: tuple[float, float, float] | None = None
        self._last_selection: list[str] = []

        self._drawing = EditorCanvas(self.state, self.width, self.height, self.pixel_ratio)
        self.canvas = self._drawing.canvas
        self.layers = self._drawing.layers
        #: node id -> (image widget, natural size) of the thumbnails drawn
        self._images = self._drawing.images
        self._drawing.listen(self._do, on_ready=self.redraw)
        self.quick_add = QuickAddBox(self.canvas, self.state, self._do, guard=self._guarded)

        self.inspector = NodeInspector(
            self.catalog, on_edit=self._inspector_edit, on_canvas=self._canvas_edit
        )
        self.inspector.layout.max_height = f"{self.height}px"
        self.status = widgets.Label(value="")
        self.status.add_class("wf-status")
        self.zoom_label = widgets.Label(value="100%", layout=widgets.Layout(width="48px"))
        self.zoom_label.add_class("wf-zoom")
        self.path = widgets.Text(
            value=f"{wf.id}.json", placeholder="workflow.json", layout=widgets.Layout(width="180px")
        )
        self.path.add_class("wf-path")
        self.toolbar = self._make_toolbar()
        self.palette = NodePalette(
            self.catalog,
            on_pick=lambda t: self._guarded(lambda: self.add_node(t)),
            height=self.height,
            source=self.catalog_source,
        )
        # the palette's parts, under the names scripts and tests know
        self.search = self.palette.search
        self.palette_buttons = self.palette.buttons
        self._palette_list = self.palette.items
        self.fit_width = FitWidth(self, self.quick_add.stage)  # the canvas takes its slot's width
        body = editor_body(self.palette, self.fit_width.slot, self.inspector)
        super().__init__(children=[self.toolbar, body, self.status])
        self.add_class("wf-editor")
        self._init_blueprints()  # toolbar button, form, palette category (_blueprints.py)
        self._init_templates()  # the "New from template" gallery (_templates.py)
        self._bind(wf)
        self._initial_view()
        self.redraw()
        self._sync_side_panels(force=True)

    # -- building the widgets -------------------------------------------------------------------
    def _make_toolbar(self) -> EditorToolbar:
        actions = editor_actions(self)  # toolbar.ACTIONS: the method each button calls
        self.minimap_toggle = minimap_toggle(lambda on: self._guarded(lambda: self._minimap_switched(on)))
        after = [self.minimap_toggle, self.zoom_label, self.path]
        bar = EditorToolbar(actions, guard=self._guarded, after=after)
        self.buttons = bar.buttons
        return bar

    def _guarded(self, action: Callable[[], Any]) -> None:
        try:
            action()
        except Exception as exc:  # a button must not leave a traceback in the output area
            log.exception("editor action failed")
            self._set_message(f"error: {exc}")

    # -- the workflow -----------------------------------------------------------------------------
    @property
    def workflow(self) -> Workflow:
        """The live workflow. Assign another to edit it instead (history is cleared)."""
        return self._workflow

    @workflow.setter
    def workflow(self, wf: Workflow) -> None:
        if not isinstance(wf, Workflow):
            raise TypeError(f"workflow must be a Workflow, not {type(wf).__name__}")
        self._workflow = wf
        self.state.set_workflow(wf)
        self._images.clear()
        self._bind(wf)
        self._initial_view()
        if not self.path.value:
            self.path.value = f"{wf.id}.json"
        self.redraw()
        self._sync_side_panels(force=True)
        for cb in list(self._workflow_listeners):
            cb(wf)

    def on_workflow_replaced(self, callback: WorkflowListener, remove: bool = False) -> None:
        """Call ``callback(workflow)`` when ``editor.workflow`` is replaced (Load)."""
        if remove:
            if callback in self._workflow_listeners:
                self._workflow_listeners.remove(callback)
        else:
            self._workflow_listeners.append(callback)

    def _bind(self, wf: Workflow) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._unsubscribe = wf.observe(self._on_workflow_event)

    def _on_workflow_event(self, wf: Workflow, what: str) -> None:
        if self.state.applying or wf is not self._workflow:
            return
        # changes from Python: in a kernel, redraw once after the running cell (a loop that
        # adds 500 nodes must not redraw 500 times); without an event loop, at once
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._apply_external()
            return
        if not self._external_pending:
            self._external_pending = True
            loop.call_soon(self._apply_external)

    def _apply_external(self) -> None:
        self._external_pending = False
        if self.state.gesture is not None:
            self.state.cancel()
        self.state.moving.clear()
        before = set(self.state.boxes)
        self.state.sync(force=True)
        # a node added from code is brought into view
        flags = self.state.reveal([n for n in self.state.boxes if n not in before])
        self._render(Redraw.SCENE | flags)
        self._sync_side_panels()

    # -- rendering --------------------------------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group several hook calls (statuses, thumbnails, highlights) into one redraw."""
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0 and self._pending:
                flags, self._pending = self._pending, Redraw.NONE
                self._render(flags)

    def redraw(self) -> None:
        """Draw every layer from the state (what a new browser view needs)."""
        self._render(Redraw.SCENE | Redraw.VIEW | Redraw.MENU)

    def _render(self, flags: Redraw) -> None:
        if self._batch_depth:
            self._pending |= flags
            return
        s = self.state
        self._drawing.draw(flags)
        if flags & Redraw.VIEW:
            self.zoom_label.value = f"{round(s.view.zoom * 100)}%"
        if flags & Redraw.STATUS:
            self.status.value = s.message
        if flags & Redraw.MENU:
            self.quick_add.show(s.quick_add)
        if flags & (Redraw.SELECTION | Redraw.WORKFLOW):
            if s.gesture is not None:
                # building the inspector's widgets waits for the release: a press that
                # starts a drag answers with its canvas batch alone
                self._panels_pending = True
            else:
                self._sync_side_panels()

    def _sync_side_panels(self, force: bool = False) -> None:
        self._panels_pending = False
        ids = self.state.selected_ids
        edge = None
        if not ids and len(self.state.edge_selection) == 1:
            edge = self.state.edge_by_key(next(iter(self.state.edge_selection)))
        s = self.state
        picked = (
            ("group", s.picked_group)
            if s.picked_group
            else ("note", s.picked_note)
            if s.picked_note
            else None
        )
        shown = (ids, id(edge) if edge is not None else None, picked)
        if force or shown != getattr(self, "_shown", None):
            self._shown = shown
            self.inspector.show(self._workflow, ids, edge, picked)
        else:
            self.inspector.refresh()
        self.buttons["undo"].disabled = not self.state.history.can_undo
        self.buttons["redo"].disabled = not self.state.history.can_redo
        if ids != self._last_selection:
            self._last_selection = list(ids)
            for cb in list(self._selection_listeners):
                try:
                    cb(list(ids))
                except Exception:
                    log.exception("selection listener failed")

    def _do(self, flags: Redraw) -> None:
        if flags & Redraw.VIEW:
            self._view_dirty = True
        self._render(flags)
        if self._panels_pending and self.state.gesture is None and not self._batch_depth:
            self._sync_side_panels()

    # -- actions (also the toolbar's) -------------------------------------------------------------
    def undo(self) -> None:
        self._do(self.state.undo())

    def redo(self) -> None:
        self._do(self.state.redo())

    def delete_selection(self) -> None:
        self._do(self.state.delete_selection())

    def select_all(self) -> None:
        self._do(self.state.select(self.state.boxes))

    def copy(self) -> None:
        self._do(self.state.copy_selection())

    def paste(self) -> None:
        self._do(self.state.paste())

    def duplicate(self) -> None:
        self._do(self.state.duplicate())

    def fit(self) -> None:
        self._do(self.state.fit())

    def zoom_in(self) -> None:
        self._do(self.state.zoom_by(1.2))

    def zoom_out(self) -> None:
        self._do(self.state.zoom_by(1 / 1.2))

    def auto_layout(self) -> None:
        self._do(self.state.auto_layout())

    def toggle_mode(self) -> None:
        self.set_mode("pan" if self.state.mode == "select" else "select")

    def set_mode(self, mode: str) -> None:
        """``"select"``: drag on empty space draws a selection box; ``"pan"``: it pans."""
        self._do(self.state.set_mode(mode))
        self.buttons["mode"].description = f"Mode: {self.state.mode.title()}"

    def toggle_snap(self) -> None:
        self._do(self.state.toggle_snap())
        self.buttons["snap"].description = f"Snap: {'on' if self.state.snap else 'off'}"

    @property
    def mode(self) -> str:
        return self.state.mode

    @property
    def snap(self) -> bool:
        return self.state.snap

    def add_node(self, node_type: str, *, position: tuple[float, float] | None = None, **inputs: Any) -> str:
        """Add a node (undoable) at ``position`` (world units) or a free spot in view."""
        node_id, flags = self.state.add_node(node_type, position=position, **inputs)
        self._do(flags | self.state.reveal([node_id]))
        return node_id

    def connect(self, source: str, source_handle: str, target: str, target_handle: str) -> bool:
        """Connect as a drag would (checked, undoable); False and a message if refused."""
        before = len(self._workflow.edges)
        self._do(self.state.connect(source, source_handle, target, target_handle))
        return len(self._workflow.edges) > before

    def _set_message(self, text: str) -> None:
        self.state.message = text
        self._render(Redraw.STATUS)

    # -- inspector --------------------------------------------------------------------------------
    def _inspector_edit(self, node_id: str, key: str, mutate: Callable[[Node], None]) -> None:
        flags = self.state.edit_data(node_id, mutate, key)
        # the inspector already shows the new value: redraw the canvas, refresh the rest
        self._render(flags & ~Redraw.WORKFLOW & ~Redraw.LIVE & ~Redraw.GRID & ~Redraw.OVERLAY)
        if flags:
            self.inspector.refresh()
            self.buttons["undo"].disabled = not self.state.history.can_undo
            self.buttons["redo"].disabled = not self.state.history.can_redo

    def _canvas_edit(self, kind: str, item_id: str, changes: dict[str, Any]) -> None:
        """A change from the inspector's group, note or bypass field, as one undoable step."""
        if kind == "group" and changes.get("ungroup"):
            flags = self.state.ungroup(item_id)
        elif kind == "group":
            flags = self.state.edit_group(item_id, **changes)
        elif kind == "note":
            flags = self.state.edit_note(item_id, **changes)
        else:
            flags = self.state.set_bypass([item_id], bool(changes["on"]))
        self._render(flags & ~Redraw.WORKFLOW)
        self.buttons["undo"].disabled = not self.state.history.can_undo
        self.buttons["redo"].disabled = not self.state.history.can_redo

    # -- actions for groups, notes and bypass (also the toolbar's) --------------------------------
    def group_selection(self) -> None:
        """Group the selected nodes (Ctrl+G)."""
        self._do(self.state.group_selection(color=self.state.next_group_color()))

    def ungroup(self) -> None:
        self._do(self.state.ungroup())

    def add_note(self, text: str = "") -> str:
        """Add a note in view; returns its id."""
        note_id, flags = self.state.add_note(text)
        self._do(flags)
        return note_id

    def toggle_bypass(self) -> None:
        """Bypass the selected nodes, or stop (Ctrl+B)."""
        self._do(self.state.toggle_bypass())

    # -- selection --------------------------------------------------------------------------------
    @property
    def selected_node_ids(self) -> list[str]:
        """Selected node ids, in workflow order."""
        self.state.sync()
        return self.state.selected_ids

    @selected_node_ids.setter
    def selected_node_ids(self, ids: Iterable[str]) -> None:
        self.select(ids)

    def select(self, ids: Iterable[str]) -> None:
        self._do(self.state.select(list(ids)))

    @property
    def selected_edge_ids(self) -> list[str]:
        return sorted(self.state.edge_selection)

    def on_selection_change(self, callback: SelectionListener, remove: bool = False) -> Callable[[], None]:
        """Call ``callback(selected_node_ids)`` when the node selection changes; returns an
        unsubscribe function (or pass ``remove=True``)."""
        if remove:
            if callback in self._selection_listeners:
                self._selection_listeners.remove(callback)
            return lambda: None
        self._selection_listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._selection_listeners:
                self._selection_listeners.remove(callback)

        return unsubscribe

    # -- hooks for apps -------------------------------------------------------------------------------
    static_html = editor_html  # the picture where widgets cannot run (_static.py)

    def set_node_status(self, node_id: str, status: str | None) -> None:
        """Show a status badge on a node (``RUNNING``, ``COMPLETED``, ``FAILED``, ...;
        any string) or remove it with ``None``. A failed node gets a red outline."""
        if status is None or str(status) == "":
            if self.state.statuses.pop(node_id, None) is None:
                return
        else:
            text = str(getattr(status, "value", status))
            if self.state.statuses.get(node_id) == text:
                return
            self.state.statuses[node_id] = text
        self._render(Redraw.NODES | (Redraw.LIVE if node_id in self.state.moving else Redraw.NONE))

    def set_node_statuses(self, statuses: Mapping[str, str | None]) -> None:
        with self.batch():
            for node_id, status in statuses.items():
                self.set_node_status(node_id, status)

    def clear_node_statuses(self) -> None:
        if self.state.statuses:
            self.state.statuses.clear()
            self._render(Redraw.NODES | Redraw.LIVE)

    @property
    def node_statuses(self) -> dict[str, str]:
        return dict(self.state.statuses)

    def set_node_thumbnail(self, node_id: str, png: bytes | None) -> None:
        """Show a picture (PNG/JPEG bytes) in a node, below its ports; ``None`` removes it."""
        if not self._drawing.set_thumbnail(node_id, png):
            return
        self.state.sync(force=True)
        self._render(Redraw.STATIC | Redraw.LIVE)

    def highlight_nodes(self, ids: Iterable[str], color: str = "#f59e0b") -> None:
        """Outline ``ids`` in ``color`` (replacing earlier highlights; ``[]`` clears)."""
        self.state.highlights = {n: color for n in ids}
        self._render(Redraw.NODES | Redraw.LIVE)

    def clear_highlights(self) -> None:
        self.highlight_nodes(())

    @property
    def view(self) -> View:
        """Pan and zoom (a copy): ``screen_css = world * zoom + (x, y)``."""
        return self.state.view.copy()

    @view.setter
    def view(self, value: View | Mapping[str, float] | tuple[float, float, float]) -> None:
        if isinstance(value, View):
            x, y, z = value.x, value.y, value.zoom
        elif isinstance(value, Mapping):
            x, y, z = float(value["x"]), float(value["y"]), float(value.get("zoom", 1.0))
        else:
            x, y, z = value
        self._do(self.state.set_view(x, y, z))

    # -- geometry for scripts and tests (event coordinates) ---------------------------------------------
    def node_bounds(self, node_id: str) -> tuple[float, float, float, float]:
        """``(x, y, w, h)`` of a node in event coordinates (canvas buffer pixels)."""
        return self._drawing.node_bounds(node_id)

    def port_position(self, node_id: str, handle: str, side: str | None = None) -> tuple[float, float]:
        """Centre of a port in event coordinates. ``handle`` may carry ``in-``/``out-``;
        a plain name is looked up among outputs first (``side="in"`` to choose)."""
        return self._drawing.port_position(node_id, handle, side)

    def node_at(self, x: float, y: float) -> str | None:
        """The node under an event-coordinate point, if any."""
        return self._drawing.node_at(x, y)

    # -- files --------------------------------------------------------------------------------------------
    def _initial_view(self) -> None:
        self._view_dirty = False
        self._loaded_view = saved_view(self._workflow.extra)
        if self._loaded_view is not None:
            self.state.set_view(*self._loaded_view)
        else:
            self.state.fit()

    def _store_view(self) -> None:
        """Write pan/zoom to ``extra["viewport"]`` (React Flow's shape) when the user moved
        the view or the file had one; an untouched view leaves the file as it was."""
        v = self.state.view
        viewport = viewport_to_save(self._workflow.extra, v, self._loaded_view, self._view_dirty)
        if viewport is not None:
            self._workflow.extra["viewport"] = viewport
            self._loaded_view = (v.x, v.y, v.zoom)

    def save(self, path: str | Path) -> Path:
        """Save the workflow (every field kept) with the current view as ``viewport``."""
        self._store_view()
        target = self._workflow.save(path)
        self.template_gallery.clean.mark(self._workflow)  # saved: nothing for the gallery to ask
        self._set_message(f"saved {len(self._workflow)} nodes to {target}")
        return target

    @classmethod
    def load(cls, path: str | Path, **kwargs: Any) -> GraphEditor:
        """An editor of the workflow file at ``path`` (its saved view restored)."""
        editor = cls(Workflow.load(path), **kwargs)
        editor.path.value = str(path)
        return editor

    def open_file(self, path: str | Path) -> None:
        """Replace the edited workflow by the file at ``path``."""
        self.workflow = Workflow.load(path)
        self.template_gallery.clean.mark(self._workflow)
        self.path.value = str(path)
        self._set_message(f"loaded {len(self._workflow)} nodes from {path}")

    def _save_clicked(self) -> None:
        self.save(self.path.value.strip() or f"{self._workflow.id}.json")

    def _load_clicked(self) -> None:
        path = self.path.value.strip()
        if not path or not Path(path).exists():
            self._set_message(f"no file {path!r} to load")
            return
        self.open_file(path)

    def __repr__(self) -> str:
        return f"GraphEditor({self._workflow!r})"
