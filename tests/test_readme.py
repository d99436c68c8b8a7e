"""Every code block of README.md runs as written (the install commands run in CI)."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, re.S)


def test_readme_starts_with_the_two_commands() -> None:
    first, second = _blocks("bash")[:2]
    assert "pip install" in first and "01-quickstart.ipynb" in first
    assert "pip install" in second and "pytest" in second
    # .ci/run runs exactly the second command
    assert "blocks[1]" in (REPO / ".ci" / "run").read_text()


def test_the_tour_runs_as_written() -> None:
    tour = _blocks("python")[0]
    assert len(tour.strip().splitlines()) <= 22
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(tour, "README.md", "exec"), {"__name__": "__readme__"})
    lines = out.getvalue().splitlines()
    assert lines[0] == "256 256 file://"
    assert lines[1] == "True 0"
    assert "sk-your-key" not in lines[2] and "WireflowClient" in lines[2]


def test_the_local_server_example_runs_as_written() -> None:
    _, example = _blocks("python")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(example, "README.md", "exec"), {"__name__": "__readme__"})
    assert out.getvalue().splitlines() == ["1000", "True", "False"]


def test_the_cli_example_runs_as_written(tmp_path: Path) -> None:
    (command,) = [b.strip() for b in _blocks("bash")[2:]]
    argv = shlex.split(command)
    assert argv[0] == ".venv/bin/wireflow-nb"
    argv[0] = str(Path(sys.executable).parent / "wireflow-nb")
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    written = list((tmp_path / "outputs").glob("**/*.png"))
    assert written, done.stdout
    from PIL import Image

    with Image.open(written[0]) as picture:
        assert picture.width > 0
