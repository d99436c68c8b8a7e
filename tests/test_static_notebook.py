"""A notebook saved with outputs shows the workflow and its results where widgets cannot
run (``widgets/_static.py``): the executed quickstart, converted with
``jupyter nbconvert --to html``, holds the workflow's SVG (with the last run's badges and
a thumbnail on the image node) and the output pictures, all small ``data:`` URLs, and
the notebook names no path of this machine."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from PIL import Image

from tests.test_notebooks import NOTEBOOKS, execute

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
IMG = re.compile(r"<img\s[^>]*>")
ATTR = re.compile(r'([a-z-]+)="([^"]*)"')
DATA_URL = re.compile(r"data:image/(jpeg|png|svg\+xml);base64,([A-Za-z0-9+/=]+)")


def _pictures(page: str) -> list[tuple[str, str, bytes]]:
    """(class, format, bytes) of each ``<img>`` with a data URL (any attribute order:
    nbconvert sorts them)."""
    found = []
    for tag in IMG.findall(page):
        attrs = dict(ATTR.findall(tag))
        url = DATA_URL.fullmatch(attrs.get("src", ""))
        if url:
            found.append((attrs.get("class", ""), url[1], base64.b64decode(url[2])))
    return found


@pytest.mark.timeout(600)
def test_quickstart_saved_with_outputs_shows_workflow_and_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = execute(NOTEBOOKS / "01-quickstart.ipynb", tmp_path, monkeypatch)
    saved = tmp_path / "work" / "executed.ipynb"
    # as JupyterLab saves a notebook by default ("Save Widget State Automatically" off);
    # nbclient stores the widget state, and with it nbconvert embeds the widgets (JS)
    # instead of the static part (nbconvert's WidgetsDataTypeFilter)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, saved)

    # the app's cell: the widget view and the picture in one display, updated by its runs
    app_cell = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith("app = wf.WorkflowApp"))
    (shown,) = [o for o in app_cell.outputs if o.get("output_type") == "display_data"]
    assert WIDGET_VIEW in shown["data"] and "text/html" in shown["data"]
    app_pictures = _pictures(shown["data"]["text/html"])
    (svg,) = [data.decode() for cls, fmt, data in app_pictures if cls == "wf-static-workflow"]
    # after the last run (3 nodes, a video added): badges and the image node's thumbnail
    assert "Text to Image" in svg and "Image to Video" in svg
    assert len(re.findall(r'class="wf-badge" data-status="(?:COMPLETED|cached)"', svg)) == 3, re.findall("data-status=\"([^\"]*)", svg)
    thumbs = re.findall(r'<image class="wf-thumb"[^>]*href="data:image/(?:jpeg|png);base64,([^"]+)"', svg)
    assert len(thumbs) == 1
    with Image.open(io.BytesIO(base64.b64decode(thumbs[0]))) as im:
        assert max(im.size) <= 96

    done = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(saved)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "JUPYTER_PLATFORM_DIRS": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    page = (tmp_path / "work" / "executed.html").read_text()
    pictures = _pictures(page)
    workflows = [data.decode() for cls, fmt, data in pictures if cls == "wf-static-workflow"]
    assert workflows and all(w.startswith("<svg") for w in workflows)
    assert any("Text to Image" in w and "wf-badge" in w for w in workflows)
    # the image node's output: its thumbnail in the workflow's picture
    thumbs = [
        base64.b64decode(t)
        for w in workflows
        for t in re.findall(r'<image class="wf-thumb"[^>]*href="data:image/(?:jpeg|png);base64,([^"]+)"', w)
    ]
    assert thumbs, "no output picture in the HTML"
    for data in thumbs:  # small pictures, not the outputs themselves
        with Image.open(io.BytesIO(data)) as im:
            assert im.format in ("JPEG", "PNG") and max(im.size) <= 96
        assert len(data) < 20_000
    # the final output, a video: its first frame, as small, and a caption (no link)
    posters = [(fmt, data) for cls, fmt, data in pictures if cls == "wf-static-poster"]
    assert posters
    for fmt, data in posters:
        with Image.open(io.BytesIO(data)) as im:
            assert im.format.lower() == fmt and max(im.size) <= 256
        assert len(data) < 40_000
    assert "video 320\u00d7212, first frame (run the notebook to play it)" in page
    # no widget error in the page: the widget views are left out without saved state
    assert "Error displaying widget" not in page

    # no path of this machine in what the saved notebook shows (the widgets' text, the
    # models' HTML and text name a LocalEngine's output files by name only)
    text = saved.read_text()
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells]) + json.dumps(nb.metadata)
    assert outputs.count('"output_type"') > 10
    for path in (tmp_path, tmp_path / "home", Path.home(), Path.cwd()):
        assert str(path) not in text, f"the saved notebook names {path}"
    assert "file://" not in outputs  # (the Markdown cells explain file:// URLs)
    assert "sk-" not in outputs
