"""Binder: ``binder/requirements.txt`` installs into a fresh virtual environment the way
repo2docker installs it (``pip install -r binder/requirements.txt`` from the repository
root), the widget front-ends are there for JupyterLab, and the quickstart notebook runs
top to bottom in that environment and shows its picture.

Slow-ish (a fresh environment; pip's cache makes repeats quicker): deselect it with
``-k "not binder"`` while iterating locally; CI always runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BINDER = REPO / "binder"

RUN_QUICKSTART = r"""
import json, sys
import nbformat
from nbclient import NotebookClient

nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]
print(json.dumps({
    "errors": [f"{o['ename']}: {o['evalue']}" for o in outputs if o.get("output_type") == "error"],
    "stderr": [o["text"] for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr"],
    "images": sum(1 for o in outputs if "image/png" in o.get("data", {})),
    "widgets": sum(1 for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})),
}))
"""


def test_binder_files() -> None:
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    lines = [
        line.strip()
        for line in (BINDER / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines == ["-e .[lab]"]  # the repository itself, relative to the root repo2docker builds from
    post_build = BINDER / "postBuild"
    if post_build.exists():
        text = post_build.read_text()
        assert text.startswith("#!/bin/bash") and "set -e" in text


@pytest.mark.timeout(1800)  # a fresh venv with JupyterLab: pip alone takes 2-5 min on 2 cores
def test_fresh_environment_runs_the_quickstart(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bin_dir = venv / "bin"
    python = bin_dir / "python"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WIREFLOW_", "VIRTUAL_ENV", "PYTHONPATH", "JUPYTER_"))
    }
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-r", "binder/requirements.txt", "nbclient", "ipykernel"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert install.returncode == 0, install.stdout[-4000:] + install.stderr[-4000:]

    where = subprocess.run(
        [str(python), "-c", "import wireflow_nb, ipywidgets, ipycanvas; print(wireflow_nb.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert Path(where.stdout.strip()).resolve().is_relative_to(REPO)  # the repository, editable

    extensions = subprocess.run(
        [str(bin_dir / "jupyter"), "labextension", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    listing = extensions.stdout + extensions.stderr
    assert "@jupyter-widgets/jupyterlab-manager" in listing
    assert "ipycanvas" in listing
    assert "anywidget" in listing  # the editor's width probe (widgets/_fit_width.py)

    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(REPO / "notebooks" / "01-quickstart.ipynb", work)
    script = tmp_path / "run_quickstart.py"
    script.write_text(RUN_QUICKSTART)
    env["WIREFLOW_NB_HOME"] = str(tmp_path / "home")
    env["WIREFLOW_NB_MODEL_LATENCY"] = "0.05"
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    run = subprocess.run(
        [str(python), str(script), str(work / "01-quickstart.ipynb"), str(work)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["errors"] == []
    assert report["images"] >= 1  # the picture of step 2
    assert report["widgets"] >= 1  # the app
