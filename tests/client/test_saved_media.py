"""A workflow saved on a server (``client.workflows.create`` / ``update``, both clients)
whose image input is a local path: the copy sent carries the upload's URL, so the path
(here under a uniquely named private folder) never reaches the server (its requests,
seen by a recording proxy; its home, SQLite included; its log), and the saved workflow
runs there. The user's ``Workflow`` (and its file) keeps the path; a second save uploads
nothing new; a missing file fails before anything is sent, naming the node and path."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from _client_fakes import LOCAL, Recorder
from _media_helpers import RED, RecordingProxy, media_rows, red_picture, resize_flow, workflows_of
from PIL import Image

from tests._servers import running_server
from wireflow_nb import BadRequestError, WorkflowValidationError
from wireflow_nb.account import saved_info


def test_a_saved_workflow_never_sends_a_local_path(connect: Any, tmp_path: Path, kind: str) -> None:
    secret = f"private-save-{uuid.uuid4().hex[:12]}"
    folder = tmp_path / secret
    folder.mkdir()
    photo = folder / "cat.png"
    red_picture().save(photo)
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    with (
        running_server(tmp_path / "home") as server,
        RecordingProxy(upstream=server.root_url, faults={}) as proxy,
    ):
        client = connect(proxy.base_url + "/api/v1", server.api_key, upload_cache=tmp_path / "cache")
        saved_workflows = workflows_of(client)
        wf = resize_flow(photo)
        wf.add_node("input:image", id="again", image=photo.as_uri())  # the same bytes: one upload
        before = wf.to_dict()
        events: list[Any] = []

        saved = saved_workflows.create(wf, name="cat", on_upload=events.append)
        assert media_rows(server) == 1
        assert events and {(e.filename, e.node_id) for e in events} == {("cat.png", "photo")}
        assert events[-1].sent == events[-1].total == photo.stat().st_size
        # the user's workflow (and what its file keeps) still holds the path
        assert wf.node("photo").inputs["image"] == photo and wf.to_dict() == before
        assert json.loads(wf.save(tmp_path / "cat.json").read_text())["nodes"][0]["data"]["image"] == str(
            photo
        )
        assert saved_info(wf) is not None and saved_info(wf).version == 1  # type: ignore[union-attr]

        # the server holds the upload's URL and runs what it holds
        url = client.upload_cache.get(sha)
        fetched = saved_workflows.get(saved.id)
        assert url and fetched.node("photo").inputs["image"] == url == fetched.node("again").inputs["image"]
        poll = client.wait(saved_workflows.run(saved.id).execution_ids[0], timeout=60)
        [small] = poll.node_run("small").images
        picture = Image.open(io.BytesIO(client.fetch_bytes(small.url))).convert("RGB")
        assert picture.size == (17, 13) and picture.getpixel((8, 6)) == RED

        # a second save (a Workflow, then its JSON as the app's Save sends it) uploads nothing
        wf.node("small").set_input("width", 19)
        updated = saved_workflows.update(saved.id, wf, on_upload=events.append)
        body = wf.to_dict()
        kept = copy.deepcopy(body)
        again = saved_workflows.update(saved.id, body, version=updated.version, name="cat 2")
        assert again.version == 3 and body == kept  # the caller's JSON is not written into
        assert media_rows(server) == 1 and len(events) == len([e for e in events if e.node_id == "photo"])
        assert sum(1 for e in events if e.sent == 0) == 1  # progress of the one upload only
        assert saved_workflows.get(saved.id).node("photo").inputs["image"] == url
        assert wf.node("photo").inputs["image"] == photo

        sent = b"\n".join(proxy.seen)
        assert b"/media/upload" in sent and b'"cat 2"' in sent
        assert secret.encode() not in sent
        stored = [p for p in server.home.rglob("*") if p.is_file()]
        assert any(p.suffix == ".sqlite3" for p in stored)
        assert not [p for p in stored if secret.encode() in p.read_bytes()]
        assert secret not in server.log


@pytest.mark.parametrize("call", ["create", "update"])
def test_a_missing_path_fails_before_the_save_is_sent(
    connect: Any, tmp_path: Path, kind: str, call: str
) -> None:
    missing = tmp_path / "gone" / "cat.png"
    with (
        running_server(tmp_path / "home") as server,
        RecordingProxy(upstream=server.root_url, faults={}) as proxy,
    ):
        saved_workflows = workflows_of(
            connect(proxy.base_url + "/api/v1", server.api_key, upload_cache=False)
        )
        for value in (missing, str(missing), {"nodes": resize_flow(str(missing)).to_dict()["nodes"]}):
            wf: Any = value if isinstance(value, dict) else resize_flow(value)
            with pytest.raises(WorkflowValidationError) as info:
                if call == "create":
                    saved_workflows.create(wf, name="gone")
                else:
                    saved_workflows.update("wf_x", wf, version=1)
            [problem] = info.value.problems
            assert problem.node_id == "photo" and problem.field == "image"
            assert "'photo'" in str(info.value) and str(missing) in str(info.value)
        assert proxy.seen == []


def test_a_saved_workflow_in_process_keeps_the_path(tmp_path: Path) -> None:
    """The local engine reads the path in place (its home is on the user's machine): its
    saved workflow keeps the path, and runs."""
    from wireflow_nb.engine import LocalEngine

    photo = tmp_path / "photo.png"
    red_picture().save(photo)
    with LocalEngine(tmp_path / "home", model_latency=0) as engine:
        saved = engine.workflows.create(resize_flow(photo), name="m")
        assert engine.workflows.get(saved.id).node("photo").inputs["image"] == str(photo)
        poll = engine.wait(engine.workflows.run(saved.id).execution_ids[0], timeout=60)
        assert poll.node_run("small").images[0].width == 17


def test_a_mapping_node_that_is_no_node_is_sent_as_it_is(make_client: Any) -> None:
    recorder = Recorder(lambda request: httpx.Response(400, json={"error": "not a workflow"}))
    client = make_client(recorder, base_url=LOCAL, upload_cache=False)
    body = {"nodes": [{"id": 3, "data": {"image": "https://example.com/x.png"}}], "edges": []}
    with pytest.raises(BadRequestError, match="not a workflow"):
        workflows_of(client).create(body, name="odd")
    assert json.loads(recorder.requests[0].content)["workflow"] == body


def test_the_plan_is_built_before_anything_for_every_value_kind(tmp_path: Path) -> None:
    """``SavePlan`` reads a Workflow's own values: a Path or bytes in any field count,
    and only the nodes holding local media are rewritten."""
    from wireflow_nb.client._uploads import SavePlan

    photo = tmp_path / "photo.png"
    red_picture().save(photo)
    wf = resize_flow(photo.read_bytes())
    wf.add_node("input:text", id="note", text="hello", attachment=photo)
    plan = SavePlan(wf)
    assert {node_id for _, node_id, _ in plan.media} == {"photo"}  # one hash, first seen at photo
    body = plan.apply({media.sha256: "https://cdn.test/m1" for media, _, _ in plan.media})
    nodes = {n["id"]: n for n in body["nodes"]}
    assert nodes["photo"]["data"]["image"] == "https://cdn.test/m1"
    assert nodes["note"]["data"]["attachment"] == "https://cdn.test/m1"
    assert nodes["small"] == wf.to_dict()["nodes"][1]
    assert wf.to_dict()["nodes"][0]["data"]["image"].startswith("data:image/png;base64,")


def test_the_callers_json_is_never_written_into(tmp_path: Path) -> None:
    """A hosted node keeps its inputs under ``data.params``: the copy sent holds the URL
    there, the caller's mapping keeps the path."""
    from wireflow_nb.client._uploads import SavePlan

    photo = tmp_path / "photo.png"
    red_picture().save(photo)
    node = {
        "id": "photo",
        "type": "input",
        "data": {"nodeType": "input:image", "params": {"image": str(photo)}},
    }
    body = {"name": "hosted", "nodes": [node, {"id": "odd"}], "edges": []}
    kept = copy.deepcopy(body)
    plan = SavePlan(body)
    sent = plan.apply({media.sha256: "https://cdn.test/m1" for media, _, _ in plan.media})
    assert sent["nodes"][0]["data"]["params"]["image"] == "https://cdn.test/m1"
    assert sent["nodes"][1] == {"id": "odd"} and sent["name"] == "hosted"
    assert body == kept
