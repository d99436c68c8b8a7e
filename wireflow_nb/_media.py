"""Media files as bytes: the media type of bytes from their first bytes (magic
numbers, never the file name), reading what ``upload`` accepts (a path, bytes or a PIL
image), the upload size limit, and what a *local media value* of a media input is.

A local media value is what only this machine can read: a ``pathlib.Path``, a ``str``
without a URL scheme (a path) or a ``file://`` URI, a ``data:`` URL, bytes, a PIL image
or a numpy array (HxW, HxWx3 or HxWx4 ``uint8``, written as PNG; numpy is imported only
for a value whose type comes from numpy). ``local_media`` reads one into ``LocalMedia``
(bytes, content type, sha256); a path that names no file is a ``FileNotFoundError``.
``in_memory_media`` / ``as_saved_value`` say what a saved workflow keeps for a value that
JSON cannot hold (bytes, a PIL image, an array: a ``data:`` URL; a path: its text).

Shared by the engine's artifact store and uploads and by the clients' ``upload``; it may
import nothing of the package but ``_advice`` (lazily, for the size message)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

__all__ = [
    "MAX_UPLOAD_BYTES",
    "LocalMedia",
    "as_saved_value",
    "check_upload_size",
    "data_url",
    "has_url_scheme",
    "in_memory_media",
    "is_local_media",
    "local_media",
    "media_bytes",
    "sniff_content_type",
]

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
    if _is_pil_image(source):
        return _png_of_image(source), None
    if _is_array(source):
        return _png_of_array(source), None
    raise TypeError(
        f"upload takes a file path, bytes, a PIL image or a numpy array, not {type(source).__name__}"
    )


def check_upload_size(size: int) -> None:
    """``ValueError`` (saying what to do) for a file over ``MAX_UPLOAD_BYTES``."""
    if size > MAX_UPLOAD_BYTES:
        from ._advice import UPLOAD_TOO_LARGE

        raise ValueError(
            f"The file is {size / (1024 * 1024):.1f} MB, over the upload limit. {UPLOAD_TOO_LARGE}"
        )


# -- local media values -----------------------------------------------------------------------

#: ``ftp://...``, ``data:...``: a URL scheme (two letters at least, so ``C:\\x`` is a path)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:(?!\\)")


def has_url_scheme(text: str) -> bool:
    """Whether ``text`` starts with a URL scheme (``https:``, ``data:``, ``file:``); a text
    without one names a local path."""
    return _SCHEME.match(text) is not None


@dataclass(frozen=True)
class LocalMedia:
    """The bytes of a local media value, their content type (from the bytes) and sha256."""

    data: bytes
    content_type: str
    sha256: str
    #: the file name of a path; None for bytes, images and arrays
    filename: str | None = None

    @property
    def name(self) -> str:
        """A file name for the upload (``photo.png``, or ``image-1a2b3c4d5e6f.png``)."""
        if self.filename:
            return self.filename
        kind, _, sub = self.content_type.partition("/")
        extension = {"jpeg": "jpg", "mpeg": "mp3", "octet-stream": "bin"}.get(sub, sub)
        return f"{kind if kind != 'application' else 'file'}-{self.sha256[:12]}.{extension}"


def _is_pil_image(value: Any) -> bool:
    return type(value).__module__.startswith("PIL.") and hasattr(value, "save") and hasattr(value, "mode")


def _is_array(value: Any) -> bool:
    return type(value).__module__.split(".")[0] == "numpy" and hasattr(value, "shape")


def _png_of_image(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _png_of_array(array: Any) -> bytes:
    """An HxW (gray), HxWx3 (RGB) or HxWx4 (RGBA) ``uint8`` array as PNG bytes."""
    import numpy as np  # only ever for a value that is already a numpy array
    from PIL import Image

    shape = tuple(array.shape)
    if array.dtype != np.uint8 or not (len(shape) == 2 or (len(shape) == 3 and shape[2] in (1, 3, 4))):
        raise TypeError(
            f"a numpy image must be HxW, HxWx3 or HxWx4 uint8 (got shape {shape}, dtype {array.dtype}); "
            "for floats in 0..1 pass (array * 255).round().astype('uint8')"
        )
    if len(shape) == 3 and shape[2] == 1:
        array = array[:, :, 0]
    return _png_of_image(Image.fromarray(np.ascontiguousarray(array)))


def decode_image(data: bytes) -> Any:
    """The PIL image of image file bytes, loaded; ``ValueError`` naming why for bytes
    Pillow cannot read. The one decoder of input pictures (engine nodes, ``@node_type``)."""
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:
        raise ValueError(f"the input is not an image Pillow can read ({exc})") from None
    return image


def in_memory_media(value: Any) -> bool:
    """Whether ``value`` is media held in memory: bytes, a PIL image or a numpy array."""
    return isinstance(value, (bytes, bytearray, memoryview)) or _is_pil_image(value) or _is_array(value)


def _memory_bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if _is_pil_image(value):
        return _png_of_image(value)
    return _png_of_array(value)


def data_url(data: bytes, content_type: str | None = None) -> str:
    """``data:<type>;base64,...`` of ``data`` (type sniffed from the bytes when not given)."""
    kind = content_type or sniff_content_type(data)
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def as_saved_value(value: Any) -> Any:
    """What a saved workflow keeps for an input value: bytes, a PIL image or an array as a
    ``data:`` URL, a ``pathlib.Path`` as its text; anything else unchanged."""
    if in_memory_media(value):
        return data_url(_memory_bytes(value))
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def _local_path(value: Any) -> str | None:
    """The local path a value names: a ``PathLike``, a ``file://`` URI or a text without
    a URL scheme; None for anything else (URLs, empty text, other types)."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)  # type: ignore[no-any-return]
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text[:7].lower() == "file://":
        from urllib.request import url2pathname

        return url2pathname(urlsplit(text).path)
    return None if has_url_scheme(text) else text


def is_local_media(value: Any) -> bool:
    """Whether ``value`` is a local media value (see the module docstring), without reading it."""
    if in_memory_media(value) or _local_path(value) is not None:
        return True
    return isinstance(value, str) and value.strip()[:5].lower() == "data:"


def local_media(value: Any) -> LocalMedia | None:
    """The bytes of a local media value, or None when ``value`` is not one (an http(s)
    URL, an empty text, a number). A path that names no regular file is a
    ``FileNotFoundError``; a file or value over ``MAX_UPLOAD_BYTES`` a ``ValueError``."""
    filename: str | None = None
    if in_memory_media(value):
        data = _memory_bytes(value)
    elif isinstance(value, str) and value.strip()[:5].lower() == "data:":
        data = _data_url_bytes(value.strip())
    else:
        path_text = _local_path(value)
        if path_text is None:
            return None
        path = Path(path_text).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"{path_text!r} is neither a URL nor an existing file")
        check_upload_size(path.stat().st_size)
        data, filename = path.read_bytes(), path.name
    check_upload_size(len(data))
    return LocalMedia(data, sniff_content_type(data), hashlib.sha256(data).hexdigest(), filename)


def _data_url_bytes(text: str) -> bytes:
    header, _, payload = text.partition(",")
    try:
        if header.lower().endswith(";base64"):
            return base64.b64decode(payload, validate=False)
        return unquote_to_bytes(payload)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"the data: URL is not valid base64 ({exc})") from None


def ffmpeg_exe() -> str:
    """The ffmpeg binary every part calls (the one inside the imageio-ffmpeg wheel: no
    system ffmpeg needed); imported on first use."""
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())
