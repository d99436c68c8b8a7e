"""Outputs carry their workflow: the record embedded in an output file, written and read.

The record (``record_for``) is JSON: ``{"format": "wireflow-nb/1", "version", "executionId",
"workflow", "inputs"}``. ``workflow`` is the saved shape (``Workflow.to_dict``: nodes, edges,
``wireflowNb`` canvas items, ``viewport``), ``inputs`` what the run got besides it
(``targetNodeId``, ``triggerData``, ``iteratorConfigs``, and for one run of a batch its
``runIndex``, ``inputIndex`` and iterator ``values``).

No file path of the user's machine is written: a local media value of a media input
(``catalog.media_fields``; a path, a ``file://`` URI) is kept as its file name only, and
any other ``file://`` URI anywhere in the record too (the engine's artifact store lives
in the user's home). A ``data:`` URL is content, not a path: it is kept. Keys never reach a
workflow (they live in clients), so none can be written.

Where it goes (``embed``; the bytes of an image are never re-encoded):
- PNG: a compressed ``iTXt`` chunk with keyword ``wireflow`` before ``IEND`` (Pillow shows
  it in ``Image.text``).
- JPEG: ``APP11`` segments after the ``APP0``/``APP1`` headers, each ``WIREFLOW\\0`` + its
  index + the count + a piece of the zlib-compressed record (a segment holds 64 KiB).
- WebP: an ``XMP `` chunk (a ``VP8X`` header is added or flagged), the record as the text
  of ``wireflow:record`` (Pillow shows the packet in ``info["xmp"]``).
- MP4: the ``comment`` tag, written by the ffmpeg of imageio-ffmpeg (stream copy, no
  re-encoding) and read back with its ``ffmetadata`` output.
Other bytes are returned as they are. ``read_record(path)`` finds the record again.
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
import subprocess
import tempfile
import zlib
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any
from xml.sax.saxutils import escape

from ._exceptions import Problem, WorkflowValidationError
from ._files import write_atomic
from ._media import _local_path, as_saved_value, ffmpeg_exe, sniff_content_type
from ._version import __version__

__all__ = [
    "CARRIED_TYPES",
    "FORMAT",
    "KEY",
    "MAX_RECORD_BYTES",
    "MEDIA_SUFFIXES",
    "can_carry",
    "embed",
    "encode",
    "read_record",
    "record_for",
    "saved_bytes",
    "workflow_body",
    "write_file",
]

#: The record's ``format``; a reader refuses another major version.
FORMAT = "wireflow-nb/1"
#: The PNG text keyword (and the name used everywhere else).
KEY = "wireflow"
#: The files ``read_record`` opens.
MEDIA_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".mp4")
#: The media types a record is written into.
CARRIED_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "video/mp4"})
#: The largest record read back (a file is untrusted: a small one may inflate to much).
MAX_RECORD_BYTES = 64 * 2**20
_SCALARS = frozenset({str, int, float, bool, type(None)})
_INPUT_KEYS = ("targetNodeId", "triggerData", "iteratorConfigs")
_JPEG_TAG = b"WIREFLOW\x00"
_JPEG_PIECE = 65535 - 2 - len(_JPEG_TAG) - 2
_XMP_NS = "https://wireflow.ai/ns/wireflow-nb/1.0/"


# -- the record ---------------------------------------------------------------------------------
def record_for(
    source: Any,
    *,
    execution_id: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    catalog: Any = None,
) -> dict[str, Any]:
    """The record of a run of ``source``: a ``Workflow``, an ``ExecuteRequest``, a saved
    workflow's JSON or a request's JSON (its target, trigger data and batch configs go to
    ``inputs``). ``inputs``: more of what the run got (e.g. one run's iterator values).
    Paths are kept as file names (see the module docstring)."""
    body = workflow_body(source)
    workflow = {k: v for k, v in body.items() if k not in _INPUT_KEYS}
    given = {k: body[k] for k in _INPUT_KEYS if body.get(k) is not None}
    given.update({k: v for k, v in (inputs or {}).items() if v is not None})
    nodes = workflow.get("nodes")
    if isinstance(nodes, list):
        media = _media_fields_by_node(nodes, catalog)
        workflow["nodes"] = [_scrub_node(node, media.get(_node_id(node), ())) for node in nodes]
        _scrub_iterated(given, media)
        values = given.get("values")
        if isinstance(values, Mapping):
            given["values"] = {
                nid: {f: _file_name(v) if f in media.get(nid, ()) else v for f, v in fields.items()}
                if isinstance(fields, Mapping)
                else fields
                for nid, fields in values.items()
            }
    record: dict[str, Any] = {"format": FORMAT, "version": __version__}
    if execution_id:
        record["executionId"] = execution_id
    record["workflow"] = workflow
    record["inputs"] = given
    result = _no_file_uris(record)
    assert isinstance(result, dict)
    return result


def workflow_body(source: Any) -> dict[str, Any]:
    """The JSON of a ``Workflow`` (saved shape), an ``ExecuteRequest`` (wire shape) or a mapping."""
    if hasattr(source, "to_dict") and hasattr(source, "nodes"):
        body = source.to_dict()
    elif hasattr(source, "to_wire"):
        body = source.to_wire()
    elif isinstance(source, Mapping):
        body = source
    else:
        raise TypeError(f"a workflow, a request or their JSON is needed, not {type(source).__name__}")
    result = _jsonable(body)
    assert isinstance(result, dict)
    return result


def _jsonable(value: Any) -> Any:
    """A copy of ``value`` as JSON, in-memory media as a saved workflow keeps it (a ``data:`` URL)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): _jsonable(v) for k, v in value.items()}
    if kind is list:
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    saved = as_saved_value(value)
    return saved if isinstance(saved, str) else str(value)


def _node_id(node: Any) -> str:
    return str(node.get("id", "")) if isinstance(node, Mapping) else ""


def _media_fields_by_node(nodes: list[Any], catalog: Any) -> dict[str, set[str]]:
    from pydantic import ValidationError

    from .catalog import default_catalog, media_fields
    from .models import Node

    catalog = catalog if catalog is not None else default_catalog()
    found: dict[str, set[str]] = {}
    for raw in nodes:
        if not _has_folder(raw.get("data") if isinstance(raw, Mapping) else None):
            continue  # no value names a folder: nothing to keep out (a file name stays as it is)
        try:
            node = Node.model_validate(raw)
        except ValidationError:
            continue
        found[node.id] = media_fields(node, catalog)
    return found


def _has_folder(value: Any) -> bool:
    """Whether a node's data holds a text with a separator (or a path object) anywhere: only
    such a node may need a path kept out (a bare file name stays as it is)."""
    kind = type(value)
    if kind is str:
        return "/" in value or "\\" in value
    if kind is dict:
        return any(_has_folder(v) for v in value.values())
    if kind is list:
        return any(_has_folder(v) for v in value)
    return isinstance(value, os.PathLike)


def _scrub_node(raw: Any, fields: Any) -> Any:
    if not fields or not isinstance(raw, Mapping):
        return raw
    from .models import Node

    node = Node.model_validate(raw)
    changes = {}
    for name in fields:
        value = node.inputs.get(name)
        kept = _file_name(value)
        if kept is not value:
            changes[name] = kept
    if not changes:
        return raw
    node = node.model_copy(deep=True)
    for name, value in changes.items():
        node.set_input(name, value)
    return node.to_wire()


def _scrub_iterated(inputs: dict[str, Any], media: Mapping[str, set[str]]) -> None:
    configs = inputs.get("iteratorConfigs")
    if not isinstance(configs, list):
        return
    out = []
    for config in configs:
        if isinstance(config, Mapping) and config.get("field") in media.get(str(config.get("nodeId")), ()):
            config = {**config, "values": _file_name(config.get("values"))}
        out.append(config)
    inputs["iteratorConfigs"] = out


def _file_name(value: Any) -> Any:
    """A media value with every local path (or ``file://`` URI) replaced by its file name."""
    if isinstance(value, str):
        path = _local_path(value)
        return value if path is None else PurePath(path.replace("\\", "/")).name
    if isinstance(value, os.PathLike):
        return PurePath(os.fspath(value)).name
    if isinstance(value, list):
        items = [_file_name(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, Mapping) and "url" in value:
        url = _file_name(value["url"])
        return value if url is value["url"] else {**value, "url": url}
    return value


def _no_file_uris(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return _file_name(value) if value[:7].lower() == "file://" else value
    if kind in _SCALARS:
        return value
    if isinstance(value, dict):
        return {k: _no_file_uris(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_file_uris(v) for v in value]
    return value


def encode(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def can_carry(data: bytes) -> bool:
    """Whether ``embed`` writes a record into ``data`` (PNG, JPEG, WebP or MP4 bytes)."""
    return sniff_content_type(data) in CARRIED_TYPES


# -- writing ------------------------------------------------------------------------------------
def embed(data: bytes, record: Mapping[str, Any] | bytes) -> bytes:
    """``data`` (PNG, JPEG, WebP or MP4 bytes) carrying ``record`` (a record or its
    encoded JSON), replacing one it carried; other bytes unchanged."""
    payload = record if isinstance(record, bytes) else encode(record)
    kind = sniff_content_type(data)
    if kind == "image/png":
        return _png_with(data, payload)
    if kind == "image/jpeg":
        return _jpeg_with(data, payload)
    if kind == "image/webp":
        return _webp_with(data, payload)
    if kind == "video/mp4":
        return _mp4_with(data, payload)
    return data


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, at = [], 8
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        chunks.append((kind, data[at + 8 : at + 8 + length]))
        at += 12 + length
        if kind == b"IEND":
            break
    return chunks


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_with(data: bytes, payload: bytes) -> bytes:
    """The chunks as they are (no CRC computed again), ours dropped, the new one before ``IEND``."""
    mine = KEY.encode() + b"\x00"
    out, at, start = [], 8, 0
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        end = at + 12 + length
        if kind == b"IEND" or (
            kind in (b"iTXt", b"tEXt", b"zTXt") and data[at + 8 : end - 4].startswith(mine)
        ):
            out.append(data[start:at])
            start = end if kind != b"IEND" else at
            if kind == b"IEND":
                out.append(_png_chunk(b"iTXt", mine + b"\x01\x00\x00\x00" + zlib.compress(payload, 9)))
                break
        at = end
    out.append(data[start:])
    return b"".join(out)


def _jpeg_segments(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """The marker segments before the scan, and where the scan starts."""
    segments, at = [], 2
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if marker == 0xFF:
            at += 1
            continue
        if marker == 0xDA or 0xD0 <= marker <= 0xD9:
            break
        length = struct.unpack(">H", data[at + 2 : at + 4])[0]
        segments.append((marker, data[at + 4 : at + 2 + length]))
        at += 2 + length
    return segments, at


def _jpeg_with(data: bytes, payload: bytes) -> bytes:
    segments, scan = _jpeg_segments(data)
    kept = [(m, b) for m, b in segments if not (m == 0xEB and b.startswith(_JPEG_TAG))]
    packed = zlib.compress(payload, 9)
    pieces = [packed[i : i + _JPEG_PIECE] for i in range(0, len(packed), _JPEG_PIECE)] or [b""]
    if len(pieces) > 255:
        raise ValueError("the workflow is too big to embed in a JPEG (over 16 MB compressed)")
    ours = [(0xEB, _JPEG_TAG + bytes([i, len(pieces)]) + p) for i, p in enumerate(pieces)]
    head = 0
    while head < len(kept) and kept[head][0] in (0xE0, 0xE1):  # JFIF / Exif stay first
        head += 1
    parts = [data[:2]]
    for marker, body in kept[:head] + ours + kept[head:]:
        parts.append(bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body)
    parts.append(data[scan:])
    return b"".join(parts)


def _riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, at = [], 12
    while at + 8 <= len(data):
        kind, length = data[at : at + 4], struct.unpack("<I", data[at + 4 : at + 8])[0]
        chunks.append((kind, data[at + 8 : at + 8 + length]))
        at += 8 + length + (length & 1)
    return chunks


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")


def _webp_with(data: bytes, payload: bytes) -> bytes:
    chunks = [(k, b) for k, b in _riff_chunks(data) if k != b"XMP "]
    if chunks and chunks[0][0] == b"VP8X":
        head = bytearray(chunks[0][1])
        head[0] |= 0x04
        chunks[0] = (b"VP8X", bytes(head))
    else:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            width, height, alpha = image.width, image.height, "A" in image.getbands()
        flags = 0x04 | (0x10 if alpha else 0)
        size = struct.pack("<I", width - 1)[:3] + struct.pack("<I", height - 1)[:3]
        chunks.insert(0, (b"VP8X", bytes([flags, 0, 0, 0]) + size))
    text = escape(payload.decode("utf-8"))
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description xmlns:wireflow="{_XMP_NS}"><wireflow:record>{text}</wireflow:record>'
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    chunks.append((b"XMP ", xmp.encode("utf-8")))
    body = b"WEBP" + b"".join(_riff_chunk(k, b) for k, b in chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _ffmeta_escape(text: str) -> str:
    return re.sub(r"([=;#\\\n])", r"\\\1", text)


def _mp4_with(data: bytes, payload: bytes) -> bytes:
    with tempfile.TemporaryDirectory(prefix="wireflow-") as folder:
        source, meta, target = (Path(folder) / n for n in ("in.mp4", "meta.txt", "out.mp4"))
        source.write_bytes(data)
        kept = [line for line in _mp4_tags(source) if not line.startswith("comment=")]  # title, ... stay
        ours = "comment=" + _ffmeta_escape(payload.decode("utf-8"))
        meta.write_text("\n".join([";FFMETADATA1", *kept, ours]) + "\n", "utf-8")
        command = [ffmpeg_exe(), "-v", "error", "-y", "-i", str(source), "-f", "ffmetadata", "-i", str(meta)]
        command += ["-map", "0", "-map_metadata", "1", "-c", "copy", "-movflags", "+faststart", str(target)]
        done = subprocess.run(command, capture_output=True, timeout=120, check=False)
        if done.returncode != 0:
            raise ValueError(
                f"ffmpeg could not write the workflow into the MP4: {done.stderr.decode()[-300:]}"
            )
        return target.read_bytes()


# -- reading ------------------------------------------------------------------------------------
def read_record(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The record an output file carries. ``WorkflowValidationError`` naming the file when
    it carries none, is of a kind no record is written into, or its record is damaged."""
    source = Path(path)
    suffix = source.suffix.lower()
    if suffix not in MEDIA_SUFFIXES:
        kinds = ", ".join((".json", *MEDIA_SUFFIXES))
        raise _error(
            "unknown_file_kind",
            f"{source.name}: cannot read a workflow from a {suffix or 'nameless'} file; open one of {kinds}",
        )
    try:
        data = source.read_bytes() if suffix != ".mp4" else b""
    except OSError as exc:
        raise _error("unreadable_file", f"{source}: {exc.strerror or exc}") from None
    try:
        payload = _mp4_payload(source) if suffix == ".mp4" else _payload(data)
    except (ValueError, zlib.error, struct.error, IndexError) as exc:
        raise _error("damaged_workflow", f"{source.name}: its wireflow workflow is damaged ({exc})") from None
    if payload is None:
        raise _error(
            "no_workflow",
            f"{source.name} carries no wireflow workflow: it was not written by wireflow_nb, "
            "or its metadata was stripped",
        )
    try:
        record = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _error(
            "damaged_workflow", f"{source.name}: its wireflow workflow is not valid JSON ({exc})"
        ) from None
    if not isinstance(record, dict) or not isinstance(record.get("workflow"), dict):
        raise _error("damaged_workflow", f"{source.name}: its wireflow record holds no workflow object")
    if str(record.get("format", "")).split("/")[0] != FORMAT.split("/")[0]:
        raise _error(
            "damaged_workflow",
            f"{source.name}: its wireflow record has an unknown format {record.get('format')!r}",
        )
    return record


def _error(code: str, message: str) -> WorkflowValidationError:
    return WorkflowValidationError([Problem(code, message)], summary="Cannot open a workflow from this file")


def _payload(data: bytes) -> bytes | None:
    kind = sniff_content_type(data)
    if kind == "image/png":
        mine = KEY.encode() + b"\x00"
        for chunk, body in _png_chunks(data):
            if chunk == b"iTXt" and body.startswith(mine):
                rest = body[len(mine) :]
                compressed, text = rest[0], rest[2:].split(b"\x00", 2)[2]
                return _inflate(text) if compressed else text
        return None
    if kind == "image/jpeg":
        pieces: dict[int, bytes] = {}
        count = 0
        for marker, body in _jpeg_segments(data)[0]:
            if marker == 0xEB and body.startswith(_JPEG_TAG):
                index, count = body[len(_JPEG_TAG)], body[len(_JPEG_TAG) + 1]
                pieces[index] = body[len(_JPEG_TAG) + 2 :]
        if not pieces:
            return None
        if sorted(pieces) != list(range(count)):
            raise ValueError(f"{len(pieces)} of its {count} JPEG segments are there")
        return _inflate(b"".join(pieces[i] for i in range(count)))
    if kind == "image/webp":
        for chunk, body in _riff_chunks(data):
            if chunk == b"XMP " and _XMP_NS.encode() in body:
                from xml.etree import ElementTree

                found = ElementTree.fromstring(body).find(f".//{{{_XMP_NS}}}record")
                return None if found is None else (found.text or "").encode("utf-8")
        return None
    return None


def _inflate(data: bytes) -> bytes:
    """zlib-compressed bytes, refusing more than ``MAX_RECORD_BYTES`` (a file is untrusted)."""
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, MAX_RECORD_BYTES)
    if inflater.unconsumed_tail:
        raise ValueError(f"its record is over {MAX_RECORD_BYTES // 2**20} MB")
    return out


def _mp4_tags(source: Path) -> list[str]:
    """The global tags of an MP4 as ffmetadata lines (``key=escaped value``), by its ffmpeg."""
    command = [ffmpeg_exe(), "-v", "error", "-i", str(source), "-f", "ffmetadata", "-"]
    done = subprocess.run(command, capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        raise ValueError(f"ffmpeg cannot read it: {done.stderr.decode(errors='replace')[-200:].strip()}")
    lines = []
    for line in re.split(r"(?<!\\)\n", done.stdout.decode("utf-8", errors="replace")):
        if line.startswith("["):  # chapters and streams follow the global tags
            break
        if line and not line.startswith((";", "#")) and "=" in line:
            lines.append(line)
    return lines


def _mp4_payload(source: Path) -> bytes | None:
    for line in _mp4_tags(source):
        if line.startswith("comment="):
            value = re.sub(r"\\(.)", r"\1", line[len("comment=") :], flags=re.S)
            return value.encode("utf-8") if value.lstrip().startswith("{") else None
    return None


def saved_bytes(data: bytes, record: Mapping[str, Any] | None) -> bytes:
    """The bytes an output is saved with (``wireflow-nb run --out``, ``Save outputs``, the
    history): carrying ``record``, the record of the run that made it. Bytes that already
    carry a record of that run (``executionId``: the engine wrote it, canvas items and
    all) are kept as they are; others (a hosted output, a cached one made by an earlier
    run) get ``record`` written in. ``record`` None: ``data`` unchanged."""
    if record is None or not can_carry(data):
        return data
    run = record.get("executionId")
    if run and _carried_run(data) == run:
        return data
    return embed(data, record)


def _carried_run(data: bytes) -> str | None:
    """The ``executionId`` of the record ``data`` carries (None: none, or not readable)."""
    try:
        if sniff_content_type(data) == "video/mp4":
            with tempfile.TemporaryDirectory(prefix="wireflow-") as folder:
                path = Path(folder) / "output.mp4"
                path.write_bytes(data)
                payload = _mp4_payload(path)
        else:
            payload = _payload(data)
        found = json.loads(payload) if payload is not None else None
    except (ValueError, zlib.error, struct.error, IndexError, UnicodeDecodeError):
        return None
    run = found.get("executionId") if isinstance(found, dict) else None
    return run if isinstance(run, str) else None


def write_file(path: str | os.PathLike[str], data: bytes, record: Mapping[str, Any] | bytes | None) -> Path:
    """Write ``data`` (carrying ``record`` when given) to ``path`` atomically."""
    if record is not None:
        data = embed(data, record)
    return write_atomic(path, data)
