"""Local media on a remote backend, no network I/O: which values of a request are local
media, the upload cache, and the multipart body that reports its progress.

Before a client sends a request (execute, run, estimate), ``MediaPlan`` finds every
local media value (``_media.local_media``: a path, a ``file://`` URI, a ``data:`` URL,
bytes, a PIL image, a numpy array) of a media input (a catalog input of kind image,
video or audio; a port typed ``IMAGE``/``VIDEO``/``AUDIO``; a field named ``image``,
``video`` or ``audio`` of a type the catalog does not know) in the nodes and the batch
values of a *copy* of the request, reads each one, and once the twin has uploaded what
``UploadCache`` does not know, writes the upload URLs in. A path that names no file is
a ``WorkflowValidationError`` naming the node, the field and the path, raised before
anything is sent: a local path never reaches a server. ``SavePlan`` does the same for a
workflow saved on a server (``workflows.create`` / ``update``): the copy sent carries the
upload URLs, the user's workflow (and its file) keeps its values.

``UploadCache`` remembers uploads by content hash: in memory for the client's life and
in ``<data home>/uploads/`` (one small JSON file per base URL + sha256, written
atomically with mode 0600; no key is ever stored, and the base URL only as a hash) for ``UPLOAD_CACHE_TTL``, so a second
run or a new client in a new kernel does not upload the same bytes again.

It may import ``_media``, ``_home``, ``_exceptions``, ``catalog``, ``models`` and
``workflow`` (lazily, for ``SavePlan``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._exceptions import Problem, WorkflowValidationError
from .._files import write_atomic
from .._home import data_home
from .._media import LocalMedia, as_saved_value, is_local_media, local_media
from ..catalog import MEDIA_PORT_TYPES, media_fields
from ..models import ExecuteRequest, Node, WorkflowInputs

__all__ = [
    "UPLOAD_CACHE_TTL",
    "InputsPlan",
    "MediaPlan",
    "OnUpload",
    "ProgressBody",
    "SavePlan",
    "UploadCache",
    "UploadPlan",
    "UploadProgress",
    "default_cache_folder",
]

#: Seconds an upload remembered on disk is reused (the server's idempotency window).
UPLOAD_CACHE_TTL = 24 * 3600
#: Bytes handed to the transport between two progress reports.
CHUNK = 64 * 1024


@dataclass(frozen=True)
class UploadProgress:
    """How far the upload of one local media value is: ``str()`` is what the app shows."""

    filename: str
    sent: int
    total: int
    #: the node and field the value feeds (None for ``client.upload``)
    node_id: str | None = None
    field: str | None = None

    @property
    def fraction(self) -> float:
        return 1.0 if self.total <= 0 else min(1.0, self.sent / self.total)

    def __str__(self) -> str:
        return f"Uploading {self.filename} {round(self.fraction * 100)}%"


#: ``on_upload(progress)`` of execute / run / estimate.
OnUpload = Callable[[UploadProgress], None]


def default_cache_folder() -> Path:
    """``<$WIREFLOW_NB_HOME or the user data folder>/uploads``."""
    return data_home() / "uploads"


class UploadCache:
    """Upload URLs by content hash for one base URL: a memory map, and files on disk
    (``folder``; None keeps them in memory only)."""

    def __init__(self, base_url: str, folder: Path | None, *, ttl: float = UPLOAD_CACHE_TTL) -> None:
        self.base_url = base_url
        self.folder = folder
        self.ttl = ttl
        self._memory: dict[str, str] = {}
        # the files name the server by a hash: a base URL may carry a user name or a token
        self._server = hashlib.sha256(base_url.encode()).hexdigest()

    def _file(self, sha256: str) -> Path | None:
        if self.folder is None:
            return None
        digest = hashlib.sha256(f"{self._server}\n{sha256}".encode()).hexdigest()
        return self.folder / f"{digest}.json"

    def get(self, sha256: str) -> str | None:
        """The URL the bytes of ``sha256`` were uploaded as, if remembered and fresh."""
        url = self._memory.get(sha256)
        if url is not None:
            return url
        path = self._file(sha256)
        if path is None:
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        fresh = isinstance(entry, dict) and time.time() - float(entry.get("at", 0)) < self.ttl
        url = entry.get("url") if fresh else None
        if not isinstance(url, str) or entry.get("server") != self._server or entry.get("sha256") != sha256:
            return None
        self._memory[sha256] = url
        return url

    def put(self, sha256: str, url: str) -> None:
        """Remember an upload (the disk file is written whole or not at all)."""
        self._memory[sha256] = url
        path = self._file(sha256)
        if path is None:
            return
        entry = {"server": self._server, "sha256": sha256, "url": url, "at": time.time()}
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(path, json.dumps(entry), private=True)
        except OSError:  # a read-only home: the memory map still holds it
            pass


@dataclass
class _Slot:
    """Where one local media value sits: a node's field (``item`` in a list, or the
    ``url`` of a media dict), or a value of a batch."""

    media: LocalMedia
    node_index: int | None = None
    field: str = ""
    item: int | None = None
    in_dict: bool = False
    config_index: int | None = None
    value_index: int = 0
    node_id: str | None = None


class MediaPlan:
    """The local media values of ``request`` (a copy the caller may change), read."""

    def __init__(self, request: ExecuteRequest, catalog: Any = None) -> None:
        if catalog is None:
            from ..catalog import default_catalog

            catalog = default_catalog()
        self.request = request
        self.slots: list[_Slot] = []
        problems: list[Problem] = []
        fields_of: dict[str, set[str]] = {}
        for index, node in enumerate(request.nodes):
            fields = fields_of[node.id] = media_fields(node, catalog)
            for name, value in node.inputs.items():
                # what JSON cannot carry (bytes, an image, an array, a Path) is media whatever the field
                if name in fields or (not isinstance(value, str) and is_local_media(value)):
                    self._find(value, _Slot(LocalMedia(b"", "", ""), index, name, node_id=node.id), problems)
        for c_index, config in enumerate(request.iterator_configs or []):
            if config.field in fields_of.get(config.node_id, ()):
                for v_index, value in enumerate(config.values):
                    slot = _Slot(LocalMedia(b"", "", ""), None, config.field, node_id=config.node_id)
                    slot.config_index, slot.value_index = c_index, v_index
                    self._find(value, slot, problems)
        if problems:
            raise WorkflowValidationError(problems, summary="Local media could not be read; nothing was sent")

    def _find(self, value: Any, slot: _Slot, problems: list[Problem]) -> None:
        if isinstance(value, list):
            for i, item in enumerate(value):
                self._find_one(item, _replace(slot, item=i), problems)
        else:
            self._find_one(value, slot, problems)

    def _find_one(self, value: Any, slot: _Slot, problems: list[Problem]) -> None:
        if isinstance(value, dict):
            value, slot = value.get("url"), _replace(slot, in_dict=True)
        try:
            media = local_media(value)
        except (OSError, ValueError, TypeError) as exc:
            where = f"node {slot.node_id!r} input {slot.field!r}"
            if slot.config_index is not None:
                where += f" (batch value {slot.value_index})"
            problems.append(
                Problem(
                    "local_media_unreadable",
                    f"{where}: {exc}; give an existing file, bytes, a PIL image, a numpy array or a URL",
                    node_id=slot.node_id,
                    field=slot.field,
                )
            )
            return
        if media is not None:
            slot.media = media
            self.slots.append(slot)

    @property
    def media(self) -> list[tuple[LocalMedia, str | None, str]]:
        """Each distinct local media value (by sha256), with the node and field it feeds first."""
        seen: dict[str, tuple[LocalMedia, str | None, str]] = {}
        for slot in self.slots:
            seen.setdefault(slot.media.sha256, (slot.media, slot.node_id, slot.field))
        return list(seen.values())

    def apply(self, urls: Mapping[str, str]) -> dict[str, Any]:
        """Write the upload URL of each value (by sha256) into the request; its JSON body."""
        request = self.request
        for slot in self.slots:
            url = urls[slot.media.sha256]
            if slot.config_index is not None:
                values = request.iterator_configs[slot.config_index].values  # type: ignore[index]
                values[slot.value_index] = _put(values[slot.value_index], slot, url)
            else:
                assert slot.node_index is not None
                node = request.nodes[slot.node_index]
                node.set_input(slot.field, _put(node.inputs.get(slot.field), slot, url))
        return request.to_wire()


class InputsPlan:
    """The local media values of the inputs of a saved workflow's run (``{nodeId or
    name: value}``), read: a value JSON cannot carry (a Path, bytes, an image, an
    array) whatever the input, and a path-like text for an input ``schema`` types
    ``IMAGE``, ``VIDEO`` or ``AUDIO``."""

    def __init__(self, inputs: Mapping[str, Any], schema: WorkflowInputs | None) -> None:
        self.inputs = dict(inputs)
        typed = {}
        for entry in schema.inputs if schema is not None else []:
            typed[entry.node_id] = typed[entry.name] = (entry.node_id, entry.field, entry.type.upper())
        self.found: list[tuple[str, LocalMedia, str | None, str]] = []
        problems: list[Problem] = []
        for key, value in self.inputs.items():
            node_id, field, port_type = typed.get(key, (key, key, ""))
            if isinstance(value, str) and port_type not in MEDIA_PORT_TYPES:
                continue
            if not isinstance(value, str) and not is_local_media(value):
                continue
            try:
                media = local_media(value)
            except (OSError, ValueError, TypeError) as exc:
                problems.append(
                    Problem("local_media_unreadable", f"input {key!r}: {exc}", node_id=node_id, field=field)
                )
                continue
            if media is not None:
                self.found.append((key, media, node_id, field))
        if problems:
            raise WorkflowValidationError(problems, summary="Local media could not be read; nothing was sent")

    @staticmethod
    def needs_schema(inputs: Mapping[str, Any]) -> bool:
        """Whether a text value might be local media (only the schema can tell whether its
        input is a media one): a ``file://`` or ``data:`` URL, or a text that looks like a
        path (a separator, a media file's extension, an existing file). Plain words
        ("a red fox") cost no request."""
        return any(isinstance(v, str) and _might_be_media(v) for v in inputs.values())

    @property
    def media(self) -> list[tuple[LocalMedia, str | None, str]]:
        seen: dict[str, tuple[LocalMedia, str | None, str]] = {}
        for _, media, node_id, field in self.found:
            seen.setdefault(media.sha256, (media, node_id, field))
        return list(seen.values())

    def apply(self, urls: Mapping[str, str]) -> dict[str, Any]:
        """The inputs, each local media value replaced by its upload URL."""
        out = dict(self.inputs)
        for key, media, _, _ in self.found:
            out[key] = urls[media.sha256]
        return out


class SavePlan:
    """The local media of a workflow about to be saved on a server (``workflows.create`` /
    ``update``; a ``Workflow`` or its JSON, as the app's Save sends it). ``apply`` gives
    the JSON to send: the saved JSON (``Workflow.to_dict``, what ``save`` writes) whose
    local media values are upload URLs, so the server never stores a path of the user's
    machine and can run what it stores. The user's workflow is never changed. The values
    are read as ``MediaPlan`` reads a run's (a ``Workflow``'s own values, so a ``Path`` or
    bytes in any field count); a node of a mapping that is no node is left as it is (the
    server refuses it)."""

    def __init__(self, workflow: Any, catalog: Any = None) -> None:
        from ..workflow import Workflow

        if isinstance(workflow, Workflow):
            self.body = workflow.to_dict()
            # a copy holding the user's values, every node (to_request leaves bypassed ones out)
            nodes = [copy.deepcopy(n) for n in workflow.nodes]
            self._where = list(range(len(nodes)))
        elif isinstance(workflow, Mapping):
            self.body = dict(workflow)
            nodes, self._where = [], []
            for index, item in enumerate(self.body.get("nodes") or []):
                node = _parsed_node(item)
                if node is not None:
                    nodes.append(node)
                    self._where.append(index)
        else:
            raise TypeError(f"expected a Workflow or its JSON (a dict), got {type(workflow).__name__}")
        self._plan = MediaPlan(ExecuteRequest(nodes=nodes), catalog)

    @property
    def media(self) -> list[tuple[LocalMedia, str | None, str]]:
        return self._plan.media

    def apply(self, urls: Mapping[str, str]) -> dict[str, Any]:
        """The workflow JSON to send: each local media value replaced by its upload URL."""
        if not self._plan.slots:
            return self.body
        self._plan.apply(urls)
        nodes = list(self.body["nodes"])
        for index in sorted({slot.node_index for slot in self._plan.slots if slot.node_index is not None}):
            node = self._plan.request.nodes[index]
            for name, value in node.inputs.items():  # what else JSON cannot hold, as a file keeps it
                saved = as_saved_value(value)
                if saved is not value:
                    node.set_input(name, saved)
            nodes[self._where[index]] = node.to_wire()
        return {**self.body, "nodes": nodes}


#: What a client's ``_with_uploads`` takes.
UploadPlan = MediaPlan | InputsPlan | SavePlan


def _parsed_node(item: Any) -> Node | None:
    from pydantic import ValidationError

    if not isinstance(item, Mapping):
        return None
    try:
        return Node.model_validate(copy.deepcopy(item))  # the caller's dicts are never written
    except ValidationError:
        return None


_MEDIA_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".mp4", ".webm", ".mov", ".wav", ".mp3")


def _might_be_media(text: str) -> bool:
    text = text.strip()
    if not is_local_media(text):
        return False
    if text[:5].lower() in ("file:", "data:") or "/" in text or "\\" in text:
        return True
    return text.lower().endswith(_MEDIA_SUFFIXES) or os.path.isfile(os.path.expanduser(text))


def _replace(slot: _Slot, **changes: Any) -> _Slot:
    fields = {**slot.__dict__, **changes}
    return _Slot(**fields)


def _put(value: Any, slot: _Slot, url: str) -> Any:
    """``value`` with the local media at ``slot`` replaced by ``url`` (a new value)."""
    if slot.item is not None and isinstance(value, list):
        items = list(value)
        items[slot.item] = _put(items[slot.item], _replace(slot, item=None), url)
        return items
    if slot.in_dict and isinstance(value, dict):
        return {**value, "url": url}
    return url


class ProgressBody:
    """A ``multipart/form-data`` body of one file whose chunks report progress; a fresh
    stream per attempt (a retry sends it again from the start)."""

    def __init__(
        self,
        data: bytes,
        filename: str,
        content_type: str,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.data = data
        self.progress = progress
        boundary = secrets.token_hex(16)
        safe_name = filename.replace("\\", "_").replace('"', "_").replace("\r", "_").replace("\n", "_")
        self._head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{safe_name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self.headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(self._head) + len(data) + len(self._tail)),
        }

    def _chunks(self) -> Iterator[bytes]:
        total = len(self.data)
        if self.progress is not None:
            self.progress(0, total)
        yield self._head
        for start in range(0, total, CHUNK):
            yield self.data[start : start + CHUNK]
            if self.progress is not None:
                self.progress(min(start + CHUNK, total), total)
        yield self._tail

    def stream(self, *, asynchronous: bool) -> Iterator[bytes] | AsyncIterator[bytes]:
        """The chunks, as an iterator for ``httpx.Client`` or an async one for ``AsyncClient``."""
        if not asynchronous:
            return self._chunks()

        async def chunks() -> AsyncIterator[bytes]:
            for chunk in self._chunks():
                yield chunk

        return chunks()
