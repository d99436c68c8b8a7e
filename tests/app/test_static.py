"""The widgets' static pictures (``widgets/_static.py``): ``text/html`` beside the widget
view in their display data, kept current after a run, small, and naming no path."""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.app._helpers import image_workflow
from wireflow_nb.widgets import GraphEditor, HistoryView, OutputView, WorkflowApp
from wireflow_nb.widgets._static import small_picture, video_poster

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SRC = re.compile(r'<img class="(wf-static-[a-z]+)"[^>]*?src="data:image/(jpeg|png|svg\+xml);base64,([^"]+)"')


def _pictures(page: str) -> list[tuple[str, str, bytes]]:
    return [(cls, fmt, base64.b64decode(b64)) for cls, fmt, b64 in SRC.findall(page)]


def _workflow_svg(page: str) -> ET.Element:
    (svg,) = [data for cls, _, data in _pictures(page) if cls == "wf-static-workflow"]
    return ET.fromstring(svg)


def _badges(root: ET.Element) -> dict[str, str]:
    ns = "{http://www.w3.org/2000/svg}"
    return {g.get("data-status", ""): g.get("class", "") for g in root.iter(f"{ns}g") if g.get("class") == "wf-badge"}


def test_app_bundle_is_the_widget_and_a_picture_updated_by_a_run(engine: Any, tmp_path: Path) -> None:
    app = WorkflowApp(engine, workflow=image_workflow(size=400), workflow_id="demo")
    try:
        before = app._repr_mimebundle_()
        assert WIDGET_VIEW in before and before[WIDGET_VIEW]["model_id"] == app.model_id
        assert before["text/plain"].startswith("WorkflowApp")
        root = _workflow_svg(before["text/html"])
        assert "Text to Image" in ET.tostring(root, encoding="unicode")
        assert not _badges(root) and "wf-thumb" not in before["text/html"]

        app.run(wait=True)
        after = app._repr_mimebundle_()["text/html"]
        svg = ET.tostring(_workflow_svg(after), encoding="unicode")
        assert svg.count('class="wf-badge"') == 2 and 'data-status="COMPLETED"' in svg
        (thumb,) = re.findall(r'class="wf-thumb"[^>]*href="data:image/(?:jpeg|png);base64,([^"]+)"', svg)
        with Image.open(io.BytesIO(base64.b64decode(thumb))) as im:
            assert max(im.size) <= 96
        outputs = [(fmt, data) for cls, fmt, data in _pictures(after) if cls == "wf-static-output"]
        assert len(outputs) == 1  # the final node's picture, made small
        fmt, data = outputs[0]
        with Image.open(io.BytesIO(data)) as im:
            assert im.format == "JPEG" and fmt == "jpeg" and max(im.size) == 256
        assert str(tmp_path) not in after and "file:" not in after
        assert str(tmp_path) not in app._repr_mimebundle_()["text/plain"]
    finally:
        app.close()


def test_refresh_sends_the_picture_again_only_when_it_changed(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import IPython.display

    shown: list[tuple[str, dict[str, Any], str]] = []
    monkeypatch.setattr(
        IPython.display, "display", lambda b, raw, display_id=None: shown.append(("display", b, display_id))
    )
    monkeypatch.setattr(
        IPython.display, "update_display", lambda b, raw, display_id: shown.append(("update", b, display_id))
    )
    app = WorkflowApp(engine, workflow=image_workflow(), workflow_id="demo")
    try:
        app._ipython_display_()
        app.outputs._ipython_display_()  # shown alone too, as in the quickstart
        assert [s[0] for s in shown] == ["display", "display"]
        app_id, outputs_id = shown[0][2], shown[1][2]
        app.refresh_static()
        assert len(shown) == 2  # nothing changed: nothing sent
        app.run(wait=True)  # refreshes at its end
        updates = {s[2]: s[1] for s in shown if s[0] == "update"}
        assert set(updates) == {app_id, outputs_id}
        assert "wf-badge" in base64.b64decode(SRC.findall(updates[app_id]["text/html"])[0][2]).decode()
        assert "wf-static-output" in updates[outputs_id]["text/html"]
        assert WIDGET_VIEW in updates[app_id]  # the live widget stays in the bundle
        count = len(shown)
        app.refresh_static()
        assert len(shown) == count
    finally:
        app.close()
    # a closed widget: its text, and nothing sent again
    app._ipython_display_()
    assert shown[-1][1] == {"text/plain": "WorkflowApp (closed)"}
    count = len(shown)
    app.refresh_static()
    assert len(shown) == count


def test_editor_picture_has_its_badges_and_thumbnails() -> None:
    editor = GraphEditor(image_workflow())
    editor.set_node_status("image", "FAILED")
    buf = io.BytesIO()
    Image.new("RGB", (300, 200), "red").save(buf, "PNG")
    editor.set_node_thumbnail("prompt", buf.getvalue())
    page = editor._repr_mimebundle_()["text/html"]
    svg = ET.tostring(_workflow_svg(page), encoding="unicode")
    assert re.findall(r'class="wf-badge" data-status="([^"]+)"', svg) == ["FAILED"]
    assert svg.count('class="wf-thumb"') == 1
    editor.set_node_thumbnail("prompt", None)
    assert "wf-thumb" not in ET.tostring(_workflow_svg(editor._repr_mimebundle_()["text/html"]), encoding="unicode")


def test_history_and_output_views(engine: Any, tmp_path: Path) -> None:
    engine.run("demo", image_workflow(size=64))
    (done,) = engine.list_executions("demo")
    history = HistoryView(engine, "demo")
    page = history._repr_mimebundle_()["text/html"]
    assert done.id in page and "COMPLETED" in page and str(tmp_path) not in page
    history.select(done.id)
    assert history.wait_loaded(30)
    page = history._repr_mimebundle_()["text/html"]
    assert [cls for cls, _, _ in _pictures(page)] == ["wf-static-output"]  # 64 px: never enlarged
    with Image.open(io.BytesIO(_pictures(page)[0][2])) as im:
        assert im.size == (64, 64)

    view = OutputView(engine)
    view.show_node_runs([], title="none")
    assert "text/html" not in view._repr_mimebundle_()  # nothing to picture


def test_small_picture_is_the_one_thumbnail_rule() -> None:
    def encode(mode: str, size: tuple[int, int]) -> bytes:
        buf = io.BytesIO()
        Image.new(mode, size).save(buf, "PNG")
        return buf.getvalue()

    data, fmt, size = small_picture(encode("RGB", (1000, 500)), 256)
    assert (fmt, size) == ("jpeg", (256, 128)) and data[:3] == b"\xff\xd8\xff"
    data, fmt, size = small_picture(encode("RGBA", (500, 1000)), 96)
    assert (fmt, size) == ("png", (48, 96)) and data.startswith(b"\x89PNG")
    assert small_picture(encode("RGB", (40, 30)), 256)[2] == (40, 30)  # never enlarged
    with pytest.raises(Exception, match="cannot identify"):
        small_picture(b"not an image", 96)


def test_a_video_shows_its_first_frame(engine: Any) -> None:
    from wireflow_nb import Workflow

    flow = Workflow("v")
    flow.add_node("input:text", id="p", text="a fox")
    flow.add_node("model:fal:text-to-image", id="i", width=128, height=64)
    flow.add_node("model:fal:image-to-video", id="v", durationSeconds=1)
    flow.connect("p", "text", "i", "prompt")
    flow.connect("i", "images", "v", "image")
    (run,) = engine.run("v", flow)
    view = OutputView(engine)
    view.show_node_runs([r for r in run.node_runs if r.node_id == "v"])
    page = view._repr_mimebundle_()["text/html"]
    ((cls, fmt, data),) = _pictures(page)
    assert cls == "wf-static-poster" and fmt in ("jpeg", "png")
    with Image.open(io.BytesIO(data)) as im:
        assert max(im.size) <= 256 and im.size[0] > im.size[1]  # the video's shape
        (r, g, b) = im.convert("RGB").resize((1, 1)).getpixel((0, 0))
        assert max(r, g, b) > 10  # a frame, not a black box
    assert "first frame" in page and "<a " not in page and "file:" not in page

    with pytest.raises(ValueError, match="no frame"):
        video_poster(b"not a video")


def test_form_bundle_shows_its_outputs_after_a_run(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """App mode (``FormApp``) handed out as a notebook: saved, it shows the last outputs."""
    import IPython.display

    from wireflow_nb.widgets import FormApp

    updates: list[dict[str, Any]] = []
    monkeypatch.setattr(IPython.display, "display", lambda b, raw, display_id=None: None)
    monkeypatch.setattr(IPython.display, "update_display", lambda b, raw, display_id: updates.append(b))
    form = FormApp(image_workflow(size=300), engine, inputs=["prompt.text"])
    try:
        before = form._repr_mimebundle_()
        assert WIDGET_VIEW in before and "text/html" not in before  # nothing to picture yet
        form._ipython_display_()
        form.run(wait=True)
        (update, *_) = updates
        assert WIDGET_VIEW in update
        ((cls, _, data),) = _pictures(update["text/html"])
        assert cls == "wf-static-output"
        with Image.open(io.BytesIO(data)) as im:
            assert max(im.size) == 256  # made small, not the 300 px output
    finally:
        form.close()
