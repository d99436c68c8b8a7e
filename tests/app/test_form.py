"""``FormApp``: the chosen inputs of a workflow as a form (the inspector's widgets, a
slider for a range, a file picker for an image), Run in the background on a real
``LocalEngine``, progress and the outputs; bad ``inputs`` named with the valid ones;
``WorkflowApp.make_form()`` and its button make one of the fields ticked "In form"."""

from __future__ import annotations

import datetime
import html
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pytest
from PIL import Image

import wireflow_nb as wf
from wireflow_nb.engine import LocalEngine
from wireflow_nb.models import IteratorConfig
from wireflow_nb.widgets._fields import UNSET
from wireflow_nb.widgets.app import WorkflowApp
from wireflow_nb.widgets.form import FormApp
from wireflow_nb.widgets.outputs import OutputView

from ._helpers import image_workflow


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[LocalEngine]:
    with LocalEngine(tmp_path / "home", model_latency=0.01) as local:
        yield local


def png(width: int, height: int, color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def picked(data: bytes, name: str = "photo.png") -> tuple[dict[str, Any], ...]:
    """What a ``FileUpload`` holds after the user picked a file."""
    return (
        {
            "name": name,
            "type": "image/png",
            "size": len(data),
            "content": memoryview(data),
            "last_modified": datetime.datetime.now(datetime.timezone.utc),
        },
    )


def resize_workflow() -> wf.Workflow:
    flow = wf.Workflow("resize")
    flow.add_node("input:image", id="photo")
    flow.add_node("image:resize", id="small", width=17, height=13, mode="stretch")
    flow.connect("photo", "images", "small", "image")
    return flow


def test_is_public_and_has_its_classes(engine: LocalEngine) -> None:
    assert wf.FormApp is FormApp
    form = FormApp(image_workflow(), engine, inputs=["prompt.text"])
    assert "wf-form" in form._dom_classes
    assert "wf-form-run" in form.run_button._dom_classes
    assert "wf-form-outputs" in form.outputs._dom_classes
    # no canvas: nothing of the editor in it
    shown, stack = [], [form]
    while stack:
        w = stack.pop()
        shown.append(type(w).__name__)
        stack.extend(getattr(w, "children", ()))
    assert "Canvas" not in shown and "MultiCanvas" not in shown and "GraphEditor" not in shown


def test_a_form_lets_no_visitor_write_files_on_the_server(engine: LocalEngine) -> None:
    """A form is a page handed to others (Voila): no Save outputs row with a folder to type."""
    form = FormApp(image_workflow(), engine, inputs=["prompt.text"])
    shown, stack = [], [form]
    while stack:
        w = stack.pop()
        shown.append(w)
        stack.extend(getattr(w, "children", ()))
    assert form.outputs.save_button not in shown and form.outputs.folder not in shown
    assert not any("wf-app-output-folder" in getattr(w, "_dom_classes", ()) for w in shown)
    # an app's own output view keeps its row
    view = OutputView(engine)
    assert any(view.save_button in getattr(row, "children", ()) for row in view.children)


def test_each_input_gets_the_widget_of_its_kind_with_a_clear_label(engine: LocalEngine) -> None:
    flow = image_workflow()
    flow.add_node("image:resize", id="fit", mode="fill")
    flow.connect("image", "images", "fit", "image")
    form = FormApp(
        flow,
        engine,
        inputs=["prompt.text", "image.seed", "image.width", "image.numImages", "fit.mode"],
    )
    kinds = {f.item.entry: f.widget for f in form.fields}
    assert isinstance(kinds["prompt.text"], widgets.Textarea)  # multiline text
    assert kinds["prompt.text"].value == "a red fox"  # the workflow's value
    assert isinstance(kinds["image.seed"], widgets.Text)  # optional whole number: empty = not set
    slider = kinds["image.width"]
    assert isinstance(slider, widgets.IntSlider)  # a range: a slider with the catalog's bounds
    assert (slider.min, slider.max, slider.value) == (64, 2048, 64)
    assert isinstance(kinds["image.numImages"], widgets.IntSlider)
    assert isinstance(kinds["fit.mode"], widgets.Dropdown)
    assert list(kinds["fit.mode"].options) == ["fit", "fill", "stretch"] and kinds["fit.mode"].value == "fill"
    labels = [f.children[0].value for f in form.fields]
    assert labels[0] == "<b>Text</b>: Text"  # the node's title, then the field's label
    assert labels[3] == "<b>Text to Image</b>: Num images"
    seed_help = form.field("image.seed").children[2]
    assert "wf-form-help" in seed_help._dom_classes and "empty: a new seed" in seed_help.value
    assert "wf-form-field-image-seed" in form.field("image.seed")._dom_classes
    photo = FormApp(resize_workflow(), engine).fields[0]
    assert isinstance(photo.widget, widgets.FileUpload) and photo.widget.accept == "image/*"
    assert photo.children[2].value.endswith(">Pick an image file.</small>")
    with_default = resize_workflow()
    with_default.set_input("photo", "image", "https://example.com/a.png")
    kept = FormApp(with_default, engine).fields[0]
    assert kept.value() == "https://example.com/a.png"  # none picked: the workflow's own
    help_text = kept.children[2].value
    assert "Pick an image file; none picked: the workflow&#x27;s own." in help_text


def test_inputs_none_means_the_input_nodes_fields(engine: LocalEngine) -> None:
    form = FormApp(image_workflow(), engine)
    assert [f.item.entry for f in form.fields] == ["prompt.text"]
    assert [f.item.entry for f in FormApp(resize_workflow(), engine).fields] == ["photo.image"]


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ("prompt.txt", "form input 'prompt.txt': node 'prompt' has no input 'txt'"),
        ("nope.text", "form input 'nope.text': the workflow has no node 'nope'"),
        ("image.prompt", "form input 'image.prompt': an edge feeds 'prompt', so the form cannot set it"),
        ("prompt", "form input 'prompt' is not 'node_id.field'"),
    ],
)
def test_a_bad_entry_is_named_with_the_valid_ones(engine: LocalEngine, entry: str, why: str) -> None:
    with pytest.raises(ValueError) as caught:
        FormApp(image_workflow(), engine, inputs=["prompt.text", entry])
    message = str(caught.value)
    assert message.startswith(why)
    assert message.endswith(
        "valid inputs: prompt.text, image.width, image.height, image.seed, image.numImages"
    )


def test_inputs_must_be_a_list_and_not_empty(engine: LocalEngine) -> None:
    with pytest.raises(ValueError, match=r"a list of 'node_id.field' names, like \['prompt.text'\]"):
        FormApp(image_workflow(), engine, inputs="prompt.text")
    with pytest.raises(ValueError, match="inputs is empty"):
        FormApp(image_workflow(), engine, inputs=[])
    only_model = wf.Workflow("m")
    only_model.add_node("model:fal:text-to-image", id="image", prompt="x")
    with pytest.raises(ValueError, match=r"no input node .* valid inputs: image.prompt, image.width"):
        FormApp(only_model, engine)


def test_fill_the_prompt_run_and_the_image_appears(engine: LocalEngine) -> None:
    flow = image_workflow()
    form = FormApp(flow, engine, inputs=["prompt.text", "image.seed", "image.width"])
    assert 'data-status="IDLE"' in form.status_label.value
    form.field("prompt.text").widget.value = "a green owl"
    form.field("image.seed").widget.value = "5"
    form.field("image.width").widget.value = 96
    run = form.run(wait=True)
    assert run is not None and run.state.status == "COMPLETED"
    assert form.wait_idle(20)
    assert 'data-status="COMPLETED"' in form.status_label.value
    assert form.progress.value == form.progress.max == 2
    (image,) = form.outputs.image_widgets
    with Image.open(io.BytesIO(bytes(image.value))) as shown:
        assert shown.size == (96, 64)
    # the run got the form's values; the workflow itself is unchanged
    sent = run.request.nodes
    assert next(n for n in sent if n.id == "prompt").inputs["text"] == "a green owl"
    assert next(n for n in sent if n.id == "image").inputs["seed"] == 5
    assert flow.node("prompt").inputs["text"] == "a red fox" and flow.node("image").inputs["width"] == 64
    assert form.run_button.disabled is False


def test_several_images_are_a_gallery(engine: LocalEngine) -> None:
    form = FormApp(image_workflow(), engine, inputs=["prompt.text", "image.numImages"])
    form.field("image.numImages").widget.value = 3
    run = form.run(wait=True)
    assert run is not None and run.state.status == "COMPLETED"
    assert form.wait_idle(20)
    images = form.outputs.image_widgets
    assert len(images) == 3 and len({bytes(i.value) for i in images}) == 3


def test_a_batch_is_a_gallery_per_run(engine: LocalEngine) -> None:
    batch = [IteratorConfig(node_id="image", field="seed", values=[1, 2])]
    form = FormApp(image_workflow(), engine, inputs=["prompt.text"], iterator_configs=batch)
    run = form.run(wait=True)
    assert run is not None and run.state.status == "COMPLETED"
    assert form.wait_idle(20)
    assert [g.title for g in form.outputs.groups] == [
        "Run 1 of 2 \u00b7 seed = 1",
        "Run 2 of 2 \u00b7 seed = 2",
    ]
    assert len({bytes(i.value) for i in form.outputs.image_widgets}) == 2
    assert len(engine.list_executions("demo")) == 2


def test_a_picked_file_is_sent_as_bytes(engine: LocalEngine) -> None:
    form = FormApp(resize_workflow(), engine)
    field = form.fields[0]
    assert field.value() is UNSET  # nothing picked, nothing in the workflow
    field.widget.value = picked(png(40, 30))
    assert field.value() == png(40, 30)
    run = form.run(wait=True)
    assert run is not None and run.state.status == "COMPLETED", form.message.value
    assert form.wait_idle(20)
    (image,) = form.outputs.image_widgets
    with Image.open(io.BytesIO(bytes(image.value))) as shown:
        assert shown.size == (17, 13)


def test_what_is_wrong_is_said_and_nothing_is_sent(engine: LocalEngine) -> None:
    form = FormApp(image_workflow(), engine, inputs=["prompt.text", "image.seed"])
    form.field("image.seed").widget.value = "seven"
    assert form.run() is None
    assert "Fix the form first: Text to Image: Seed: seven is not a whole number" in form.message.value
    form.field("image.seed").widget.value = ""
    form.field("prompt.text").widget.value = ""
    # a missing file: the workflow's problems, as the app lists them
    empty = FormApp(resize_workflow(), engine)
    assert empty.run() is None
    assert "wf-app-problems" in empty.message.value
    assert "needs input &#x27;image&#x27;" in empty.message.value
    assert engine.list_executions("resize") == [] and engine.list_executions("demo") == []


def test_the_credits_guard_asks_before_an_unaffordable_run(tmp_path: Path) -> None:
    with LocalEngine(tmp_path / "home", credits=5, model_latency=0) as poor:
        form = FormApp(image_workflow(), poor, inputs=["prompt.text"])
        assert form.wait_idle(10) and form.credits_watch.balance == 5
        assert form.run(wait=True) is None
        assert form.credits_watch.confirm.asking
        assert "wf-app-credits-table" in form.credits_watch.confirm.children[0].value
        assert poor.list_executions("demo") == []
        poor.add_credits(100)
        form.credits_watch.confirm.run_anyway_button.click()
        state = form.wait(20)
        assert state is not None and state.status == "COMPLETED"
        assert len(poor.list_executions("demo")) == 1


def test_make_form_shows_the_ticked_inputs_under_the_app(engine: LocalEngine) -> None:
    flow = image_workflow()
    app = WorkflowApp(engine, workflow=flow, workflow_id="demo")
    # nothing ticked: the input nodes' fields, and the message says so
    form = app.make_form()
    assert isinstance(form, FormApp) and [f.item.entry for f in form.fields] == ["prompt.text"]
    assert "no field is ticked 'In form'" in html.unescape(app.message.value)
    flow.set_form_input("image", "seed")
    flow.set_form_input("prompt", "text")
    # the toolbar's button does the same
    button = app.toolbar.make_form_button
    assert "wf-app-make-form" in button._dom_classes
    assert button in app.toolbar.children[1].children  # beside Run and Cancel
    button.click()
    area = app.form_area
    assert "wf-app-form" in area._dom_classes and app.children[-1] is area
    (form2,) = area.children
    assert form2 is not form and [f.item.entry for f in form2.fields] == ["image.seed", "prompt.text"]
    assert "Made a form of 2 field(s)" in app.message.value
    form2.field("prompt.text").widget.value = "a grey cat"
    run = form2.run(wait=True)
    assert run is not None and run.state.status == "COMPLETED"
    assert form2.wait_idle(20) and len(form2.outputs.image_widgets) == 1
    # the app's batch comes along
    app.set_batch("image", "seed", [4, 5])
    assert app.make_form().iterator_configs == app.batch_panel.iterator_configs()
    # a tick that is no longer valid (an edge now feeds it) is refused on the message line
    flow.set_form_input("image", "prompt")
    assert app.make_form() is None
    assert "Could not make the form: form input 'image.prompt': an edge feeds" in html.unescape(
        app.message.value
    )
    app.close()
