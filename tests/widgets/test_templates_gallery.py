"""The editor's "New from template" gallery, clicked as a user would: the toolbar button
opens it, cards of the package's templates and the user's blueprints (each with its
static picture), Open replaces the workflow, the unsaved-changes question, and
``new_from_template`` from Python."""

from __future__ import annotations

import pytest

import wireflow_nb as wf
from wireflow_nb import Blueprint, Workflow
from wireflow_nb.widgets import GraphEditor

from .test_blueprints import find, one, shown


def card(root: object, name: str) -> object:
    """The card whose text carries ``data-name="<name>"``."""
    (found,) = [c for c in find(root, "wf-template-card") if f'data-name="{name}"' in c.children[1].value]
    return found


def open_gallery(editor: GraphEditor) -> object:
    editor.buttons["templates"].click()
    gallery = one(editor, "wf-templates")
    assert shown(gallery)
    return gallery


def saved_blueprint(name: str = "Gray koi") -> Blueprint:
    source = Workflow("src")
    source.add_node("input:text", id="p", text="a koi pond")
    source.add_node("model:fal:text-to-image", id="img", position=(320, 0))
    source.connect("p", "text", "img", "prompt")
    bp = Blueprint.from_selection(source, ["p", "img"], name=name, category="mine", description="koi")
    bp.save()
    return bp


def test_the_toolbar_button_opens_a_gallery_of_the_templates_and_blueprints() -> None:
    saved_blueprint()
    editor = GraphEditor()
    gallery = one(editor, "wf-templates")
    assert not shown(gallery) and editor.buttons["templates"].description == "New from template"
    open_gallery(editor)
    package = one(gallery, "wf-templates-section-package")
    assert [c.children[1].value.split('"')[1] for c in find(package, "wf-template-card")] == [
        "text-to-image",
        "image-pipeline",
        "batch-to-video",
    ]
    for t in wf.templates():
        shown_card = card(package, t.slug)
        assert t.name in shown_card.children[1].value and t.description in shown_card.children[1].value
        picture = one(shown_card, "wf-template-picture").value
        assert "<svg" in picture and 'width="240"' in picture  # scaled down to the card
        for node in t.workflow().nodes:
            assert node.label in picture
    mine = one(gallery, "wf-templates-section-blueprints")
    koi = card(mine, "gray-koi")
    assert "Gray koi" in koi.children[1].value and "mine: koi" in koi.children[1].value
    assert "<svg" in one(koi, "wf-template-picture").value
    assert find(gallery, "wf-templates-section-saved") == []  # a bare editor has no account
    one(gallery, "wf-templates-close").click()
    assert not shown(gallery)


def test_no_blueprint_yet_is_said() -> None:
    editor = GraphEditor()
    gallery = open_gallery(editor)
    status = one(one(gallery, "wf-templates-section-blueprints"), "wf-templates-status")
    assert "No blueprints yet" in status.value


def test_picking_a_card_on_an_empty_editor_opens_it_at_once() -> None:
    editor = GraphEditor()
    gallery = open_gallery(editor)
    one(card(gallery, "image-pipeline"), "wf-template-open").click()
    assert not shown(gallery)
    assert [n.id for n in editor.workflow.nodes] == ["prompt", "image", "resize", "caption", "grid"]
    assert len(editor.workflow.edges) == 6
    assert "opened Image pipeline (5 nodes)" in editor.status.value
    assert not editor.state.history.can_undo  # a new workflow, not an edit


def test_a_blueprint_opens_as_a_new_workflow_of_its_nodes() -> None:
    saved_blueprint()
    editor = GraphEditor()
    gallery = open_gallery(editor)
    one(card(gallery, "gray-koi"), "wf-template-open").click()
    assert [n.id for n in editor.workflow.nodes] == ["p", "img"]
    assert editor.workflow.groups == []


def test_unsaved_changes_are_asked_about_before_they_are_dropped() -> None:
    mine = Workflow("mine")
    mine.add_node("input:text", id="only", text="keep me")
    editor = GraphEditor(mine)  # a bare editor: a workflow with nodes counts as changed
    gallery = open_gallery(editor)
    one(card(gallery, "text-to-image"), "wf-template-open").click()
    question = one(gallery, "wf-replace-confirm")
    assert "(<b>mine</b>) has changes that are not saved to a file" in question.children[0].value
    assert "Open <b>Text to image</b> and drop them?" in question.children[0].value
    assert editor.workflow is mine  # nothing replaced yet
    one(question, "wf-replace-confirm-cancel").click()
    assert find(gallery, "wf-replace-confirm") == [] and editor.workflow is mine and shown(gallery)

    one(card(gallery, "text-to-image"), "wf-template-open").click()
    one(one(gallery, "wf-replace-confirm"), "wf-replace-confirm-ok").click()
    assert [n.id for n in editor.workflow.nodes] == ["subject", "style", "prompt", "image"]

    # opened from the gallery and unchanged: no question; changed: the question again
    open_gallery(editor)
    one(card(gallery, "batch-to-video"), "wf-template-open").click()
    assert [n.id for n in editor.workflow.nodes] == ["prompt", "frames", "video"]
    editor.add_node("image:grid")
    open_gallery(editor)
    one(card(gallery, "text-to-image"), "wf-template-open").click()
    assert find(gallery, "wf-replace-confirm") != [] and len(editor.workflow.nodes) == 4


def test_new_from_template_from_python_by_name_template_first_then_blueprint() -> None:
    saved_blueprint("Koi pair")
    editor = GraphEditor()
    replaced: list[Workflow] = []
    editor.on_workflow_replaced(replaced.append)
    made = editor.new_from_template("Batch To Video")
    assert editor.workflow is made and replaced == [made]
    assert made.node("frames").inputs["numImages"] == 4
    assert [n.id for n in editor.new_from_template("koi pair").nodes] == ["p", "img"]
    with pytest.raises(KeyError) as caught:
        editor.new_from_template("no such thing")
    assert "templates: Text to image, Image pipeline, Batch to video" in str(caught.value)
    assert "nor is it a blueprint's name" in str(caught.value)
    assert [n.id for n in editor.workflow.nodes] == ["p", "img"]  # unchanged by the error


def test_a_workflow_saved_or_loaded_by_the_editor_and_unchanged_is_not_asked_about(tmp_path) -> None:
    mine = Workflow("mine")
    mine.add_node("input:text", id="only", text="keep me")
    editor = GraphEditor(mine)
    editor.save(tmp_path / "mine.json")
    gallery = open_gallery(editor)
    one(card(gallery, "text-to-image"), "wf-template-open").click()
    assert find(gallery, "wf-replace-confirm") == [] and len(editor.workflow.nodes) == 4

    editor.open_file(tmp_path / "mine.json")
    assert [n.id for n in editor.workflow.nodes] == ["only"]
    open_gallery(editor)
    one(card(gallery, "batch-to-video"), "wf-template-open").click()
    assert find(gallery, "wf-replace-confirm") == [] and len(editor.workflow.nodes) == 3
