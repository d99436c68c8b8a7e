"""Executors of the input nodes: ``input:text``, ``input:number``, ``input:image``,
``input:video``, ``input:audio`` and ``trigger``."""

from __future__ import annotations

from typing import Any

from ..._media import sniff_content_type
from ..context import NodeError
from ._media import stored_image_item


def input_text(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """``text`` -> ``text`` (also as ``prompt``, the port the hosted app names)."""
    value = inputs.get("text")
    text = "" if value is None else value if isinstance(value, str) else str(value)
    return {"text": text, "prompt": text}


def input_number(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    value = inputs.get("value", 0)
    if isinstance(value, bool) or value is None:
        number: int | float = int(bool(value))
    elif isinstance(value, (int, float)):
        number = value
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            raise NodeError(f"{value!r} is not a number") from None
        if number.is_integer():
            number = int(number)
    return {"value": number}


def input_image(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """An image from an http(s) URL, a local path, a data: URL or bytes, stored as an
    output. What is read is the engine's ``InputPolicy``'s to decide (``ctx.load_bytes``:
    a server reads no local files)."""
    return {"images": [stored_image_item(ctx, _media_input(ctx, inputs, "image"))]}


def input_video(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """A video (MP4, WebM) from a URL, a local path, a data: URL or bytes, stored as it is."""
    return {"videos": [_stored_as_is(ctx, _media_input(ctx, inputs, "video"), "video")]}


def input_audio(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """A sound (WAV, MP3) from a URL, a local path, a data: URL or bytes, stored as it is."""
    return {"audio": [_stored_as_is(ctx, _media_input(ctx, inputs, "audio"), "audio")]}


def _media_input(ctx: Any, inputs: dict[str, Any], name: str) -> bytes:
    """The bytes of media input ``name``, read under the engine's ``InputPolicy``."""
    source = inputs.get(name)
    if source is None or source == "":
        raise NodeError(f"no {name} was given: set a URL, a file path or bytes")
    try:
        return bytes(ctx.load_bytes(source))
    except NodeError as exc:
        raise NodeError(f"input {name!r}: {exc}") from None
    except OSError as exc:
        raise NodeError(f"could not read the {name} {str(source)[:200]!r}: {exc}") from None


def _stored_as_is(ctx: Any, data: bytes, kind: str) -> dict[str, Any]:
    content_type = sniff_content_type(data)
    if not content_type.startswith(kind + "/"):
        raise NodeError(f"the input is not {kind} (its bytes read as {content_type})")
    return {"url": ctx.save_bytes(data, content_type, carry=False), "contentType": content_type}


def trigger(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    """The fields of triggerData, each an output port (and all of them as ``data``)."""
    data = dict(ctx.trigger_data or {})
    return {**data, "data": data} if "data" not in data else data
