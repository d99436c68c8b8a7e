"""Attacks on what the engine reads for a caller, and on its node slots (issue 10, points
1 and 2).

- Over HTTP the server reads inputs only from its own artifact store and ``data:`` URLs:
  a local path or ``file://`` URI in any media input (a literal, a batch value, trigger
  data written into it) is a 400 naming the node and field, the same whether or not the
  file exists, before anything runs or is charged; a path that reaches a node at run time
  (from an edge) fails that node. URLs are not fetched unless ``--allow-url-fetch``, and
  then never from the server's own machine or network: checked on literal addresses
  before any connect, after DNS resolution, and on every redirect.
- A device, FIFO or socket is never read (in process too); every read has a size cap
  and downloads a deadline. A node stuck in I/O is abandoned on cancel: its run is
  CANCELLED at once, its slot returns, a fresh worker replaces it.

Every server binds 127.0.0.1; no test sends traffic off 127.0.0.0/8 (the addresses of
other networks are only ever checked, never connected: a patched ``socket.connect``
proves it).
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import os
import socket
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests._servers import RunningServer, running_server, wait_until
from wireflow_nb import ExecutionFailedError, Workflow, node_type
from wireflow_nb.catalog import Catalog, builtin_catalog
from wireflow_nb.engine import InputPolicy, LocalEngine
from wireflow_nb.engine.artifacts import ArtifactStore
from wireflow_nb.engine.sources import SourceError, SourceRefused, address_refusal, read_source

KEY = "sk-inputs-0123456789abcdef0123456"


def png(size: tuple[int, int] = (6, 4), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def image_request(value: Any, node_type: str = "input:image", **options: Any) -> dict[str, Any]:
    wf = Workflow("attack")
    wf.add_node(node_type, id="img", image=value, **options)
    return wf.to_request().to_wire()


class Recorder(http.server.ThreadingHTTPServer):
    """A loopback HTTP server that records every request it gets."""

    def __init__(self, host: str, handler: Callable[[http.server.BaseHTTPRequestHandler], None]) -> None:
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append(self.path)
                handler(self)

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__((host, 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def _send_png(handler: http.server.BaseHTTPRequestHandler) -> None:
    body = png((5, 5), "green")
    handler.send_response(200)
    handler.send_header("Content-Type", "image/png")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture
def png_server() -> Iterator[Recorder]:
    server = Recorder("127.0.0.1", _send_png)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("inputs-served"), api_key=KEY) as server:
        yield server


@pytest.fixture(scope="module")
def fetching(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(
        tmp_path_factory.mktemp("inputs-fetching"), api_key=KEY, extra_args=["--allow-url-fetch"]
    ) as server:
        yield server


def execute(server: RunningServer, body: dict[str, Any], workflow_id: str = "attack") -> httpx.Response:
    with server.http() as http:
        return http.post(f"/workflows/{workflow_id}/execute", json=body)


def stored_names(server: RunningServer) -> set[str]:
    folder = server.home / "artifacts"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


# -- 1. the served engine reads no local file --------------------------------------------------


@pytest.mark.parametrize("form", ["path", "file-uri", "file-localhost-uri", "home-path"])
def test_a_local_file_is_refused_the_same_whether_it_exists_or_not(
    served: RunningServer, tmp_path: Path, form: str
) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(png((9, 9), "purple"))
    missing = tmp_path / "missing.png"

    def spelled(path: Path) -> str:
        if form == "file-uri":
            return path.as_uri()
        if form == "file-localhost-uri":
            return "file://localhost" + path.as_posix()
        if form == "home-path":
            return "~/" + os.path.relpath(path, Path.home())
        return str(path)

    answers = {}
    for path in (secret, missing):
        answer = execute(served, image_request(spelled(path)), "local-file")
        assert answer.status_code == 400, answer.text
        body = answer.json()
        [detail] = body["details"]
        assert (detail["nodeId"], detail["field"], detail["code"]) == ("img", "image", "input_refused")
        assert "does not read local files" in detail["message"] and "data: URL" in detail["message"]
        answers[path] = (
            body["error"].replace(spelled(path), "PATH"),
            detail["message"].replace(spelled(path), "PATH"),
        )
    assert answers[secret] == answers[missing]  # nothing tells which paths exist
    assert hashlib.sha256(secret.read_bytes()).hexdigest() + ".png" not in stored_names(served)
    with served.http() as http:
        assert http.get("/workflows/local-file/executions").json() == []  # nothing ran


def test_every_media_input_and_every_way_to_put_a_path_into_it_is_refused(
    served: RunningServer, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(png((7, 7), "orange"))
    with served.http() as http:
        before = http.get("/developer/usage").json()["creditsBalance"]
    # a literal of another node type's image input (a paid one: nothing may be charged)
    paid = image_request(str(secret), "model:fal:image-to-image", prompt="x")
    # trigger data written into the field
    triggered = image_request("{{trigger.picture}}")
    triggered["triggerData"] = {"picture": str(secret)}
    # a batch value
    batched = image_request(data_url(png()))
    batched["iteratorConfigs"] = [
        {"nodeId": "img", "field": "image", "values": [data_url(png()), secret.as_uri()]}
    ]
    # a media dict and a list of them
    as_dict = image_request({"url": secret.as_uri()}, "image:filter")
    as_list = image_request([data_url(png()), {"url": str(secret)}], "image:filter")
    for body in (paid, triggered, batched, as_dict, as_list):
        answer = execute(served, body, "media-inputs")
        assert answer.status_code == 400, answer.text
        assert [(d["nodeId"], d["field"]) for d in answer.json()["details"]] == [("img", "image")]
    with served.http() as http:
        assert http.get("/workflows/media-inputs/executions").json() == []
        assert http.get("/developer/usage").json()["creditsBalance"] == before


def test_a_path_that_reaches_a_node_at_run_time_fails_it_without_reading(
    served: RunningServer, tmp_path: Path
) -> None:
    """triggerData fed by an edge is known only when the node runs: the read layer refuses it."""
    secret = tmp_path / "secret.png"
    secret.write_bytes(png((11, 3), "navy"))
    wf = Workflow("attack")
    wf.add_node("trigger", id="t")
    wf.add_node("image:filter", id="f", filter="grayscale")
    wf.connect("t", "picture", "f", "image")
    body = wf.to_request(trigger_data={"picture": str(secret)}).to_wire()
    with served.client() as client, pytest.raises(ExecutionFailedError) as failed:
        client.run("edge-fed", body, timeout=60)
    poll = failed.value.poll
    assert poll is not None and poll.status == "FAILED"
    error = str(poll.node_run("f").error_message)  # type: ignore[union-attr]
    assert "does not read local files" in error, error
    assert hashlib.sha256(secret.read_bytes()).hexdigest() + ".png" not in stored_names(served)


def test_data_urls_and_the_servers_own_outputs_are_read(served: RunningServer) -> None:
    with served.client() as client:
        [first] = client.run("own-inputs", image_request(data_url(png((3, 5), "teal"))))
        url = first.node_run("img").images[0].url
        assert url.startswith(served.base_url + "/files/")
        [again] = client.run("own-inputs", image_request(url, "image:filter", filter="grayscale"))
        assert again.status == "COMPLETED"
        assert (again.node_run("img").images[0].width, again.node_run("img").images[0].height) == (3, 5)


@pytest.mark.parametrize("device", ["/dev/stdin", "file:///dev/stdin", "/proc/self/fd/0", "/dev/zero"])
def test_device_files_are_refused_and_the_server_keeps_serving(served: RunningServer, device: str) -> None:
    for _ in range(5):  # more than the server's node slots
        answer = execute(served, image_request(device), "devices")
        assert answer.status_code == 400, answer.text
    with served.client() as client:
        [poll] = client.run("devices", image_request(data_url(png())), timeout=60)
    assert poll.status == "COMPLETED"


# -- 1. URLs: off by default; never to the server's own machine or network ----------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_urls_are_not_fetched_by_default(served: RunningServer, png_server: Recorder, host: str) -> None:
    url = png_server.url.replace("127.0.0.1", host) + "cat.png"
    answer = execute(served, image_request(url), "urls")
    assert answer.status_code == 400, answer.text
    [detail] = answer.json()["details"]
    assert (detail["nodeId"], detail["field"]) == ("img", "image")
    assert "does not fetch URLs" in detail["message"] and "--allow-url-fetch" in detail["message"]
    assert png_server.requests == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.0.0.2", "[::ffff:127.0.0.1]", "0.0.0.0"])
def test_with_url_fetch_on_loopback_is_still_refused(
    fetching: RunningServer, png_server: Recorder, host: str
) -> None:
    port = png_server.server_address[1]
    answer = execute(fetching, image_request(f"http://{host}:{port}/cat.png"), "urls")
    assert answer.status_code == 400, answer.text
    [detail] = answer.json()["details"]
    assert (detail["nodeId"], detail["field"]) == ("img", "image")
    assert "own machine or network" in detail["message"]
    assert png_server.requests == []


# -- the address guard, proved without traffic ----------------------------------------------------

REFUSED = [
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "127.0.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "100.64.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
]


@pytest.fixture
def no_connect(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every outgoing connect attempt, refused (the test would fail on any)."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise AssertionError(f"a connect to {address} was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


@pytest.mark.parametrize("address", REFUSED)
def test_the_guard_refuses_private_addresses_before_connecting(
    address: str, no_connect: list[Any], tmp_path: Path
) -> None:
    import ipaddress

    assert address_refusal(ipaddress.ip_address(address)) is not None
    policy = InputPolicy.served(allow_url_fetch=True)
    host = f"[{address}]" if ":" in address else address
    store = ArtifactStore(tmp_path / "store")
    with pytest.raises(SourceRefused, match="own machine or network"):
        read_source(f"http://{host}:8080/latest/meta-data/", store, None, policy)
    assert no_connect == []


def test_a_host_name_is_judged_by_the_addresses_it_resolves_to(
    no_connect: list[Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    resolved: list[str] = []

    def fake_getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        resolved.append(host)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", port)),
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::ffff:169.254.169.254", port, 0, 0)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    store = ArtifactStore(tmp_path / "store")
    with pytest.raises(SourceRefused, match="resolves to"):
        read_source("http://internal.example/x.png", store, None, InputPolicy.served(allow_url_fetch=True))
    assert resolved == ["internal.example"] and no_connect == []


def test_public_addresses_pass_the_guard() -> None:
    import ipaddress

    for address in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"):
        assert address_refusal(ipaddress.ip_address(address)) is None


def test_a_redirect_to_another_address_is_checked_again(tmp_path: Path) -> None:
    """A policy that allows 127.0.0.1 only: a server there redirecting to 127.0.0.2 is
    refused, and 127.0.0.2 never gets a request."""
    target = Recorder("127.0.0.2", _send_png)

    def redirect(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", target.url + "inner.png")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    first = Recorder("127.0.0.1", redirect)
    direct = Recorder("127.0.0.1", _send_png)
    try:
        store = ArtifactStore(tmp_path / "store")
        policy = InputPolicy.served(allow_url_fetch=True, allowed_networks=["127.0.0.1/32"])
        assert read_source(direct.url + "ok.png", store, None, policy) == png((5, 5), "green")  # allowed
        with pytest.raises(SourceRefused, match="redirects"):
            read_source(first.url + "start.png", store, None, policy)
        assert first.requests == ["/start.png"]
        assert target.requests == []
    finally:
        for server in (target, first, direct):
            server.stop()


# -- 2. bounded reads, in process too --------------------------------------------------------------


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[LocalEngine]:
    with LocalEngine(tmp_path / "home", model_latency=0) as eng:
        yield eng


def _special_files(tmp_path: Path) -> Iterator[tuple[str, str]]:
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    yield str(fifo), "not a regular file"
    sock_path = tmp_path / "sock.png"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(sock_path))
    try:
        yield str(sock_path), "not a regular file"
    finally:
        listener.close()
    yield "/dev/zero", "not a regular file"
    yield str(tmp_path), "not a regular file"
    if not stat.S_ISREG(os.fstat(0).st_mode):  # (stdin redirected from a file is a regular file)
        yield "/dev/stdin", "not a regular file"
        yield "file:///dev/stdin", "not a regular file"
        yield "/proc/self/fd/0", "not a regular file"


def test_in_process_devices_fifos_and_sockets_are_refused(engine: LocalEngine, tmp_path: Path) -> None:
    specials = _special_files(tmp_path)
    try:
        for path, expected in specials:
            wf = Workflow("w")
            wf.add_node("input:image", id="img", image=path)
            with pytest.raises(ExecutionFailedError) as failed:
                engine.run("w", wf, timeout=60)
            poll = failed.value.poll
            assert poll is not None
            error = str(poll.node_run("img").error_message)  # type: ignore[union-attr]
            assert expected in error and "input 'image'" in error, (path, error)
    finally:
        specials.close()
    local = tmp_path / "fine.png"
    local.write_bytes(png((4, 4)))
    wf = Workflow("w")
    wf.add_node("input:image", id="img", image=str(local))
    [poll] = engine.run("w", wf, timeout=60)
    assert poll.node_run("img").images[0].width == 4  # a local PNG path still works in process


def test_in_process_reads_are_capped(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    big.write_bytes(png() + b"\0" * 5000)
    store = ArtifactStore(tmp_path / "store")
    small = InputPolicy(max_bytes=1000)
    with pytest.raises(SourceError, match="larger than"):
        read_source(str(big), store, None, small)
    with pytest.raises(SourceError, match="larger than"):
        read_source(data_url(big.read_bytes()), store, None, small)

    def endless(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.end_headers()
        try:
            while True:
                handler.wfile.write(b"\0" * 4096)
        except OSError:
            pass

    def drip(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.end_headers()
        stop = threading.Event()
        while not stop.wait(0.05):
            try:
                handler.wfile.write(b"\0")
                handler.wfile.flush()
            except OSError:
                return

    def drip_headers(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"HTTP/1.0 200 OK\r\nX-Slow: ")
        stop = threading.Event()
        while not stop.wait(0.05):
            try:
                handler.wfile.write(b"a")
                handler.wfile.flush()
            except OSError:
                return

    servers = [Recorder("127.0.0.1", handler) for handler in (endless, drip, drip_headers)]
    flood, slow, slow_headers = servers
    try:
        with pytest.raises(SourceError, match="larger than"):
            read_source(flood.url, store, None, small)
        for server in (slow, slow_headers):
            with pytest.raises(SourceError, match="did not answer within"):
                read_source(server.url, store, None, InputPolicy(timeout=0.5))
    finally:
        for server in servers:
            server.stop()


def test_in_process_urls_still_work(engine: LocalEngine, png_server: Recorder) -> None:
    wf = Workflow("w")
    wf.add_node("input:image", id="img", image=png_server.url + "cat.png")
    [poll] = engine.run("w", wf, timeout=60)
    assert poll.node_run("img").images[0].width == 5


# -- 2. a node stuck in I/O: cancel frees its slot ------------------------------------------------


def test_cancel_frees_slots_held_by_nodes_stuck_in_io(tmp_path: Path) -> None:
    catalog: Catalog = builtin_catalog()
    pipes: list[tuple[int, int]] = []
    entered = threading.Semaphore(0)

    @node_type("attack:stuck", inputs={"i": int}, outputs={"i": int}, catalog=catalog)
    def stuck(i: int) -> int:
        read_end, write_end = os.pipe()
        pipes.append((read_end, write_end))
        entered.release()
        os.read(read_end, 1)  # nobody writes: blocks until the test closes the pipe
        return i

    together = threading.Barrier(2, timeout=30)

    @node_type("attack:after", inputs={"i": int}, outputs={"i": int}, catalog=catalog)
    def after(i: int, ctx: Any) -> int:
        ctx.sleep(0)  # (blocking: always on the thread pool)
        together.wait()  # both slots and two workers serve at once
        return i + 1

    slots = 2  # == together's parties
    engine = LocalEngine(tmp_path / "home", catalog=catalog, model_latency=0, max_concurrency=slots)
    try:
        runs = []
        for i in range(slots + 2):  # more stuck nodes than slots
            wf = Workflow("stuck")
            wf.add_node("attack:stuck", id="s", i=i)
            runs.append(engine.execute("stuck", wf).execution_id)
        for _ in range(slots):
            assert entered.acquire(timeout=30)
        polls = [engine.cancel(execution_id) for execution_id in runs]
        assert [p.status for p in polls] == ["CANCELLED"] * len(runs)
        # each node that got stuck was abandoned (a cancel frees a slot, so a queued run
        # may start, get stuck and be cancelled in turn)
        wait_until(lambda: engine.abandoned_threads == len(pipes) >= slots, message="abandoned == stuck")
        stuck_count = len(pipes)
        assert engine.abandoned_total == stuck_count
        wf = Workflow("after")
        wf.add_node("attack:after", id="a", i=1)
        wf.add_node("attack:after", id="b", i=2)
        for _ in range(3):
            [poll] = engine.run("after", wf, timeout=60)
            assert poll.status == "COMPLETED"
            assert [poll.node_run(n).output for n in "ab"] == [{"i": 2}, {"i": 3}]  # type: ignore[union-attr]
    finally:
        for _, write_end in pipes:
            os.close(write_end)
        wait_until(lambda: engine.abandoned_threads == 0, message="the stuck threads to return")
        for read_end, _ in pipes:
            os.close(read_end)
        engine.close()
    assert engine.abandoned_total == len(pipes)
