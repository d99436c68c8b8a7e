"""Typed views of node outputs. The hosted models are inconsistent: ``{"images": [...]}``,
``{"url": ...}`` or a bare string; these helpers read all of them."""

from __future__ import annotations

from typing import Any

from ._base import WireModel

_VIDEO_EXT = (".mp4", ".webm", ".mov", ".m4v", ".mkv", ".avi")
_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".svg")


class MediaOutput(WireModel):
    url: str
    width: int | None = None
    height: int | None = None
    content_type: str | None = None


class ImageOutput(MediaOutput):
    pass


class VideoOutput(MediaOutput):
    duration_seconds: float | None = None


def _looks_like_url(text: str) -> bool:
    return text.startswith(("http://", "https://", "data:", "file:", "/"))


def _kind_of_url(url: str, content_type: str | None = None) -> str:
    if content_type:
        if content_type.startswith("video/"):
            return "video"
        if content_type.startswith("image/"):
            return "image"
    lower = url.lower().split("?", 1)[0]
    if lower.startswith("data:video/") or lower.endswith(_VIDEO_EXT):
        return "video"
    return "image"


def _media_items(value: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                items.append({"url": item})
            elif isinstance(item, dict) and isinstance(item.get("url"), str):
                items.append(item)
    elif isinstance(value, dict) and isinstance(value.get("url"), str):
        items.append(value)
    elif isinstance(value, str):
        items.append({"url": value})
    return items


def images_of(output: Any) -> list[ImageOutput]:
    """Images in a node output (``images``, ``image``, a bare ``url`` or URL string)."""
    if isinstance(output, dict):
        found = _media_items(output.get("images")) + _media_items(output.get("image"))
        url = output.get("url")
        if not found and isinstance(url, str) and _kind_of_url(url, output.get("contentType")) == "image":
            found = [output]
        return [ImageOutput.model_validate(item) for item in found]
    if isinstance(output, str) and _looks_like_url(output) and _kind_of_url(output) == "image":
        return [ImageOutput(url=output)]
    return []


def videos_of(output: Any) -> list[VideoOutput]:
    """Videos in a node output (``videos``, ``video``, a bare ``url`` or URL string)."""
    if isinstance(output, dict):
        found = _media_items(output.get("videos")) + _media_items(output.get("video"))
        url = output.get("url")
        if not found and isinstance(url, str) and _kind_of_url(url, output.get("contentType")) == "video":
            found = [output]
        return [VideoOutput.model_validate(item) for item in found]
    if isinstance(output, str) and _looks_like_url(output) and _kind_of_url(output) == "video":
        return [VideoOutput(url=output)]
    return []


def text_of(output: Any) -> str | None:
    """Text of a node output (``text``), or a bare string that is not a URL."""
    if isinstance(output, dict):
        value = output.get("text")
        return value if isinstance(value, str) else None
    if isinstance(output, str) and not _looks_like_url(output):
        return output
    return None
