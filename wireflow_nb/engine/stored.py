"""Reading the store's columns back without trusting them.

The file may hold what an older version wrote (NaN and Infinity in JSON, which strict JSON
and so the HTTP answers cannot carry) or what a broken disk or a hand edit left (text that
is not JSON, a number that is not one). Each reader returns what can be shown and notes
what could not; ``with_damage`` turns the notes into the run's error. Imports nothing of
the engine.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["as_text", "count", "finite", "loads_stored", "node_ids_of", "with_damage"]


class _NotFinite(ValueError):
    pass


def _strict_constant(name: str) -> Any:
    raise _NotFinite(name)


def _strict_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999
        raise _NotFinite(text)
    return value


def _lenient_float(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


# reused decoders (``json.loads`` with options would build one per call)
_STRICT = json.JSONDecoder(parse_constant=_strict_constant, parse_float=_strict_float)
_LENIENT = json.JSONDecoder(parse_constant=lambda name: None, parse_float=_lenient_float)


def loads_stored(text: Any) -> tuple[Any, str | None]:
    """A JSON value read from the store, as strict JSON can carry it, and what was wrong
    with it (None: nothing). NaN and Infinity become ``null``; text that is not JSON
    reads as None."""
    if text is None:
        return None, None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        return None, "is not JSON text (shown empty)"
    try:
        return _STRICT.decode(text), None
    except _NotFinite:
        pass
    except (ValueError, RecursionError):
        return None, "is not valid JSON (shown empty)"
    try:  # rare: only rows that hold NaN or Infinity pay for a second parse
        return _LENIENT.decode(text), "held NaN or Infinity (shown as null)"
    except (ValueError, RecursionError):
        return None, "is not valid JSON (shown empty)"


def as_text(value: Any) -> str | None:
    """A text column as text (SQLite lets any column hold any type)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def count(value: Any, what: str, damage: list[str]) -> int:
    """An integer column; 0 (noted in ``damage``) when it holds something else."""
    if isinstance(value, int):
        return value
    damage.append(f"{what} is not an integer (shown as 0)")
    return 0


def finite(value: Any, what: str, damage: list[str]) -> int | float | None:
    """A number column; None (noted in ``damage``) when not a finite number."""
    if value is None or (isinstance(value, (int, float)) and math.isfinite(value)):
        return value
    damage.append(f"{what} is not a finite number (shown empty)")
    return None


def node_ids_of(text: Any) -> list[str] | None:
    """The node list of a run as stored; None when unreadable."""
    value, problem = loads_stored(text if text is not None else "[]")
    if problem is not None or not isinstance(value, list):
        return None
    return [v if isinstance(v, str) else json.dumps(v) for v in value]


def with_damage(error: str | None, damage: list[str]) -> str | None:
    """A run's error, plus the note that parts of its stored row could not be read."""
    if not damage:
        return error
    note = (
        "Part of this execution's stored record could not be read: "
        + "; ".join(damage)
        + ". The rest is shown as stored; run the workflow again for a complete record."
    )
    return note if not error else f"{error}\n{note}"
