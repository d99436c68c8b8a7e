"""A real ``wireflow-nb serve`` whose catalogue holds hundreds of node types: the module of
``wireflow_nb.testing.node_types_module`` written to a temporary folder and served with
``--nodes`` (so the palette, the inspector and the ports meet a catalogue as big as the
hosted service's, over real HTTP)."""

from __future__ import annotations

import contextlib
import html
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests._servers import RunningServer, running_server
from wireflow_nb.catalog import builtin_catalog
from wireflow_nb.testing import node_types_module

__all__ = ["BUILT_INS", "MODULE", "serving_node_types", "shown_source"]

MODULE = "many_node_types"
#: How many built-in types every catalogue of such a server holds besides the generated ones.
BUILT_INS = len(builtin_catalog())


@contextlib.contextmanager
def serving_node_types(folder: Path, count: int = 500, **kwargs: Any) -> Iterator[RunningServer]:
    """Serve the built-ins plus ``count`` generated types; the module and the server's home
    go under ``folder``."""
    modules = folder / "modules"
    modules.mkdir(parents=True, exist_ok=True)
    (modules / f"{MODULE}.py").write_text(node_types_module(count), encoding="utf-8")
    path = os.pathsep.join(p for p in (str(modules), os.environ.get("PYTHONPATH", "")) if p)
    with running_server(
        folder / "home", extra_args=["--nodes", MODULE], env={"PYTHONPATH": path}, **kwargs
    ) as server:
        yield server


def shown_source(palette: Any) -> str:
    """The text the palette shows at its top (``wf-palette-source``), tags and tooltip left out."""
    return html.unescape(re.sub(r"<[^>]*>", "", str(palette.source.value)))
