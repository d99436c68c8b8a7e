"""Blueprints (``wireflow_nb.blueprints``): made from a selection, saved in the data
folder, read back, inserted with fresh ids inside a group, undone in one step."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from wireflow_nb import Blueprint, Workflow, blueprints
from wireflow_nb._home import data_home
from wireflow_nb.blueprints import BlueprintFileError, blueprint_folder, insert_in_view
from wireflow_nb.catalog import default_catalog
from wireflow_nb.editing.state import EditorState


def chain() -> Workflow:
    """prompt -> image -> resize, and outside -> tpl."""
    w = Workflow(id="bp")
    w.add_node("input:text", id="prompt", position=(100, 200), text="a fox")
    w.add_node("model:fal:text-to-image", id="image", position=(400, 150), seed=3)
    w.add_node("image:resize", id="resize", position=(700, 260), width=64)
    w.add_node("input:text", id="outside", position=(0, 0), text="b")
    w.connect("prompt", "text", "image", "prompt")
    w.connect("image", "images", "resize", "image")
    w.add_node("text:template", id="tpl", position=(0, 400))
    w.connect("outside", "text", "tpl", "template")
    return w


def test_from_selection_keeps_internal_edges_and_relative_positions() -> None:
    w = chain()
    bp = Blueprint.from_selection(w, ["image", "resize"], name="Upscale", category="images")
    assert [n["id"] for n in bp.nodes] == ["image", "resize"]
    # only the edge between two chosen nodes (not prompt -> image)
    assert [(e["source"], e["target"]) for e in bp.edges] == [("image", "resize")]
    # relative to the top-left of the selection: min x 400, min y 150
    assert [n["position"] for n in bp.nodes] == [{"x": 0, "y": 0}, {"x": 300, "y": 110}]
    assert bp.nodes[0]["data"]["seed"] == 3
    # the workflow itself is unchanged
    assert w.node("image").position.x == 400


def test_from_selection_needs_nodes_and_a_name() -> None:
    with pytest.raises(ValueError, match="select nodes"):
        Blueprint.from_selection(chain(), [], name="x")
    with pytest.raises(KeyError, match="nope"):
        Blueprint.from_selection(chain(), ["nope"], name="x")
    with pytest.raises(ValueError, match="name"):
        Blueprint.from_selection(chain(), ["image"], name="  ")


def test_a_local_path_is_left_out_in_memory_media_kept(tmp_path: Path) -> None:
    w = Workflow()
    a = w.add_node("image:resize", image=str(tmp_path / "me" / "photo.png"))
    b = w.add_node("image:resize", image="https://example.com/x.png")
    c = w.add_node("image:resize", image=b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    bp = Blueprint.from_selection(w, [a, b, c], name="media")
    text = json.dumps(bp.to_dict())
    assert str(tmp_path) not in text
    assert len(bp.left_out) == 1 and bp.left_out[0].endswith(f"({a}).image")
    assert "image" not in bp.nodes[0]["data"]
    assert bp.nodes[1]["data"]["image"] == "https://example.com/x.png"
    assert bp.nodes[2]["data"]["image"].startswith("data:image/png;base64,")


def test_save_load_round_trip_in_the_data_folder() -> None:
    bp = Blueprint.from_selection(
        chain(), ["prompt", "image"], name="Fox Maker", category="gen", description="d"
    )
    path = bp.save()
    assert path == blueprint_folder() / "fox-maker.json"
    assert path.parent.parent == data_home()
    back = Blueprint.load(path)
    assert back == bp
    assert (back.name, back.category, back.description) == ("Fox Maker", "gen", "d")
    assert [b.name for b in blueprints()] == ["Fox Maker"]
    # no temporary file left behind
    assert sorted(p.name for p in path.parent.iterdir()) == ["fox-maker.json"]


def test_names_are_unique() -> None:
    Blueprint.from_selection(chain(), ["prompt"], name="Same").save()
    with pytest.raises(FileExistsError, match="another name"):
        Blueprint.from_selection(chain(), ["image"], name="same").save()
    Blueprint.from_selection(chain(), ["image"], name="same").save(overwrite=True)
    assert [b.nodes[0]["id"] for b in blueprints()] == ["image"]


def test_a_bad_file_is_skipped_with_a_note(caplog: pytest.LogCaptureFixture) -> None:
    Blueprint.from_selection(chain(), ["prompt"], name="Good").save()
    folder = blueprint_folder()
    (folder / "broken.json").write_text("{not json")
    (folder / "empty.json").write_text(json.dumps({"name": "x", "nodes": []}))
    (folder / "dangling.json").write_text(
        json.dumps({"name": "d", "nodes": [{"id": "a"}], "edges": [{"source": "a", "target": "zz"}]})
    )
    with caplog.at_level(logging.WARNING, logger="wireflow_nb.blueprints"):
        found = blueprints()
    assert [b.name for b in found] == ["Good"]
    assert len(found.skipped) == 3
    assert any("broken.json" in s and "not JSON" in s for s in found.skipped)
    assert any("empty.json" in s and "nodes" in s for s in found.skipped)
    assert any("dangling.json" in s and "lacks" in s for s in found.skipped)
    assert "broken.json" in caplog.text
    with pytest.raises(BlueprintFileError, match=r"broken\.json"):
        Blueprint.load(folder / "broken.json")


def test_insert_gives_new_unique_ids_in_a_group() -> None:
    bp = Blueprint.from_selection(chain(), ["prompt", "image", "resize"], name="Pipeline")
    target = chain()  # has nodes prompt, image, resize already
    before = {n.id for n in target.nodes}
    ids = bp.insert(target, x=1000, y=500)
    assert len(ids) == 3 and not set(ids) & before and len(set(ids)) == 3
    group = target.group_of(ids[0])
    assert group is not None and group.title == "Pipeline" and list(group.nodes) == ids
    # internal edges rewired to the new ids
    new_edges = [(e.source, e.target) for e in target.edges if e.source in ids]
    assert new_edges == [(ids[0], ids[1]), (ids[1], ids[2])]
    assert (target.node(ids[0]).position.x, target.node(ids[0]).position.y) == (1000, 550)
    target.validate()


def test_insert_twice_gives_distinct_ids_and_groups() -> None:
    bp = Blueprint.from_selection(chain(), ["image", "resize"], name="Up")
    target = Workflow()
    first, second = bp.insert(target), bp.insert(target, x=0, y=300)
    assert len(set(first) | set(second)) == 4
    assert len({e.id for e in target.edges}) == 2
    assert len(target.groups) == 2


def test_bypass_flags_travel_with_the_blueprint() -> None:
    w = chain()
    w.set_bypass("resize")
    bp = Blueprint.load(Blueprint.from_selection(w, ["image", "resize"], name="B").save())
    target = Workflow()
    ids = bp.insert(target)
    assert target.bypassed == [ids[1]]


def test_undo_removes_the_whole_insert_in_one_step() -> None:
    w = chain()
    bp = Blueprint.from_selection(w, ["prompt", "image"], name="Two")
    state = EditorState(w, default_catalog())
    nodes_before, edges_before = len(w.nodes), len(w.edges)
    ids, _flags = insert_in_view(state, bp)
    assert len(w.nodes) == nodes_before + 2 and w.group_of(ids[0]) is not None
    assert state.selected_ids == ids
    state.undo()
    assert len(w.nodes) == nodes_before and len(w.edges) == edges_before and w.groups == []
    state.redo()
    assert [n.id for n in w.nodes][-2:] == ids and w.group_of(ids[1]) is not None


def test_search_matches_every_word_of_name_category_or_description() -> None:
    Blueprint.from_selection(
        chain(), ["prompt"], name="Fox maker", category="text", description="a prompt"
    ).save()
    Blueprint.from_selection(chain(), ["resize"], name="Shrink", category="images").save()
    found = blueprints()
    assert [b.name for b in found.search("")] == ["Shrink", "Fox maker"]  # by category, then name
    assert [b.name for b in found.search("IMAGES")] == ["Shrink"]
    assert [b.name for b in found.search("fox prompt")] == ["Fox maker"]
    assert found.search("fox shrink") == []
    assert found.named("fox MAKER").name == "Fox maker"
