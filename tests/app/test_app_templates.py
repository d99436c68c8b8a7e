"""The "New from template" gallery of ``WorkflowApp`` on a real ``LocalEngine`` (it keeps saved
workflows): the gallery lists the account's saved workflows in the background when it
opens (with their pictures), opening one goes through the account (runs filed under its
id), the account's rule of unsaved changes decides the question, and a template opened
from the gallery runs."""

from __future__ import annotations

from typing import Any

import wireflow_nb as wf
from tests.widgets.test_blueprints import find, one, shown
from tests.widgets.test_templates_gallery import card, saved_blueprint
from wireflow_nb.account import saved_info
from wireflow_nb.widgets._runner import PollPolicy
from wireflow_nb.widgets.app import WorkflowApp

from ._helpers import image_workflow

FAST = PollPolicy(initial=0.05, factor=1.5, maximum=0.3)


def make_app(engine: Any, workflow: wf.Workflow | None = None) -> WorkflowApp:
    app = WorkflowApp(engine, workflow=workflow, poll_policy=FAST)
    assert app.wait_idle(20)
    return app


def test_the_gallery_lists_templates_blueprints_and_saved_workflows_when_opened(engine: Any) -> None:
    saved_blueprint()
    fox = engine.workflows.create(image_workflow("a saved fox"), name="Saved fox")
    app = make_app(engine)
    gallery = one(app, "wf-templates")
    assert find(gallery, "wf-template-card") == []  # nothing built nor listed before it opens
    app.editor.buttons["templates"].click()
    assert shown(gallery)
    assert app.wait_idle(20)
    package = one(gallery, "wf-templates-section-package")
    assert len(find(package, "wf-template-card")) == len(wf.templates()) == 3
    card(one(gallery, "wf-templates-section-blueprints"), "gray-koi")
    saved = one(gallery, "wf-templates-section-saved")
    row = card(saved, fox.id)
    assert "Saved fox" in row.children[1].value and "version 1, 2 nodes" in row.children[1].value
    picture = one(row, "wf-template-picture").value
    assert "<svg" in picture and "Text to Image" in picture  # fetched after the listing

    one(row, "wf-template-open").click()  # the app's workflow is empty: no question
    assert app.wait_idle(20)
    assert not shown(gallery)
    assert app.workflow.node("prompt").inputs["text"] == "a saved fox"
    info = saved_info(app.workflow)
    assert info is not None and info.id == fox.id and app.workflow_id == fox.id


def test_a_template_opened_in_the_app_is_asked_about_by_the_account_and_runs(engine: Any) -> None:
    fox = engine.workflows.create(image_workflow("theirs"), name="Kept")
    app = make_app(engine)
    app.open_saved(fox.id, wait=True)
    gallery = one(app, "wf-templates")
    app.editor.show_templates()
    assert app.wait_idle(20)
    # opened from the account and unchanged: no question
    one(card(gallery, "image-pipeline"), "wf-template-open").click()
    assert [n.id for n in app.workflow.nodes] == ["prompt", "image", "resize", "caption", "grid"]
    assert "opened Image pipeline" in app.editor.status.value
    assert app.batch_panel.batch_node.options  # the app followed the new workflow

    run = app.run(wait=True)
    assert run is not None and run.state.status == "COMPLETED"

    # the account's saved workflow, after changes to the template: the question first
    app.workflow.set_input("prompt", "text", "mine")
    app.editor.show_templates()
    assert app.wait_idle(20)
    one(card(one(gallery, "wf-templates-section-saved"), fox.id), "wf-template-open").click()
    question = one(gallery, "wf-replace-confirm")
    assert (
        "(<b>Image pipeline</b>) has changes that are not saved to the account" in question.children[0].value
    )
    assert app.workflow.node("prompt").inputs["text"] == "mine"
    one(question, "wf-replace-confirm-ok").click()
    assert app.wait_idle(20)
    assert app.workflow.node("prompt").inputs["text"] == "theirs"


def test_new_from_template_of_the_app(engine: Any) -> None:
    app = make_app(engine)
    made = app.new_from_template("text to image")
    assert app.workflow is made and app.editor.workflow is made
    run = app.run(wait=True)
    assert run is not None and run.state.status == "COMPLETED"
    assert app.outputs.groups  # the picture is shown


def test_an_unreachable_server_is_said_in_the_saved_section_and_the_key_never() -> None:
    from tests._servers import free_port
    from wireflow_nb.client import WireflowClient

    secret = "sk-never-shown-0123456789"
    client = WireflowClient(
        api_key=secret, base_url=f"http://127.0.0.1:{free_port()}/api/v1", max_retries=0, timeout=5
    )
    try:
        app = WorkflowApp(client, poll_policy=FAST)
        assert app.wait_idle(20)
        app.editor.show_templates()
        assert app.wait_idle(20)
        gallery = one(app, "wf-templates")
        status = one(one(gallery, "wf-templates-section-saved"), "wf-templates-status").value
        assert "Could not list the saved workflows" in status and "127.0.0.1" in status
        assert secret not in status and "never-shown" not in status
        assert find(one(gallery, "wf-templates-section-saved"), "wf-template-card") == []
        assert len(find(one(gallery, "wf-templates-section-package"), "wf-template-card")) == 3
    finally:
        client.close()
