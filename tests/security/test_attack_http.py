"""Attacks on the HTTP layer of a real ``wireflow-nb serve`` (issue 10, point 3): DNS
rebinding (a foreign ``Host``) and cross-site pages (a foreign ``Origin``, a ``text/plain``
"simple request" that needs no preflight) start nothing (400 / 403 / 415), on every
route; the flags that let a name or an origin in do only that.

Every attack is sent as an attacker would (forged headers) to 127.0.0.1 only.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests._servers import RunningServer, running_server
from tests.security._attack import history, open_home_server, tiny_workflow

__all__ = ["open_home_server"]


@pytest.fixture
def server(open_home_server: RunningServer) -> RunningServer:
    return open_home_server


APP_ORIGIN = "https://app.example"
EVIL = "evil.example"


@pytest.fixture(scope="module")
def open_to_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Started with ``--allowed-host wireflow.lan --allow-origin https://app.example``."""
    args = ["--allowed-host", "wireflow.lan", "--allow-origin", APP_ORIGIN]
    with running_server(tmp_path_factory.mktemp("attack-cors"), api_key=None, extra_args=args) as running:
        yield running


# -- point 3: Host, Origin, Content-Type -------------------------------------------------

ROUTES = [
    ("POST", "/workflows/rebind/execute"),
    ("GET", "/workflows/executions/exec_x/poll"),
    ("POST", "/workflows/executions/exec_x/cancel"),
    ("GET", "/workflows/executions/exec_x"),
    ("GET", "/workflows/rebind/executions"),
    ("GET", "/developer/usage"),
    ("GET", "/nodes"),
    ("GET", "/openapi.json"),
    ("GET", "/files/" + "a" * 64 + ".png"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("host", [EVIL, f"{EVIL}:{{port}}", "127.0.0.1.nip.io", "attacker.localhost"])
def test_a_rebound_host_is_refused_on_every_route(
    server: RunningServer, method: str, path: str, host: str
) -> None:
    forged = host.format(port=server.port)
    body = json.dumps(tiny_workflow()) if method == "POST" else None
    answer = httpx.request(
        method,
        server.base_url + path,
        headers={"Host": forged, "Content-Type": "application/json"},
        content=body,
        timeout=30,
    )
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert forged in error["error"] and "--allowed-host" in error["error"]
    assert error["details"][0]["field"] == "Host"
    assert answer.headers["x-request-id"]
    assert history(server, "rebind") == []  # nothing started


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.0.0.1:{port}", "localhost:{port}", "LOCALHOST", "localhost.:{port}", "[::1]:{port}"],
)
def test_loopback_names_are_served(server: RunningServer, host: str) -> None:
    answer = httpx.get(
        f"{server.base_url}/developer/usage", headers={"Host": host.format(port=server.port)}, timeout=30
    )
    assert answer.status_code == 200, answer.text


def _simple_post(server: RunningServer, headers: dict[str, str], workflow_id: str) -> httpx.Response:
    """What a web page's ``fetch(url, {method: "POST", mode: "no-cors", body})`` sends."""
    return httpx.post(
        f"{server.base_url}/workflows/{workflow_id}/execute",
        content=json.dumps(tiny_workflow()),
        headers=headers,
        timeout=30,
    )


@pytest.mark.parametrize(
    "origin",
    [f"https://{EVIL}", f"http://{EVIL}:{{port}}", "null", "http://127.0.0.1.evil.example", "file://"],
)
@pytest.mark.parametrize("content_type", ["text/plain", "application/json"])
def test_a_cross_site_page_starts_nothing(server: RunningServer, origin: str, content_type: str) -> None:
    origin = origin.format(port=server.port)
    answer = _simple_post(server, {"Origin": origin, "Content-Type": content_type}, "csrf")
    assert answer.status_code == 403, answer.text
    error = answer.json()["error"]
    assert "Cross-site request refused" in error and "--allow-origin" in error
    assert "access-control-allow-origin" not in answer.headers  # CORS is off
    # nothing else a page can do gets through either: cancel, reads
    cancel = httpx.post(
        f"{server.base_url}/workflows/executions/x/cancel", headers={"Origin": origin}, timeout=30
    )
    assert cancel.status_code == 403
    assert history(server, "csrf") == []


def test_a_text_plain_body_is_unsupported_without_origin_too(server: RunningServer) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x", None):
        headers = {"Content-Type": content_type} if content_type else {}
        answer = _simple_post(server, headers, "plain")
        assert answer.status_code == 415, answer.text
        assert "application/json" in answer.json()["error"]
    assert history(server, "plain") == []


def test_a_page_of_the_server_itself_and_the_client_are_served(server: RunningServer) -> None:
    same = _simple_post(
        server,
        {"Origin": f"http://127.0.0.1:{server.port}", "Content-Type": "application/json; charset=utf-8"},
        "same",
    )
    assert same.status_code == 201, same.text
    assert "access-control-allow-origin" not in same.headers
    with server.client(poll_initial=0.05) as client:
        [result] = client.run("same", tiny_workflow("from the client"))
        assert result.status == "COMPLETED"
        [run_id] = client.execute("same", tiny_workflow("cancelled")).execution_ids
        client.cancel(run_id)  # a POST without a body needs no Content-Type


def test_allowed_host_and_origin_flags(open_to_app: RunningServer) -> None:
    served = open_to_app
    usage = f"{served.base_url}/developer/usage"
    assert httpx.get(usage, headers={"Host": f"wireflow.lan:{served.port}"}, timeout=30).status_code == 200
    assert httpx.get(usage, headers={"Host": EVIL}, timeout=30).status_code == 400
    # the allowed origin: a preflight without a key, then the request, with CORS headers
    preflight = httpx.options(
        f"{served.base_url}/workflows/cors/execute",
        headers={
            "Origin": APP_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
        timeout=30,
    )
    assert preflight.status_code == 204, preflight.text
    assert preflight.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "Content-Type" in preflight.headers["access-control-allow-headers"]
    allowed = _simple_post(served, {"Origin": APP_ORIGIN, "Content-Type": "application/json"}, "cors")
    assert allowed.status_code == 201, allowed.text
    assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "X-Request-Id" in allowed.headers["access-control-expose-headers"]
    # any other origin still gets nothing
    other = _simple_post(served, {"Origin": f"https://{EVIL}", "Content-Type": "application/json"}, "cors")
    assert other.status_code == 403
    assert "access-control-allow-origin" not in other.headers
    assert len(history(served, "cors")) == 1


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--allow-origin", "not an origin"], "not an origin"),
        (["--allowed-host", "[::1"], "not a host name"),
        (["--header-timeout", "0"], "header timeout"),
    ],
)
def test_bad_flags_are_usage_errors(tmp_path: Path, args: list[str], named: str) -> None:
    from wireflow_nb.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = main(["serve", "--port", "0", "--home", str(tmp_path), *args], stdout=out, stderr=err)
    assert code != 0
    assert named in err.getvalue()
    assert out.getvalue() == ""  # refused before anything was bound or printed
