"""The local engine: run workflows in process, offline, through the Executions API.

``LocalEngine`` (``local``) validates (``validation``) and plans (``planning``)
requests, runs them on an asyncio loop in a background thread (``scheduler``), caches
node outputs (``cache``), charges credits (``credits``), keeps history in SQLite
(``store``) and output files in a content-addressed folder (``artifacts``), reads
inputs as its ``InputPolicy`` allows (``sources``), and tells subscribers what happens
(``events``). Built-in executors live in ``nodes``. Never
imports httpx or ipywidgets.
"""

from __future__ import annotations

from .context import NodeCancelled, NodeContext, NodeError
from .events import EVENT_KINDS, EngineEvent
from .local import LocalEngine, default_home
from .sources import InputPolicy

__all__ = [
    "EVENT_KINDS",
    "EngineEvent",
    "InputPolicy",
    "LocalEngine",
    "NodeCancelled",
    "NodeContext",
    "NodeError",
    "default_home",
]
