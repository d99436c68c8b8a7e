"""The editor's clipboard: copied nodes and the edges between them, as JSON dicts.

One clipboard is shared by every editor of the process, so nodes copy from one editor to
another. Imports nothing of the package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Clipboard:
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    pastes: int = 0


#: Shared by every editor of the process, so nodes copy from one editor to another.
CLIPBOARD = Clipboard()
