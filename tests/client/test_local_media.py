"""Local media on a remote backend: an ``input:image`` whose value is a path, bytes, a
PIL image or a numpy array runs on a real ``wireflow-nb serve`` through both clients.
The client uploads it (once per content hash, remembered between clients), reports
progress, and never sends a local path: a proxy between client and server records every
byte the server was sent. A path that names no file fails before anything is sent."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from _client_fakes import KEY, LOCAL, Recorder
from _media_helpers import RED, RecordingProxy, media_rows, red_picture, resize_flow, workflows_of
from PIL import Image

from tests._servers import RunningServer, running_server
from wireflow_nb import Workflow, WorkflowValidationError


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("media-live")) as running:
        yield running


def values_of(kind: str, folder: Path) -> Any:
    """A local media value of each kind, all of the same red picture."""
    path = folder / "photo.png"
    red_picture().save(path)
    return {
        "path": path,
        "str": str(path),
        "file-uri": path.as_uri(),
        "bytes": path.read_bytes(),
        "pil": red_picture(),
        "numpy": np.array(red_picture(), dtype=np.uint8),
    }[kind]


@pytest.mark.parametrize("value_kind", ["path", "str", "file-uri", "bytes", "pil", "numpy"])
def test_each_local_media_value_reaches_the_served_engine(
    server: RunningServer, connect: Any, tmp_path: Path, value_kind: str
) -> None:
    client = connect(server.base_url, server.api_key, upload_cache=tmp_path / "cache")
    wf = resize_flow(values_of(value_kind, tmp_path))
    before = wf.to_dict()
    [result] = client.run("media", wf, timeout=60)
    assert result.state == "COMPLETED", result
    [original] = result.node_run("photo").images
    assert (original.width, original.height) == (40, 30)
    [small] = result.node_run("small").images
    assert (small.width, small.height) == (17, 13)
    picture = Image.open(io.BytesIO(client.fetch_bytes(small.url))).convert("RGB")
    assert picture.size == (17, 13) and picture.getpixel((8, 6)) == RED
    # the run uploaded from a copy: the workflow still holds the user's value
    assert wf.to_dict() == before


def test_a_local_path_is_never_sent_to_the_server(connect: Any, tmp_path: Path) -> None:
    folder = tmp_path / "private-folder-7f3a"
    folder.mkdir()
    photo = folder / "holiday.png"
    red_picture().save(photo)
    with (
        running_server(tmp_path / "home") as server,
        RecordingProxy(upstream=server.root_url, faults={}) as proxy,
    ):
        client = connect(proxy.base_url + "/api/v1", server.api_key, upload_cache=tmp_path / "cache")
        for value in (photo, str(photo), photo.as_uri()):
            wf = resize_flow(value)
            wf.add_node("input:image", id="listed", image=[{"url": str(photo)}])
            [result] = client.run("media", wf, timeout=60)
            assert result.state == "COMPLETED", result
            client.estimate(wf)
        sent = b"\n".join(proxy.seen)
        assert b"/media/upload" in sent and b"/execute" in sent and b"/estimate" in sent
        assert b"private-folder-7f3a" not in sent
        stored = [p for p in server.home.rglob("*") if p.is_file()]
        assert stored and not [p for p in stored if b"private-folder-7f3a" in p.read_bytes()]
        assert "private-folder-7f3a" not in server.log


def test_uploads_once_per_content_hash_across_runs_and_clients(
    server: RunningServer, connect: Any, tmp_path: Path, kind: str
) -> None:
    cache = tmp_path / "cache"
    picture = red_picture(41, 31)
    picture.putpixel((0, 0), (1, 2, 3) if kind == "sync" else (3, 2, 1))  # bytes new to the server
    start = media_rows(server)
    first = connect(server.base_url, server.api_key, upload_cache=cache)
    for _ in range(2):
        [result] = first.run("media", resize_flow(picture), timeout=60)
        assert result.state == "COMPLETED"
    assert media_rows(server) == start + 1
    # a new client (a new kernel) reads the cache on disk: still one upload
    again = connect(server.base_url, server.api_key, upload_cache=cache)
    [result] = again.run("media", resize_flow(np.array(picture)), timeout=60)
    assert result.state == "COMPLETED"
    assert media_rows(server) == start + 1
    # a client without that cache uploads the bytes again (the count does move)
    elsewhere = connect(server.base_url, server.api_key, upload_cache=tmp_path / "other")
    [result] = elsewhere.run("media", resize_flow(picture), timeout=60)
    assert result.state == "COMPLETED"
    assert media_rows(server) == start + 2


def test_upload_and_run_report_progress_up_to_the_total(
    server: RunningServer, connect: Any, tmp_path: Path, kind: str
) -> None:
    client = connect(server.base_url, server.api_key, upload_cache=False)
    noise = np.random.default_rng(1 if kind == "sync" else 2).integers(0, 255, (300, 300, 3), dtype=np.uint8)
    path = tmp_path / "noise.png"
    Image.fromarray(noise).save(path)
    size = path.stat().st_size
    assert size > 200_000  # several chunks
    calls: list[tuple[int, int]] = []
    media = client.upload(path, progress=lambda sent, total: calls.append((sent, total)))
    assert media.size == size
    sent = [s for s, _ in calls]
    assert len(calls) >= 4 and sent == sorted(sent) and sent[0] == 0
    assert calls[-1] == (size, size) and {t for _, t in calls} == {size}

    events: list[Any] = []
    Image.fromarray(noise[::-1]).save(path)  # other bytes: not remembered
    [result] = client.run("media", resize_flow(path), timeout=60, on_upload=events.append)
    assert result.state == "COMPLETED"
    assert events and {(e.filename, e.node_id, e.field) for e in events} == {("noise.png", "photo", "image")}
    assert [e.sent for e in events] == sorted(e.sent for e in events)
    assert events[-1].sent == events[-1].total == path.stat().st_size
    assert str(events[-1]) == "Uploading noise.png 100%" and str(events[0]) == "Uploading noise.png 0%"


def test_a_missing_path_fails_before_anything_is_sent(make_client: Any, tmp_path: Path) -> None:
    recorder = Recorder(lambda request: httpx.Response(500))
    client = make_client(recorder, base_url=LOCAL, upload_cache=False)
    missing = tmp_path / "nowhere" / "cat.png"
    for value in (missing, str(missing)):
        with pytest.raises(WorkflowValidationError) as info:
            client.execute("media", resize_flow(value))
        [problem] = info.value.problems
        assert problem.node_id == "photo" and problem.field == "image"
        assert "'photo'" in str(info.value) and str(missing) in str(info.value)
    with pytest.raises(WorkflowValidationError):
        client.execute(
            "media",
            resize_flow("https://example.com/x.png"),
            iterator_configs=[{"nodeId": "photo", "field": "image", "values": [str(missing)]}],
        )
    assert recorder.requests == []


def test_urls_are_sent_as_they_are_and_batch_values_are_uploaded(make_client: Any, tmp_path: Path) -> None:
    uploads: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/media/upload"):
            uploads.append(request.content)
            return httpx.Response(
                201, json={"id": f"m{len(uploads)}", "url": f"https://cdn.test/m{len(uploads)}"}
            )
        return httpx.Response(
            201, json={"workflowId": "media", "executionRuns": [{"id": "e1", "status": "PENDING"}]}
        )

    recorder = Recorder(handler)
    client = make_client(recorder, base_url=LOCAL, upload_cache=False)
    photo = tmp_path / "photo.png"
    red_picture().save(photo)
    client.execute(
        "media",
        resize_flow("https://example.com/cat.png"),
        iterator_configs=[
            {
                "nodeId": "photo",
                "field": "image",
                "values": [str(photo), photo.read_bytes(), "https://x.test/a.png"],
            }
        ],
    )
    body = json.loads(recorder.requests[-1].content)
    photo_node = next(n for n in body["nodes"] if n["id"] == "photo")
    assert photo_node["data"]["image"] == "https://example.com/cat.png"
    # the path and the bytes are the same picture: one upload, both values its URL
    assert body["iteratorConfigs"][0]["values"] == [
        "https://cdn.test/m1",
        "https://cdn.test/m1",
        "https://x.test/a.png",
    ]
    assert len(uploads) == 1 and str(tmp_path).encode() not in recorder.requests[-1].content


def test_the_disk_cache_is_private_atomic_keyless_and_per_server(make_client: Any, tmp_path: Path) -> None:
    count = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/media/upload"):
            count["n"] += 1
            return httpx.Response(201, json={"id": "m", "url": f"https://cdn.test/{count['n']}"})
        return httpx.Response(
            201, json={"workflowId": "media", "executionRuns": [{"id": "e", "status": "PENDING"}]}
        )

    cache = tmp_path / "cache"
    client = make_client(Recorder(handler), base_url=LOCAL, upload_cache=cache)
    client.execute("media", resize_flow(red_picture()))
    [entry] = list(cache.iterdir())
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    text = entry.read_text()
    assert KEY not in text and "127.0.0.1" not in text and json.loads(text)["url"] == "https://cdn.test/1"
    # another server (base URL) never reuses that upload
    other = make_client(Recorder(handler), base_url="http://127.0.0.1:9999/api/v1", upload_cache=cache)
    other.execute("media", resize_flow(red_picture()))
    assert count["n"] == 2
    # an entry past its time is uploaded again
    old = json.loads(text)
    old["at"] -= 2 * 24 * 3600
    entry.write_text(json.dumps(old))
    late = make_client(Recorder(handler), base_url=LOCAL, upload_cache=cache)
    late.execute("media", resize_flow(red_picture()))
    assert count["n"] == 3
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]
    assert os.environ["WIREFLOW_NB_HOME"]  # the suite's isolated home, never the user's


def test_the_default_cache_lives_under_the_data_home(make_client: Any) -> None:
    client = make_client(Recorder(lambda r: httpx.Response(404)), base_url=LOCAL)
    assert client.upload_cache.folder == Path(os.environ["WIREFLOW_NB_HOME"]) / "uploads"


def test_a_saved_workflow_runs_with_local_media_inputs(
    server: RunningServer, connect: Any, tmp_path: Path, kind: str
) -> None:
    client = connect(server.base_url, server.api_key, upload_cache=tmp_path / "cache")
    saved_workflows = workflows_of(client)
    blue = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 0, 255)).save(blue, format="PNG")
    saved = saved_workflows.create(resize_flow(blue.getvalue()), name=f"media-{kind}")
    # the server stores the upload's URL (a file keeps a data: URL: tests/client/test_saved_media.py)
    uploaded = client.upload_cache.get(hashlib.sha256(blue.getvalue()).hexdigest())
    assert uploaded and saved_workflows.get(saved.id).node("photo").inputs["image"] == uploaded
    path = tmp_path / "photo.png"
    red_picture().save(path)
    for value in (str(path), path, np.array(red_picture())):
        response = saved_workflows.run(saved.id, {"photo": value})
        poll = client.wait(response.execution_ids[0], timeout=60)
        small = poll.node_run("small").images[0]
        assert Image.open(io.BytesIO(client.fetch_bytes(small.url))).convert("RGB").getpixel((8, 6)) == RED
    with pytest.raises(WorkflowValidationError) as info:
        saved_workflows.run(saved.id, {"photo": str(tmp_path / "missing.png")})
    assert "missing.png" in str(info.value)


def test_video_and_audio_paths_are_uploaded_too(
    server: RunningServer, connect: Any, tmp_path: Path, kind: str
) -> None:
    import wave

    from wireflow_nb.engine import LocalEngine

    with LocalEngine(":memory:", model_latency=0) as engine:
        clip_flow = Workflow("clip")
        clip_flow.add_node(
            "model:fal:text-to-video", id="v", prompt=kind, durationSeconds=0.5, width=64, height=64
        )
        [made] = engine.run("clip", clip_flow)
        clip = engine.fetch_bytes(made.node_run("v").videos[0].url)
    (tmp_path / "clip.mp4").write_bytes(clip)
    with wave.open(str(tmp_path / "sound.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x01\x02" * 400)
    client = connect(server.base_url, server.api_key, upload_cache=False)
    wf = Workflow("av")
    wf.add_node("input:video", id="video", video=tmp_path / "clip.mp4")
    wf.add_node("input:audio", id="audio", audio=str(tmp_path / "sound.wav"))
    events: list[Any] = []
    [result] = client.run("av", wf, timeout=60, on_upload=events.append)
    assert result.state == "COMPLETED", result
    assert client.fetch_bytes(result.node_run("video").videos[0].url) == clip
    [audio] = result.node_run("audio").output["audio"]
    assert client.fetch_bytes(audio["url"]) == (tmp_path / "sound.wav").read_bytes()
    assert {(e.filename, e.node_id) for e in events} == {("clip.mp4", "video"), ("sound.wav", "audio")}


def test_a_new_kernel_reuses_the_upload_of_an_earlier_one(server: RunningServer, tmp_path: Path) -> None:
    """Two interpreters with the same ``WIREFLOW_NB_HOME`` (the default cache folder) and
    the same picture: the second uploads nothing."""
    import subprocess
    import sys

    path = tmp_path / "photo.png"
    picture = red_picture(43, 33)
    picture.putpixel((1, 1), (9, 9, 9))
    picture.save(path)
    script = (
        "import sys; from wireflow_nb import Workflow; from wireflow_nb.client import WireflowClient\n"
        "wf = Workflow('media'); wf.add_node('input:image', id='photo', image=sys.argv[3])\n"
        "with WireflowClient(sys.argv[2], base_url=sys.argv[1], poll_initial=0.05) as client:\n"
        "    [result] = client.run('media', wf, timeout=60)\n"
        "    assert result.state == 'COMPLETED', result\n"
    )
    env = {**os.environ, "WIREFLOW_NB_HOME": str(tmp_path / "home")}
    env.pop("WIREFLOW_API_KEY", None)
    counts = [media_rows(server)]
    for _ in range(2):
        subprocess.run(
            [sys.executable, "-c", script, server.base_url, str(server.api_key), str(path)],
            env=env,
            check=True,
            timeout=120,
            cwd=Path(__file__).resolve().parents[2],
        )
        counts.append(media_rows(server))
    assert counts[1] == counts[0] + 1 and counts[2] == counts[1]
    assert len(list((tmp_path / "home" / "uploads").iterdir())) == 1


def test_plain_text_inputs_cost_no_schema_request(tmp_path: Path) -> None:
    from wireflow_nb.client._uploads import InputsPlan

    assert not InputsPlan.needs_schema({"prompt": "a red fox", "n": 3, "style": "watercolor"})
    photo = tmp_path / "photo"
    photo.write_bytes(b"x")
    for maybe in (str(photo), "cat.PNG", "pics/cat", "C:\\pics\\cat", "file:///x", "data:,x"):
        assert InputsPlan.needs_schema({"photo": maybe}), maybe
