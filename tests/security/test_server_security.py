"""The server's security properties, each against a real ``wireflow-nb serve``:

- it binds 127.0.0.1 by default, and refuses to serve another address without a key;
- it refuses every API request without the right key (the compare is constant time:
  ``hmac.compare_digest`` decides), and never echoes the key it was shown;
- ``/files/`` serves only files of the artifact store (path traversal attempts: 404);
- rate limits are per key (429 + ``Retry-After``), and wrong keys cannot use up the
  budget of the right one;
- ``Idempotency-Key`` is scoped per API key: one key cannot replay another's response,
  in memory and after a restart on the same home.
"""

from __future__ import annotations

import ast
import http.client
import inspect
import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._servers import RunningServer, running_server, serve_command, wait_until
from wireflow_nb import Workflow
from wireflow_nb.server import auth as auth_module

KEY = "sk-security-0123456789abcdef0123"


def tiny_workflow(prompt: str = "a fox") -> dict[str, Any]:
    wf = Workflow("sec")
    wf.add_node("input:text", id="prompt", text=prompt)
    wf.add_node("model:fal:text-to-image", id="image", seed=1, width=64, height=64)
    wf.connect("prompt", "text", "image", "prompt")
    return wf.to_request().to_wire()


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("sec-keyed"), api_key=KEY) as server:
        yield server


# -- binding ---------------------------------------------------------------------------------


def _listening_addresses(port: int) -> list[str]:
    """Local addresses listening on ``port``, from /proc/net/tcp{,6} (no traffic sent)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state = fields[1], fields[3]
            address, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:
                found.append(address)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
def test_serve_binds_loopback_by_default(tmp_path: Path) -> None:
    from wireflow_nb.cli import build_parser

    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"
    process = subprocess.Popen(
        [*serve_command(), "serve", "--port", "0", "--home", str(tmp_path / "home")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1", "HOME": str(tmp_path)},
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert "http://127.0.0.1:" in banner, banner
        port = int(banner.split("http://127.0.0.1:", 1)[1].split("/", 1)[0])
        addresses = wait_until(lambda: _listening_addresses(port), timeout=10, message="the listening socket")
        assert addresses == ["0100007F"], addresses  # 127.0.0.1 only, no 0.0.0.0, no ::
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_serve_refuses_a_public_address_without_a_key(tmp_path: Path, host: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [*serve_command(), "serve", "--host", host, "--port", "0", "--home", str(tmp_path / "h")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode != 0
    assert "without an API key" in done.stderr + done.stdout
    assert "--api-key" in done.stderr + done.stdout


# -- authentication --------------------------------------------------------------------------

# every route of the API with a method that needs the key (the OpenAPI document and the
# output files are public by design)
PROTECTED = [
    ("POST", "/workflows/wf/execute"),
    ("GET", "/workflows/executions/exec_x/poll"),
    ("POST", "/workflows/executions/exec_x/cancel"),
    ("GET", "/workflows/executions/exec_x"),
    ("GET", "/workflows/wf/executions"),
    ("GET", "/developer/usage"),
    ("GET", "/nodes"),
    ("GET", "/workflows"),
    ("POST", "/workflows"),
    ("GET", "/workflows/wf"),
    ("PUT", "/workflows/wf"),
    ("DELETE", "/workflows/wf"),
    ("GET", "/workflows/wf/run"),
    ("POST", "/workflows/wf/run"),
    ("POST", "/workflows/wf/estimate"),
    ("POST", "/workflows/wf/webhooks"),
    ("POST", "/media/upload"),
]


def test_every_documented_route_is_protected_or_public_by_design(keyed: RunningServer) -> None:
    document = httpx.get(f"{keyed.base_url}/openapi.json", timeout=10).json()
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    # a webhook trigger's unguessable id is its credential (no key, as hosted)
    public = {("GET", "/openapi.json"), ("GET", "/files/{name}"), ("POST", "/workflow/{webhookId}/trigger")}
    tested = {
        (method, re.sub(r"/wf(/|$)", r"/{id}\1", path).replace("exec_x", "{executionId}"))
        for method, path in PROTECTED
    }
    assert documented - public == tested


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        'Bearer  " "',
        f"Basic {KEY}",
        f"Bearer {KEY[:-1]}",
        f"Bearer {KEY}x",
        f"Bearer {KEY.upper()}",
        "Bearer sk-someone-elses-key-99999999",
    ],
    ids=["none", "empty", "no-token", "blank-token", "basic", "prefix", "longer", "case", "other"],
)
def test_requests_without_the_key_are_refused(
    keyed: RunningServer, method: str, path: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    body = json.dumps(tiny_workflow()) if method == "POST" else None
    answer = httpx.request(
        method,
        keyed.base_url + path,
        headers={**headers, "Content-Type": "application/json"},
        content=body,
        timeout=10,
    )
    assert answer.status_code == 401, answer.text
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.headers["x-request-id"]
    text = answer.text
    assert "error" in answer.json()
    if authorization:
        token = authorization.partition(" ")[2].strip()
        if len(token) >= 4:
            assert token not in text  # a wrong key is never echoed back
    assert KEY not in text


def test_right_key_is_accepted_and_nothing_ran_for_refused_requests(keyed: RunningServer) -> None:
    with keyed.http() as http:
        assert http.get("/developer/usage").status_code == 200
        assert http.get("/workflows/wf/executions").json() == []  # the refused POSTs started nothing


def test_the_key_compare_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """``hmac.compare_digest`` makes the decision (a spy that says "no" locks the right
    key out), and no ``==`` / ``!=`` ever touches the token or the key."""
    from starlette.testclient import TestClient

    from wireflow_nb.engine import LocalEngine
    from wireflow_nb.server import create_app

    source = inspect.getsource(auth_module)
    assert "hmac.compare_digest" in source
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
            names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
                n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
            }
            assert not names & {"token", "_key", "key", "api_key", "authorization"}, ast.unparse(node)

    calls: list[tuple[bytes, bytes]] = []
    verdict = {"value": True}
    real = auth_module.hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return bool(real(a, b)) and verdict["value"]

    monkeypatch.setattr(auth_module.hmac, "compare_digest", spy)
    with LocalEngine(":memory:", model_latency=0) as engine:
        app = create_app(engine, api_key=KEY)
        with TestClient(app, base_url="http://127.0.0.1") as client:
            ok = client.get("/api/v1/developer/usage", headers={"Authorization": f"Bearer {KEY}"})
            assert ok.status_code == 200
            assert calls == [(KEY.encode(), KEY.encode())]
            verdict["value"] = False
            refused = client.get("/api/v1/developer/usage", headers={"Authorization": f"Bearer {KEY}"})
            assert refused.status_code == 401


# -- files: path traversal -----------------------------------------------------------------


def _raw_get(server: RunningServer, raw_path: str) -> tuple[int, bytes]:
    """GET with the path sent byte for byte (no client-side normalization of ``..``)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest("GET", raw_path, skip_accept_encoding=True)
        connection.putheader("Authorization", f"Bearer {server.api_key}")
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_files_route_serves_only_the_artifact_store(keyed: RunningServer) -> None:
    with keyed.client(poll_initial=0.05) as client:
        [result] = client.run("files", tiny_workflow("files"))
        [image] = result.node_run("image").images  # type: ignore[union-attr]
    name = image.url.rsplit("/", 1)[1]
    status, body = _raw_get(keyed, f"/api/v1/files/{name}")
    assert status == 200 and body.startswith(b"\x89PNG")  # the control: a real artifact

    db = "wireflow_nb.sqlite3"
    home = keyed.home
    assert (home / db).is_file()
    secret = home / "artifacts" / ".." / "not-an-artifact.txt"
    secret.write_text("secret outside the store")
    (home / "artifacts" / "notes.txt").write_text("a file in the store folder that is no artifact")
    attempts = [
        f"/api/v1/files/../{db}",
        f"/api/v1/files/..%2F{db}",
        f"/api/v1/files/..%2f..%2f{db}",
        f"/api/v1/files/%2e%2e%2F{db}",
        f"/api/v1/files/%2E%2E/{db}",
        f"/api/v1/files/..%5C{db}",
        f"/api/v1/files/....//{db}",
        f"/api/v1/files/{name}%2F..%2F..%2F{db}",
        f"/api/v1/files/{name}/../../{db}",
        "/api/v1/files/..%2Fnot-an-artifact.txt",
        "/api/v1/files/notes.txt",
        "/api/v1/files/%2Fetc%2Fpasswd",
        "/api/v1/files//etc/passwd",
        "/api/v1/files/file:%2F%2F%2Fetc%2Fpasswd",
        f"/api/v1/files/{home}/{db}".replace("/", "%2F").replace(
            "%2Fapi%2Fv1%2Ffiles%2F", "/api/v1/files/", 1
        ),
        f"/api/v1/files/{name[:-4]}.sqlite3",
        f"/api/v1/files/{name}%00.txt",
        f"/api/v1/files/{name.upper()}",
        "/api/v1/files/" + "..%2F" * 12 + "etc%2Fpasswd",
        f"/api/v1/files/wireflow-artifact:..%2F{db}",
    ]
    results = {path: _raw_get(keyed, path) for path in attempts}
    for path, (status, body) in results.items():
        assert status in (400, 404), (path, status)
        assert not body.startswith(b"SQLite format 3"), path
        assert b"secret outside the store" not in body, path
        assert b"root:" not in body, path
        assert b"no artifact" not in body, path


# -- rate limits ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited_open(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """No server key (loopback only): each bearer token shown is its own caller."""
    with running_server(tmp_path_factory.mktemp("sec-limited"), api_key=None, rate_limit=5) as server:
        yield server


@pytest.fixture(scope="module")
def limited_keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("sec-limited-key"), api_key=KEY, rate_limit=5) as server:
        yield server


def test_rate_limit_is_per_key_with_retry_after(limited_open: RunningServer) -> None:
    url = f"{limited_open.base_url}/developer/usage"
    a = {"Authorization": "Bearer sk-user-a-000000000000"}
    b = {"Authorization": "Bearer sk-user-b-000000000000"}
    answers = [httpx.get(url, headers=a, timeout=10) for _ in range(6)]
    assert [r.status_code for r in answers] == [200] * 5 + [429]
    assert [int(r.headers["x-ratelimit-remaining"]) for r in answers] == [4, 3, 2, 1, 0, 0]
    refused = answers[-1]
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 60
    body = refused.json()
    assert "Rate limit exceeded" in body["error"]
    assert abs(body["retryAfter"] - (time.time() + retry_after)) <= 2
    assert int(refused.headers["x-ratelimit-reset"]) == body["retryAfter"]
    # another key has its own budget
    assert httpx.get(url, headers=b, timeout=10).status_code == 200
    # and the client reports it as a typed error carrying the wait
    from wireflow_nb import WireflowClient
    from wireflow_nb._exceptions import RateLimitError

    with (
        WireflowClient(
            api_key="sk-user-a-000000000000", base_url=limited_open.base_url, max_retries=0
        ) as client,
        pytest.raises(RateLimitError) as caught,
    ):
        client.credits_balance()
    assert caught.value.retry_after is not None and 1 <= caught.value.retry_after <= 60
    assert "retry in" in str(caught.value)


def test_wrong_keys_cannot_spend_the_right_keys_budget(limited_keyed: RunningServer) -> None:
    url = f"{limited_keyed.base_url}/developer/usage"
    wrong = [httpx.get(url, headers={"Authorization": f"Bearer wrong-{i}"}, timeout=10) for i in range(8)]
    assert {r.status_code for r in wrong} <= {401, 429}
    assert wrong[-1].status_code == 429  # the refused callers are limited too
    right = [httpx.get(url, headers=limited_keyed.headers, timeout=10) for _ in range(6)]
    assert [r.status_code for r in right] == [200] * 5 + [429]


# -- idempotency scope -----------------------------------------------------------------------


def _execute(server: RunningServer, token: str | None, key: str, body: dict[str, Any]) -> httpx.Response:
    headers = {"Idempotency-Key": key}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(f"{server.base_url}/workflows/idem/execute", json=body, headers=headers, timeout=30)


def _run_id(answer: httpx.Response) -> str:
    assert answer.status_code == 201, answer.text
    return str(answer.json()["executionRuns"][0]["id"])


def test_idempotency_keys_are_scoped_per_api_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    alice, bob, carol = "sk-alice-11111111", "sk-bob-22222222", "sk-carol-33333333"
    body, other = tiny_workflow("same body"), tiny_workflow("another body")
    with running_server(home, api_key=None) as server:
        first = _run_id(_execute(server, alice, "shared-key", body))
        replay = _execute(server, alice, "shared-key", body)
        assert _run_id(replay) == first and replay.headers.get("idempotent-replayed") == "true"
        # the same Idempotency-Key under another API key is another request entirely
        bobs = _execute(server, bob, "shared-key", body)
        assert _run_id(bobs) != first and "idempotent-replayed" not in bobs.headers
        anonymous = _run_id(_execute(server, None, "shared-key", body))
        assert anonymous not in (first, _run_id(bobs))
        # and it is not "reused with another body" for Bob just because Alice used it
        assert _run_id(_execute(server, carol, "key-2", other))
        assert _execute(server, alice, "key-2", body).status_code == 201
        # within one API key, another body under the same key is refused
        assert _execute(server, bob, "shared-key", other).status_code == 422
        bob_id = _run_id(bobs)
    with running_server(home, api_key=None) as restarted:  # the engine's stored keys
        assert _run_id(_execute(restarted, bob, "shared-key", body)) == bob_id
        assert _run_id(_execute(restarted, alice, "shared-key", body)) == first
        assert _run_id(_execute(restarted, carol, "shared-key", body)) not in (first, bob_id, anonymous)
        with restarted.http() as http:
            rows = http.get("/workflows/idem/executions", params={"limit": 100}).json()
    assert len(rows) == 6  # alice, bob, anonymous, carol key-2, alice key-2, carol after restart


def test_server_log_never_shows_the_key(keyed: RunningServer) -> None:
    assert KEY not in keyed.log
    assert "fingerprint" in keyed.log  # the banner names the key by its hash only
