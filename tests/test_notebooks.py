"""The notebooks in ``notebooks/`` run top to bottom without an error, on the local engine
(06 and 07 start and stop their own ``wireflow-nb serve`` with ``wf.local_server()``), and
are committed without outputs.

The same check as ``pytest --nbval-lax --nbval-current-env notebooks/``, with a
throwaway home and a short model latency so the set stays quick.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
ALL = sorted(NOTEBOOKS.glob("*.ipynb"))


def test_the_set_is_complete() -> None:
    assert [p.stem.split("-", 1)[0] for p in ALL] == ["01", "02", "03", "04", "05", "06", "07", "08"]


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip the outputs"
    assert nb.metadata.get("widgets") is None  # no saved widget state ("model not found" on reopen)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            # Voila as a server extension crashes on Markdown images (its exporter inlines
            # them through an async contents manager): use links
            assert "![" not in cell.source, f"{path.name}: a Markdown image breaks Voila"


def _outputs(nb: Any) -> list[dict[str, Any]]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


def execute(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run a copy of the notebook ``path`` in ``tmp_path / "work"`` with nbclient (a
    throwaway home in ``tmp_path / "home"``); the executed notebook."""
    # the kernel inherits this environment: a throwaway home, quick model previews, no key
    monkeypatch.setenv("WIREFLOW_NB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WIREFLOW_NB_MODEL_LATENCY", "0.05")
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.delenv("WIREFLOW_API_KEY", raising=False)
    monkeypatch.delenv("WIREFLOW_BASE_URL", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(path, work)
    nb = nbformat.read(work / path.name, as_version=4)
    client = NotebookClient(
        nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    )
    client.execute()
    return nb


@pytest.mark.timeout(600)
@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_runs_top_to_bottom(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = execute(path, tmp_path, monkeypatch)
    outputs = _outputs(nb)
    errors = [f"{o['ename']}: {o['evalue']}" for o in outputs if o.get("output_type") == "error"]
    assert errors == []
    stderr = "".join(
        o["text"] for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr"
    )
    assert "Traceback" not in stderr
    kinds = {key for o in outputs for key in o.get("data", {})}
    if path.stem.startswith(("01", "03", "04", "06", "08")):
        assert "application/vnd.jupyter.widget-view+json" in kinds  # the app (08: the form)
    if path.stem.startswith(("01", "06", "07")):
        assert "image/png" in kinds  # the picture
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    if path.stem.startswith(("06", "07")):
        assert "local server stopped" in text
        # what the outputs show of the served notebooks: no key (wf.local_server's are
        # sk-local-...), no path of this machine
        shown = json.dumps(outputs)
        assert "sk-local-" not in shown
        assert str(tmp_path) not in shown and "wireflow-serve-" not in shown
    if path.stem.startswith("04"):
        # the signature style: a parameter listed nowhere else (marks) is an input of the node
        assert "marks: integer, default 1, bounds 0..5" in text
        assert "A FOX IN THE SNOW!!!" in json.dumps(outputs)
    if path.stem.startswith("06"):
        assert "credits needed" in text
    if path.stem.startswith("08"):
        assert "['prompt.text', 'image.seed', 'image.numImages']" in json.dumps(outputs)
        assert str(tmp_path) not in json.dumps(outputs)  # no path of this machine
    if path.stem.startswith("07"):
        assert "version 1 -> 2" in text  # saved as the next version
        assert "refused: 2 is older than 3" in text  # the stale save
        assert "COMPLETED {'source': 'notebook 07'}" in text  # the webhook's run
        assert "spent in this notebook: 30 credits" in text
    json.dumps(nb)  # the executed notebook is still valid JSON


@pytest.mark.timeout(900)
def test_nbval_runs_the_set(tmp_path: Path) -> None:
    """The set as nbval runs it (``pytest --nbval-lax notebooks``): every cell executes
    without an exception, in a kernel of this environment."""
    import os
    import subprocess
    import sys

    work = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, work)
    env = {
        **os.environ,
        "WIREFLOW_NB_HOME": str(tmp_path / "home"),
        "WIREFLOW_NB_MODEL_LATENCY": "0.05",
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    env.pop("WIREFLOW_API_KEY", None)
    env.pop("WIREFLOW_BASE_URL", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "--nbval-current-env",
            "--nbval-cell-timeout=240",
            "-p",
            "no:cacheprovider",
            "-q",
            "--rootdir",
            str(tmp_path),
            str(work),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=850,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    cells = sum(1 for p in ALL for c in nbformat.read(p, as_version=4).cells if c.cell_type == "code")
    assert f"{cells} passed" in done.stdout, done.stdout[-2000:]
