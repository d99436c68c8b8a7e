"""What the attack tests of ``tests/security/test_attack_*.py`` share: a small workflow,
a server without a key (the riskiest setup: loopback clients need nothing), and a look at
a workflow's history (what an attack managed to start)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests._servers import RunningServer, running_server
from wireflow_nb import Workflow

__all__ = ["history", "open_home_server", "tiny_workflow"]


def tiny_workflow(prompt: str = "a fox") -> dict[str, Any]:
    wf = Workflow("attack")
    wf.add_node("input:text", id="prompt", text=prompt)
    wf.add_node("model:fal:text-to-image", id="image", seed=1, width=64, height=64)
    wf.connect("prompt", "text", "image", "prompt")
    return wf.to_request().to_wire()


def history(server: RunningServer, workflow_id: str) -> list[Any]:
    """The executions of ``workflow_id`` (a plain request: it must answer 200)."""
    answer = httpx.get(f"{server.base_url}/workflows/{workflow_id}/executions?limit=100", timeout=30)
    assert answer.status_code == 200, answer.text
    return list(answer.json())


@pytest.fixture(scope="module")
def open_home_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server without a key, default hosts, its own home (module scope)."""
    with running_server(tmp_path_factory.mktemp("attack"), api_key=None) as running:
        yield running
