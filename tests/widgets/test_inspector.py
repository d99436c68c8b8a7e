"""The inspector: forms from the catalog, fed inputs, raw JSON of hosted nodes, and
edits that are undoable from the editor."""

from __future__ import annotations

import ipywidgets as widgets

from wireflow_nb import Workflow
from wireflow_nb.catalog import Catalog, InputSpec, NodeSpec, OutputSpec, builtin_catalog
from wireflow_nb.widgets import GraphEditor, NodeInspector


def field(editor_or_inspector, name: str):
    inspector = getattr(editor_or_inspector, "inspector", editor_or_inspector)
    for w in inspector.children:
        if f"wf-field-{name}" in w._dom_classes or f"wf-fed-{name}" in w._dom_classes:
            return w
        for c in getattr(w, "children", ()):
            if f"wf-field-{name}" in c._dom_classes:
                return c
    return None


def test_form_from_the_catalog(editor):
    editor.select(["image"])
    assert isinstance(field(editor, "label"), widgets.Text)
    fed = field(editor, "prompt")
    assert isinstance(fed, widgets.HTML) and "from prompt.text" in fed.value
    width = field(editor, "width")
    assert isinstance(width, widgets.BoundedIntText) and (width.min, width.max, width.value) == (
        64,
        2048,
        512,
    )
    seed = field(editor, "seed")  # optional integer: empty means not set
    assert isinstance(seed, widgets.Text) and seed.value == "1"
    editor.select(["resize"])
    mode = field(editor, "mode")
    assert isinstance(mode, widgets.Dropdown) and list(mode.options) == ["fit", "fill", "stretch"]
    editor.select(["prompt"])
    assert isinstance(field(editor, "text"), widgets.Textarea) and field(editor, "text").value == "a red fox"


def test_edits_write_at_once_and_undo(editor):
    wf = editor.workflow
    editor.select(["prompt"])
    text = field(editor, "text")
    text.value = "a blue fox"
    assert wf.node("prompt").data["text"] == "a blue fox"
    text.value = "a blue fox at dawn"  # typing on: one undo step
    editor.select(["image"])
    field(editor, "width").value = 640
    assert wf.node("image").data["width"] == 640
    seed = field(editor, "seed")
    seed.value = ""
    assert "seed" not in wf.node("image").data
    seed.value = "x1"
    assert "not a whole number" in editor.inspector._error.value and "seed" not in wf.node("image").data
    seed.value = "99"
    assert wf.node("image").data["seed"] == 99
    # one undo step per field edited in a row: text, width, seed
    assert [c.label for c in editor.state.history.undo_stack] == [
        "edit prompt.text",
        "edit image.width",
        "edit image.seed",
    ]
    editor.undo()
    assert wf.node("image").data["seed"] == 1 and field(editor, "seed").value == "1"
    editor.undo()
    assert "width" not in wf.node("image").data and field(editor, "width").value == 512
    editor.undo()
    assert wf.node("prompt").data["text"] == "a red fox"
    editor.redo()
    assert wf.node("prompt").data["text"] == "a blue fox at dawn"


def test_label_edit_redraws_the_node(editor):
    editor.select(["resize"])
    field(editor, "label").value = "Make it small"
    assert editor.workflow.node("resize").label == "Make it small"
    assert editor.state.boxes["resize"].label == "Make it small"


def test_values_follow_changes_made_in_python(editor):
    editor.select(["prompt"])
    box = field(editor, "text")
    editor.workflow.set_input("prompt", "text", "from python")
    assert field(editor, "text") is box and box.value == "from python"  # updated, not rebuilt


def test_template_placeholders_appear_as_fields():
    wf = Workflow()
    wf.add_node("text:template", id="t", template="Hello {{name}}")
    editor = GraphEditor(wf)
    editor.select(["t"])
    assert field(editor, "name") is not None
    field(editor, "template").value = "Hello {{name}} and {{friend}}"
    assert field(editor, "friend") is not None
    assert [p.name for p in editor.state.boxes["t"].inputs] == ["name", "friend"]


def test_hosted_nodes_edit_as_json(hosted):
    wf = Workflow.from_dict(hosted)
    editor = GraphEditor(wf)
    editor.select(["flux"])
    raw = field(editor, "json")
    assert isinstance(raw, widgets.Textarea) and '"nodeType": "generate:flux_2"' in raw.value
    assert "from txt.prompt" in field(editor, "prompt").value
    before = wf.node("flux").data
    raw.value = "{not json"
    assert "not valid JSON" in editor.inspector._error.value and wf.node("flux").data == before
    raw.value = "[1, 2]"
    assert "must be a JSON object" in editor.inspector._error.value
    import json

    data = json.loads(json.dumps(before))
    data["params"]["steps"] = 8
    raw.value = json.dumps(data)
    assert wf.node("flux").data["params"]["steps"] == 8
    assert wf.node("flux").data["result"] == {"url": "https://example.invalid/stale.png"}  # kept
    editor.undo()
    assert wf.node("flux").data == before


def test_params_and_config_shapes_are_written_back_in_their_shape(hosted):
    wf = Workflow.from_dict(hosted)
    editor = GraphEditor(wf)
    editor.select(["txt"])
    field(editor, "text").value = "a lighthouse at night"
    data = wf.node("txt").data
    assert data["config"]["text"] == data["params"]["text"] == "a lighthouse at night"
    assert "text" not in {k for k in data if k not in ("config", "params")}


def test_checkbox_and_float_fields_and_json_input():
    cat = Catalog(builtin_catalog())
    cat.register(
        NodeSpec(
            "custom:thing",
            "Thing",
            "custom",
            inputs=(
                InputSpec("flag", "boolean", default=False, port=False),
                InputSpec("ratio", "number", default=0.5, minimum=0, maximum=1, port=False),
                InputSpec("extra", "json", default=None, port=False),
            ),
            outputs=(OutputSpec("out", "json"),),
        )
    )
    wf = Workflow()
    wf.add_node("custom:thing", id="c")
    editor = GraphEditor(wf, catalog=cat)
    editor.select(["c"])
    flag = field(editor, "flag")
    assert isinstance(flag, widgets.Checkbox)
    flag.value = True
    ratio = field(editor, "ratio")
    assert isinstance(ratio, widgets.BoundedFloatText) and (ratio.min, ratio.max) == (0, 1)
    ratio.value = 0.25
    field(editor, "extra").value = '{"a": [1, 2]}'
    assert wf.node("c").inputs == {"flag": True, "ratio": 0.25, "extra": {"a": [1, 2]}}


def test_summaries_for_several_nodes_and_an_edge(driver, editor):
    editor.select(["prompt", "image"])
    assert "2 nodes selected" in editor.inspector.children[0].value
    (ax, ay), (bx, _) = editor.port_position("prompt", "text"), editor.port_position("image", "prompt")
    driver.click((ax + bx) / 2, ay)
    assert "Edge from <b>prompt</b>.text to <b>image</b>.prompt" in editor.inspector.children[0].value
    driver.key("Escape")
    assert "Select a node" in editor.inspector.children[0].value


def test_inspector_alone_writes_to_the_workflow(wf):
    inspector = NodeInspector(builtin_catalog())
    inspector.show(wf, ["prompt"])
    field(inspector, "text").value = "standalone"
    assert wf.node("prompt").data["text"] == "standalone"
    assert "wf-inspector" in inspector._dom_classes


def test_labels_are_escaped(wf):
    wf.node("prompt").data["label"] = "<script>alert(1)</script>"
    inspector = NodeInspector(builtin_catalog())
    inspector.show(wf, ["prompt"])
    assert "<script>" not in inspector.children[0].value and "&lt;script&gt;" in inspector.children[0].value


def tick(editor_or_inspector, name: str):
    inspector = getattr(editor_or_inspector, "inspector", editor_or_inspector)
    found = [w for w in inspector.children if f"wf-form-tick-{name}" in w._dom_classes]
    assert len(found) <= 1
    return found[0] if found else None


def test_each_field_has_an_in_form_tick_saved_with_the_workflow(editor):
    editor.select(["image"])
    assert tick(editor, "prompt") is None  # fed by an edge: the form cannot set it
    seed = tick(editor, "seed")
    assert isinstance(seed, widgets.Checkbox) and seed.description == "In form" and not seed.value
    assert "wf-form-tick" in seed._dom_classes
    seed.value = True
    assert editor.workflow.form_inputs == ["image.seed"]
    assert editor.workflow.to_dict()["wireflowNb"]["form_inputs"] == ["image.seed"]
    # a change made in Python shows, on this node and on another
    editor.workflow.set_form_input("image", "width")
    editor.inspector.refresh()
    assert tick(editor, "width").value is True
    editor.select(["prompt"])
    text = tick(editor, "text")
    assert text.value is False
    text.value = True
    assert editor.workflow.form_inputs == ["image.seed", "image.width", "prompt.text"]
    editor.select(["image"])
    assert tick(editor, "seed").value is True
    tick(editor, "seed").value = False
    assert editor.workflow.form_inputs == ["image.width", "prompt.text"]
