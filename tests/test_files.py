"""``_files.write_atomic``: the one way the package writes a file (whole or not at all)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from wireflow_nb import Workflow
from wireflow_nb._files import write_atomic


def test_writes_bytes_and_text_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    assert write_atomic(target, b"first") == target and target.read_bytes() == b"first"
    write_atomic(target, "zweite \u00e9tape")
    assert target.read_text(encoding="utf-8") == "zweite \u00e9tape"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "kept.png"
    target.write_bytes(b"old")

    def crash(src: str, dst: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["kept.png"]


@pytest.mark.parametrize(("private", "mode"), [(True, 0o600), (False, 0o644)])
def test_modes_whatever_the_umask(tmp_path: Path, private: bool, mode: int) -> None:
    old = os.umask(0o000)  # wide open: the file must still be private / a user's file
    try:
        path = write_atomic(tmp_path / "f", b"x", private=private)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_a_saved_workflow_goes_through_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    import wireflow_nb.workflow as module

    real = module.write_atomic
    monkeypatch.setattr(module, "write_atomic", lambda p, d, **k: calls.append(Path(p)) or real(p, d, **k))
    wf = Workflow(id="w")
    wf.add_node("input:text", text="x")
    wf.save(tmp_path / "w.json")
    assert calls == [tmp_path / "w.json"] and Workflow.load(tmp_path / "w.json") == wf
