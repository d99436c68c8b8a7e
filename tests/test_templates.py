"""The package's templates (``wireflow_nb.templates``): each one validates and runs to
COMPLETED on a real ``LocalEngine`` with real outputs (PNG read by Pillow, MP4 counted by
ffmpeg), names are found in any spelling, each ``workflow()`` is a fresh copy, and the
JSON files travel in a built wheel (package data). Also ``Blueprint.workflow``: what the
gallery opens for a blueprint."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest
from PIL import Image

import wireflow_nb as wf
from wireflow_nb import Blueprint, Template, Workflow

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from wireflow_nb.engine import LocalEngine

    with LocalEngine(tmp_path_factory.mktemp("templates-home"), model_latency=0) as local:
        yield local


def run(engine: Any, template: Template) -> dict[str, Any]:
    """Run the template's workflow; node id -> output (the run must complete)."""
    (poll,) = engine.run("templates", template.workflow(), timeout=120)
    assert poll.status == "COMPLETED", poll
    runs = poll.node_runs.values() if isinstance(poll.node_runs, dict) else poll.node_runs
    outputs = {r.node_id: r.output or {} for r in runs}
    assert set(outputs) == {n.id for n in template.workflow().nodes}
    return outputs


def png(engine: Any, item: dict[str, Any]) -> Image.Image:
    path = engine.artifact_path(item["url"])
    image = Image.open(path)
    assert image.format == "PNG"
    assert (image.width, image.height) == (item["width"], item["height"])
    return image


def test_the_three_teaching_templates_are_listed_with_name_category_and_one_line() -> None:
    found = wf.templates()
    assert [t.name for t in found] == ["Text to image", "Image pipeline", "Batch to video"]
    assert [t.category for t in found] == ["getting started", "images", "video"]  # by category
    for t in found:
        assert t.description and "\n" not in t.description
        assert t.workflow().problems() == [], t.name
        assert len(t) == len(t.workflow().nodes) > 1


def test_a_template_is_found_by_name_in_any_spelling_and_a_wrong_name_names_them() -> None:
    assert wf.template("image pipeline").slug == "image-pipeline"
    assert wf.template("IMAGE-Pipeline").name == "Image pipeline"
    with pytest.raises(KeyError) as caught:
        wf.template("image pipe")
    assert "Text to image, Image pipeline, Batch to video" in str(caught.value)


def test_each_workflow_call_is_a_fresh_copy() -> None:
    first = wf.template("text to image").workflow()
    first.node("subject").set_input("text", "changed")
    first.remove_node("style")
    again = wf.template("text to image").workflow()
    assert again.node("subject").inputs["text"] == "a lighthouse on a cliff"
    assert again.has_node("style")
    # nested values too: a list in a node's data is the workflow's own
    body = {
        "nodes": [{"id": "n", "type": "utility", "data": {"nodeType": "x:y", "tags": ["a"]}}],
        "edges": [],
    }
    nested = Template("Nested", "tests", "a list in a node", body)
    nested.workflow().node("n").data["tags"].append("b")
    assert nested.workflow().node("n").data["tags"] == ["a"] and body["nodes"][0]["data"]["tags"] == ["a"]


def test_the_picture_is_the_static_svg_of_the_workflow_scaled_down() -> None:
    t = wf.template("image pipeline")
    svg = t.svg(max_width=200)
    assert svg.startswith("<svg") and 'width="200"' in svg
    for node in t.workflow().nodes:
        assert node.label in svg


def test_text_to_image_runs_offline_to_a_real_image(engine: Any) -> None:
    t = wf.template("text to image")
    out = run(engine, t)
    (item,) = out["image"]["images"]
    node = t.workflow().node("image")
    image = png(engine, item)
    assert image.size == (node.inputs["width"], node.inputs["height"])
    assert out["prompt"]["text"] == "a lighthouse on a cliff, watercolor, soft evening light"


def test_the_image_pipeline_grid_has_the_size_of_its_cells_and_gaps(engine: Any) -> None:
    t = wf.template("image pipeline")
    w = t.workflow()
    assert {n.node_type for n in w.nodes} >= {"image:resize", "image:caption", "image:grid"}
    out = run(engine, t)
    resize, grid = w.node("resize").inputs, w.node("grid").inputs
    cell = (resize["width"], resize["height"])
    assert png(engine, out["resize"]["images"][0]).size == cell
    captioned = png(engine, out["caption"]["images"][0])
    assert captioned.size == cell
    # the caption wrote on the picture: the bottom band differs from the resized one
    plain = png(engine, out["resize"]["images"][0]).convert("RGB")
    band = (0, cell[1] - 24, cell[0], cell[1])
    assert captioned.convert("RGB").crop(band).tobytes() != plain.crop(band).tobytes()
    (item,) = out["grid"]["images"]
    columns, gap = grid["columns"], grid["gap"]  # two images: one row of two cells
    expected = (columns * cell[0] + (columns + 1) * gap, cell[1] + 2 * gap)
    assert png(engine, item).size == expected == (524, 264)


def test_batch_to_video_makes_a_real_mp4_with_a_frame_per_image_of_the_batch(engine: Any) -> None:
    t = wf.template("batch to video")
    w = t.workflow()
    out = run(engine, t)
    batch = w.node("frames").inputs["numImages"]
    assert len(out["frames"]["images"]) == batch == 4
    (video,) = out["video"]["videos"]
    assert video["contentType"] == "video/mp4"
    path = engine.artifact_path(video["url"])
    assert path.read_bytes()[4:8] == b"ftyp"
    settings = w.node("video").inputs
    per_image = round(settings["fps"] * settings["secondsPerImage"])
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert frames == batch * per_image == out["video"]["frames"]
    assert seconds == pytest.approx(frames / settings["fps"], abs=0.1)


def test_a_blueprint_becomes_a_new_workflow_of_its_nodes_with_its_bypass_flags() -> None:
    source = Workflow("src")
    source.add_node("input:text", id="p", text="a koi pond", position=(100, 50))
    source.add_node("model:fal:text-to-image", id="img", position=(400, 50))
    source.add_node("image:filter", id="gray", position=(700, 50))
    source.connect("p", "text", "img", "prompt")
    source.connect("img", "images", "gray", "image")
    source.set_bypass("gray")
    bp = Blueprint.from_selection(source, ["p", "img", "gray"], name="Gray koi")
    made = bp.workflow()
    assert [n.id for n in made.nodes] == ["p", "img", "gray"]
    assert [(e.source, e.target) for e in made.edges] == [("p", "img"), ("img", "gray")]
    assert made.is_bypassed("gray") and not made.is_bypassed("img")
    assert made.groups == []  # a new workflow, not an insert
    assert made.node("p").inputs["text"] == "a koi pond"
    made.node("p").set_input("text", "changed")
    assert bp.workflow().node("p").inputs["text"] == "a koi pond"  # a copy each call


def test_the_template_files_are_package_data_of_a_built_wheel(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(REPO), "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("wireflow_nb-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(n for n in names if n.startswith("wireflow_nb/templates/") and n.endswith(".json"))
    folder = REPO / "wireflow_nb" / "templates"
    assert shipped == sorted(f"wireflow_nb/templates/{p.name}" for p in folder.glob("*.json"))
    assert len(shipped) == len(wf.templates()) == 3
