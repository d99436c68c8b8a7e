"""Notebook widgets: the canvas graph editor, its inspector, and the app around them."""

from __future__ import annotations

from .app import WorkflowApp
from .editor import GraphEditor
from .history import HistoryView
from .inspector import NodeInspector
from .outputs import OutputView

__all__ = ["GraphEditor", "HistoryView", "NodeInspector", "OutputView", "WorkflowApp"]
