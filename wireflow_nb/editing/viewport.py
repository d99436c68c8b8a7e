"""The view a workflow file keeps: React Flow's ``viewport`` (``{x, y, zoom}``) among the
file's extra fields, read when the editor opens the file and written back on save only
when it says something new (an untouched view leaves the file byte for byte).

Imports ``editing.geometry``; no widget library.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .geometry import View

#: ``(x, y, zoom)``
ViewTriple = tuple[float, float, float]


def saved_view(extra: Mapping[str, Any]) -> ViewTriple | None:
    """The file's ``viewport`` as ``(x, y, zoom)``; None when it has none or a broken one."""
    vp = extra.get("viewport")
    if isinstance(vp, Mapping):
        try:
            x, y, z = float(vp["x"]), float(vp["y"]), float(vp.get("zoom", 1.0))
        except (KeyError, TypeError, ValueError):
            pass
        else:
            if all(math.isfinite(v) for v in (x, y, z)) and z > 0:
                return (x, y, z)
    return None


def viewport_to_save(
    extra: Mapping[str, Any], view: View, loaded: ViewTriple | None, moved: bool
) -> dict[str, Any] | None:
    """The ``viewport`` to write when saving (the file's own keys kept), or None to leave
    the file's as it is: written when the user ``moved`` the view or the file had one
    (``loaded``), unless the view is still the loaded one."""
    current = (view.x, view.y, view.zoom)
    if loaded is not None and all(
        math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6) for a, b in zip(current, loaded, strict=False)
    ):
        return None
    if not moved and loaded is None:
        return None
    vp = extra.get("viewport")
    merged = dict(vp) if isinstance(vp, Mapping) else {}
    merged.update(view.as_viewport())
    return merged
