"""Executor of ``text:template``: fills ``{{name}}`` placeholders from inputs and
``{{trigger.x}}`` from triggerData."""

from __future__ import annotations

import json
import re
from typing import Any

from ..planning import substitute_trigger

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("url"), str):
        return value["url"]
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return value["text"]
    if isinstance(value, list):
        return ", ".join(_as_text(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, bool)):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def text_template(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    template = inputs.get("template") or ""
    if not isinstance(template, str):
        template = str(template)
    text = substitute_trigger(template, ctx.trigger_data or {})
    text = _PLACEHOLDER.sub(lambda m: _as_text(inputs.get(m.group(1))), text)
    return {"text": text}
