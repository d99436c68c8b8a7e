"""Media files as bytes: the media type of bytes from their first bytes (magic
numbers, never the file name), reading what ``upload`` accepts (a path, bytes or a PIL
image) and the upload size limit. Shared by the engine's artifact store and uploads and
by the clients' ``upload``; it may import nothing of the package."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

__all__ = ["MAX_UPLOAD_BYTES", "check_upload_size", "media_bytes", "sniff_content_type"]

#: Largest upload (the hosted service's ``POST /media/upload`` limit: 25 MB).
MAX_UPLOAD_BYTES = 25 * 1024 * 1024


def sniff_content_type(data: bytes) -> str:
    """The media type of ``data`` from its first bytes (``application/octet-stream`` if unknown)."""
    head = bytes(data[:16])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"BM"):
        return "image/bmp"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    return "application/octet-stream"


def media_bytes(source: Any) -> tuple[bytes, str | None]:
    """The bytes of an upload and its file name (None for bytes and images): a path
    (``str`` or ``os.PathLike``), bytes, or a PIL image (saved as PNG)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), None
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"cannot upload {str(source)!r}: no such file")
        check_upload_size(path.stat().st_size)
        return path.read_bytes(), path.name
    if hasattr(source, "save") and hasattr(source, "mode"):  # a PIL image, without importing Pillow
        buffer = io.BytesIO()
        source.save(buffer, format="PNG")
        return buffer.getvalue(), None
    raise TypeError(f"upload takes a file path, bytes or a PIL image, not {type(source).__name__}")


def check_upload_size(size: int) -> None:
    """``ValueError`` (saying what to do) for a file over ``MAX_UPLOAD_BYTES``."""
    if size > MAX_UPLOAD_BYTES:
        from ._advice import UPLOAD_TOO_LARGE

        raise ValueError(
            f"The file is {size / (1024 * 1024):.1f} MB, over the upload limit. {UPLOAD_TOO_LARGE}"
        )
