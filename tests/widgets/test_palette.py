"""The palette, inspector and ports of a catalogue served by a real ``wireflow-nb serve``
with 500 generated node types (``tests/_catalogs.py``), fetched by ``catalog_for`` over
loopback; hosted catalogue entries; node types the catalogue does not know."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import ipywidgets as widgets
import pytest

from tests._catalogs import BUILT_INS, serving_node_types, shown_source
from tests._servers import RunningServer
from wireflow_nb import Workflow
from wireflow_nb.catalog import Catalog, catalog_from_hosted
from wireflow_nb.catalog_source import catalog_for
from wireflow_nb.testing import NODE_FAMILIES
from wireflow_nb.widgets import GraphEditor
from wireflow_nb.widgets.palette import MAX_HITS

from .test_editor import find


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with serving_node_types(tmp_path_factory.mktemp("many-types")) as running:
        yield running


@pytest.fixture
def editor(server: RunningServer) -> GraphEditor:
    with server.client() as client:
        found = catalog_for(client)
    return GraphEditor(Workflow("palette"), catalog=found, width=640, height=400)


def type_buttons(editor: GraphEditor) -> list[widgets.Button]:
    return [c for c in editor._palette_list.children if isinstance(c, widgets.Button)]


def shown_types(editor: GraphEditor) -> list[str]:
    by_button = {id(b): t for t, b in editor.palette_buttons.items()}
    return [by_button[id(b)] for b in type_buttons(editor)]


def family(i: int) -> str:
    return NODE_FAMILIES[i % len(NODE_FAMILIES)]


def test_500_served_types_fold_by_category_and_buttons_are_made_when_shown(editor, server):
    assert len(editor.catalog) == BUILT_INS + 500 and "audio:kind_007" in editor.catalog
    source = find(editor, "wf-palette-source")
    assert source is editor.palette.source
    shown = shown_source(editor.palette)
    assert f"{BUILT_INS + 500} types" in shown and f"server {server.base_url}, fetched now" in shown
    # folded: the headings only, and no type button made yet
    headings = [c for c in editor._palette_list.children if isinstance(c, widgets.ToggleButton)]
    assert len(headings) == len(editor.catalog.by_category()) and not type_buttons(editor)
    assert editor.palette_buttons == {}
    audio = find(editor, "wf-palette-audio")
    assert audio.description.endswith("Audio (50)") and audio.value is False
    audio.value = True  # what a click on the toggle does
    assert len(type_buttons(editor)) == 50
    assert {editor.catalog[t].category for t in shown_types(editor)} == {"audio"}
    assert len(editor.palette_buttons) == 50  # only the unfolded category's were made
    audio.value = False
    assert not type_buttons(editor)


def test_search_is_over_all_types_by_name_label_and_category(editor):
    i = 42
    editor.search.value = f"kind_{i:03d}"
    assert shown_types(editor) == [f"{family(i)}:kind_{i:03d}"]
    assert find(editor, f"wf-palette-{family(i)}-kind_{i:03d}") is not None
    editor.search.value = "Kind 137"  # words of the label
    assert shown_types(editor) == [f"{family(137)}:kind_137"]
    editor.search.value = "upscale"  # a category, folded though it is
    assert len(shown_types(editor)) == 50
    assert {editor.catalog[t].category for t in shown_types(editor)} == {"upscale"}
    assert find(editor, "wf-palette-upscale").description.endswith("Upscale (50 of 50)")
    assert find(editor, "wf-palette-audio") not in editor._palette_list.children
    editor.search.value = "kind"  # every generated type: the first hits, and a count of the rest
    hits = editor.catalog.search("kind")
    assert len(hits) >= 500 and len(type_buttons(editor)) == MAX_HITS
    more = find(editor, "wf-palette-more")
    assert more in editor._palette_list.children and f"{len(hits) - MAX_HITS} more" in more.value
    # only the categories of the hits shown get a heading; the note names the others
    assert find(editor, "wf-palette-upscale") not in editor._palette_list.children
    assert "also in generate" in more.value
    editor.search.value = "zzz-no-such-type"
    assert "no node type matches" in editor._palette_list.children[0].value
    editor.search.value = ""
    assert not type_buttons(editor)  # back to the folded categories


def test_picking_a_served_type_adds_it_with_its_typed_form_and_port_kinds(editor):
    i = 2  # family compose, output kind video
    editor.search.value = f"kind_{i:03d}"
    find(editor, f"wf-palette-compose-kind_{i:03d}").click()
    (node,) = editor.workflow.nodes
    assert node.node_type == "compose:kind_002" and editor.selected_node_ids == [node.id]
    fields = editor.inspector.fields
    assert isinstance(fields["style"], widgets.Dropdown) and fields["style"].options == (
        "photo",
        "anime",
        "sketch",
    )
    assert isinstance(fields["steps"], widgets.BoundedIntText)
    assert (fields["steps"].min, fields["steps"].max, fields["steps"].value) == (1, 50, 20)
    assert isinstance(fields["strength"], widgets.BoundedFloatText) and fields["strength"].max == 1
    assert isinstance(fields["seamless"], widgets.Checkbox)
    # a `prompt: str` parameter of a @node_type function is multiline, as the built-ins
    assert isinstance(fields["prompt"], widgets.Textarea) and "prompt *" in fields["prompt"].description
    fields["style"].value = "anime"
    assert editor.workflow.node(node.id).inputs["style"] == "anime"
    box = editor.state.boxes[node.id]
    assert [(p.name, p.kind) for p in box.inputs] == [
        ("prompt", "text"),
        ("image", "image"),
        ("seamless", "boolean"),
    ]
    assert [(p.name, p.kind) for p in box.outputs] == [("result", "video")]
    # the catalogue's kinds decide connections: a video cannot feed an image input
    editor.search.value = "kind_000"
    find(editor, "wf-palette-generate-kind_000").click()
    other = editor.selected_node_ids[0]
    assert not editor.connect(node.id, "result", other, "image")
    assert "kind mismatch" in editor.status.value
    assert editor.connect(node.id, "result", other, "prompt") is False  # video into text: refused too
    assert editor.connect(other, "result", node.id, "image")  # generate:kind_000 makes an image


# -- hosted catalogue entries -----------------------------------------------------------------------
HOSTED_ENTRY = {
    "nodeType": "generate:flux_2",
    "label": "Flux 2",
    "category": "generate",
    "inputs": [
        {"id": "in-prompt", "label": "Prompt", "type": "TEXT", "required": True},
        {"id": "image", "label": "Image", "type": "IMAGE"},
        {
            "id": "aspect_ratio",
            "type": "TEXT",
            "options": [{"value": "1:1"}, {"value": "16:9"}],
            "default": "1:1",
        },
        {"id": "guidance", "type": "NUMBER", "min": 1, "max": 10, "defaultValue": 3.5},
        {"id": "voice", "type": "AUDIO"},
    ],
    "outputs": [{"id": "out-image", "label": "Image", "type": "IMAGE"}],
    "icon": "sparkles",
}


def test_a_hosted_catalogue_entry_edits_like_a_built_in():
    catalog = catalog_from_hosted({"data": {"nodes": [HOSTED_ENTRY]}})
    editor = GraphEditor(Workflow("hosted"), catalog=catalog, source="test catalogue")
    assert "1 type: test catalogue" in shown_source(editor.palette)
    find(editor, "wf-palette-generate-flux_2").click()  # one type: its category is unfolded
    (node,) = editor.workflow.nodes
    fields = editor.inspector.fields
    assert isinstance(fields["aspect_ratio"], widgets.Dropdown) and fields["aspect_ratio"].options == (
        "1:1",
        "16:9",
    )
    guidance = fields["guidance"]
    assert isinstance(guidance, widgets.BoundedFloatText) and (
        guidance.min,
        guidance.max,
        guidance.value,
    ) == (1, 10, 3.5)
    kinds = {p.name: p.kind for p in editor.state.boxes[node.id].inputs}
    assert kinds == {
        "prompt": "text",
        "image": "image",
        "aspect_ratio": "text",
        "guidance": "number",
        "voice": "audio",
    }
    assert catalog["generate:flux_2"].extra == {"icon": "sparkles"}


# -- types the catalogue does not know ----------------------------------------------------------------
UNKNOWN = {
    "id": "mystery",
    "type": "basedNode",
    "position": {"x": 10, "y": 20},
    "data": {
        "label": "Mystery",
        "nodeType": "generate:not_served",
        "category": "generate",
        "params": {"prompt": "a fox", "seed": 7},
        "inputs": [{"id": "in-image", "label": "Image", "type": "IMAGE"}],
        "outputs": [{"id": "out-image", "label": "Image", "type": "IMAGE"}],
        "selectedOutput": 0,
        "result": {"url": "https://example.invalid/stale.png"},
    },
}


def test_an_unknown_type_shows_edits_and_round_trips_unchanged(editor, tmp_path: Path):
    assert "generate:not_served" not in editor.catalog
    wf = Workflow.from_dict(
        {
            "nodes": [
                UNKNOWN,
                {
                    "id": "known",
                    "type": "utility",
                    "position": {"x": 400, "y": 20},
                    "data": {"label": "Known", "nodeType": "generate:kind_000", "prompt": "x"},
                },
            ],
            "edges": [
                {
                    "id": "e1",
                    "source": "mystery",
                    "sourceHandle": "out-image",
                    "target": "known",
                    "targetHandle": "in-image",
                }
            ],
        },
        id="mixed",
    )
    editor.workflow = wf
    box = editor.state.boxes["mystery"]  # drawn: a box with its declared, typed ports
    assert [(p.name, p.kind) for p in box.inputs] == [("image", "image")]
    assert [(p.name, p.kind) for p in box.outputs] == [("image", "image")]
    editor.select(["mystery"])
    title = find(editor.inspector, "wf-inspector-title")
    assert "not in the catalog" in title.value
    raw = editor.inspector.fields["__json__"]
    data = json.loads(raw.value)
    data["params"]["prompt"] = "a grey wolf"
    raw.value = json.dumps(data)  # edited as raw JSON, one undoable step
    expected = {**UNKNOWN, "data": {**UNKNOWN["data"], "params": {"prompt": "a grey wolf", "seed": 7}}}
    assert editor.workflow.node("mystery").to_wire() == expected
    wire = editor.workflow.to_request().to_wire()
    (sent,) = [n for n in wire["nodes"] if n["id"] == "mystery"]
    assert sent["data"] == expected["data"] and sent["type"] == "basedNode"
    assert Workflow.from_request(wire).to_request().to_wire() == wire
    saved = editor.save(tmp_path / "mixed.json")
    again = Workflow.load(saved)
    assert again.to_dict() == editor.workflow.to_dict()
    assert again.to_request().to_wire() == wire
    editor.undo()
    assert editor.workflow.node("mystery").data["params"]["prompt"] == "a fox"


def test_a_plain_catalog_says_so_and_a_small_one_starts_unfolded():
    editor = GraphEditor(Workflow("small"))
    assert "built-in types" in shown_source(editor.palette)
    assert all(h.value for h in editor.palette.headings.values())
    assert len(type_buttons(editor)) == len(editor.catalog)
    few = GraphEditor(Workflow("few"), catalog=Catalog(list(editor.catalog)[:3]))
    assert "the catalogue given" in shown_source(few.palette)
