"""Notebook widgets: the canvas graph editor, its inspector, the app around them and
the form of a workflow (``FormApp``)."""

from __future__ import annotations

from .app import WorkflowApp
from .editor import GraphEditor
from .form import FormApp
from .history import HistoryView
from .inspector import NodeInspector
from .outputs import OutputView

__all__ = ["FormApp", "GraphEditor", "HistoryView", "NodeInspector", "OutputView", "WorkflowApp"]
