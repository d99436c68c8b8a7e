"""The spec's own examples against ``wireflow-nb serve`` with only the host changed: its
curl commands (run with ``curl`` when installed, else the same requests with httpx) and
its JavaScript ``pollExecution`` (run with ``node`` when installed, and reproduced in
Python step for step)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._servers import RunningServer, running_server, wait_until

HOSTED = "https://www.wireflow.ai"
SPEC_KEY = "sk-your-api-key"

# The commands exactly as executions-api.md writes them (a test below checks they still
# match the spec when the spec is at hand).
CURL_EXECUTE = """\
curl -X POST https://www.wireflow.ai/api/v1/workflows/cm1abc123/execute \\
  -H "Authorization: Bearer sk-your-api-key" \\
  -H "Content-Type: application/json" \\
  -d '{
    "nodes": [
      {
        "id": "node-1",
        "type": "model",
        "position": { "x": 0, "y": 0 },
        "data": {
          "label": "Text to Image",
          "nodeType": "model:fal:text-to-image",
          "category": "model",
          "prompt": "A sunset over mountains"
        }
      }
    ],
    "edges": []
  }'"""

CURL_POLL = """\
curl https://www.wireflow.ai/api/v1/workflows/executions/exec_456/poll \\
  -H "Authorization: Bearer sk-your-api-key\""""

CURL_HISTORY = """\
curl "https://www.wireflow.ai/api/v1/workflows/cm1abc123/executions?limit=5" \\
  -H "Authorization: Bearer sk-your-api-key\""""

CURL_IDEMPOTENT = """\
curl -X POST https://www.wireflow.ai/api/v1/workflows/cm1abc123/execute \\
  -H "Authorization: Bearer sk-your-api-key" \\
  -H "Idempotency-Key: unique-request-id-123" \\
  -H "Content-Type: application/json" \\
  -d '{ "nodes": [...], "edges": [...] }'"""

POLL_EXECUTION_JS = """\
async function pollExecution(executionId, apiKey) {
  const baseUrl = 'https://www.wireflow.ai/api/v1';
  let delay = 1000; // Start at 1 second
  while (true) {
    const res = await fetch(
      `${baseUrl}/workflows/executions/${executionId}/poll`,
      { headers: { Authorization: `Bearer ${apiKey}` } }
    );
    const data = await res.json();
    if (data.status === 'COMPLETED') return data;
    if (data.status === 'FAILED') throw new Error(data.error);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 1.5, 10000); // Cap at 10 seconds
  }
}"""


def _spec_blocks(spec_dir: Path, lang: str) -> list[str]:
    text = (spec_dir / "executions-api.md").read_text(encoding="utf-8")
    return [block.strip() for block in re.findall(rf"```{lang}\n(.*?)```", text, re.S)]


def test_the_embedded_examples_are_the_specs(spec_dir: Path) -> None:
    assert _spec_blocks(spec_dir, "bash") == [CURL_EXECUTE, CURL_POLL, CURL_HISTORY, CURL_IDEMPOTENT]
    assert _spec_blocks(spec_dir, "js") == [POLL_EXECUTION_JS]


# -- running a curl command --------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any = field(default=None)


def localize(command: str, server: RunningServer) -> str:
    """The command with only the host changed (and the key of this server)."""
    return command.replace(HOSTED, server.root_url).replace(SPEC_KEY, server.api_key or SPEC_KEY)


def parse_curl(command: str) -> tuple[str, str, dict[str, str], str | None]:
    argv = shlex.split(command.replace("\\\n", " "))
    assert argv[0] == "curl"
    method, url, headers, data = "GET", "", {}, None
    args = iter(argv[1:])
    for arg in args:
        if arg == "-X":
            method = next(args)
        elif arg == "-H":
            name, _, value = next(args).partition(":")
            headers[name.strip()] = value.strip()
        elif arg == "-d":
            data = next(args)
            if method == "GET":
                method = "POST"
        else:
            url = arg
    return method, url, headers, data


CURL = shutil.which("curl")


def run_curl(command: str, *, with_curl: bool = CURL is not None) -> Answer:
    """Run the command with curl (or, without curl, send the very same request)."""
    curl = CURL
    if with_curl and curl is not None:
        argv = shlex.split(command.replace("\\\n", " "))
        done = subprocess.run(
            [curl, "-sS", "-D", "-", *argv[1:]], capture_output=True, timeout=60, check=True
        )
        # bytes, not text: universal newlines would hide the \r\n\r\n after the headers
        head, _, body = done.stdout.decode("utf-8").partition("\r\n\r\n")
        status_line, *header_lines = head.split("\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return Answer(int(status_line.split()[1]), headers, json.loads(body))
    method, url, headers, data = parse_curl(command)
    response = httpx.request(method, url, headers=headers, content=data)
    return Answer(response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.json())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    # 1.5 s per model: the reference polling sees RUNNING, then COMPLETED
    with running_server(
        tmp_path_factory.mktemp("spec-home"), api_key="sk-local-spec-key-42", model_latency=1.5
    ) as s:
        yield s


def test_parse_curl_reads_the_spec_commands() -> None:
    method, url, headers, data = parse_curl(CURL_EXECUTE)
    assert (method, url) == ("POST", f"{HOSTED}/api/v1/workflows/cm1abc123/execute")
    assert headers == {"Authorization": f"Bearer {SPEC_KEY}", "Content-Type": "application/json"}
    assert json.loads(data or "")["nodes"][0]["id"] == "node-1"
    assert parse_curl(CURL_HISTORY)[:2] == ("GET", f"{HOSTED}/api/v1/workflows/cm1abc123/executions?limit=5")


@pytest.mark.parametrize("with_curl", [True, False], ids=["curl", "httpx"])
def test_the_specs_curl_commands(server: RunningServer, with_curl: bool) -> None:
    if with_curl and CURL is None:
        pytest.skip("curl is not installed (the httpx variant sends the same requests)")

    def curl(command: str) -> Answer:
        return run_curl(command, with_curl=with_curl)

    started = curl(localize(CURL_EXECUTE, server))
    assert started.status == 201
    assert started.headers["x-request-id"].startswith("req_")
    assert started.body["workflowId"] == "cm1abc123"
    execution_id = started.body["executionRuns"][0]["id"]
    assert started.headers["location"] == f"{server.base_url}/workflows/executions/{execution_id}/poll"

    poll_command = localize(CURL_POLL, server).replace("exec_456", execution_id)
    first = curl(poll_command)
    assert first.status == 200
    assert first.body["status"] in ("PENDING", "RUNNING", "COMPLETED")
    assert first.body["nodeResults"]["nodeRuns"][0]["nodeId"] == "node-1"

    def completed() -> Answer | None:
        answer = curl(poll_command)
        return answer if answer.body["status"] == "COMPLETED" else None

    done: Answer = wait_until(completed, timeout=60, interval=0.1, message="the execution to complete")
    image = done.body["nodeResults"]["nodeRuns"][0]["output"]["images"][0]
    assert image["url"].startswith(f"{server.base_url}/files/")

    history = curl(localize(CURL_HISTORY, server))
    assert history.status == 200
    assert execution_id in [row["id"] for row in history.body]
    assert len(history.body) <= 5

    # the idempotency example's body is elided in the spec ("[...]"): sent as written it
    # is refused with a 400 that says why; with the first example's body it replays
    as_written = curl(localize(CURL_IDEMPOTENT, server))
    assert as_written.status == 400 and as_written.body["details"]
    body = json.loads(parse_curl(CURL_EXECUTE)[3] or "")
    full = localize(CURL_IDEMPOTENT, server).replace('{ "nodes": [...], "edges": [...] }', json.dumps(body))
    once, twice = curl(full), curl(full)
    assert once.status == twice.status == 201
    assert once.body == twice.body
    assert once.headers["location"] == twice.headers["location"]


# -- pollExecution ---------------------------------------------------------------------------


def _start(server: RunningServer, body: dict[str, Any]) -> str:
    response = httpx.post(f"{server.base_url}/workflows/cm1abc123/execute", json=body, headers=server.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["executionRuns"][0]["id"])


def _spec_request() -> dict[str, Any]:
    """The spec's request with a fresh prompt (an unchanged one would come from cache)."""
    body: dict[str, Any] = json.loads(parse_curl(CURL_EXECUTE)[3] or "")
    body["nodes"][0]["data"]["prompt"] += f" #{uuid.uuid4().hex[:8]}"
    return body


def _failing_request() -> dict[str, Any]:
    # valid graph, fails when it runs: the data: URL holds no image (a server reads no
    # local file, so a missing path would be a 400, not a failed run)
    return {
        "nodes": [
            {
                "id": "node-1",
                "type": "input",
                "position": {"x": 0, "y": 0},
                "data": {"label": "Image", "nodeType": "input:image", "image": "data:text/plain,no-picture"},
            }
        ],
        "edges": [],
    }


class Failed(Exception):
    pass


def poll_execution(
    execution_id: str,
    api_key: str,
    *,
    base_url: str,
    get: Any = httpx.get,
    sleep: Any = time.sleep,
    trace: list[float] | None = None,
) -> dict[str, Any]:
    """``pollExecution`` of the spec, line for line (``get`` is ``fetch``)."""
    delay = 1000  # Start at 1 second
    while True:
        res = get(
            f"{base_url}/workflows/executions/{execution_id}/poll",
            headers={"Authorization": f"Bearer {api_key}"},
        )
        data: dict[str, Any] = res.json()
        if data["status"] == "COMPLETED":
            return data
        if data["status"] == "FAILED":
            raise Failed(data["error"])
        if trace is not None:
            trace.append(delay)
        sleep(delay / 1000)
        delay = min(delay * 1.5, 10000)  # Cap at 10 seconds


def test_poll_execution_reproduced_completes(server: RunningServer) -> None:
    assert server.api_key
    execution_id = _start(server, _spec_request())
    delays: list[float] = []
    data = poll_execution(execution_id, server.api_key, base_url=server.base_url, trace=delays)
    assert data["status"] == "COMPLETED"
    assert data["nodeResults"]["nodeRuns"][0]["output"]["images"][0]["url"].startswith("http://127.0.0.1:")
    assert delays and delays[:2] == [1000, 1500][: len(delays[:2])]  # it saw RUNNING first


def test_poll_execution_reproduced_raises_the_executions_error(server: RunningServer) -> None:
    assert server.api_key
    execution_id = _start(server, _failing_request())
    with pytest.raises(Failed) as caught:
        poll_execution(execution_id, server.api_key, base_url=server.base_url)
    assert str(caught.value)
    assert "node-1" in str(caught.value) or "picture.png" in str(caught.value)


def test_poll_execution_delays_follow_the_spec() -> None:
    # the same loop against a fake that is RUNNING nine times: 1 s, x1.5, capped at 10 s
    delays: list[float] = []
    answers = iter([{"status": "RUNNING"}] * 9 + [{"status": "COMPLETED"}])
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=next(answers)))
    with httpx.Client(transport=transport) as client:
        poll_execution("e", "k", base_url="http://x", get=client.get, sleep=lambda s: None, trace=delays)
    assert delays == [1000, 1500, 2250, 3375, 5062.5, 7593.75, 10000, 10000, 10000]


NODE = shutil.which("node")


def _run_js(server: RunningServer, execution_id: str) -> subprocess.CompletedProcess[str]:
    script = POLL_EXECUTION_JS.replace(HOSTED, server.root_url) + (
        "\npollExecution(process.argv[1], process.argv[2])"
        ".then((data) => { console.log(JSON.stringify(data)); })"
        ".catch((error) => { console.error('ERROR ' + error.message); process.exit(3); });\n"
    )
    assert NODE is not None
    return subprocess.run(
        [NODE, "-e", script, execution_id, server.api_key or ""], capture_output=True, text=True, timeout=120
    )


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_poll_execution_in_javascript_completes(server: RunningServer) -> None:
    execution_id = _start(server, _spec_request())
    done = _run_js(server, execution_id)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["status"] == "COMPLETED"
    assert data["nodeResults"]["nodeRuns"][0]["output"]["images"][0]["url"].startswith(server.base_url)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_poll_execution_in_javascript_throws_on_failure(server: RunningServer) -> None:
    execution_id = _start(server, _failing_request())
    done = _run_js(server, execution_id)
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stderr.startswith("ERROR ") and len(done.stderr.strip()) > len("ERROR ")
