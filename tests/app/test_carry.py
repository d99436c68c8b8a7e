"""Saved outputs carry the workflow that ran them: the app's ``Save outputs`` (a LocalEngine,
a real ``wireflow-nb serve`` through the client, outputs of a hosted shape with no record),
the history's save, and the app's Load file picker reading an output back."""

from __future__ import annotations

import base64
import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests._servers import running_server
from wireflow_nb import Workflow
from wireflow_nb.models import ExecuteResponse, PollResponse
from wireflow_nb.provenance import read_record
from wireflow_nb.widgets._run_state import RunState
from wireflow_nb.widgets._runner import PollPolicy
from wireflow_nb.widgets.app import WorkflowApp
from wireflow_nb.widgets.history import HistoryView
from wireflow_nb.widgets.outputs import OutputView

from ._helpers import RecordingEditor, image_workflow

FAST = PollPolicy(initial=0.05, factor=1.5, maximum=0.3)


def grouped(wf: Workflow) -> Workflow:
    wf.group(["prompt", "image"], title="Fox")
    return wf


def make_app(backend: Any, workflow: Workflow) -> Any:
    return WorkflowApp(backend, editor=RecordingEditor(workflow), workflow_id="demo", poll_policy=FAST)


def media_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".png", ".jpg", ".mp4"))


def test_save_outputs_of_a_local_run(engine: Any, tmp_path: Path) -> None:
    wf = grouped(image_workflow(size=64))
    app = make_app(engine, wf)
    run = app.run(wait=True)
    assert app.wait_idle(10) and app.outputs.wait_loaded(10)
    [execution_id] = run.state.response.execution_ids
    [saved] = media_in(tmp_path / "out") if app.outputs.save(tmp_path / "out") else []
    back = Workflow.from_file(saved)
    assert back.to_request() == wf.to_request() and [g.title for g in back.groups] == ["Fox"]
    assert read_record(saved)["executionId"] == execution_id
    [image] = app.results[0].node_run("image").images
    assert saved.read_bytes() == engine.fetch_bytes(image.url)  # the engine's file: its record kept
    app.close()


def png(color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (6, 4), color).save(out, format="PNG")
    return out.getvalue()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (6, 4), "green").save(out, format="JPEG")
    return out.getvalue()


def test_outputs_with_no_record_are_saved_with_the_workflow_of_their_run(tmp_path: Path) -> None:
    """A hosted API writes no record: Save outputs writes the run's, one per run of a batch."""
    wf = image_workflow()
    configs = [{"nodeId": "prompt", "field": "text", "values": ["fox", "owl"]}]
    state = RunState("demo", wf.to_request(iterator_configs=configs))
    state.apply_response(
        ExecuteResponse.model_validate(
            {
                "workflowId": "demo",
                "executionRuns": [
                    {"id": "exec_a", "status": "RUNNING", "runIndexInBatch": 0, "inputIndex": 0},
                    {"id": "exec_b", "status": "RUNNING", "runIndexInBatch": 1, "inputIndex": 1},
                ],
            }
        )
    )
    for eid, data in (("exec_a", png("red")), ("exec_b", jpeg())):
        url = f"data:{'image/png' if data[:4] == png('red')[:4] else 'image/jpeg'};base64,{base64.b64encode(data).decode()}"
        body = {"nodeId": "image", "status": "COMPLETED", "output": {"images": [url]}}
        state.apply_poll(
            eid, PollResponse.model_validate({"status": "COMPLETED", "nodeResults": {"nodeRuns": [body]}})
        )
    view = OutputView(None)
    view.show_run(state)
    files = view.save(tmp_path / "saved")
    assert [p.name for p in files] == ["run01-image.png", "run02-image.jpg"]
    for path, eid in zip(files, ("exec_a", "exec_b"), strict=True):
        assert Workflow.from_file(path).to_request() == wf.to_request()
        record = read_record(path)
        assert record["executionId"] == eid and record["inputs"]["iteratorConfigs"] == configs
        with Image.open(path) as picture:
            assert picture.size == (6, 4)
    view.close()


def test_history_save_carries_the_run_picked_even_when_its_output_was_cached(
    engine: Any, tmp_path: Path
) -> None:
    wf = image_workflow(size=64)
    first = engine.execute("demo", wf).execution_id
    engine.wait(first, timeout=30)
    second = engine.execute("demo", wf).execution_id  # served from the cache: the file of the first run
    assert engine.wait(second, timeout=30).node_run("image").cached
    view = HistoryView(engine, "demo")
    for execution_id in (first, second):
        view.select(execution_id)
        assert view.wait_loaded(10)
        [saved] = [p for p in view.detail_outputs.save(tmp_path / execution_id) if p.suffix == ".png"]
        assert Workflow.from_file(saved).to_request() == wf.to_request()
        assert read_record(saved)["executionId"] == execution_id
    view.close()


def upload_value(name: str, data: bytes) -> tuple[dict[str, Any], ...]:
    """What the browser puts into a FileUpload's value."""
    return (
        {
            "name": name,
            "type": "",
            "size": len(data),
            "content": memoryview(data),
            "last_modified": datetime.now(timezone.utc),
        },
    )


def test_load_file_picker_reads_an_output_and_asks_before_dropping_changes(
    engine: Any, tmp_path: Path
) -> None:
    made = grouped(image_workflow(prompt="a blue owl", size=64))
    [poll] = engine.run("demo", made)
    data = engine.fetch_bytes(poll.node_run("image").images[0].url)

    app = make_app(engine, image_workflow(prompt="something else"))
    picker = app.load_file
    assert "wf-app-load-file" in picker.upload._dom_classes
    assert picker.upload.accept == ".json,.png,.jpg,.jpeg,.webp,.mp4"
    picker.upload.value = upload_value("owl.png", data)  # unsaved changes in the editor: a question
    assert picker.pending is not None and picker.confirm.layout.display is None
    assert "owl.png" in picker.confirm.children[0].children[0].value
    assert app.workflow.node("prompt").inputs["text"] == "something else"
    cancel = picker.confirm.children[0].children[1].children[1]
    assert "wf-replace-confirm-cancel" in cancel._dom_classes
    cancel.click()
    assert picker.pending is None and app.workflow.node("prompt").inputs["text"] == "something else"

    picker.upload.value = upload_value("owl.png", data)
    assert picker.upload.value == ()  # emptied: the same file may be picked again
    ok = picker.confirm.children[0].children[1].children[0]
    assert "wf-replace-confirm-ok" in ok._dom_classes
    ok.click()
    assert app.workflow.to_request() == made.to_request() and app.workflow.id == "demo"
    assert "Loaded owl.png (2 nodes)" in app.message.value

    stripped = io.BytesIO()
    Image.open(io.BytesIO(data)).save(stripped, format="PNG")
    picker.upload.value = upload_value("copy.png", stripped.getvalue())
    assert "copy.png carries no wireflow workflow" in app.message.value
    assert app.workflow.to_request() == made.to_request()
    app.close()


def test_load_file_picker_loads_at_once_when_nothing_would_be_lost(engine: Any, tmp_path: Path) -> None:
    made = image_workflow(prompt="a green frog", size=64)
    made.save(tmp_path / "frog.json")
    app = make_app(engine, Workflow("demo"))  # an empty editor has nothing to lose
    app.load_file.upload.value = upload_value("frog.json", (tmp_path / "frog.json").read_bytes())
    assert app.load_file.pending is None
    assert app.workflow.to_request() == made.to_request()
    # the path Load reads outputs too
    [poll] = engine.run("demo", made)
    out = tmp_path / "frog.png"
    out.write_bytes(engine.fetch_bytes(poll.node_run("image").images[0].url))
    app.workflow = Workflow("demo")
    assert app.load(out) is not None and app.workflow.to_request() == made.to_request()
    app.close()


@pytest.mark.parametrize("suffix", [".png"])
def test_save_outputs_of_a_run_on_a_server(tmp_path: Path, suffix: str) -> None:
    wf = grouped(image_workflow(prompt="a red fox", size=64))
    with running_server(tmp_path / "serve", model_latency=0.02) as server:
        app = make_app(server.client(), wf)
        run = app.run(wait=True)
        assert app.wait_idle(10) and app.outputs.wait_loaded(10)
        [saved] = [p for p in app.outputs.save(tmp_path / "saved") if p.suffix == suffix]
        assert Workflow.from_file(saved).to_request() == wf.to_request()
        assert read_record(saved)["executionId"] == run.state.response.execution_id
        assert server.api_key and server.api_key.encode() not in saved.read_bytes()
        app.close()
