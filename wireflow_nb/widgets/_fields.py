"""One input field of a node type as a widget, and what a widget's value means: the one
home of both, for the inspector (``NodeInspector``) and the form (``FormApp``).

``field_widget(spec, value)`` turns an ``InputSpec`` into a widget: a dropdown for
choices, a checkbox for booleans, a bounded number field (a slider with ``slider=True``
when both bounds are given), a text field for an optional whole number (empty: not set),
a text area for multiline text and JSON. ``parse_field(spec, raw)`` reads a widget's
value back: ``UNSET`` for an empty optional field, else the value, or ``ValueError``
naming the field and what is wrong. ``display_value`` is the other way round.
"""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

if TYPE_CHECKING:
    from ..catalog import InputSpec

__all__ = ["UNSET", "display_value", "field_label", "field_widget", "json_text", "parse_field"]

#: ``parse_field``'s answer for an empty optional field: remove the input.
UNSET: Any = object()

_STYLE = {"description_width": "110px"}


def json_text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def field_label(name: str) -> str:
    """A field's name as words: ``numImages`` -> ``Num images``, ``seed`` -> ``Seed``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name.replace("_", " ")).split()
    text = " ".join(words).lower()
    return text[:1].upper() + text[1:]


def field_widget(
    f: InputSpec, value: Any, *, description: str | None = None, slider: bool = False
) -> widgets.Widget:
    """The widget that edits input ``f`` showing ``value`` (no observer attached)."""
    desc = description if description is not None else f.name + (" *" if f.required else "")
    style = _STYLE if desc else {}
    w: widgets.Widget
    if f.type == "choice" and f.choices:
        options = list(f.choices)
        if value not in options:
            value = options[0] if value is None else value
            if value not in options:
                options.append(value)
        w = widgets.Dropdown(options=options, value=value, description=desc, style=style)
    elif f.type == "boolean":
        w = widgets.Checkbox(value=bool(value), description=desc, indent=False)
    elif f.type == "number" or (f.type == "integer" and (f.default is not None or f.step is not None)):
        integer = f.type == "integer"
        lo = f.minimum if f.minimum is not None else -(10**12)
        hi = f.maximum if f.maximum is not None else 10**12
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            value = f.default if isinstance(f.default, (int, float)) else lo if lo > 0 else 0
        # a slider where both bounds are known and asked for: always in a form, and in the
        # inspector for a ``wf.Range`` (which gives a step); it writes on release
        ranged = (slider or f.step is not None) and f.minimum is not None and f.maximum is not None
        extra: dict[str, Any] = {"continuous_update": False} if ranged else {}
        if integer:
            kind: Any = widgets.IntSlider if ranged else widgets.BoundedIntText
            if ranged:
                extra["step"] = max(1, round(f.step)) if f.step is not None else 1
            w = kind(
                value=int(value), min=math.ceil(lo), max=math.floor(hi), description=desc, style=style, **extra
            )
        else:
            kind = widgets.FloatSlider if ranged else widgets.BoundedFloatText
            if ranged:
                extra["step"] = f.step if f.step is not None else (hi - lo) / 100
            w = kind(value=float(value), min=float(lo), max=float(hi), description=desc, style=style, **extra)
    elif f.type == "integer":
        # an optional integer (a seed): empty means "not set"
        w = widgets.Text(
            value="" if value is None else str(value),
            placeholder="empty: not set",
            description=desc,
            style=style,
        )
    elif f.type == "json":
        w = widgets.Textarea(
            value="" if value is None else json_text(value),
            description=desc,
            continuous_update=False,
            style=style,
        )
    elif f.multiline:
        w = widgets.Textarea(value="" if value is None else str(value), description=desc, rows=4, style=style)
    else:
        w = widgets.Text(value="" if value is None else str(value), description=desc, style=style)
    w.layout.width = "100%"
    if f.help:
        w.tooltip = f.help
    return w


def display_value(w: widgets.Widget, f: InputSpec | None, raw: Any) -> Any:
    """What widget ``w`` shows for the input's value ``raw`` (None: leave it)."""
    if isinstance(w, widgets.Checkbox):
        return bool(raw)
    if isinstance(w, (widgets.BoundedIntText, widgets.IntText, widgets.IntSlider)):
        return int(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else None
    if isinstance(w, (widgets.BoundedFloatText, widgets.FloatText, widgets.FloatSlider)):
        return float(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else None
    if isinstance(w, widgets.Dropdown):
        return raw if raw in w.options else None
    if f is not None and f.type == "json":
        return "" if raw is None else json_text(raw)
    return "" if raw is None else str(raw)


def parse_field(f: InputSpec, raw: Any) -> Any:
    """The input's value for widget value ``raw``: ``UNSET`` when an optional whole
    number or JSON field is empty; ``ValueError`` naming the field when it does not parse."""
    if f.type == "integer" and isinstance(raw, str):
        text = raw.strip()
        if text == "":
            return UNSET
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{f.name}: {text} is not a whole number") from None
    if f.type == "json" and isinstance(raw, str):
        text = raw.strip()
        if text == "":
            return UNSET
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{f.name}: not JSON ({exc.msg})") from None
    return raw
