"""Open, Save and Save as new of the account's workflows in ``WorkflowApp``, on every kind
of backend: a ``LocalEngine``, a ``WireflowClient`` and an ``AsyncWireflowClient`` to a real
``wireflow-nb serve`` on loopback. The buttons are clicked as a user would (the work goes
on in the background; ``app.wait_idle`` waits for it); the Python methods are called with
``wait=True``. Another writer (``writer``: the engine's or another client's
``workflows``) changes the account behind the app's back to make version conflicts."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests._servers import RunningServer, free_port, running_server
from wireflow_nb import Workflow
from wireflow_nb.account import saved_info
from wireflow_nb.widgets import _account_panel
from wireflow_nb.widgets._account_panel import last_change
from wireflow_nb.widgets._runner import PollPolicy
from wireflow_nb.widgets.app import WorkflowApp

from ._helpers import RecordingEditor, image_workflow

FAST = PollPolicy(initial=0.05, factor=1.5, maximum=0.3)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("account-serve"), model_latency=0.02) as running:
        yield running


@dataclass
class Account:
    backend: Any  # what the app talks to
    writer: Any  # ``workflows`` of another writer of the same account


@pytest.fixture(params=["engine", "client", "async-client"])
def account(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Account]:
    if request.param == "engine":
        from wireflow_nb.engine import LocalEngine

        with LocalEngine(tmp_path / "home", model_latency=0.02) as engine:
            yield Account(engine, engine.workflows)
        return
    server: RunningServer = request.getfixturevalue("server")
    writer = server.client()
    backend = server.client() if request.param == "client" else server.async_client()
    try:
        yield Account(backend, writer.workflows)
    finally:
        writer.close()
        if request.param == "client":
            backend.close()


def make_app(backend: Any, workflow: Workflow | None = None) -> Any:
    app = WorkflowApp(backend, editor=RecordingEditor(workflow or Workflow("empty")), poll_policy=FAST)
    assert app.wait_idle(20)
    return app


def click(app: Any, widget: Any) -> None:
    widget.click()
    assert app.wait_idle(20), "the background work did not end"


def message(app: Any) -> str:
    return html.unescape(str(app.message.value))


def panel_classes(app: Any) -> list[str]:
    panel = app.account.panel
    return [] if panel is None else list(panel._dom_classes)


def find(widget: Any, css: str) -> list[Any]:
    """The widgets under ``widget`` (itself included) with CSS class ``css``."""
    found, stack = [], [widget]
    while stack:
        item = stack.pop()
        if css in getattr(item, "_dom_classes", ()):
            found.append(item)
        stack.extend(reversed(getattr(item, "children", ())))
    return found


def only(widget: Any, css: str) -> Any:
    [one] = find(widget, css)
    return one


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def three_nodes() -> Workflow:
    wf = image_workflow()
    wf.add_node("image:filter", id="gray")
    wf.connect("image", "images", "gray", "image")
    return wf


# -- the buttons ---------------------------------------------------------------------------
def test_the_buttons_are_in_the_toolbar_only_with_an_account(account: Account) -> None:
    app = make_app(account.backend)
    for css in ("wf-app-open", "wf-app-account-save", "wf-app-save-new"):
        assert len(find(app.toolbar, css)) == 1, css
    # the file Save / Load stay as they were
    assert len(find(app, "wf-app-save")) == 1 and len(find(app, "wf-app-load")) == 1

    class NoAccount:  # a backend without the account API (an older server's client, say)
        def credits_balance(self) -> float:
            return 0.0

        def list_executions(self, workflow_id: str, **kw: Any) -> list[Any]:
            return []

    bare = make_app(NoAccount())
    assert not find(bare.toolbar, "wf-app-open") and not find(bare.toolbar, "wf-app-save-new")
    # the Python methods say why they cannot
    assert bare.open_saved("wf_x", wait=True) is None and bare.save_as_new("x", wait=True) is None
    assert "NoAccount keeps no saved workflows" in message(bare)


# -- Open ----------------------------------------------------------------------------------
def test_open_lists_every_page_filters_by_name_and_opens(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_account_panel, "PAGE_SIZE", 2)  # three of ours: two pages at least
    token = uuid.uuid4().hex[:8]
    fox = account.writer.create(three_nodes(), name=f"Red Fox {token}")
    account.writer.create(image_workflow(), name=f"whale {token}")
    account.writer.create(image_workflow(), name=f"fox cub {token}")
    app = make_app(account.backend)

    app.account.open_button.click()
    assert panel_classes(app) == ["wf-open-panel"]  # shown at once, loading in the background
    assert app.wait_idle(20)
    names = [row.name for row in app.account.rows]
    assert {f"Red Fox {token}", f"whale {token}", f"fox cub {token}"} <= set(names)
    assert names.index(f"fox cub {token}") < names.index(f"Red Fox {token}")  # newest first

    app.account.filter_text.value = "fOx"
    shown = {row.name for row in app.account.shown_rows()}
    assert {f"Red Fox {token}", f"fox cub {token}"} <= shown and f"whale {token}" not in shown
    app.account.filter_text.value = f"Fox {token}"
    rows = find(app.account.panel, "wf-open-row")
    assert len(rows) == 1
    assert f"Red Fox {token}" in only(rows[0], "wf-open-name").value
    assert only(rows[0], "wf-open-nodes").value == "3 nodes"
    when = only(rows[0], "wf-open-when").value
    assert when == last_change(fox.updated_at)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", when), when
    assert "1 of" in app.account.open_status.value

    app.account.filter_text.value = "no such workflow " + token
    assert not find(app.account.panel, "wf-open-row")
    assert "No saved workflow has" in app.account.open_status.value

    app.account.filter_text.value = f"Fox {token}"
    click(app, only(app.account.panel, "wf-open-row-open"))  # the editor is empty: no question
    assert [n.id for n in app.workflow.nodes] == ["prompt", "image", "gray"]
    assert [n.id for n in app.editor.workflow.nodes] == ["prompt", "image", "gray"]
    info = saved_info(app.workflow)
    assert info is not None and (info.id, info.version) == (fox.id, 1)
    assert app.workflow_id == fox.id and app.history.workflow_id == fox.id
    assert app.account.panel is None
    assert f"Opened Red Fox {token} (version 1, 3 nodes)" in message(app)


def test_open_asks_before_dropping_unsaved_changes(account: Account) -> None:
    saved = account.writer.create(image_workflow("theirs"), name=unique("kept"))
    app = make_app(account.backend, three_nodes())  # never saved: its nodes would be lost
    app.account.show_open()
    assert app.wait_idle(20)
    app.account.choose(saved.id)
    assert panel_classes(app) == ["wf-replace-confirm"]
    assert "not saved to the account" in app.account.panel.children[0].value
    assert len(app.workflow.nodes) == 3  # nothing replaced yet
    click(app, only(app.account.panel, "wf-replace-confirm-cancel"))
    assert panel_classes(app) == ["wf-open-panel"] and len(app.workflow.nodes) == 3

    app.account.choose(saved.id)
    click(app, only(app.account.panel, "wf-replace-confirm-ok"))
    assert app.workflow.node("prompt").inputs["text"] == "theirs"

    # opened and unchanged: no question; changed: the question again
    app.account.choose(saved.id)
    assert app.wait_idle(20) and app.account.panel is None
    app.workflow.set_input("prompt", "text", "mine")
    app.account.choose(saved.id)
    assert panel_classes(app) == ["wf-replace-confirm"]


def test_open_from_python_without_waiting_does_not_block(account: Account) -> None:
    saved = account.writer.create(three_nodes(), name=unique("later"))
    app = make_app(account.backend)
    assert app.open_saved(saved.id) is None  # returns at once; the work goes on
    assert app.wait_idle(20)
    assert len(app.workflow.nodes) == 3 and app.workflow_id == saved.id


# -- Save ------------------------------------------------------------------------------------
def test_save_updates_the_opened_workflow_with_the_version_read(account: Account) -> None:
    saved = account.writer.create(image_workflow("first"), name=unique("updated"))
    app = make_app(account.backend)
    app.open_saved(saved.id, wait=True)
    app.workflow.set_input("prompt", "text", "second")
    click(app, app.account.save_button)
    assert f"Saved {saved.name} (version 2)." in message(app)
    stored = account.writer.get_saved(saved.id)
    assert stored.version == 2 and stored.workflow["nodes"][0]["data"]["text"] == "second"
    assert saved_info(app.workflow).version == 2  # type: ignore[union-attr]
    # again, from Python: the next version
    app.workflow.set_input("prompt", "text", "third")
    again = app.save_to_account(wait=True)
    assert again is not None and again.version == 3 and again.id == saved.id
    assert not app.account.has_unsaved_changes()


def test_save_of_a_workflow_never_saved_asks_a_name_and_creates(account: Account) -> None:
    wf = three_nodes()
    wf.extra["name"] = unique("my flow")
    app = make_app(account.backend, wf)
    click(app, app.account.save_button)  # never saved: Save is Save as new
    assert panel_classes(app) == ["wf-save-name-panel"]
    assert app.account.name_text.value == wf.extra["name"]  # the workflow's name by default
    app.account.name_text.value = name = unique("chosen")
    click(app, only(app.account.panel, "wf-save-name-ok"))
    info = saved_info(app.workflow)
    assert info is not None and info.name == name and info.version == 1
    assert app.workflow_id == info.id and app.exports.workflow_id == info.id
    assert account.writer.get_saved(info.id).node_count == 3
    assert f"Saved {name} (version 1)." in message(app) and app.account.panel is None

    # Save as new of a saved workflow makes another one, which Save then updates
    click(app, app.account.save_new_button)
    app.account.name_text.value = other = unique("second")
    click(app, only(app.account.panel, "wf-save-name-ok"))
    second = saved_info(app.workflow)
    assert second is not None and second.id != info.id and second.name == other
    assert app.save_to_account(wait=True).version == 2  # type: ignore[union-attr]
    assert account.writer.get_saved(info.id).version == 1


def test_save_as_new_from_python(account: Account) -> None:
    app = make_app(account.backend, image_workflow())
    saved = app.save_as_new(name := unique("py"), wait=True)
    assert saved is not None and saved.name == name and saved.version == 1
    assert account.writer.get_saved(saved.id).node_count == 2


# -- a version conflict ------------------------------------------------------------------------
def stale_app(account: Account) -> tuple[Any, Any]:
    """An app that opened version 1 and edited it, while another writer saved version 2."""
    saved = account.writer.create(image_workflow("original"), name=unique("shared"))
    app = make_app(account.backend)
    app.open_saved(saved.id, wait=True)
    theirs = account.writer.get(saved.id)
    theirs.set_input("prompt", "text", "theirs")
    account.writer.update(saved.id, theirs)
    app.workflow.set_input("prompt", "text", "mine")
    return app, saved


def test_a_stale_save_shows_the_choice_and_reload_theirs(account: Account) -> None:
    app, saved = stale_app(account)
    click(app, app.account.save_button)
    assert panel_classes(app) == ["wf-conflict"]
    text = app.account.panel.children[0].value
    assert "version 2" in text and "version 1" in text and saved.name in text
    assert "Not saved" in message(app) and "version 2" in message(app)
    assert account.writer.get_saved(saved.id).version == 2  # nothing overwritten
    assert app.workflow.node("prompt").inputs["text"] == "mine"  # nothing dropped yet

    click(app, only(app.account.panel, "wf-conflict-reload"))
    assert app.workflow.node("prompt").inputs["text"] == "theirs"
    assert saved_info(app.workflow).version == 2  # type: ignore[union-attr]
    assert app.account.panel is None and app.account.conflict is None
    app.workflow.set_input("prompt", "text", "mine again")  # and now Save goes through
    assert app.save_to_account(wait=True).version == 3  # type: ignore[union-attr]


def test_a_stale_save_as_a_copy(account: Account) -> None:
    app, saved = stale_app(account)
    assert app.save_to_account(wait=True) is None  # from Python: the same choice
    assert app.account.conflict is not None and app.account.conflict.theirs == 2
    click(app, only(app.account.panel, "wf-conflict-copy"))
    copy = saved_info(app.workflow)
    assert copy is not None and copy.id != saved.id and copy.name == f"{saved.name} (copy)"
    stored = account.writer.get_saved(copy.id)
    assert stored.workflow["nodes"][0]["data"]["text"] == "mine"
    assert account.writer.get_saved(saved.id).workflow["nodes"][0]["data"]["text"] == "theirs"
    assert app.workflow_id == copy.id
    assert f"Saved {saved.name} (copy) (version 1)." in message(app)
    assert app.account.panel is None


# -- errors ------------------------------------------------------------------------------------
def test_errors_are_shown_with_what_to_do(account: Account) -> None:
    app = make_app(account.backend, image_workflow())
    assert app.open_saved("wf_missing", wait=True) is None
    assert "Could not open wf_missing" in message(app) and "Check the id" in message(app)
    assert len(app.workflow.nodes) == 2  # the editor keeps its workflow

    assert app.save_as_new("   ", wait=True) is None
    assert "Could not save '   ' as a new workflow" in message(app) and "name" in message(app)
    assert saved_info(app.workflow) is None
    assert not app.account.save_button.disabled  # usable again after a failure


def test_an_unreachable_server_is_shown_in_the_list_and_the_key_never() -> None:
    from wireflow_nb.client import WireflowClient

    secret = "sk-never-shown-0123456789"
    client = WireflowClient(
        api_key=secret, base_url=f"http://127.0.0.1:{free_port()}/api/v1", max_retries=0, timeout=5
    )
    try:
        app = make_app(client, image_workflow())
        click(app, app.account.open_button)
        status = app.account.open_status.value
        assert "Could not list the saved workflows" in status and "127.0.0.1" in status
        assert not find(app.account.panel, "wf-open-row")
        assert app.save_as_new("x", wait=True) is None
        assert "Could not save 'x'" in message(app)
        for text in (status, message(app)):
            assert secret not in text and "never-shown" not in text
    finally:
        client.close()


def test_save_sends_no_local_path_and_the_editor_keeps_it(
    account: Account, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Save / Save as new go through ``workflows.create/update``: a client uploads the
    picture (or finds it uploaded by the app's estimate) and the server stores its URL,
    never the path; the local engine reads the path in place and keeps it."""
    from PIL import Image

    secret = f"private-app-{uuid.uuid4().hex[:12]}"
    (tmp_path / secret).mkdir()
    photo = tmp_path / secret / "cat.png"
    Image.new("RGB", (24, 16), tuple(uuid.uuid4().bytes[:3])).save(photo)  # bytes new to the server
    wf = Workflow("photo")
    wf.add_node("input:image", id="photo", image=str(photo))
    wf.add_node("image:resize", id="small", width=8, height=8, mode="stretch")
    wf.connect("photo", "images", "small", "image")
    app = make_app(account.backend, wf)
    saved = app.save_as_new(unique("photo"), wait=True)
    assert saved is not None and saved.version == 1
    app.workflow.node("small").set_input("width", 9)
    assert app.save_to_account(wait=True).version == 2  # type: ignore[union-attr]
    assert app.workflow.node("photo").inputs["image"] == str(photo)
    assert not app.account.has_unsaved_changes()
    stored = account.writer.get(saved.id)
    assert stored.node("small").inputs["width"] == 9
    if type(account.backend).__name__ == "LocalEngine":
        assert stored.node("photo").inputs["image"] == str(photo)
        return
    assert stored.node("photo").inputs["image"].startswith("http") and secret not in str(stored.to_dict())
    server: RunningServer = request.getfixturevalue("server")
    assert not [p for p in server.home.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    assert secret not in server.log


def test_a_save_shows_its_upload_on_the_message_line(account: Account) -> None:
    from wireflow_nb.client import UploadProgress

    app = make_app(account.backend, image_workflow())
    options = app.account._upload_options(app.backend.workflows, "create")
    if type(account.backend).__name__ == "LocalEngine":
        assert options == {}  # it reads paths in place: nothing to upload
        return
    app.account._busy(True)  # a save in flight
    options["on_upload"](UploadProgress("cat.png", 40, 100))
    assert message(app).endswith("Uploading cat.png 40%</div>")
    app.account._busy(False)  # saved: a late report never hides the result
    app.message.show("Saved.")
    options["on_upload"](UploadProgress("cat.png", 100, 100))
    assert message(app).endswith("Saved.</div>")


def test_an_app_made_on_a_workflow_read_from_the_account_files_runs_under_its_id(account: Account) -> None:
    saved = account.writer.create(image_workflow("first"), name=unique("filed"))
    workflow = account.writer.get(saved.id)
    app = WorkflowApp(account.backend, workflow=workflow, poll_policy=FAST)
    try:
        assert app.wait_idle(20)
        assert app.workflow_id == saved.id
        named = WorkflowApp(account.backend, workflow=workflow, workflow_id="mine", poll_policy=FAST)
        assert named.workflow_id == "mine"  # a given id wins
        named.close()
        assert WorkflowApp(account.backend, poll_policy=FAST).workflow_id == "notebook"
    finally:
        app.close()
