"""The artifact store: node output files, content-addressed under ``<home>/artifacts/``.

A file is named ``<sha256>.<ext>``, so saving the same bytes twice stores them once and a
name never changes meaning. Outputs are stored with *references*
(``wireflow-artifact:<name>``) and rendered to URLs when read: ``file://`` URIs when
``artifact_base_url`` is None, ``<artifact_base_url><name>`` when a server serves them, so
a server restarted on another port still hands out valid URLs.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .._files import write_atomic
from .._media import sniff_content_type
from .home import make_private_dir

__all__ = [
    "ARTIFACT_PREFIX",
    "ArtifactStore",
    "content_type_of",
    "extension_for",
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
        make_private_dir(path)
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
            write_atomic(target, data, private=True)  # 0600 whatever the umask
        return name

    def is_name(self, name: str) -> bool:
        return bool(_NAME.match(name))

    def path(self, name: str) -> Path:
        """The file of artifact ``name``. ``ValueError`` for anything that is not an
        artifact name (so ``../x`` or an absolute path can never escape the store);
        ``FileNotFoundError`` when no regular file of the store has that name.

        The entry itself is examined (``lstat``), never what it points at: a symlink
        (to a file outside the store, or to a directory), a FIFO or a device node planted
        in the store is no artifact, and nothing is opened to find that out (opening a
        FIFO would block)."""
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"{name!r} is not the name of an output file")
        path = self.root / name
        if path.parent != self.root:  # defence in depth; the pattern already forbids it
            raise ValueError(f"{name!r} is outside the artifact store")
        if not self._is_regular(path):
            raise FileNotFoundError(f"no output file named {name!r}")
        return path

    @staticmethod
    def _is_regular(path: Path) -> bool:
        try:
            return stat.S_ISREG(os.lstat(path).st_mode)
        except OSError:
            return False

    def exists(self, name: str) -> bool:
        return bool(_NAME.match(name)) and self._is_regular(self.root / name)

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
