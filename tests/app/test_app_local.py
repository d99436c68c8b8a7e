"""WorkflowApp on a real LocalEngine: Run, Run selected, Cancel, batch, 402, a failing
node, validation before sending, history restore, video, exports, and the run as a task
on a running loop. Badges and outputs are read from widget state."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests._servers import wait_until
from wireflow_nb import Workflow, node_type
from wireflow_nb.catalog import default_catalog
from wireflow_nb.widgets._runner import PollPolicy
from wireflow_nb.widgets.app import WorkflowApp, parse_batch_values, parse_trigger

from ._helpers import RecordingEditor, image_workflow, select

FAST = PollPolicy(initial=0.05, factor=1.5, maximum=0.5)


def make_app(engine: Any, workflow: Workflow | None = None, **kw: Any) -> Any:
    editor = RecordingEditor(workflow or image_workflow())
    return WorkflowApp(engine, editor=editor, workflow_id="demo", poll_policy=FAST, **kw)


def png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return image.size


def status_of(app: Any) -> str:
    value: str = app.status_label.value
    return value.split('data-status="', 1)[1].split('"', 1)[0]


def test_run_shows_badges_progress_outputs_thumbnail_history_and_credits(engine: Any) -> None:
    app = make_app(engine, image_workflow(size=96))
    assert app.wait_idle(10)
    assert "Balance: <b>1,000</b> credits" in app.credits_label.value
    assert "<b>10 credits</b> (local engine)" in app.estimate_label.value
    assert "LocalEngine" in app.backend_label.value
    run = app.run(wait=True)
    assert run is not None
    assert app.wait_idle(10)
    editor = app.editor
    image_statuses = [s for n, s in editor.status_history if n == "image"]
    assert image_statuses == ["PENDING", "RUNNING", "COMPLETED"]
    assert app.node_badges == {"prompt": "COMPLETED", "image": "COMPLETED"}
    assert 'data-node="image" data-status="COMPLETED"' in app.badges.value
    assert status_of(app) == "COMPLETED"
    assert (app.progress.value, app.progress.max) == (2, 2)
    assert app.elapsed_label.value.endswith(" s")
    [image] = app.outputs.image_widgets
    assert "wf-app-output-image" in image._dom_classes
    assert png_size(image.value) == (96, 96)
    assert png_size(editor.thumbnails["image"]) == (96, 96)
    assert len(app.history.rows) == 1
    assert "<b>990</b>" in app.credits_label.value
    assert "cached" in app.estimate_label.value  # the same run again would cost nothing
    assert [p.status for p in app.results] == ["COMPLETED"]

    # again: served from the cache, badge "cached"
    app.run(wait=True)
    assert app.node_badges["image"] == "cached"
    assert app.wait_idle(10)
    assert "<b>990</b>" in app.credits_label.value  # nothing charged for cached nodes


def test_second_run_is_refused_and_cancel_stops_the_run(engine: Any) -> None:
    engine.model_latency = 30
    app = make_app(engine)
    run = app.run()
    assert run is not None and run.mode == "thread"  # no loop runs here
    wait_until(lambda: app.node_badges.get("image") == "RUNNING", timeout=20, message="image RUNNING")
    assert app.run() is None
    assert "already going" in app.message.value
    assert not app.cancel_button.disabled
    app.cancel_button.click()
    state = app.wait(20)
    assert state is not None and state.status == "CANCELLED"
    assert status_of(app) == "CANCELLED"
    assert app.node_badges["image"] == "SKIPPED"
    assert "cancelled" in app.message.value
    assert app.cancel_button.disabled
    engine.model_latency = 0.02
    assert app.run(wait=True) is not None  # a new run is accepted once the first ended


def test_run_selected_sends_target_node(engine: Any) -> None:
    wf = image_workflow()
    wf.add_node("image:filter", id="gray")
    wf.connect("image", "images", "gray", "image")
    app = make_app(engine, wf)
    app.run_selected()
    assert "Select one node" in app.message.value
    select(app, "image")
    run = app.run_selected(wait=True)
    assert run is not None and run.request.target_node_id == "image"
    assert app.node_badges == {"prompt": "COMPLETED", "image": "COMPLETED"}
    assert "gray" not in app.node_badges
    [poll] = app.results
    assert sorted(r.node_id for r in poll.node_runs) == ["image", "prompt"]
    assert app.outputs.title.value == "<b>Outputs of Text to Image</b>"


def test_batch_gallery_and_cost(engine: Any) -> None:
    app = make_app(engine)
    app.set_batch("prompt", "text", ["a fox", "an owl", "a frog"])
    assert "30 credits" in app.estimate_label.value
    app.run(wait=True)
    assert app.wait_idle(10)
    state = app.state
    assert state is not None and len(state.executions) == 3
    assert [g.title for g in app.outputs.groups] == [
        "Run 1 of 3 \u00b7 text = a fox",
        "Run 2 of 3 \u00b7 text = an owl",
        "Run 3 of 3 \u00b7 text = a frog",
    ]
    images = [w.value for w in app.outputs.image_widgets]
    assert len(images) == 3 and len(set(images)) == 3  # three different pictures
    assert all(png_size(data) == (64, 64) for data in images)
    assert (app.progress.value, app.progress.max) == (6, 6)
    assert len(app.history.rows) == 3


def test_insufficient_credits_shows_the_breakdown(tmp_path: Path) -> None:
    from wireflow_nb.engine import LocalEngine

    with LocalEngine(tmp_path / "poor", credits=5, model_latency=0) as poor:
        app = make_app(poor)
        app.run(wait=True, check_credits=False)  # sent: the engine's own 402
        assert status_of(app) == "ERROR"
        message = app.message.value
        assert "wf-app-credits-table" in message
        assert "needs <b>10</b>, you have <b>5</b>" in message
        assert "<code>image</code>" in message
        assert app.history.rows == []


@pytest.fixture
def exploding() -> Iterator[str]:
    @node_type("test:explode", inputs={"text": str}, outputs={"text": str})
    def explode(text: str) -> str:
        raise RuntimeError(f"cannot handle {text!r}")

    yield "test:explode"
    default_catalog().unregister("test:explode")


def test_failing_node_is_outlined_with_its_error(engine: Any, exploding: str) -> None:
    wf = image_workflow()
    wf.add_node(exploding, id="boom")
    wf.connect("prompt", "text", "boom", "text")
    app = make_app(engine, wf)
    app.run(wait=True)
    assert status_of(app) == "FAILED"
    assert app.node_badges["boom"] == "FAILED"
    assert app.node_badges["image"] == "COMPLETED"  # an independent branch still finishes
    assert app.editor.highlighted == (["boom"], "#c62828")
    assert "cannot handle" in app.message.value
    select(app, "boom")
    assert "wf-app-node-error" in app.node_detail.value
    assert "cannot handle &#x27;a red fox&#x27;" in app.node_detail.value


def test_problems_are_listed_and_highlighted_before_sending(engine: Any) -> None:
    wf = image_workflow()
    wf.add_node("image:filter", id="lost")  # required input 'image' missing
    wf.connect("image", "images", "prompt", "text")  # a cycle prompt -> image -> prompt
    app = make_app(engine, wf)
    assert app.run() is None
    message = app.message.value
    assert "wf-app-problems" in message and "nothing was sent" in message
    assert "cycle" in message
    ids, color = app.editor.highlighted
    assert "lost" in ids and color == "#c62828"
    assert engine.list_executions("demo") == []

    app.trigger_text.value = "{not json"
    wf.remove_edge(wf.edges[-1].id or "")
    wf.remove_node("lost")
    assert app.run() is None
    assert "trigger data is not valid JSON" in app.message.value


def test_trigger_data_reaches_the_run(engine: Any) -> None:
    wf = Workflow("demo")
    wf.add_node("text:template", id="t", template="about {{trigger.topic}}")
    app = make_app(engine, wf)
    app.set_trigger({"topic": "foxes"})
    app.run(wait=True)
    [poll] = app.results
    assert poll.node_run("t") is not None and poll.node_run("t").text == "about foxes"  # type: ignore[union-attr]
    assert app.history.rows[0].triggered_by == "trigger"


def test_history_restore_puts_an_old_workflow_back(engine: Any) -> None:
    app = make_app(engine, image_workflow("first prompt"))
    app.run(wait=True)
    app.workflow.set_input("prompt", "text", "second prompt")
    app.run(wait=True)
    assert len(app.history.rows) == 2
    oldest = app.history.rows[-1]
    app.history.select(oldest.id)
    app.history.restore_button.click()
    assert app.workflow.node("prompt").inputs["text"] == "first prompt"
    assert app.editor.workflow is app.workflow
    # the app follows the restored workflow: edits to it move the estimate
    app.workflow.set_input("image", "numImages", 2)
    assert "\u224820 credits" in app.estimate_label.value


def test_video_output_is_a_real_mp4(engine: Any) -> None:
    wf = Workflow("demo")
    wf.add_node("model:fal:text-to-video", id="video", prompt="waves", durationSeconds=1, width=64, height=64)
    app = make_app(engine, wf)
    app.run(wait=True)
    assert app.wait_idle(20)
    [video] = app.outputs.video_widgets
    assert "wf-app-output-video" in video._dom_classes
    assert video.format == "mp4"
    assert video.value[4:8] == b"ftyp"
    import imageio.v3 as iio

    frames = iio.imread(video.value, extension=".mp4")
    assert len(frames) >= 2 and frames.shape[1:3] == (64, 64)


def test_exports_and_save_load(engine: Any, tmp_path: Path) -> None:
    app = make_app(engine)
    app.refresh_exports()
    namespace: dict[str, Any] = {}
    exec(app.export_python.value, namespace)
    assert namespace["wf"].to_dict() == app.workflow.to_dict()
    assert "$WIREFLOW_API_KEY" in app.export_curl.value
    assert "/workflows/demo/execute" in app.export_curl.value
    path = tmp_path / "flow.json"
    assert app.save(path) == path
    assert json.loads(path.read_text())["nodes"][0]["id"] == "prompt"
    app.workflow.set_input("prompt", "text", "changed")
    app.load(path)
    assert app.workflow.node("prompt").inputs["text"] == "a red fox"
    assert app.load(tmp_path / "missing.json") is None
    assert "No file" in app.message.value


def test_run_is_a_task_on_a_running_loop(engine: Any) -> None:
    async def main() -> None:
        app = make_app(engine)
        run = app.run()
        assert run is not None and run.mode == "task"
        assert not run.done.is_set()  # the cell would return at once
        with pytest.raises(RuntimeError, match="wait_async"):
            app.wait(1)
        state = await app.wait_async(20)
        assert state is not None and state.status == "COMPLETED"
        assert app.node_badges["image"] == "COMPLETED"
        # a blocking run from inside the running loop works too (worker thread)
        app.workflow.set_input("prompt", "text", "another")
        assert app.run(wait=True) is not None
        assert status_of(app) == "COMPLETED"

    asyncio.run(main())


def test_parsers() -> None:
    assert parse_batch_values("1\n2\nfox", as_text=False) == [1, 2, "fox"]
    assert parse_batch_values("1\n2", as_text=True) == ["1", "2"]
    assert parse_batch_values('["a", 2]', as_text=True) == ["a", 2]
    assert parse_trigger("") is None
    with pytest.raises(ValueError, match="JSON object"):
        parse_trigger("[1]")


def test_close_closes_every_widget_shown_in_the_app(engine: Any) -> None:
    """A closed app leaves no live widget holding a closed one (whose state could no
    longer be written: a notebook saving widget state would fail on it)."""
    app = make_app(engine, image_workflow(size=32))
    assert app.wait_idle(10)
    app.run(wait=True)
    assert app.wait_idle(10)
    shown, tree = [app], []
    while shown:
        widget = shown.pop()
        tree.append(widget)
        shown.extend(getattr(widget, "children", ()))
    assert len(tree) > 20 and all(w.comm is not None for w in tree)
    app.close()
    alive = [type(w).__name__ for w in tree if w.comm is not None]
    assert alive == []
