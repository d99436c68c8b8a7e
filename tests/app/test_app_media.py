"""WorkflowApp on a WireflowClient (a real ``wireflow-nb serve``) with a local picture as
an image input: the message line says how far the upload is while it goes, then the run
completes; the edited workflow keeps the path. A missing file is refused with a message
naming the node and the path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests._servers import RunningServer, running_server
from wireflow_nb import Workflow
from wireflow_nb.widgets._runner import PollPolicy
from wireflow_nb.widgets.app import WorkflowApp

from ._helpers import RecordingEditor

FAST = PollPolicy(initial=0.05, factor=1.5, maximum=0.3)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("app-media")) as running:
        yield running


def resize_flow(value: Any) -> Workflow:
    wf = Workflow("media")
    wf.add_node("input:image", id="photo", image=value)
    wf.add_node("image:resize", id="small", width=17, height=13, mode="stretch")
    wf.connect("photo", "images", "small", "image")
    return wf


def make_app(server: RunningServer, wf: Workflow, tmp_path: Path) -> tuple[Any, list[str]]:
    client = server.client(upload_cache=tmp_path / "cache")
    app = WorkflowApp(client, editor=RecordingEditor(wf), workflow_id="app-media", poll_policy=FAST)
    shown: list[str] = []
    app.message.observe(lambda change: shown.append(change["new"]), names="value")
    return app, shown


def test_the_message_line_shows_the_upload_then_the_run_completes(
    server: RunningServer, tmp_path: Path
) -> None:
    path = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(3).integers(0, 255, (300, 300, 3), dtype=np.uint8)).save(path)
    app, shown = make_app(server, resize_flow(path), tmp_path)
    during_run: list[str] = []

    def status_changed(_change: Any) -> None:
        if app.state is not None and app.state.response is not None and not app.state.finished:
            during_run.append(app.message.value)

    app.status_label.observe(status_changed, names="value")
    app.run(wait=True)
    assert app.wait_idle(10)
    assert app.state is not None and app.state.status == "COMPLETED", app.message.value
    uploads = [value for value in shown if "Uploading photo.png" in value]
    assert len(uploads) >= 3 and "0%" in uploads[0] and "100%" in uploads[-1]
    # cleared as soon as the run started, not left at 100% until it ends
    assert during_run and not [m for m in during_run if "Uploading" in m]
    assert app.workflow.node("photo").inputs["image"] == path


def test_a_missing_file_is_a_message_naming_the_node_and_the_path(
    server: RunningServer, tmp_path: Path
) -> None:
    missing = tmp_path / "gone" / "photo.png"
    app, _ = make_app(server, resize_flow(str(missing)), tmp_path)
    app.run(wait=True)
    assert app.state is not None and app.state.response is None
    assert "photo" in app.message.value and str(missing) in app.message.value
