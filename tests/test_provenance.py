"""Outputs carry their workflow (``wireflow_nb.provenance``): real files the LocalEngine
writes (Pillow PNGs, ffmpeg MP4s), JPEG/WebP written by Pillow, ``Workflow.from_file``,
``wireflow-nb run --out``, the clear errors, and no path of the user's machine inside."""

from __future__ import annotations

import base64
import io
import json
import os
import struct
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from wireflow_nb import Workflow, WorkflowValidationError
from wireflow_nb.cli import main
from wireflow_nb.engine import LocalEngine
from wireflow_nb.provenance import FORMAT, MAX_RECORD_BYTES, embed, read_record, record_for, saved_bytes

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[LocalEngine]:
    with LocalEngine(tmp_path / "home", model_latency=0) as local:
        yield local


def picture_workflow() -> Workflow:
    """text-to-image -> caption, filter -> video: images made by three nodes and an MP4,
    with a group, a note and a bypassed node."""
    wf = Workflow("carry")
    wf.add_node("input:text", id="prompt", text="a red fox")
    wf.add_node("model:fal:text-to-image", id="image", width=64, height=64, seed=3)
    wf.add_node("image:caption", id="caption", text="fox = \u72d0; #1 \\ done")
    wf.add_node("image:filter", id="blur", filter="blur", radius=2)
    wf.add_node("image:filter", id="sharp", filter="sharpen")
    wf.add_node("video:from-images", id="video", fps=4, secondsPerImage=0.25)
    wf.connect("prompt", "text", "image", "prompt")
    wf.connect("image", "images", "caption", "image")
    wf.connect("caption", "images", "blur", "image")
    wf.connect("blur", "images", "sharp", "image")
    wf.connect("sharp", "images", "video", "images")
    wf.group(["prompt", "image"], title="Make")
    wf.add_note("made by the carry test", x=10, y=300)
    wf.set_bypass("blur")
    return wf


def run(engine: LocalEngine, workflow_id: str, wf: Workflow, **options: Any) -> list[tuple[str, Any]]:
    """Each run of the batch: its execution id and its last poll."""
    response = engine.execute(workflow_id, wf, **options)
    return [(eid, engine.wait(eid, timeout=60)) for eid in response.execution_ids]


def output_files(engine: LocalEngine, poll: Any) -> dict[str, Path]:
    files = {}
    for run in poll.node_runs:
        for item in [*run.images, *run.videos]:
            files[run.node_id] = engine.artifact_path(item.url)
    return files


def canvas(wf: Workflow) -> Any:
    return wf.canvas_items_to_wire()


def test_every_image_and_video_the_engine_writes_carries_the_workflow(engine: LocalEngine) -> None:
    wf = picture_workflow()
    [(execution_id, poll)] = run(engine, "carry", wf)
    assert poll.state == "COMPLETED", poll
    files = output_files(engine, poll)
    assert sorted(files) == ["caption", "image", "sharp", "video"]  # "blur" is bypassed
    assert files["image"].suffix == ".png" and files["video"].suffix == ".mp4"
    for node_id, path in files.items():
        back = Workflow.from_file(path)
        assert back.to_request() == wf.to_request(), node_id
        assert canvas(back) == canvas(wf) and back.bypassed == ["blur"]
        record = read_record(path)
        assert record["format"] == FORMAT and record["executionId"] == execution_id
        assert record["version"] == __import__("wireflow_nb").__version__
    with Image.open(files["caption"]) as png:  # Pillow reads it, the record is its text chunk
        png.load()
        assert png.size == (64, 64) and json.loads(png.text["wireflow"])["executionId"] == execution_id


def test_a_batch_run_records_its_own_values(engine: LocalEngine) -> None:
    wf = Workflow("batch")
    wf.add_node("input:text", id="prompt", text="base")
    wf.add_node("model:fal:text-to-image", id="image", width=64, height=64)
    wf.connect("prompt", "text", "image", "prompt")
    wf.add_note("two animals", x=0, y=200)  # canvas items travel without a bypass too
    configs = [{"nodeId": "prompt", "field": "text", "values": ["fox", "owl"]}]
    values = []
    for _, poll in run(engine, "batch", wf, iterator_configs=configs):
        record = read_record(output_files(engine, poll)["image"])
        assert Workflow.from_dict(record["workflow"]).to_request() == wf.to_request()
        assert canvas(Workflow.from_dict(record["workflow"])) == canvas(wf)
        assert record["inputs"]["iteratorConfigs"] == configs
        values.append((record["inputs"]["runIndex"], record["inputs"]["values"]["prompt"]["text"]))
    assert sorted(values) == [(0, "fox"), (1, "owl")]


def test_input_files_are_passed_on_as_they_are(engine: LocalEngine, tmp_path: Path) -> None:
    given = io.BytesIO()
    Image.new("RGB", (8, 6), "blue").save(given, format="PNG")
    wf = Workflow("given")
    wf.add_node("input:image", id="photo", image=given.getvalue())
    wf.add_node("image:resize", id="small", width=4, height=3)
    wf.connect("photo", "images", "small", "image")
    [(execution_id, poll)] = run(engine, "given", wf)
    files = output_files(engine, poll)
    assert files["photo"].read_bytes() == given.getvalue()  # the user's file, byte for byte
    assert read_record(files["small"])["executionId"] == execution_id  # what a node made carries


def test_no_path_of_the_users_machine_inside(engine: LocalEngine, tmp_path: Path) -> None:
    private = tmp_path / f"private-{uuid.uuid4().hex}"
    private.mkdir()
    Image.new("RGB", (10, 8), "green").save(private / "holiday.png")
    wf = Workflow("paths")
    wf.add_node("input:image", id="photo", image=str(private / "holiday.png"))
    wf.add_node("input:image", id="uri", image=(private / "holiday.png").as_uri())
    wf.add_node(
        "input:image", id="mem", image=(private / "holiday.png").read_bytes()
    )  # an artifact of the home
    wf.add_node("image:grid", id="grid", columns=3)
    for source in ("photo", "uri", "mem"):
        wf.connect(source, "images", "grid", "images")
    [(_, poll)] = run(engine, "paths", wf)
    assert poll.state == "COMPLETED", poll
    grid = output_files(engine, poll)["grid"]
    text = _png_text(grid.read_bytes())  # the record as written, decompressed
    assert private.name not in text and str(tmp_path) not in text and str(engine.home) not in text
    nodes = {n["id"]: n["data"]["image"] for n in read_record(grid)["workflow"]["nodes"] if n["id"] != "grid"}
    assert nodes["photo"] == nodes["uri"] == "holiday.png"  # the file name only
    assert nodes["mem"].startswith("wireflow-artifact:")  # the engine's reference, no path


def test_batch_values_and_iterated_paths_keep_only_file_names(tmp_path: Path) -> None:
    private = tmp_path / f"private-{uuid.uuid4().hex}"
    wf = Workflow("w")
    wf.add_node("input:image", id="photo", image=str(private / "a.png"))
    wf.add_node("input:text", id="text", text=str(private / "not-media.txt"))
    configs = [
        {"nodeId": "photo", "field": "image", "values": [str(private / "b.png"), "https://x.test/c.png"]}
    ]
    record = record_for(
        wf.to_request(iterator_configs=configs),
        inputs={"values": {"photo": {"image": str(private / "b.png")}}},
    )
    assert record["inputs"]["iteratorConfigs"][0]["values"] == ["b.png", "https://x.test/c.png"]
    assert record["inputs"]["values"] == {"photo": {"image": "b.png"}}
    assert record["workflow"]["nodes"][0]["data"]["image"] == "a.png"
    assert record["workflow"]["nodes"][1]["data"]["text"] == str(private / "not-media.txt")  # text, not media
    hosted_shape = {  # inputs under data.params, a media dict under data.config
        "id": "h",
        "type": "input",
        "position": {"x": 0, "y": 0},
        "data": {"nodeType": "input:image", "params": {"image": str(private / "d.png")}},
    }
    video = {
        **hosted_shape,
        "id": "v",
        "data": {"nodeType": "input:video", "config": {"video": {"url": (private / "e.mp4").as_uri()}}},
    }
    grid = {
        **hosted_shape,
        "id": "g",
        "data": {"nodeType": "image:grid", "params": {"images": [str(private / "f.png")]}},
    }
    kept = record_for({"nodes": [hosted_shape, video, grid], "edges": []})
    assert kept["workflow"]["nodes"][2]["data"]["params"]["images"] == ["f.png"]
    assert private.name not in json.dumps(kept)
    assert kept["workflow"]["nodes"][0]["data"]["params"]["image"] == "d.png"
    assert kept["workflow"]["nodes"][1]["data"]["config"]["video"] == {"url": "e.mp4"}


def pillow_bytes(fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA" if options.get("lossless") else "RGB", (21, 13), (200, 40, 10, 255)).save(
        out, format=fmt, **options
    )
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "suffix", "options"),
    [
        ("JPEG", ".jpg", {"quality": 90}),
        ("JPEG", ".jpeg", {"exif": Image.Exif()}),
        ("WEBP", ".webp", {}),
        ("WEBP", ".webp", {"lossless": True}),
    ],
)
def test_jpeg_and_webp_round_trip(tmp_path: Path, fmt: str, suffix: str, options: dict[str, Any]) -> None:
    wf = picture_workflow()
    original = pillow_bytes(fmt, **options)
    carried = embed(original, record_for(wf, execution_id="exec_1"))
    again = embed(carried, record_for(wf, execution_id="exec_2"))  # a record replaces the one there
    path = tmp_path / f"out{suffix}"
    path.write_bytes(again)
    assert Workflow.from_file(path).to_request() == wf.to_request()
    assert read_record(path)["executionId"] == "exec_2"
    with Image.open(io.BytesIO(original)) as before, Image.open(path) as after:
        assert after.format == fmt and after.size == before.size
        assert after.tobytes() == before.tobytes()  # the picture itself is not re-encoded
        if fmt == "WEBP":
            assert (
                b"wireflow:record" in after.info["xmp"]
                if isinstance(after.info["xmp"], bytes)
                else "wireflow:record" in after.info["xmp"]
            )


def test_a_big_workflow_spans_jpeg_segments(tmp_path: Path) -> None:
    wf = Workflow("big")
    for i in range(600):
        wf.add_node(
            "input:text", id=f"t{i}", text=base64.b64encode(os.urandom(192)).decode()
        )  # incompressible
    path = tmp_path / "big.jpg"
    path.write_bytes(embed(pillow_bytes("JPEG"), record_for(wf)))
    assert path.read_bytes().count(b"WIREFLOW\x00") >= 2
    assert Workflow.from_file(path).to_request() == wf.to_request()


def test_files_without_a_workflow_give_clear_errors(engine: LocalEngine, tmp_path: Path) -> None:
    [poll] = engine.run("carry", picture_workflow())
    made = output_files(engine, poll)["image"]
    stripped = tmp_path / "stripped.png"
    with Image.open(made) as png:
        png.save(stripped)  # Pillow writes no text chunk it is not given: the metadata is gone
    with pytest.raises(WorkflowValidationError) as caught:
        Workflow.from_file(stripped)
    assert (
        "stripped.png carries no wireflow workflow: it was not written by wireflow_nb, "
        "or its metadata was stripped" in str(caught.value)
    )
    import imageio_ffmpeg

    ffmpeg_mp4 = tmp_path / "camera.mp4"  # a real MP4 with metadata of its own, none of ours
    writer = imageio_ffmpeg.write_frames(
        str(ffmpeg_mp4),
        (16, 16),
        fps=2,
        macro_block_size=2,
        ffmpeg_log_level="error",
        output_params=["-metadata", "comment=holiday", "-metadata", "title=t"],
    )
    writer.send(None)
    writer.send(bytes(16 * 16 * 3))
    writer.close()
    with pytest.raises(WorkflowValidationError, match=r"camera\.mp4 carries no wireflow workflow"):
        Workflow.from_file(ffmpeg_mp4)
    carried = tmp_path / "carried.mp4"  # embedding keeps the file's own tags (the comment is ours)
    carried.write_bytes(embed(ffmpeg_mp4.read_bytes(), record_for(picture_workflow(), execution_id="exec_v")))
    assert read_record(carried)["executionId"] == "exec_v"
    assert Workflow.from_file(carried).to_request() == picture_workflow().to_request()
    import imageio.v2 as imageio

    reader = imageio.get_reader(str(carried), format="FFMPEG")
    try:
        assert len(list(reader.iter_data())) == 1  # still a video ffmpeg decodes
    finally:
        reader.close()
    from wireflow_nb.provenance import _mp4_tags

    assert "title=t" in _mp4_tags(carried)
    plain_mp4 = tmp_path / "plain.mp4"
    plain_mp4.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    with pytest.raises(WorkflowValidationError, match=r"plain\.mp4: its wireflow workflow is damaged"):
        Workflow.from_file(plain_mp4)
    gif = tmp_path / "pic.gif"
    Image.new("RGB", (2, 2)).save(gif)
    with pytest.raises(
        WorkflowValidationError, match=r"cannot read a workflow from a \.gif file; open one of \.json, \.png"
    ):
        Workflow.from_file(gif)
    damaged = tmp_path / "damaged.png"
    damaged.write_bytes(embed(made.read_bytes(), b'{"format": "wireflow-nb/1", "workflow": {'))
    with pytest.raises(
        WorkflowValidationError, match=r"damaged\.png: its wireflow workflow is not valid JSON"
    ):
        Workflow.from_file(damaged)
    bomb = tmp_path / "bomb.png"  # a few KB inflating past the limit
    chunk = b"wireflow\x00\x01\x00\x00\x00" + zlib.compress(b" " * (MAX_RECORD_BYTES + 1), 9)
    data = stripped.read_bytes()  # no record of ours before the bomb
    bomb.write_bytes(
        data[:-12]
        + struct.pack(">I", len(chunk))
        + b"iTXt"
        + chunk
        + struct.pack(">I", zlib.crc32(b"iTXt" + chunk))
        + data[-12:]
    )
    assert bomb.stat().st_size < 200_000
    with pytest.raises(
        WorkflowValidationError,
        match=r"bomb\.png: its wireflow workflow is damaged \(its record is over 64 MB\)",
    ):
        Workflow.from_file(bomb)
    alien = tmp_path / "alien.png"
    alien.write_bytes(embed(made.read_bytes(), b'{"format": "other/2", "workflow": {}}'))
    with pytest.raises(WorkflowValidationError, match="unknown format 'other/2'"):
        Workflow.from_file(alien)
    saved = tmp_path / "w.json"
    picture_workflow().save(saved)
    assert Workflow.from_file(saved).to_request() == picture_workflow().to_request()


def test_saved_bytes_keeps_the_runs_own_record_and_replaces_another(
    engine: LocalEngine, tmp_path: Path
) -> None:
    wf = picture_workflow()
    [(execution_id, poll)] = run(engine, "carry", wf)
    made = output_files(engine, poll)["caption"].read_bytes()
    same_run = record_for(Workflow("other"), execution_id=execution_id)
    assert saved_bytes(made, same_run) == made  # the engine's record, canvas items and all
    later = record_for(Workflow("other"), execution_id="exec_later")
    replaced = saved_bytes(made, later)
    assert replaced.count(b"iTXtwireflow\x00") == 1  # the record replaced, not a second one
    path = tmp_path / "replaced.png"
    path.write_bytes(replaced)
    assert read_record(path)["executionId"] == json.loads(_png_text(replaced))["executionId"] == "exec_later"
    assert saved_bytes(b"plain text", later) == b"plain text"


def _png_text(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as png:
        return str(png.text["wireflow"])


def test_cli_run_out_files_carry_the_workflow(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = main(
        ["run", str(EXAMPLES / "template-image-video.json"), "--home", str(tmp_path / "home"),
         "--out", str(out), "--model-latency", "0"],
        stdout=io.StringIO(), stderr=io.StringIO(),
    )  # fmt: skip
    assert code == 0
    expected = Workflow.load(EXAMPLES / "template-image-video.json").to_request()
    media = sorted(p.name for p in out.iterdir() if p.suffix in (".png", ".mp4"))
    assert media == ["image.png", "video.mp4"]
    for name in media:
        assert Workflow.from_file(out / name).to_request() == expected, name
    # again on the same home: the outputs come from the cache (files of the first run), and
    # are saved with the record of this run
    again = tmp_path / "again"
    code = main(
        ["run", str(EXAMPLES / "template-image-video.json"), "--home", str(tmp_path / "home"),
         "--out", str(again), "--model-latency", "0"],
        stdout=io.StringIO(), stderr=io.StringIO(),
    )  # fmt: skip
    assert code == 0
    for name in media:
        first, second = read_record(out / name), read_record(again / name)
        assert first["executionId"] != second["executionId"], name
        assert Workflow.from_dict(second["workflow"]).to_request() == expected
