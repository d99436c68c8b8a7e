"""The engine's layer: importing it, and running a workflow with it, load no HTTP client,
no widget library and no web server; the batch rule loads no engine. Each check runs in
a fresh interpreter, so nothing another test imported can hide an import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FOREIGN = ("httpx", "ipywidgets", "ipycanvas", "IPython", "starlette", "uvicorn")


def loaded_after(code: str, names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` (top-level packages or modules) are in sys.modules after ``code``."""
    probe = code + f"\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.modules if m in {names!r})))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_engine_loads_no_client_widget_or_server_library() -> None:
    assert loaded_after("import wireflow_nb.engine", FOREIGN) == []


def test_a_local_run_loads_no_client_widget_or_server_library() -> None:
    code = """
from wireflow_nb import Workflow
from wireflow_nb.engine import LocalEngine

wf = Workflow("t2i")
text = wf.add_node("input:text", id="prompt", text="a red fox")
image = wf.add_node("model:fal:text-to-image", id="image", width=64, height=64)
wf.connect(text, "text", image, "prompt")
with LocalEngine(":memory:", model_latency=0) as engine:
    [result] = engine.run("demo", wf)
assert result.status == "COMPLETED", result
"""
    assert loaded_after(code, FOREIGN) == []


def test_the_batch_rule_loads_no_engine() -> None:
    assert loaded_after("import wireflow_nb.batches", ("wireflow_nb.engine", *FOREIGN)) == []
