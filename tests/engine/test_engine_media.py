"""Built-in executors make real files: PNGs Pillow opens, MP4s imageio decodes."""

from __future__ import annotations

import base64
import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import imageio.v2 as imageio
import numpy as np
import pytest
from PIL import Image

from wireflow_nb import ExecutionFailedError, Workflow
from wireflow_nb.engine import LocalEngine


def png_bytes(size: tuple[int, int] = (40, 30), color: str = "blue") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def open_image(engine: LocalEngine, item: Any) -> Image.Image:
    image = Image.open(io.BytesIO(engine.fetch_bytes(item.url)))
    image.load()
    assert (image.width, image.height) == (item.width, item.height)
    assert item.content_type == "image/png" and image.format == "PNG"
    return image


def read_video(engine: LocalEngine, item: Any) -> list[np.ndarray]:
    path = engine.artifact_path(item.url)
    assert path.suffix == ".mp4" and item.content_type == "video/mp4"
    reader = imageio.get_reader(str(path), format="FFMPEG")
    try:
        frames = list(reader.iter_data())
    finally:
        reader.close()
    assert frames and frames[0].shape[:2] == (item.height, item.width)
    return frames


@pytest.fixture
def http_image() -> Iterator[str]:
    """A PNG served on loopback (the only network tests may use)."""
    body = png_bytes((12, 10), "green")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/cat.png"
    finally:
        server.shutdown()
        server.server_close()


def test_text_to_image_draws_real_deterministic_pngs(engine: LocalEngine) -> None:
    wf = Workflow("w")
    wf.add_node(
        "model:fal:text-to-image", id="a", prompt="a red fox", width=96, height=64, seed=5, numImages=2
    )
    wf.add_node(
        "model:fal:text-to-image", id="b", prompt="a red fox", width=96, height=64, seed=5, cache=False
    )
    wf.add_node("model:fal:text-to-image", id="c", prompt="a blue whale", width=96, height=64, seed=5)
    [poll] = engine.run("w", wf)
    first, second = poll.node_run("a").images
    for item in (first, second):
        assert open_image(engine, item).size == (96, 64)
    [same] = poll.node_run("b").images
    [other] = poll.node_run("c").images
    assert engine.fetch_bytes(same.url) == engine.fetch_bytes(first.url)  # prompt + seed + size decide
    assert engine.fetch_bytes(first.url) != engine.fetch_bytes(second.url)  # seeds 5 and 6
    assert engine.fetch_bytes(other.url) != engine.fetch_bytes(first.url)
    assert engine.credits_balance() == 1000 - 40


def test_image_nodes_with_pillow(engine: LocalEngine, tmp_path: Path) -> None:
    source = tmp_path / "in.png"
    source.write_bytes(png_bytes((200, 100), "orange"))
    wf = Workflow("w")
    wf.add_node("input:image", id="src", image=str(source))
    steps = {
        "fit": ("image:resize", {"width": 50, "height": 50, "mode": "fit"}, (50, 25)),
        "fill": ("image:resize", {"width": 50, "height": 50, "mode": "fill"}, (50, 50)),
        "stretch": ("image:resize", {"width": 30, "height": 70, "mode": "stretch"}, (30, 70)),
        "crop": ("image:crop", {"left": 10, "top": 20, "width": 300, "height": 30}, (190, 30)),
        "gray": ("image:filter", {"filter": "grayscale"}, (200, 100)),
        "blur": ("image:filter", {"filter": "blur", "radius": 3}, (200, 100)),
        "sharp": ("image:filter", {"filter": "sharpen"}, (200, 100)),
        "caption": ("image:caption", {"text": "hello world"}, (200, 100)),
    }
    for node_id, (node_type, inputs, _) in steps.items():
        wf.add_node(node_type, id=node_id, **inputs)
        wf.connect("src", "images", node_id, "image")
    wf.set_input("caption", "position", "top")  # (add_node's own `position` is the canvas one)
    [poll] = engine.run("w", wf)
    assert open_image(engine, poll.node_run("src").images[0]).size == (200, 100)
    for node_id, (_, _, size) in steps.items():
        assert open_image(engine, poll.node_run(node_id).images[0]).size == size, node_id
    gray = open_image(engine, poll.node_run("gray").images[0]).convert("RGB")
    r, g, b = gray.getpixel((5, 5))
    assert r == g == b
    caption = open_image(engine, poll.node_run("caption").images[0]).convert("RGB")
    assert caption.getpixel((100, 2)) != (255, 165, 0)  # the band darkened the top


def test_image_grid_takes_every_connected_image(engine: LocalEngine) -> None:
    wf = Workflow("w")
    for i, color in enumerate(["red", "green", "blue"]):
        wf.add_node("input:image", id=f"i{i}", image=png_bytes((20, 20), color))
    wf.add_node("image:grid", id="grid", columns=2, gap=2)
    for i in range(3):
        wf.connect(f"i{i}", "images", "grid", "images")
    [poll] = engine.run("w", wf)
    grid = open_image(engine, poll.node_run("grid").images[0]).convert("RGB")
    assert grid.size == (2 * 20 + 3 * 2, 2 * 20 + 3 * 2)
    assert grid.getpixel((2 + 10, 2 + 10)) == (255, 0, 0)
    assert grid.getpixel((2 + 20 + 2 + 10, 2 + 10)) == (0, 128, 0)
    assert grid.getpixel((2 + 10, 2 + 20 + 2 + 10)) == (0, 0, 255)


def test_input_image_sources(engine: LocalEngine, tmp_path: Path, http_image: str) -> None:
    path = tmp_path / "local.png"
    path.write_bytes(png_bytes((7, 9)))
    data_url = "data:image/png;base64," + base64.b64encode(png_bytes((5, 6))).decode()
    wf = Workflow("w")
    wf.add_node("input:image", id="path", image=str(path))
    wf.add_node("input:image", id="uri", image=path.as_uri())
    wf.add_node("input:image", id="data", image=data_url)
    wf.add_node("input:image", id="bytes", image=png_bytes((3, 4)))
    wf.add_node("input:image", id="pil", image=Image.new("RGB", (8, 2)))
    wf.add_node("input:image", id="http", image=http_image)
    [poll] = engine.run("w", wf)
    sizes = {run.node_id: (run.images[0].width, run.images[0].height) for run in poll.node_runs}
    assert sizes == {
        "path": (7, 9),
        "uri": (7, 9),
        "data": (5, 6),
        "bytes": (3, 4),
        "pil": (8, 2),
        "http": (12, 10),
    }
    for run in poll.node_runs:
        open_image(engine, run.images[0])
    snapshot = engine.get_execution(engine.list_executions("w")[0].id).workflow_snapshot
    stored = next(n for n in snapshot["nodes"] if n["id"] == "bytes")["data"]["image"]
    assert stored.startswith("file://")  # bytes were stored as a file; the snapshot names its URL


def test_a_bad_image_source_fails_the_node_with_a_clear_error(engine: LocalEngine, tmp_path: Path) -> None:
    wf = Workflow("w")
    wf.add_node("input:image", id="missing", image=str(tmp_path / "nope.png"))
    wf.add_node("input:image", id="not-an-image", image="data:text/plain,hello")
    response = engine.execute("w", wf)
    with pytest.raises(ExecutionFailedError) as info:
        engine.wait(response.execution_id)
    errors = {run.node_id: run.error_message for run in info.value.poll.node_runs}
    assert "nope.png" in errors["missing"]
    assert "not an image" in errors["not-an-image"]


def test_text_to_video_is_a_real_mp4(engine: LocalEngine) -> None:
    wf = Workflow("w")
    wf.add_node(
        "model:fal:text-to-video", id="v", prompt="waves", durationSeconds=1, width=160, height=120, seed=3
    )
    [poll] = engine.run("w", wf)
    run = poll.node_run("v")
    [item] = run.videos
    assert (item.width, item.height) == (160, 120)
    assert item.duration_seconds == 1
    assert len(read_video(engine, item)) == 8
    assert run.output["provider"] == "local-preview" and run.output["seed"] == 3
    assert engine.credits_balance() == 950


def test_image_to_video_and_image_to_image(engine: LocalEngine) -> None:
    wf = Workflow("w")
    wf.add_node("input:image", id="src", image=png_bytes((64, 48), "purple"))
    wf.add_node("model:fal:image-to-image", id="i2i", prompt="as a painting", strength=0.5)
    wf.add_node("model:fal:image-to-video", id="i2v", durationSeconds=0.5)
    wf.connect("src", "images", "i2i", "image")
    wf.connect("i2i", "images", "i2v", "image")
    [poll] = engine.run("w", wf)
    assert open_image(engine, poll.node_run("i2i").images[0]).size == (64, 48)
    [video] = poll.node_run("i2v").videos
    assert (video.width, video.height) == (320, 240)  # the preview box, same shape as the image
    assert len(read_video(engine, video)) == 4


def test_video_from_images_shows_each_frame_for_its_time(engine: LocalEngine) -> None:
    wf = Workflow("w")
    wf.add_node("input:image", id="a", image=png_bytes((33, 21), "red"))
    wf.add_node("input:image", id="b", image=png_bytes((33, 21), "blue"))
    wf.add_node("video:from-images", id="v", fps=4, secondsPerImage=0.5)
    wf.connect("a", "images", "v", "images")
    wf.connect("b", "images", "v", "images")
    [poll] = engine.run("w", wf)
    [video] = poll.node_run("v").videos
    assert (video.width, video.height) == (32, 20)  # even sides for H.264
    frames = read_video(engine, video)
    assert len(frames) == 4 and video.duration_seconds == 1
    assert frames[0][10, 16, 0] > 150 > frames[0][10, 16, 2]  # red first
    assert frames[-1][10, 16, 2] > 150 > frames[-1][10, 16, 0]  # blue last
