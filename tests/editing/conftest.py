"""Fixtures of the editor's model tests (no widget, no canvas): see ``fixtures.py``."""

from __future__ import annotations

from tests.editing import fixtures as _shared

# pytest finds fixtures among a conftest's names
hosted = _shared.hosted
wf = _shared.wf
state = _shared.state
_fresh_clipboard = _shared._fresh_clipboard
