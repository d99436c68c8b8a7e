"""The package's version, in a module of its own so that any layer can read it without
importing the package's ``__init__`` (which would tie every layer to the public API)."""

from __future__ import annotations

__version__ = "0.1.0"
