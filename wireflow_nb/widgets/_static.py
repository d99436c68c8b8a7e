"""Static pictures where widgets cannot run (GitHub, nbviewer, ``jupyter nbconvert --to
html``, a JupyterLab that opens a notebook it does not trust).

``StaticFallback`` is mixed into ``GraphEditor``, ``WorkflowApp``, ``OutputView`` and
``HistoryView`` (first base): their display data is ipywidgets' own bundle (the
widget-view JSON and ``text/plain``) plus a ``text/html`` part made here:

- the workflow as an ``<img>`` of its SVG (``_svg.workflow_svg``: the editor's geometry,
  with the status badges of the last run and the output thumbnails on the nodes);
- the last outputs: images as small JPEG/PNG ``data:`` URLs (``small_picture``: at most
  ``OUTPUT_SIDE`` px), a video as its first frame (``video_poster``, ffmpeg) made as
  small, with a caption (no link), text as text.

Every picture is a ``data:`` URL made from the bytes: never a URL or a path of this
machine. An ``<img>``, not an inline ``<svg>``: JupyterLab sanitizes the HTML of an
untrusted notebook and drops inline SVG, but keeps an ``<img>`` with a ``data:`` URL.

Keeping it current: the display data is written when the widget is displayed, before
any run. ``_ipython_display_`` displays the bundle with a ``display_id``, and
``refresh_static()`` re-sends it (``update_display``) when a run of the app has ended,
only when the picture changed. Each update makes JupyterLab render the output again,
i.e. a new view of the same widget models (the canvas keeps its pixels: they live in
the model), so it is done at the end of a run, never while the workflow is edited.

What JupyterLab shows (measured with jupyterlab 4, jupyterlab_widgets 5): it renders
the bundle's preferred mimetype; the widget renderer ranks first but is not "safe", so
for a notebook it does not trust (not signed on this server: received, downloaded,
executed by nbclient/papermill) it picks the safe ``text/html`` and shows the picture,
with or without a kernel. For a notebook it trusts (saved by this JupyterLab) it picks
the widget view, and when the widget models are gone (no kernel, a new kernel) the
widget renderer has no fallback: it writes "Error displaying widget: model not found"
(``WidgetRenderer.renderModel`` in ``@jupyter-widgets/jupyterlab-manager``). Run the
cells again, or open it untrusted, to see it.

``FormApp`` (``widgets/form.py``) gets the same with one line: ``class FormApp(
StaticFallback, widgets.VBox)`` and a ``static_html(self)`` returning
``outputs_html(self.outputs)`` (or ``app_html``-like parts), see ``StaticFallback``.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import subprocess
import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .._media import ffmpeg_exe
from .._svg import Thumb, workflow_svg
from ..models import images_of, text_of, videos_of

__all__ = [
    "NODE_THUMB_SIDE",
    "OUTPUT_SIDE",
    "StaticFallback",
    "editor_html",
    "outputs_html",
    "picture_url",
    "small_picture",
    "svg_img",
    "video_poster",
]

logger = logging.getLogger("wireflow_nb.widgets")

#: longest side of a thumbnail on a node of the static picture, px
NODE_THUMB_SIDE = 96
#: longest side of an output picture in the static view, px
OUTPUT_SIDE = 256
#: at most this many output pictures in one static view (the others are named)
MAX_PICTURES = 24
#: a longer video gets no poster frame (its bytes are read whole)
MAX_POSTER_BYTES = 64 * 1024 * 1024
_MAX_TEXT = 500


def picture_url(data: bytes, side: int) -> tuple[str, tuple[int, int]]:
    """A small ``data:image/jpeg|png`` URL of an image's bytes and its pixel size."""
    small, fmt, size = small_picture(data, side)
    return f"data:image/{fmt};base64,{base64.b64encode(small).decode()}", size


def video_poster(data: bytes, timeout: float = 30.0) -> bytes:
    """The first frame of a video's bytes, as PNG (the ffmpeg of imageio-ffmpeg), for
    where the video cannot play. Raises ``ValueError`` when ffmpeg finds no frame."""
    with tempfile.TemporaryDirectory(prefix="wf-poster-") as folder:  # private (0700), removed
        source = Path(folder) / "video"
        source.write_bytes(data)
        done = subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-i", str(source), "-frames:v", "1",
             "-f", "image2pipe", "-vcodec", "png", "-"],
            capture_output=True, timeout=timeout, check=False,
        )  # fmt: skip
    if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG"):
        raise ValueError(f"no frame in the video: {done.stderr.decode(errors='replace')[-200:].strip()}")
    return done.stdout


def svg_img(svg: str, alt: str, css_class: str = "wf-static-workflow") -> str:
    """An SVG document as an ``<img>`` (kept by JupyterLab's sanitizer, unlike inline SVG)."""
    src = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return f'<img class="{css_class}" alt="{html.escape(alt, quote=True)}" src="{src}"/>'


def small_picture(data: bytes, size: int = 96, *, fmt: str | None = None) -> tuple[bytes, str, tuple[int, int]]:
    """An image's bytes made small: longest side at most ``size`` px (never enlarged).

    The one rule of a thumbnail: JPEG (quality 80) for an opaque picture, PNG when it
    has transparency, or ``fmt`` ("png"/"jpeg") when given. Returns the bytes, the
    format and the pixel size. Raises ``PIL.UnidentifiedImageError`` for bytes that
    are not an image.
    """
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((size, size))
        alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
        chosen = fmt or ("png" if alpha else "jpeg")
        if chosen == "jpeg":
            converted = image.convert("RGB")
        else:
            converted = image.convert("RGBA") if image.mode not in ("RGB", "RGBA") else image
        out = io.BytesIO()
        if chosen == "jpeg":
            converted.save(out, format="JPEG", quality=80, optimize=True)
        else:
            converted.save(out, format="PNG", optimize=True)
        return out.getvalue(), chosen, converted.size


# -- the pictures -----------------------------------------------------------------------------


def _node_thumbs(editor: Any) -> dict[str, Thumb]:
    """The thumbnails the editor shows on its nodes, made small again as data URLs."""
    thumbs: dict[str, Thumb] = {}
    for node_id, (image, _) in dict(getattr(getattr(editor, "_drawing", None), "images", {})).items():
        try:
            thumbs[node_id] = picture_url(bytes(image.value), NODE_THUMB_SIDE)
        except Exception as exc:  # a picture Pillow cannot read: the node without it
            logger.info("no static thumbnail for %s: %s", node_id, exc)
    return thumbs


def _fetched_thumbs(urls: dict[str, str], fetcher: Any) -> dict[str, Thumb]:
    """Thumbnails of output URLs (node id -> URL), from the bytes ``fetcher`` holds or gets."""
    thumbs: dict[str, Thumb] = {}
    for node_id, url in urls.items():
        try:
            thumbs[node_id] = picture_url(fetcher.fetch(url), NODE_THUMB_SIDE)
        except Exception as exc:
            logger.info("no static thumbnail for %s: %s", node_id, exc)
    return thumbs


def editor_html(editor: Any, thumbs: dict[str, Thumb] | None = None) -> str:
    """The editor's workflow as a picture: badges and thumbnails as on the canvas
    (``thumbs`` adds those of a run whose pictures the canvas has not drawn yet)."""
    workflow = editor.workflow
    svg = workflow_svg(
        workflow,
        catalog=editor.catalog,
        statuses=editor.node_statuses,
        thumbs={**_node_thumbs(editor), **(thumbs or {})},
    )
    labels = ", ".join(n.label for n in workflow.nodes[:12])
    return svg_img(svg, f"workflow {workflow.id}: {labels}")


def outputs_html(view: Any) -> str:
    """The outputs an ``OutputView`` shows: pictures as small data URLs, videos named,
    text as text."""
    parts: list[str] = []
    budget = MAX_PICTURES
    for group in view.groups:
        if group.title:
            parts.append(f"<div><b>{html.escape(group.title)}</b></div>")
        cells: list[str] = []
        for item in group.items:
            cell = [f"<figcaption><small>{html.escape(item.label)}</small></figcaption>"]
            for image in images_of(item.output):
                if budget <= 0:
                    cell.append("<small>(more pictures: run the notebook to see them)</small>")
                    break
                budget -= 1
                cell.append(_picture(view, item.label, image.url))
            for video in videos_of(item.output):
                if budget > 0:
                    budget -= 1
                    cell.append(_poster(view, item.label, video.url))
                cell.append(f"<small>{html.escape(_video_caption(video))}</small>")
            text = text_of(item.output)
            if text is not None:
                cell.append(f'<pre style="white-space:pre-wrap;max-width:480px">{html.escape(_cut(text))}</pre>')
            elif not images_of(item.output) and not videos_of(item.output):
                shown = _cut(json.dumps(item.output, default=str))
                cell.append(f'<pre style="white-space:pre-wrap;max-width:480px">{html.escape(shown)}</pre>')
            cells.append(f'<figure style="margin:0 8px 8px 0">{"".join(cell)}</figure>')
        parts.append(f'<div style="display:flex;flex-wrap:wrap">{"".join(cells)}</div>')
    if not parts:
        return ""
    return f'<div class="wf-static-outputs">{"".join(parts)}</div>'


def _picture(view: Any, label: str, url: str) -> str:
    try:
        src, (w, h) = picture_url(view.fetcher.fetch(url), OUTPUT_SIDE)
    except Exception as exc:
        logger.info("no static picture of %s: %s", label, exc)
        return "<small>(picture not loaded)</small>"
    return (
        f'<img class="wf-static-output" alt="{html.escape(label, quote=True)}" width="{w}" height="{h}" '
        f'src="{src}"/>'
    )


def _poster(view: Any, label: str, url: str) -> str:
    try:
        data = view.fetcher.fetch(url)
        if len(data) > MAX_POSTER_BYTES:
            return ""
        src, (w, h) = picture_url(video_poster(data), OUTPUT_SIDE)
    except Exception as exc:
        logger.info("no poster frame of %s: %s", label, exc)
        return ""
    return (
        f'<img class="wf-static-poster" alt="{html.escape(label, quote=True)} (first frame)" '
        f'width="{w}" height="{h}" src="{src}"/>'
    )


def _video_caption(video: Any) -> str:
    size = f" {video.width}\u00d7{video.height}" if getattr(video, "width", None) else ""
    return f"video{size}, first frame (run the notebook to play it)"


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "\u2026"


def join_html(parts: Iterable[str]) -> str:
    shown = [p for p in parts if p]
    return f'<div class="wf-static">{"".join(shown)}</div>' if shown else ""


# -- the display --------------------------------------------------------------------------------------


class StaticFallback:
    """Mixed into a widget (before ``widgets.DOMWidget``'s classes): its display data
    holds ``static_html()`` as ``text/html`` beside the widget view, and
    ``refresh_static()`` sends it again to where it was displayed.

    A subclass defines ``static_html(self) -> str`` and may list ``_static_parts``
    (attribute names of parts shown standalone too, refreshed with it).
    """

    _static_parts: tuple[str, ...] = ()

    def static_html(self) -> str:
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        data = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        if isinstance(data, dict):
            # ipywidgets' text is the repr of every child's value, paths of this machine included
            data["text/plain"] = f"{type(self).__name__} (a widget: run the notebook to use it)"
            try:
                page = self.static_html()
            except Exception:  # a picture is a bonus: never lose the widget for it
                logger.exception("no static picture of %s", type(self).__name__)
                page = ""
            if page:
                data["text/html"] = page
        return data

    def _ipython_display_(self, **kwargs: Any) -> None:
        from IPython.display import display

        if self._repr_mimebundle_ is None:  # closed (ipywidgets' close() sets it so)
            display({"text/plain": f"{type(self).__name__} (closed)"}, raw=True)
            return
        bundle = self._repr_mimebundle_(**kwargs)
        display_id = uuid.uuid4().hex
        self.__dict__.setdefault("_static_displays", {})[display_id] = bundle.get("text/html", "")
        display(bundle, raw=True, display_id=display_id)

    def refresh_static(self) -> None:
        """Send the display data again where this widget was displayed, if its picture
        changed (call on the notebook's thread); its parts shown alone too."""
        displays: dict[str, str] = self.__dict__.get("_static_displays", {})
        if displays and self._repr_mimebundle_ is not None:  # None: closed
            from IPython.display import update_display

            bundle = self._repr_mimebundle_()
            page = bundle.get("text/html", "") if isinstance(bundle, dict) else ""
            for display_id, sent in list(displays.items()):
                if sent != page:
                    displays[display_id] = page
                    update_display(bundle, raw=True, display_id=display_id)
        for name in self._static_parts:
            part = getattr(self, name, None)
            if isinstance(part, StaticFallback):
                part.refresh_static()


def table_html(header: Iterable[str], rows: Iterable[Iterable[str]], css_class: str) -> str:
    """A plain table (cells already HTML: escape text before)."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{css_class}"><tr>{head}</tr>{body}</table>'


def app_html(app: Any) -> str:
    """``WorkflowApp``: the workflow with the last run's badges and thumbnails, and the
    outputs shown."""
    # the run's thumbnails from its output URLs: the canvas draws them on the notebook's
    # thread, later than a ``run(wait=True)`` cell ends
    thumbs = _fetched_thumbs(app.run_view.thumbnail_urls, app.fetcher)
    return join_html([editor_html(app.editor, thumbs), outputs_html(app.outputs)])
