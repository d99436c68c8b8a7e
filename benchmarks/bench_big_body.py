"""Does one big request body stall the other clients of ``wireflow-nb serve``?

    .venv/bin/python benchmarks/bench_big_body.py [--megabytes 20] [--shape text|nodes]
        [--path /developer/usage] [--pythonpath DIR]

Starts a real server (a subprocess on 127.0.0.1, a temporary home), then measures another
client that sends a small request again and again (``--path``, default ``/developer/usage``;
try ``/workflows/big/executions`` for the history list):

- *idle*: its latencies with nothing else going on (the peer in the same run);
- *during*: its latencies while one execute body of ``--megabytes`` MB is received, parsed,
  validated and started (``text``: 100,000-character prompts, about 10 per MB; ``nodes``:
  as many small nodes as fit, under the 5,000-node limit; ``array``: one small node and
  ``triggerData`` holding 950,000 strings, just under the server's limit of values;
  ``numbers``: ``triggerData`` holding ten million zeros, over it).

Prints median and max of each, and the big request's own time and status. Target: every
*during* latency under 1 s. ``--pythonpath DIR`` runs the server from another checkout
(e.g. one without the fix) for a before/after figure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

import httpx

from wireflow_nb import Workflow


def big_body(megabytes: float, shape: str) -> bytes:
    wf = Workflow("big")
    if shape == "numbers":  # a flood: 10 million zeros
        wf.add_node("input:text", id="t", text="hello")
        request = wf.to_request().to_wire()
        request["triggerData"] = {"items": [0] * int(megabytes * 1024 * 1024 / 2)}
        return json.dumps(request, separators=(",", ":")).encode()
    if shape == "array":
        wf.add_node("input:text", id="t", text="hello")
        request = wf.to_request().to_wire()
        # as many values as the server takes (1,000,000), as long as the size asks
        width = max(1, int(megabytes * 1024 * 1024 / 950_000) - 3)
        request["triggerData"] = {"items": ["v" * width] * 950_000}
        return json.dumps(request, separators=(",", ":")).encode()
    if shape == "text":
        for i in range(max(1, int(megabytes * 10.5))):
            wf.add_node("input:text", id=f"t{i}", text="x" * 99_000, position=(i * 10, 0))
    else:
        per_node = max(200, int(megabytes * 1024 * 1024 / 4900) - 200)
        for i in range(4900):
            wf.add_node("input:text", id=f"n{i}", text="y" * per_node, position=(i % 70 * 10, i // 70 * 10))
    return json.dumps(wf.to_request().to_wire()).encode()


def start_server(home: str, pythonpath: str | None) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if k != "WIREFLOW_API_KEY"}
    env["PYTHONUNBUFFERED"] = "1"
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    argv = [sys.executable, "-m", "wireflow_nb.cli", "serve", "--port", "0", "--home", home]
    argv += ["--credits", "1000000000", "--model-latency", "0"]
    # cwd: the home, so "-m" imports the package from PYTHONPATH, not from the current folder
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=home
    )
    assert process.stdout is not None
    for line in process.stdout:
        match = re.search(r"(http://\S+/api/v1)\b", line)
        if match:
            threading.Thread(target=process.stdout.read, daemon=True).start()  # drain the log
            return process, match.group(1)
    raise RuntimeError(f"the server did not start (exit code {process.wait()})")


def sample(base: str, path: str, stop: threading.Event, out: list[tuple[float, float]]) -> None:
    """Send ``path`` until ``stop``; append ``(start, latency)`` of each request."""
    with httpx.Client(base_url=base, timeout=120) as client:
        while not stop.is_set():
            started = time.perf_counter()
            answer = client.get(path)
            out.append((started, time.perf_counter() - started))
            if answer.status_code != 200:
                raise RuntimeError(f"{path} answered {answer.status_code}: {answer.text[:200]}")


def figures(latencies: list[float]) -> str:
    if not latencies:
        return "no request completed"
    ms = [x * 1000 for x in latencies]
    return f"n={len(ms):4d}  median {statistics.median(ms):8.1f} ms  max {max(ms):8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=20.0)
    parser.add_argument("--shape", choices=("text", "nodes", "array", "numbers"), default="text")
    parser.add_argument("--path", default="/developer/usage")
    parser.add_argument("--idle-seconds", type=float, default=2.0)
    parser.add_argument("--pythonpath", help="run the server with this PYTHONPATH (another checkout)")
    args = parser.parse_args()

    body = big_body(args.megabytes, args.shape)
    home = tempfile.mkdtemp(prefix="bench-big-body-")
    process, base = start_server(home, args.pythonpath)
    try:
        samples: list[tuple[float, float]] = []
        stop = threading.Event()
        poller = threading.Thread(target=sample, args=(base, args.path, stop, samples), daemon=True)
        poller.start()
        time.sleep(args.idle_seconds)  # the idle peer: the other client alone
        idle = [latency for _, latency in samples]
        big: dict[str, Any] = {}
        began = time.perf_counter()
        answer = httpx.post(
            f"{base}/workflows/big/execute",
            content=body,
            headers={"Content-Type": "application/json"},
            timeout=600,
        )
        big["seconds"] = time.perf_counter() - began
        stop.set()
        poller.join(timeout=600)
        ended = began + big["seconds"]
        during = [
            latency
            for started, latency in samples[len(idle) :]
            if started < ended and started + latency > began
        ]
        print(f"server: {base} (PYTHONPATH={args.pythonpath or os.environ.get('PYTHONPATH', '')})")
        print(
            f"big body: {len(body) / 1e6:.1f} MB ({args.shape}) -> {answer.status_code} in {big['seconds']:.2f} s"
        )
        if answer.status_code != 201:
            print(f"  answer: {answer.text[:300]}")
        print(f"other client, GET {args.path}:")
        print(f"  idle:   {figures(idle)}")
        print(f"  during: {figures(during)}")
        worst = max(during, default=0.0)
        print(f"target: every 'during' latency < 1 s: {'met' if during and worst < 1.0 else 'NOT met'}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
