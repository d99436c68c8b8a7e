"""Executor outputs as the engine stores them: JSON, with bytes and PIL images saved as
artifacts and every URL of a stored file kept as a reference (``wireflow-artifact:<name>``),
so outputs stay valid whatever URL the artifacts are served under later.

Also the rule for an image value: a PNG file and the wire item ``{"url", "width",
"height", "contentType"}`` (used by the scheduler for PIL images an executor returns, by
the engine for PIL images given as literal inputs, and by the built-in executors).
Imports the artifact store only; Pillow is never imported here (images arrive made).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from .artifacts import ARTIFACT_PREFIX, ArtifactStore

if TYPE_CHECKING:
    from PIL import Image

    from .context import NodeContext

__all__ = ["encode_png", "has_refs", "image_output", "to_stored"]


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


def image_output(ctx: Any, image: Image.Image) -> dict[str, Any]:
    """Store ``image`` as PNG; the wire item ``{"url", "width", "height", "contentType"}``."""
    url = ctx.save_bytes(encode_png(image), "image/png")
    return {"url": url, "width": image.width, "height": image.height, "contentType": "image/png"}


def to_stored(
    value: Any, ctx: NodeContext, artifacts: ArtifactStore, base_url: str | None
) -> tuple[Any, bool]:
    """An executor's output as stored: JSON, with bytes and PIL images saved as files and
    every URL of a stored file turned into a reference; and whether it holds any."""
    prefixes = artifacts.url_prefixes
    found = False

    def walk(item: Any) -> Any:
        nonlocal found
        kind = type(item)
        if kind is str:
            if item.startswith(prefixes):
                name = artifacts.name_of(item, base_url)
                if name is not None:
                    found = True
                    return ARTIFACT_PREFIX + name
            return item
        if item is None or kind is int or kind is float or kind is bool:
            return item
        if isinstance(item, dict):
            return {k if type(k) is str else str(k): walk(v) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [walk(v) for v in item]
        if isinstance(item, str):
            return walk(str(item))
        if isinstance(item, (bool, int, float)):
            return item
        if isinstance(item, (bytes, bytearray, memoryview)):
            found = True
            return ARTIFACT_PREFIX + artifacts.save(ctx.carried(bytes(item)))
        if type(item).__module__.startswith("PIL."):
            return walk(image_output(ctx, item))
        scalar = getattr(item, "item", None)
        if callable(scalar):  # numpy scalars
            try:
                return walk(scalar())
            except (TypeError, ValueError):
                pass
        return str(item)

    return walk(value), found


def has_refs(output: Any) -> bool:
    """Whether a stored output holds any artifact reference."""
    if isinstance(output, dict):
        return any(has_refs(v) for v in output.values())
    if isinstance(output, list):
        return any(has_refs(v) for v in output)
    return isinstance(output, str) and output.startswith(ARTIFACT_PREFIX)
