"""The artifact store: node output files, content-addressed under ``<home>/artifacts/``.

A file is named ``<sha256>.<ext>``, so saving the same bytes twice stores them once and a
name never changes meaning. Outputs are stored with *references*
(``wireflow-artifact:<name>``) and rendered to URLs when read: ``file://`` URIs when
``artifact_base_url`` is None, ``<artifact_base_url><name>`` when a server serves them, so
a server restarted on another port still hands out valid URLs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = [
    "ARTIFACT_PREFIX",
    "MAX_DOWNLOAD_BYTES",
    "ArtifactStore",
    "content_type_of",
    "extension_for",
    "read_source",
    "sniff_content_type",
]

#: How a stored output refers to an artifact; never leaves the engine.
ARTIFACT_PREFIX = "wireflow-artifact:"

#: An artifact name, exactly (``\Z``: ``$`` would also match before a final newline).
_NAME = re.compile(r"^[0-9a-f]{64}\.[a-z0-9]{1,8}\Z")

_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/bmp": "bmp",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
    "text/plain": "txt",
    "application/json": "json",
}
_TYPES = {ext: ctype for ctype, ext in _EXTENSIONS.items()}


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
    if head.startswith(b"BM"):
        return "image/bmp"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    return "application/octet-stream"


def extension_for(content_type: str | None) -> str:
    base = (content_type or "").split(";", 1)[0].strip().lower()
    return _EXTENSIONS.get(base, "bin")


def content_type_of(name: str) -> str:
    """The media type of an artifact from its name."""
    return _TYPES.get(name.rsplit(".", 1)[-1], "application/octet-stream")


class ArtifactStore:
    """Content-addressed files under ``root``; thread-safe (writes are atomic renames)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        path = Path(root)
        path.mkdir(parents=True, exist_ok=True)
        self.root = path.resolve()
        self._root_uri = self.root.as_uri().rstrip("/") + "/"

    # -- names and files ---------------------------------------------------------------
    def save(self, data: bytes, content_type: str | None = None) -> str:
        """Store ``data``; returns its name (``<sha256>.<ext>``)."""
        data = bytes(data)
        ctype = content_type or sniff_content_type(data)
        name = f"{hashlib.sha256(data).hexdigest()}.{extension_for(ctype)}"
        target = self.root / name
        if not target.exists():
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        return name

    def is_name(self, name: str) -> bool:
        return bool(_NAME.match(name))

    def path(self, name: str) -> Path:
        """The file of artifact ``name``. ``ValueError`` for anything that is not an
        artifact name (so ``../x`` or an absolute path can never escape the store);
        ``FileNotFoundError`` when no such artifact exists."""
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"{name!r} is not the name of an output file")
        path = self.root / name
        if path.parent != self.root:  # defence in depth; the pattern already forbids it
            raise ValueError(f"{name!r} is outside the artifact store")
        if not path.is_file():
            raise FileNotFoundError(f"no output file named {name!r}")
        return path

    def exists(self, name: str) -> bool:
        return bool(_NAME.match(name)) and (self.root / name).is_file()

    def read(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    # -- references and URLs -------------------------------------------------------------
    @staticmethod
    def ref(name: str) -> str:
        """The reference stored outputs hold for artifact ``name``."""
        return ARTIFACT_PREFIX + name

    def url(self, name: str, base_url: str | None) -> str:
        if base_url is None:
            return self._root_uri + name
        return base_url.rstrip("/") + "/" + name

    def name_of(self, url: str, base_url: str | None = None) -> str | None:
        """The artifact a URL (or reference, or bare name) points at, else None.

        Knows references, bare names, ``file://`` URIs inside the store, URLs under
        ``base_url`` and any ``.../files/<name>`` URL of an artifact that exists (a URL
        a server handed out before it moved to another port)."""
        if not isinstance(url, str):
            return None
        if url.startswith(ARTIFACT_PREFIX):
            name = url[len(ARTIFACT_PREFIX) :]
        elif _NAME.match(url):
            name = url
        elif url.startswith(self._root_uri):
            name = unquote(url[len(self._root_uri) :])
        elif base_url and url.startswith(base_url.rstrip("/") + "/"):
            name = url[len(base_url.rstrip("/")) + 1 :].split("?", 1)[0]
        elif url.startswith(("http://", "https://")) and "/files/" in url:
            name = urlsplit(url).path.rsplit("/files/", 1)[-1]
            if not self.exists(name):
                return None
        else:
            return None
        return name if _NAME.match(name) else None

    def render(self, value: Any, base_url: str | None) -> Any:
        """``value`` with every artifact reference turned into a URL."""
        if isinstance(value, str):
            if value.startswith(ARTIFACT_PREFIX):
                return self.url(value[len(ARTIFACT_PREFIX) :], base_url)
            return value
        if isinstance(value, dict):
            return {k: self.render(v, base_url) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v, base_url) for v in value]
        return value

    @property
    def url_prefixes(self) -> tuple[str, ...]:
        """How every string that may name a stored file starts."""
        return (ARTIFACT_PREFIX, self._root_uri, "http://", "https://")

    def refs_in(self, value: Any) -> list[str]:
        """Names of the artifacts a stored value refers to."""
        names: list[str] = []

        def walk(item: Any) -> None:
            if isinstance(item, str):
                if item.startswith(ARTIFACT_PREFIX):
                    names.append(item[len(ARTIFACT_PREFIX) :])
            elif isinstance(item, dict):
                for v in item.values():
                    walk(v)
            elif isinstance(item, list):
                for v in item:
                    walk(v)

        walk(value)
        return names


#: Largest download ``read_source`` accepts (the hosted media upload limit).
MAX_DOWNLOAD_BYTES = 25 * 1024 * 1024


def read_source(
    value: Any, store: ArtifactStore, base_url: str | None = None, *, timeout: float = 30
) -> bytes:
    """The bytes behind an input value: bytes; a media dict (``{"url": ...}``) or a list
    of them (the first); an artifact URL or reference; a ``data:`` URL; a ``file://`` URI
    or local path; or an ``http(s)`` URL (fetched with urllib)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, list):
        if not value:
            raise ValueError("no image was given (an empty list)")
        value = value[0]
    if isinstance(value, dict):
        value = value.get("url")
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a URL, a file path or bytes, got {type(value).__name__}")
    text = value.strip()
    name = store.name_of(text, base_url)
    if name is not None and store.exists(name):
        return store.read(name)
    if text.startswith("data:"):
        import base64
        from urllib.parse import unquote_to_bytes

        header, _, payload = text.partition(",")
        if header.endswith(";base64"):
            return base64.b64decode(payload)
        return unquote_to_bytes(payload)
    if text.startswith("file://"):
        from urllib.request import url2pathname

        return Path(url2pathname(urlsplit(text).path)).read_bytes()
    if text.startswith(("http://", "https://")):
        from urllib.request import Request, urlopen

        request = Request(text, headers={"User-Agent": "wireflow_nb-local-engine"})
        with urlopen(request, timeout=timeout) as response:
            data = response.read(MAX_DOWNLOAD_BYTES + 1)
        if len(data) > MAX_DOWNLOAD_BYTES:
            raise ValueError(f"{text} is larger than {MAX_DOWNLOAD_BYTES // (1024 * 1024)} MB")
        return bytes(data)
    path = Path(text).expanduser()
    if path.is_file():
        return path.read_bytes()
    raise FileNotFoundError(f"{text!r} is neither a URL nor an existing file")
