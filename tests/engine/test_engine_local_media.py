"""Local media on the in-process engine: a path, a ``file://`` URI, bytes, a PIL image
or a numpy array as the value of an ``input:image`` is read in place (paths) or stored
as an artifact (in-memory values), in node inputs and in batch values; the workflow is
never changed by a run; a saved workflow keeps the user's value (a path as its text,
in-memory media as a ``data:`` URL) and runs again the same once loaded."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from wireflow_nb import BadRequestError, ExecutionFailedError, Workflow
from wireflow_nb.engine import LocalEngine

RED = (220, 20, 30)


def resize_flow(value: Any) -> Workflow:
    wf = Workflow("media")
    source = wf.add_node("input:image", id="photo", image=value)
    resize = wf.add_node("image:resize", id="small", width=17, height=13, mode="stretch")
    wf.connect(source, "images", resize, "image")
    return wf


def picture_of(engine: LocalEngine, item: Any) -> Image.Image:
    image = Image.open(io.BytesIO(engine.fetch_bytes(item.url)))
    image.load()
    return image


def red_png(path: Path) -> Path:
    Image.new("RGB", (40, 30), RED).save(path)
    return path


@pytest.mark.parametrize(
    "kind", ["path", "str", "file-uri", "bytes", "pil", "rgb-array", "rgba-array", "gray-array"]
)
def test_every_local_media_value_runs_in_process(engine: LocalEngine, tmp_path: Path, kind: str) -> None:
    path = red_png(tmp_path / "photo.png")
    rgb = np.full((30, 40, 3), RED, dtype=np.uint8)
    value = {
        "path": path,
        "str": str(path),
        "file-uri": path.as_uri(),
        "bytes": path.read_bytes(),
        "pil": Image.new("RGB", (40, 30), RED),
        "rgb-array": rgb,
        "rgba-array": np.dstack([rgb, np.full((30, 40), 255, np.uint8)]),
        "gray-array": np.full((30, 40), 77, dtype=np.uint8),
    }[kind]
    wf = resize_flow(value)
    [result] = engine.run("media", wf)
    assert result.state == "COMPLETED", result
    [original] = result.node_run("photo").images
    assert (original.width, original.height) == (40, 30)
    small = picture_of(engine, result.node_run("small").images[0])
    assert small.size == (17, 13)
    expected = (77, 77, 77) if kind == "gray-array" else RED
    assert small.convert("RGB").getpixel((8, 6)) == expected
    # the run never replaced the user's value
    assert wf.node("photo").inputs["image"] is value


def test_arrays_and_bytes_in_batch_values_are_stored_not_sent_as_text(engine: LocalEngine) -> None:
    red = np.full((8, 8, 3), RED, dtype=np.uint8)
    blue = Image.new("RGB", (8, 8), (0, 0, 255))
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 255, 0)).save(buffer, format="PNG")
    results = engine.run(
        "media",
        resize_flow(red),
        iterator_configs=[{"nodeId": "photo", "field": "image", "values": [red, blue, buffer.getvalue()]}],
    )
    colors = [
        picture_of(engine, r.node_run("small").images[0]).convert("RGB").getpixel((3, 3)) for r in results
    ]
    assert colors == [RED, (0, 0, 255), (0, 255, 0)]


def test_an_array_that_is_no_image_is_a_400_naming_the_node(engine: LocalEngine) -> None:
    with pytest.raises(BadRequestError) as info:
        engine.execute("media", resize_flow(np.zeros((4, 4), dtype=np.float64)))
    assert "'photo'" in str(info.value) and "uint8" in str(info.value)
    assert info.value.body["details"][0]["field"] == "image"


@pytest.mark.parametrize("kind", ["bytes", "pil", "array"])
def test_a_saved_workflow_keeps_in_memory_media_as_a_data_url(
    engine: LocalEngine, tmp_path: Path, kind: str
) -> None:
    path = red_png(tmp_path / "photo.png")
    value = {
        "bytes": path.read_bytes(),
        "pil": Image.open(path),
        "array": np.asarray(Image.open(path).convert("RGB")),
    }[kind]
    wf = resize_flow(value)
    saved = wf.to_dict()["nodes"][0]["data"]["image"]
    assert saved.startswith("data:image/png;base64,")
    loaded = Workflow.load(wf.save(tmp_path / "flow.json"))
    assert loaded.node("photo").inputs["image"] == saved
    [result] = engine.run("media", loaded)
    assert picture_of(engine, result.node_run("small").images[0]).convert("RGB").getpixel((8, 6)) == RED
    assert wf.node("photo").inputs["image"] is value  # saving changed nothing either


def test_a_saved_workflow_keeps_a_path_as_the_path(engine: LocalEngine, tmp_path: Path) -> None:
    path = red_png(tmp_path / "photo.png")
    for value in (path, str(path)):
        wf = resize_flow(value)
        [result] = engine.run("media", wf)
        assert result.state == "COMPLETED"
        loaded = Workflow.load(wf.save(tmp_path / "flow.json"))
        assert loaded.node("photo").inputs["image"] == str(path)
        assert engine.workflows.get(engine.workflows.create(wf, name="m").id).node("photo").inputs[
            "image"
        ] == str(path)


def wav_bytes() -> bytes:
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x10" * 800)
    return buffer.getvalue()


def mp4_bytes(engine: LocalEngine) -> bytes:
    wf = Workflow("clip")
    wf.add_node(
        "model:fal:text-to-video", id="v", prompt="waves", durationSeconds=0.5, width=64, height=64, seed=1
    )
    [result] = engine.run("clip", wf)
    return engine.fetch_bytes(result.node_run("v").videos[0].url)


@pytest.mark.parametrize("as_path", [True, False])
def test_video_and_audio_inputs_pass_the_file_on_as_it_is(
    engine: LocalEngine, tmp_path: Path, as_path: bool
) -> None:
    clip, sound = mp4_bytes(engine), wav_bytes()
    (tmp_path / "clip.mp4").write_bytes(clip)
    (tmp_path / "sound.wav").write_bytes(sound)
    wf = Workflow("av")
    wf.add_node("input:video", id="video", video=tmp_path / "clip.mp4" if as_path else clip)
    wf.add_node("input:audio", id="audio", audio=str(tmp_path / "sound.wav") if as_path else sound)
    [result] = engine.run("av", wf)
    assert result.state == "COMPLETED", result
    [video] = result.node_run("video").videos
    assert video.content_type == "video/mp4" and engine.fetch_bytes(video.url) == clip
    [audio] = result.node_run("audio").output["audio"]
    assert audio["contentType"] == "audio/wav" and engine.fetch_bytes(audio["url"]) == sound


def test_a_picture_given_to_a_video_input_fails_saying_so(engine: LocalEngine, tmp_path: Path) -> None:
    wf = Workflow("av")
    wf.add_node("input:video", id="video", video=red_png(tmp_path / "photo.png"))
    with pytest.raises(ExecutionFailedError) as info:
        engine.run("av", wf)
    assert "not video" in str(info.value) and "image/png" in str(info.value)


def test_exports_of_a_workflow_holding_in_memory_media_are_json(tmp_path: Path) -> None:
    from wireflow_nb.export import to_curl, to_python

    value = np.full((6, 6, 3), RED, dtype=np.uint8)
    wf = resize_flow(value)
    code = to_python(wf)
    scope: dict[str, Any] = {}
    exec(code, scope)
    assert scope["wf"].to_dict() == wf.to_dict()
    assert "data:image/png;base64," in to_curl(wf)
    assert wf.node("photo").inputs["image"] is value
