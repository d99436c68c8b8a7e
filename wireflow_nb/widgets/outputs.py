"""``OutputView``: a run's outputs in the notebook.

Images become ``ipywidgets.Image`` and videos ``ipywidgets.Video`` holding the real bytes,
fetched through the backend (``fetch_bytes``: ``file://`` for a LocalEngine, HTTP for a
client) on worker threads and cached by URL, so the cell never waits on a download.
Text is shown as text, any other JSON pretty-printed. A batch is a gallery grouped by
run. A button saves everything shown to a folder.

CSS classes (for tests and styling): ``wf-app-outputs`` (the view),
``wf-app-output-group`` (one run of a batch), ``wf-app-output-item`` (one node's
output), ``wf-app-output-image``, ``wf-app-output-video``, ``wf-app-output-text``,
``wf-app-output-json``, ``wf-app-output-error`` (a media item that could not be
loaded), ``wf-app-output-folder``, ``wf-app-save-outputs``, ``wf-app-output-message``.
"""

from __future__ import annotations

import base64
import binascii
import concurrent.futures
import html
import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import ipywidgets as widgets

from ..models import NodeRun, images_of, text_of, videos_of
from ..provenance import record_for, saved_bytes, write_file
from ._run_state import RunState
from ._runner import call_blocking
from ._static import StaticFallback, outputs_html, small_picture

__all__ = [
    "MediaFetcher",
    "OutputGroup",
    "OutputItem",
    "OutputView",
    "media_format",
    "thumbnail_png",
]

logger = logging.getLogger("wireflow_nb.widgets")

_FETCH_TIMEOUT = 120.0


# -- fetching media ---------------------------------------------------------------------


def _decode_data_url(url: str) -> bytes:
    head, _, payload = url.partition(",")
    if head.endswith(";base64"):
        try:
            return base64.b64decode(payload, validate=False)
        except binascii.Error as exc:
            raise ValueError(f"bad base64 in data: URL: {exc}") from None
    return unquote_to_bytes(payload)


class MediaFetcher:
    """Bytes of output URLs through a backend, cached (least recently used first out).

    ``fetch`` blocks (the view calls it from worker threads). An ``AsyncBackend`` is
    awaited on the widgets' background loop, like every other call the widgets make.
    """

    def __init__(self, backend: Any = None, *, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.backend = backend
        self.max_bytes = max_bytes
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.fetches = 0

    def cached(self, url: str) -> bytes | None:
        with self._lock:
            data = self._cache.get(url)
            if data is not None:
                self._cache.move_to_end(url)
            return data

    def fetch(self, url: str) -> bytes:
        data = self.cached(url)
        if data is not None:
            return data
        data = self._fetch(url)
        with self._lock:
            if url not in self._cache:
                self._cache[url] = data
                self._size += len(data)
                while self._size > self.max_bytes and len(self._cache) > 1:
                    _, dropped = self._cache.popitem(last=False)
                    self._size -= len(dropped)
        return data

    def _fetch(self, url: str) -> bytes:
        if url.startswith("data:"):
            return _decode_data_url(url)
        if self.backend is None:
            raise RuntimeError("no backend to fetch outputs with")
        self.fetches += 1
        return bytes(call_blocking(self.backend, "fetch_bytes", url, timeout=_FETCH_TIMEOUT))


def media_format(data: bytes, fallback: str = "png") -> str:
    """The ``format`` for an Image/Video widget, from the bytes' signature."""
    if data.startswith(b"\x89PNG"):
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp":
        return "mp4"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if data.lstrip()[:5] in (b"<svg ", b"<?xml"):
        return "svg+xml"
    return fallback


_EXT = {
    "png": "png",
    "jpeg": "jpg",
    "gif": "gif",
    "webp": "webp",
    "mp4": "mp4",
    "webm": "webm",
    "svg+xml": "svg",
}


def thumbnail_png(data: bytes, size: int = 96) -> bytes:
    """A PNG thumbnail (longest side ``size``) of an image's bytes."""
    return small_picture(data, size, fmt="png")[0]


# -- what to show ------------------------------------------------------------------------


@dataclass(frozen=True)
class OutputItem:
    node_id: str
    label: str
    output: Any


@dataclass(frozen=True)
class OutputGroup:
    """Outputs of one execution (one run of a batch)."""

    title: str
    items: tuple[OutputItem, ...]
    key: str = ""
    #: the record its saved files carry (``provenance.record_for``), made when saving
    record: Callable[[], Mapping[str, Any]] | None = field(default=None, compare=False)


def _signature(groups: Sequence[OutputGroup]) -> str:
    return json.dumps(
        [[g.title, [[i.node_id, i.label, i.output] for i in g.items]] for g in groups],
        sort_keys=True,
        default=str,
    )


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "output"


def _describe_input(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:39] + "\u2026"


# -- the view ------------------------------------------------------------------------------


class OutputView(StaticFallback, widgets.VBox):
    """Outputs of a run, a batch, a node or a past execution."""

    def __init__(
        self,
        backend: Any = None,
        *,
        fetcher: MediaFetcher | None = None,
        labels: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
        folder: str | None = "outputs",
        max_workers: int = 4,
    ) -> None:
        """``folder``: the Save outputs row's folder; None: no such row (a page handed to
        others, as ``FormApp`` in Voila, must not let a visitor write files on the server)."""
        self.fetcher = fetcher or MediaFetcher(backend)
        self._labels = labels
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="wf-media"
        )
        self._pending: set[concurrent.futures.Future[None]] = set()
        self._pending_lock = threading.Lock()
        self._signature: str | None = None
        self.groups: list[OutputGroup] = []
        #: (group index, item, media url, widget) of every media widget shown
        self.media: list[tuple[OutputGroup, OutputItem, str, widgets.Widget]] = []

        self.title = widgets.HTML()
        self.title.add_class("wf-app-output-title")
        self.body = widgets.VBox()
        self.message = widgets.HTML()
        self.message.add_class("wf-app-output-message")
        self.folder = widgets.Text(value=folder or "", description="Folder", layout=widgets.Layout(width="260px"))
        self.folder.add_class("wf-app-output-folder")
        self.save_button = widgets.Button(description="Save outputs", icon="download", disabled=True)
        self.save_button.add_class("wf-app-save-outputs")
        self.save_button.on_click(lambda _: self._save_clicked())
        self.save_status = widgets.HTML()
        rows: list[widgets.Widget] = [self.title, self.message, self.body]
        if folder is not None:
            rows.append(widgets.HBox([self.folder, self.save_button, self.save_status]))
        super().__init__(rows)
        self.add_class("wf-app-outputs")

    static_html = outputs_html  # the picture where widgets cannot run (_static.py)

    # -- labels ---------------------------------------------------------------------------
    def _label(self, node_id: str) -> str:
        labels = self._labels() if callable(self._labels) else self._labels
        return str((labels or {}).get(node_id, node_id))

    # -- what to show ---------------------------------------------------------------------------
    def clear(self, message: str = "") -> None:
        self._signature = None
        self.groups = []
        self.media = []
        self.body.children = ()
        self.title.value = ""
        self.set_message(message)
        self.save_button.disabled = True

    def set_message(self, text: str, *, error: bool = False) -> None:
        if not text:
            self.message.value = ""
            return
        color = "#c62828" if error else "#555"
        self.message.value = f'<div style="color:{color};white-space:pre-wrap">{html.escape(text)}</div>'

    def show_run(self, state: RunState, node_id: str | None = None) -> None:
        """The selected node's outputs in every run of the batch, else the run's final ones."""
        node_ids = [node_id] if node_id is not None else state.final_node_ids
        groups: list[OutputGroup] = []
        executions = state.ordered_executions()
        for progress in executions:
            items = []
            for nid in node_ids:
                node = progress.nodes.get(nid)
                if node is not None and node.output is not None:
                    items.append(OutputItem(nid, self._label(nid), node.output))
            if not items:
                continue
            title = ""
            if len(executions) > 1:
                title = f"Run {progress.index + 1} of {len(executions)}"
                value = _batch_value(state, progress.input_index)
                if value is not None:
                    title += f" \u00b7 {value}"
            record = partial(record_for, state.request, execution_id=progress.execution_id)
            groups.append(OutputGroup(title, tuple(items), key=f"{progress.index + 1:02d}", record=record))
        if node_id is not None:
            heading = f"Outputs of {self._label(node_id)}"
        else:
            heading = "Outputs" if len(executions) <= 1 else f"Outputs of {len(executions)} runs"
        self.show_groups(groups, title=heading)

    def show_node_runs(
        self,
        node_runs: Iterable[NodeRun],
        *,
        title: str = "Outputs",
        record: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        """Outputs of an execution's node runs (e.g. a run picked in the history);
        ``record``: what their saved files carry (``provenance.record_for``)."""
        items = tuple(
            OutputItem(r.node_id, self._label(r.node_id), r.output) for r in node_runs if r.output is not None
        )
        self.show_groups([OutputGroup("", items, record=record)] if items else [], title=title)

    def show_groups(self, groups: Sequence[OutputGroup], *, title: str = "Outputs") -> None:
        signature = _signature(groups) + title
        same = signature == self._signature
        self._signature = signature
        self.groups = list(groups)  # their records too: another run may show the same (cached) files
        if same:
            return  # same content: keep the widgets (and their loaded bytes)
        self.media = []
        self.title.value = f"<b>{html.escape(title)}</b>" if title else ""
        self.set_message("" if groups else "No outputs yet.")
        boxes = [self._group_box(group) for group in groups]
        self.body.children = tuple(boxes)
        self.save_button.disabled = not groups

    def _group_box(self, group: OutputGroup) -> widgets.Widget:
        cells = [self._item_box(group, item) for item in group.items]
        grid = widgets.GridBox(
            cells,
            layout=widgets.Layout(
                grid_template_columns="repeat(auto-fill, minmax(220px, 1fr))", grid_gap="8px"
            ),
        )
        children: list[widgets.Widget] = []
        if group.title:
            heading = widgets.HTML(f"<b>{html.escape(group.title)}</b>")
            children.append(heading)
        children.append(grid)
        box = widgets.VBox(children)
        box.add_class("wf-app-output-group")
        return box

    def _item_box(self, group: OutputGroup, item: OutputItem) -> widgets.Widget:
        parts: list[widgets.Widget] = [widgets.HTML(f"<small>{html.escape(item.label)}</small>")]
        for image in images_of(item.output):
            parts.append(self._media_widget(group, item, image.url, "image"))
        for video in videos_of(item.output):
            parts.append(self._media_widget(group, item, video.url, "video"))
        text = text_of(item.output)
        if text is not None:
            label = widgets.HTML(
                f'<div style="white-space:pre-wrap;max-height:240px;overflow:auto">{html.escape(text)}</div>'
            )
            label.add_class("wf-app-output-text")
            parts.append(label)
        if len(parts) == 1:
            pretty = json.dumps(item.output, indent=2, ensure_ascii=False, default=str)
            block = widgets.HTML(
                f'<pre style="margin:0;max-height:240px;overflow:auto;font-size:11px">{html.escape(pretty)}</pre>'
            )
            block.add_class("wf-app-output-json")
            parts.append(block)
        box = widgets.VBox(parts, layout=widgets.Layout(border="1px solid #ddd", padding="4px"))
        box.add_class("wf-app-output-item")
        return box

    def _media_widget(self, group: OutputGroup, item: OutputItem, url: str, kind: str) -> widgets.Widget:
        widget: widgets.Widget
        if kind == "image":
            widget = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
            widget.add_class("wf-app-output-image")
        else:
            widget = widgets.Video(
                format="mp4",
                autoplay=False,
                loop=False,
                controls=True,
                layout=widgets.Layout(max_width="100%"),
            )
            widget.add_class("wf-app-output-video")
        # no tooltip: the front-end VideoView of @jupyter-widgets/controls 5 fails to render
        # with one ("Cannot read properties of undefined (reading 'length')")
        self.media.append((group, item, url, widget))
        cached = self.fetcher.cached(url)
        if cached is not None:
            self._fill(widget, cached, kind)
        else:
            self._submit(lambda: self._load(widget, url, kind))
        return widget

    def _submit(self, job: Callable[[], None]) -> None:
        future = self._pool.submit(job)
        with self._pending_lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: concurrent.futures.Future[None]) -> None:
        with self._pending_lock:
            self._pending.discard(future)

    def _load(self, widget: widgets.Widget, url: str, kind: str) -> None:
        try:
            data = self.fetcher.fetch(url)
        except Exception as exc:
            logger.info("could not load output %s: %s", url, exc)
            widget.add_class("wf-app-output-error")
            self.set_message(f"Could not load an output ({url[:120]}): {exc}", error=True)
            return
        self._fill(widget, data, kind)

    @staticmethod
    def _fill(widget: widgets.Widget, data: bytes, kind: str) -> None:
        widget.format = media_format(data, "png" if kind == "image" else "mp4")
        widget.value = data

    def wait_loaded(self, timeout: float | None = 30) -> bool:
        """Wait until every media item shown has its bytes (or failed); False on timeout."""
        with self._pending_lock:
            pending = list(self._pending)
        _, not_done = concurrent.futures.wait(pending, timeout=timeout)
        return not not_done

    @property
    def image_widgets(self) -> list[widgets.Image]:
        return [w for _, _, _, w in self.media if isinstance(w, widgets.Image)]

    @property
    def video_widgets(self) -> list[widgets.Video]:
        return [w for _, _, _, w in self.media if isinstance(w, widgets.Video)]

    # -- saving ------------------------------------------------------------------------------------
    def save(self, folder: str | Path | None = None) -> list[Path]:
        """Write every output shown to ``folder`` (media, carrying the workflow of their
        run: ``provenance.saved_bytes``; ``.txt`` text, ``.json`` other); returns the files
        written."""
        target = Path(folder if folder is not None else self.folder.value or "outputs").expanduser()
        target.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for group in self.groups:
            record = group.record() if group.record is not None else None
            prefix = f"run{group.key}-" if group.key and len(self.groups) > 1 else ""
            for item in group.items:
                stem = _safe_name(f"{prefix}{item.node_id}")
                media = [(u.url, "image") for u in images_of(item.output)] + [
                    (u.url, "video") for u in videos_of(item.output)
                ]
                for n, (url, kind) in enumerate(media):
                    data = saved_bytes(self.fetcher.fetch(url), record)
                    ext = _EXT.get(media_format(data, "png" if kind == "image" else "mp4"), "bin")
                    suffix = f"-{n + 1}" if len(media) > 1 else ""
                    written.append(_write(target / f"{stem}{suffix}.{ext}", data))
                text = text_of(item.output)
                if text is not None:
                    written.append(_write(target / f"{stem}.txt", text.encode("utf-8")))
                if not media and text is None:
                    body = json.dumps(item.output, indent=2, ensure_ascii=False, default=str)
                    written.append(_write(target / f"{stem}.json", body.encode("utf-8")))
        return written

    def _save_clicked(self) -> None:
        self.save_button.disabled = True
        self.save_status.value = "saving\u2026"

        def job() -> None:
            try:
                files = self.save()
            except Exception as exc:
                self.save_status.value = f'<span style="color:#c62828">{html.escape(str(exc))}</span>'
            else:
                where = html.escape(str(files[0].parent)) if files else html.escape(self.folder.value)
                self.save_status.value = f"saved {len(files)} file(s) to <code>{where}</code>"
            finally:
                self.save_button.disabled = not self.groups

        self._submit(job)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        super().close()


def _write(path: Path, data: bytes) -> Path:
    return write_file(path, data, None)


def _batch_value(state: RunState, input_index: int | None) -> str | None:
    configs = state.request.iterator_configs or []
    if input_index is None or not configs:
        return None
    parts = []
    for config in configs:
        if 0 <= input_index < len(config.values):
            parts.append(f"{config.field} = {_describe_input(config.values[input_index])}")
    return ", ".join(parts) or None
