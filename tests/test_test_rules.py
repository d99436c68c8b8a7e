"""The rules the test suite keeps about itself: a skip must be allowed with a reason, and
the spec's examples are found in one order, also in a clone without ``../shared``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED_SPEC, VENDORED_SPEC, resolve_spec_dir

SKIPPING = 'import pytest\n\ndef test_needs_a_tool():\n    pytest.skip("the tool is missing")\n'


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what CI adds to every pytest run (coverage
    options), so the inner run's output is only its own."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS" and not k.startswith("COV_CORE")}
    return {**env, **extra}


def run_pytest(test_file: Path, *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest", str(test_file)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=clean_env(**(env or {})),
        timeout=120,
        check=False,
    )


def test_a_skip_not_in_the_allowlist_fails_the_run(tmp_path: Path) -> None:
    probe = tmp_path / "test_probe.py"
    probe.write_text(SKIPPING)
    empty = tmp_path / "allow.txt"
    empty.write_text("# nothing allowed\n")
    out = run_pytest(probe, env={"WIREFLOW_SKIP_ALLOWLIST": str(empty)})
    assert out.returncode == 1, out.stdout
    assert "skipped but not in tests/skip-allowlist.txt" in out.stdout
    assert "test_probe.py::test_needs_a_tool" in out.stdout


def test_an_allowed_skip_with_a_reason_passes(tmp_path: Path) -> None:
    probe = tmp_path / "test_probe.py"
    probe.write_text(SKIPPING)
    allow = tmp_path / "allow.txt"
    # the node id as pytest names it here (it depends on where the rootdir is)
    allow.write_text("# nothing allowed\n")
    first = run_pytest(probe, env={"WIREFLOW_SKIP_ALLOWLIST": str(allow)})
    nodeid = next(
        line.split("skipped: ", 1)[1].strip() for line in first.stdout.splitlines() if line.startswith("skipped: ")
    )
    assert nodeid.endswith("test_probe.py::test_needs_a_tool")
    allow.write_text(f"{nodeid}\n")
    assert run_pytest(probe, env={"WIREFLOW_SKIP_ALLOWLIST": str(allow)}).returncode == 1
    allow.write_text(f"{nodeid}  # the tool cannot be installed on this platform\n")
    out = run_pytest(probe, env={"WIREFLOW_SKIP_ALLOWLIST": str(allow)})
    assert out.returncode == 0, out.stdout


def test_the_spec_is_found_in_one_order(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "examples").mkdir(parents=True)
    vendored = tmp_path / "vendored"
    chosen = tmp_path / "chosen"
    (chosen / "examples").mkdir(parents=True)
    assert resolve_spec_dir({}, shared, vendored) == shared
    assert resolve_spec_dir({"WIREFLOW_SPEC_DIR": str(chosen)}, shared, vendored) == chosen
    assert resolve_spec_dir({"WIREFLOW_SPEC_DIR": ""}, shared, vendored) == shared  # empty is unset, not "."
    assert resolve_spec_dir({}, tmp_path / "absent", vendored) == vendored
    with pytest.raises(pytest.UsageError, match="WIREFLOW_SPEC_DIR"):
        resolve_spec_dir({"WIREFLOW_SPEC_DIR": str(tmp_path / "nothing")}, shared, vendored)


def test_a_clone_without_shared_uses_the_vendored_copy(tmp_path: Path) -> None:
    clone = tmp_path / "clone"  # no shared/ beside it
    for part in ("wireflow_nb", "tests"):
        shutil.copytree(REPO / part, clone / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", clone)
    env = {k: v for k, v in clean_env(PYTHONPATH=str(clone)).items() if k != "WIREFLOW_SPEC_DIR"}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/models/test_contract.py",
            "tests/server/test_server_spec_examples.py::test_the_embedded_examples_are_the_specs",
        ],
        capture_output=True,
        text=True,
        cwd=clone,
        env=env,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert " passed" in out.stdout and "skipped" not in out.stdout and "failed" not in out.stdout


def test_the_vendored_copy_is_the_shared_spec() -> None:
    if not (SHARED_SPEC / "examples").is_dir() or SHARED_SPEC.resolve() == VENDORED_SPEC.resolve():
        # in a clone without ../shared there is nothing to compare with; the clone test above
        # proves the vendored copy is used there
        assert resolve_spec_dir({}) == VENDORED_SPEC
        return
    for path in sorted((SHARED_SPEC / "examples").glob("*.json")):
        assert (VENDORED_SPEC / "examples" / path.name).read_bytes() == path.read_bytes(), path.name
    shared_api = (SHARED_SPEC / "executions-api.md").read_bytes()
    assert (VENDORED_SPEC / "executions-api.md").read_bytes() == shared_api
