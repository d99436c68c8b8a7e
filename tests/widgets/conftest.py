"""Fixtures for the editor widget tests: small workflows (ours and the hosted app's
shapes, from ``tests/editing/fixtures.py``), an editor with its driver, and a canvas that
records what is drawn."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.editing import fixtures as _shared
from wireflow_nb.testing import EditorDriver
from wireflow_nb.widgets import GraphEditor

# the fixtures shared with tests/editing (pytest finds fixtures among a conftest's names)
hosted = _shared.hosted
wf = _shared.wf
state = _shared.state
_fresh_clipboard = _shared._fresh_clipboard
three_nodes = _shared.three_nodes


@pytest.fixture
def hosted_file(tmp_path, hosted):
    path = tmp_path / "hosted.json"
    path.write_text(json.dumps(hosted, indent=2))
    return path


@pytest.fixture
def editor(wf) -> GraphEditor:
    e = GraphEditor(wf)
    e.view = (0, 0, 1)
    return e


@pytest.fixture
def driver(editor) -> EditorDriver:
    return EditorDriver(editor)


class RecordingCanvas:
    """Stands in for an ipycanvas Canvas: records method calls and style settings."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "calls":
            object.__setattr__(self, name, value)
        else:
            self.calls.append(("set:" + name, (value,)))
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)

        def record(*args: Any, **kwargs: Any) -> None:
            self.calls.append((name, args))

        return record

    def names(self) -> list[str]:
        return [n for n, _ in self.calls]

    def texts(self) -> list[str]:
        return [a[0] for n, a in self.calls if n == "fill_text"]


@pytest.fixture
def recorder() -> RecordingCanvas:
    return RecordingCanvas()
