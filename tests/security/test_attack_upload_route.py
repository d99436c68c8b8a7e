"""The one route that takes a body that is not JSON, attacked: ``POST /media/upload``
takes a multipart form (what a browser form can send without a preflight), so it must be
no way around the JSON-only rule or the Origin check."""

from __future__ import annotations

import httpx

from tests._servers import RunningServer
from tests.security._attack import history, open_home_server, tiny_workflow

__all__ = ["open_home_server"]

PNG_1x1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8ffff3f0005fe02fea7d6a3a30000000049454e44ae426082"
)


def _form(server: RunningServer, path: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}{path}", files={"file": ("x.png", PNG_1x1, "image/png")}, headers=headers, timeout=30
    )


def test_a_form_is_taken_by_the_upload_route_only(open_home_server: RunningServer) -> None:
    assert _form(open_home_server, "/media/upload").status_code == 201
    # the same form posted at execute starts nothing
    refused = _form(open_home_server, "/workflows/form-attack/execute")
    assert refused.status_code == 415, refused.text
    assert "application/json" in refused.json()["error"]
    assert history(open_home_server, "form-attack") == []


def test_a_cross_site_form_cannot_upload(open_home_server: RunningServer) -> None:
    answer = _form(open_home_server, "/media/upload", Origin="https://evil.example")
    assert answer.status_code == 403, answer.text


def test_text_plain_to_the_upload_route_is_refused(open_home_server: RunningServer) -> None:
    answer = httpx.post(
        f"{open_home_server.base_url}/media/upload",
        content=b"--x\r\n",
        headers={"Content-Type": "text/plain"},
        timeout=30,
    )
    assert answer.status_code == 415
    # and JSON still runs where JSON is expected
    ok = httpx.post(f"{open_home_server.base_url}/workflows/json-ok/execute", json=tiny_workflow(), timeout=30)
    assert ok.status_code == 201, ok.text
