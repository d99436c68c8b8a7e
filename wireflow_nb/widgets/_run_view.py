"""How ``WorkflowApp`` shows a run on the editor while it goes: node badges on the canvas
and in the badge strip, thumbnails of image outputs on the nodes, failed nodes outlined
red, and the node panel (the selected node's status and error).

What this module owns: what is shown per node now (badge, thumbnail) and the calls to the
editor's optional methods (``set_node_status``, ``set_node_thumbnail``,
``highlight_nodes``, ``inspector.show_error``), each guarded so that a display bug never
stops following a run. It reads a ``RunState`` (pure) and fetches thumbnails through the
app's ``PendingWork``; imports ipywidgets.

CSS classes: ``wf-app-badges`` (one ``wf-app-badge`` per node, with ``data-node`` and
``data-status``), ``wf-app-node-detail`` (its error in ``wf-app-node-error``).
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable, Iterable
from typing import Any

import ipywidgets as widgets

from ..models import images_of
from ..models._html import STATUS_COLORS
from ._messages import FAILED_COLOR
from ._run_state import RunState
from ._runner import PendingWork
from .outputs import MediaFetcher, thumbnail_png

__all__ = ["RunView", "node_detail_html"]

logger = logging.getLogger("wireflow_nb.widgets")

_BADGE_COLORS = {**STATUS_COLORS, "cached": "#00897b"}
_NO_NODE = "<i>Select a node to see its status and error.</i>"


def node_detail_html(label: str, node_id: str, badge: str | None, error: str | None) -> str:
    """The node panel: the node's label and id, its badge, and its error, if any."""
    parts = [f"<b>{html.escape(label)}</b> <code>{html.escape(node_id)}</code>"]
    if badge:
        parts.append(f"status: <b>{html.escape(badge)}</b>")
    text = " \u00b7 ".join(parts)
    if error:
        text += (
            f'<div class="wf-app-node-error" style="color:{FAILED_COLOR};white-space:pre-wrap;'
            f'border-left:3px solid {FAILED_COLOR};padding-left:6px">{html.escape(error)}</div>'
        )
    return text


class RunView:
    """The badges, thumbnails, outlines and node panel of the run shown in ``editor``.

    ``labels()`` gives the node labels of the workflow being edited; thumbnails are
    fetched with ``fetcher`` as jobs of ``work`` and drawn back on the notebook's thread.
    """

    def __init__(
        self,
        editor: Any,
        *,
        labels: Callable[[], dict[str, str]],
        fetcher: MediaFetcher,
        work: PendingWork,
    ) -> None:
        self.editor = editor
        self._labels = labels
        self._fetcher = fetcher
        self._work = work
        self._badges: dict[str, str | None] = {}
        self._thumbs: dict[str, str] = {}
        self.badges = widgets.HTML()
        self.badges.add_class("wf-app-badges")
        self.node_detail = widgets.HTML(_NO_NODE)
        self.node_detail.add_class("wf-app-node-detail")

    def editor_call(self, method: str, *args: Any) -> None:
        fn = getattr(self.editor, method, None)
        if callable(fn):
            try:
                fn(*args)
            except Exception:
                logger.exception("editor.%s failed", method)

    # -- badges ---------------------------------------------------------------------------------
    def set_badge(self, node_id: str, badge: str | None) -> None:
        if self._badges.get(node_id, "unset") == badge:
            return
        self._badges[node_id] = badge
        self.editor_call("set_node_status", node_id, badge)

    @property
    def thumbnail_urls(self) -> dict[str, str]:
        """Node id -> the output URL its thumbnail shows (or is being fetched from)."""
        return dict(self._thumbs)

    @property
    def node_badges(self) -> dict[str, str]:
        """Node id -> badge shown now (nodes without a badge left out)."""
        return {k: v for k, v in self._badges.items() if v is not None}

    def render_badges(self) -> None:
        labels = self._labels()
        spans = []
        for node_id, badge in self._badges.items():
            if badge is None:
                continue
            color = _BADGE_COLORS.get(badge, "#607d8b")
            spans.append(
                f'<span class="wf-app-badge" data-node="{html.escape(node_id)}" data-status="{html.escape(badge)}" '
                f'style="border:1px solid {color};color:{color};border-radius:8px;padding:0 6px;margin-right:4px;'
                f'font-size:11px">{html.escape(labels.get(node_id, node_id))}: {html.escape(badge)}</span>'
            )
        self.badges.value = "".join(spans)

    def forget(self) -> None:
        """Another workflow is shown: no badge or thumbnail of the last one is known."""
        self._badges = {}
        self._thumbs = {}

    def start(self, node_ids: Iterable[str], running: set[str]) -> None:
        """A run starts: the nodes in ``running`` are PENDING, the others have no badge,
        and the running nodes' old thumbnails go."""
        self._badges = {}
        for node_id in node_ids:
            self.set_badge(node_id, "PENDING" if node_id in running else None)
            if node_id in running and node_id in self._thumbs:
                self._thumbs.pop(node_id, None)
                self.editor_call("set_node_thumbnail", node_id, None)
        self.render_badges()

    def show_badges(self, state: RunState) -> None:
        for node_id in state.node_ids:
            self.set_badge(node_id, state.node_badge(node_id))
        self.render_badges()

    # -- thumbnails and outlines -------------------------------------------------------------------
    def update_thumbnails(self, state: RunState) -> None:
        if not callable(getattr(self.editor, "set_node_thumbnail", None)):
            return
        for node_id in state.node_ids:
            found = state.outputs_of(node_id)
            urls = [img.url for _, output in found for img in images_of(output)]
            if not urls or self._thumbs.get(node_id) == urls[0]:
                continue
            self._thumbs[node_id] = urls[0]
            self._work.submit(self._thumbnail(node_id, urls[0]))

    async def _thumbnail(self, node_id: str, url: str) -> None:
        try:
            data = await asyncio.to_thread(self._fetcher.fetch, url)
            png = await asyncio.to_thread(thumbnail_png, data)
        except Exception as exc:
            logger.info("no thumbnail for %s: %s", node_id, exc)
            return
        self._work.in_ui(self.editor_call, "set_node_thumbnail", node_id, png)

    def highlight(self, node_ids: list[str], color: str | None) -> None:
        fn = getattr(self.editor, "highlight_nodes", None)
        if not callable(fn):
            return
        try:
            if color is None:
                fn(node_ids)
            else:
                fn(node_ids, color)
        except Exception:
            logger.exception("editor.highlight_nodes failed")

    def outline_failed(self, state: RunState) -> None:
        failed = state.failed_nodes
        if failed:
            self.highlight(list(failed), FAILED_COLOR)

    # -- the node panel ------------------------------------------------------------------------------
    def render_node_detail(self, state: RunState | None, selected: list[str]) -> None:
        if len(selected) != 1:
            self.node_detail.value = _NO_NODE
            return
        node_id = selected[0]
        workflow = self.editor.workflow
        label = workflow.node(node_id).label if workflow.has_node(node_id) else node_id
        error = state.node_error(node_id) if state is not None else None
        self.node_detail.value = node_detail_html(label, node_id, self._badges.get(node_id), error)
        inspector = getattr(self.editor, "inspector", None)
        show_error = getattr(inspector, "show_error", None)
        if callable(show_error):
            try:
                show_error(error)
            except Exception:
                logger.exception("inspector.show_error failed")
