"""Fixtures of the reliability tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ._helpers import format_figures

Figures = Callable[[str, dict[str, Any]], str]


@pytest.fixture
def figures(capsys: pytest.CaptureFixture[str]) -> Figures:
    """``figures(title, rows)``: print a table of figures to the terminal, even when
    pytest captures output (so CI logs show them), and return it."""

    def show(title: str, rows: dict[str, Any]) -> str:
        text = format_figures(title, rows)
        with capsys.disabled():
            print("\n" + text, flush=True)
        return text

    return show
