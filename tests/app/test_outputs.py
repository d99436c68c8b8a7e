"""OutputView: images/videos as widgets holding the real bytes, fetched once through the
backend; text and JSON; a batch as groups; saving to a folder."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from pathlib import Path
from typing import Any

import ipywidgets as widgets
from PIL import Image

from wireflow_nb.models import ExecuteResponse, NodeRun, PollResponse
from wireflow_nb.widgets._run_state import RunState
from wireflow_nb.widgets.outputs import MediaFetcher, OutputView, media_format, thumbnail_png
from wireflow_nb.workflow import Workflow


def png(width: int, height: int, color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


class Files:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.calls: list[str] = []

    def fetch_bytes(self, url: str) -> bytes:
        self.calls.append(url)
        if url not in self.files:
            raise FileNotFoundError(url)
        return self.files[url]


def test_images_text_json_and_cache(tmp_path: Path) -> None:
    backend = Files({"http://x.test/a.png": png(64, 32), "http://x.test/b.png": png(8, 8, "blue")})
    view = OutputView(backend, labels={"n1": "Text to Image"})
    runs = [
        NodeRun(
            node_id="n1",
            status="COMPLETED",
            output={"images": [{"url": "http://x.test/a.png"}], "text": "hi <b>"},
        ),
        NodeRun(node_id="n2", status="COMPLETED", output={"score": 0.5, "tags": ["a"]}),
        NodeRun(node_id="n3", status="COMPLETED", output={"images": [{"url": "http://x.test/missing.png"}]}),
    ]
    view.show_node_runs(runs)
    assert view.wait_loaded(10)
    first, missing = view.image_widgets
    with Image.open(io.BytesIO(first.value)) as image:
        assert image.format == "PNG" and image.size == (64, 32)
    assert first.format == "png"
    assert "wf-app-output-image" in first._dom_classes
    assert "wf-app-output-error" in missing._dom_classes
    assert "missing.png" in view.message.value

    def find(cls: str) -> list[widgets.Widget]:
        found = []
        stack: list[widgets.Widget] = [view]
        while stack:
            w = stack.pop()
            if cls in getattr(w, "_dom_classes", ()):
                found.append(w)
            stack.extend(getattr(w, "children", ()))
        return found

    [text] = find("wf-app-output-text")
    assert "hi &lt;b&gt;" in text.value
    [pretty] = find("wf-app-output-json")
    assert "&quot;score&quot;: 0.5" in pretty.value

    # same content again: the widgets and their bytes stay, nothing is fetched again
    calls = len(backend.calls)
    view.show_node_runs(runs)
    assert view.image_widgets[0] is first
    view.show_node_runs(runs[:1], title="again")
    assert view.wait_loaded(10)
    assert len(backend.calls) == calls
    assert view.image_widgets[0].value == first.value

    files = view.save(tmp_path / "out")
    assert [p.name for p in files] == ["n1.png", "n1.txt"]
    assert (tmp_path / "out" / "n1.txt").read_text() == "hi <b>"


def test_batch_gallery_grouped_by_run_and_save_button(tmp_path: Path) -> None:
    wf = Workflow("w")
    wf.add_node("input:text", text="x")
    request = wf.to_request(
        iterator_configs=[{"nodeId": "node-1", "field": "text", "values": ["fox", "owl"]}]
    )
    state = RunState("w", request)
    state.apply_response(
        ExecuteResponse.model_validate(
            {
                "workflowId": "w",
                "executionRuns": [
                    {"id": "e1", "status": "RUNNING", "runIndexInBatch": 0, "inputIndex": 0},
                    {"id": "e2", "status": "RUNNING", "runIndexInBatch": 1, "inputIndex": 1},
                ],
            }
        )
    )
    pixel = "data:image/png;base64," + base64.b64encode(png(3, 2)).decode()
    for eid, word in (("e1", "fox"), ("e2", "owl")):
        state.apply_poll(
            eid,
            PollResponse.model_validate(
                {
                    "status": "COMPLETED",
                    "nodeResults": {
                        "nodeRuns": [
                            {
                                "nodeId": "node-1",
                                "status": "COMPLETED",
                                "output": {"images": [pixel], "text": word},
                            }
                        ]
                    },
                }
            ),
        )
    view = OutputView(None, folder=str(tmp_path / "saved"))  # data: URLs need no backend
    view.show_run(state)
    assert [g.title for g in view.groups] == ["Run 1 of 2 \u00b7 text = fox", "Run 2 of 2 \u00b7 text = owl"]
    assert view.wait_loaded(10)
    assert [Image.open(io.BytesIO(w.value)).size for w in view.image_widgets] == [(3, 2), (3, 2)]
    assert not view.save_button.disabled
    view.save_button.click()
    assert view.wait_loaded(10)
    assert sorted(p.name for p in (tmp_path / "saved").iterdir()) == [
        "run01-node-1.png",
        "run01-node-1.txt",
        "run02-node-1.png",
        "run02-node-1.txt",
    ]
    assert "saved 4 file(s)" in view.save_status.value
    view.show_run(state, node_id="node-1")
    assert view.title.value == "<b>Outputs of node-1</b>"
    view.clear("nothing")
    assert view.image_widgets == [] and "nothing" in view.message.value


def test_async_backend_fetch_and_video_format() -> None:
    import imageio.v2 as imageio
    import numpy as np

    out = io.BytesIO()
    frames = [np.full((32, 32, 3), i * 40, dtype=np.uint8) for i in range(4)]
    writer = imageio.get_writer(out, format="mp4", fps=2)  # type: ignore[arg-type]
    for frame in frames:
        writer.append_data(frame)
    writer.close()
    mp4 = out.getvalue()

    class AsyncFiles:
        async def execute(self, *a: Any, **kw: Any) -> Any:  # marks it an AsyncBackend
            raise NotImplementedError

        async def fetch_bytes(self, url: str) -> bytes:
            await asyncio.sleep(0)
            return mp4

    fetcher = MediaFetcher(AsyncFiles())
    assert fetcher.fetch("http://x.test/v.mp4") == mp4
    assert media_format(mp4) == "mp4"
    view = OutputView(fetcher=fetcher)
    view.show_node_runs(
        [NodeRun(node_id="v", status="COMPLETED", output={"videos": [{"url": "http://x.test/v.mp4"}]})]
    )
    assert view.wait_loaded(10)
    [video] = view.video_widgets
    assert video.format == "mp4" and video.value == mp4
    # a tooltip breaks the browser's VideoView (found by the browser test)
    assert video.tooltip is None
    assert fetcher.fetches == 1


def test_thumbnail_png() -> None:
    thumb = thumbnail_png(png(400, 200), size=96)
    with Image.open(io.BytesIO(thumb)) as image:
        assert image.size == (96, 48)
    assert json.dumps(media_format(b"GIF89a..."))
