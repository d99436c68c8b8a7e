"""The blocking client is generated from the async one: ``scripts/unasync.py --check``
fails when ``_sync.py`` is not what ``_async.py`` gives, so the twins cannot drift."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "unasync.py"
CLIENT = ROOT / "wireflow_nb" / "client"


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--check", *args], capture_output=True, text=True, timeout=120
    )


def test_sync_client_is_the_generated_twin_of_the_async_one() -> None:
    done = _check()
    assert done.returncode == 0, done.stdout + done.stderr


def test_check_fails_on_a_drift_and_shows_it(tmp_path: Path) -> None:
    drifted = tmp_path / "_sync.py"
    shutil.copy(CLIENT / "_sync.py", drifted)
    text = drifted.read_text()
    assert "page_size: int = 50" in text
    drifted.write_text(text.replace("page_size: int = 50", "page_size: int = 20", 1))
    done = _check("--target", str(drifted))
    assert done.returncode == 1
    assert "-    def iter_executions(self, workflow_id: str, *, page_size: int = 20)" in done.stdout
    assert "drifted from _async.py" in done.stdout
