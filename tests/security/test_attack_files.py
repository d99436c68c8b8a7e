"""The files route of a real ``wireflow-nb serve`` against what is planted in the
artifact store (issue 10, point 8): it serves only regular files of the store; a symlink
(to a secret outside, to the database, to a directory, to a device), a directory, a FIFO
or a device node is a 404 at once (nothing hangs, nothing is read).
"""

from __future__ import annotations

import http.client
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from tests._servers import RunningServer
from tests.security._attack import open_home_server, tiny_workflow

__all__ = ["open_home_server"]


@pytest.fixture
def server(open_home_server: RunningServer) -> RunningServer:
    return open_home_server


def _raw(server: RunningServer, method: str, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.read(1 << 20)
    finally:
        connection.close()


def test_nothing_but_regular_files_of_the_store_is_served(server: RunningServer, tmp_path: Path) -> None:
    with server.client(poll_initial=0.05) as client:
        [result] = client.run("files", tiny_workflow("planted"))
        [image] = result.node_run("image").images  # type: ignore[union-attr]
    real = image.url.rsplit("/", 1)[1]
    assert _raw(server, "GET", f"/api/v1/files/{real}")[0] == 200  # the control

    store = server.home / "artifacts"
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET OUTSIDE THE STORE")
    planted: dict[str, Path] = {}

    def plant(label: str, make: Any) -> None:
        name = f"{len(planted):064x}.png"
        make(store / name)
        planted[label] = store / name

    plant("symlink to a file outside", lambda p: p.symlink_to(secret))
    plant("symlink to the database", lambda p: p.symlink_to(server.home / "wireflow_nb.sqlite3"))
    plant("relative symlink out", lambda p: p.symlink_to(Path("..") / "wireflow_nb.sqlite3"))
    plant("symlink to an artifact", lambda p: p.symlink_to(store / real))
    plant("symlink to a directory", lambda p: p.symlink_to(tmp_path, target_is_directory=True))
    plant("symlink to /dev/zero", lambda p: p.symlink_to("/dev/zero"))
    plant("directory", lambda p: p.mkdir())
    plant("fifo", lambda p: os.mkfifo(p))

    def device(path: Path) -> None:
        try:  # /dev/zero's numbers: a server that served it would stream zeros for ever
            os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 5))
        except PermissionError:  # not root: the same device through a link
            path.symlink_to("/dev/zero")

    plant("device node", device)
    for label, path in planted.items():
        for method in ("GET", "HEAD"):
            status, body = _raw(server, method, f"/api/v1/files/{path.name}")
            assert status == 404, (label, method, status)
            assert b"SECRET" not in body and not body.startswith(b"SQLite") and b"\x00" * 64 not in body, (
                label
            )
    assert _raw(server, "GET", f"/api/v1/files/{real}")[0] == 200  # still served
