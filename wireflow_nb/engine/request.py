"""The execute request as the engine takes it in: a JSON ``ExecuteRequest`` made from
whatever the caller gave (``engine_request``), its snapshot (the nodes and edges as JSON,
serialized once, and per run with the batch values written in), and the hash that
identifies a body for idempotency.

Literal bytes, PIL images and numpy arrays become stored files here, so a request is JSON from here
on; text no UTF-8 can hold is refused up front, naming where it is. Imports the wire
models, the artifact store and the validation error; nothing of the run machinery.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError

from .._exceptions import BadRequestError, Problem
from .._media import in_memory_media, local_media
from ..backend import IteratorConfigsArg, WorkflowOrRequest, as_request, with_options
from ..models import Edge, ExecuteRequest, Node
from ..workflow import Workflow
from .artifacts import ArtifactStore
from .outputs import encode_png
from .validation import validation_error

__all__ = [
    "engine_request",
    "externalize",
    "idempotency_hash",
    "lone_surrogates",
    "override_nodes",
    "snapshot_json",
]

_NODE_LIST = TypeAdapter(list[Node])
_EDGE_LIST = TypeAdapter(list[Edge])
_SURROGATE = re.compile("[\ud800-\udfff]")


def engine_request(
    workflow_or_request: WorkflowOrRequest,
    artifacts: ArtifactStore,
    *,
    target_node_id: str | None = None,
    trigger_data: Mapping[str, Any] | None = None,
    iterator_configs: IteratorConfigsArg = None,
) -> tuple[ExecuteRequest, tuple[str, str]]:
    """The request to run (and its snapshot JSON), as ``as_request`` makes it but without deep-copying the
    nodes of a ``Workflow`` or ``ExecuteRequest`` (a 10,000-node deep copy costs more
    than running the nodes): the engine only reads them while ``execute`` runs, keeps
    the snapshot as JSON and plans from fresh copies of the inputs."""
    try:
        options: dict[str, Any] = {
            "target_node_id": target_node_id,
            "trigger_data": trigger_data,
            "iterator_configs": iterator_configs,
        }
        if isinstance(workflow_or_request, Workflow) and not workflow_or_request.bypassed:
            request = ExecuteRequest.model_construct(
                nodes=workflow_or_request.nodes,
                edges=workflow_or_request.edges,
                **_unread(workflow_or_request),
            )
            with_options(request, **options)
        elif isinstance(workflow_or_request, ExecuteRequest):
            request = workflow_or_request.model_copy()
            request.nodes = list(request.nodes)
            with_options(request, **options)
        else:  # a workflow with bypassed nodes is rewritten knowing the options
            request = as_request(workflow_or_request, **options)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"], "code": "bad_shape"}
            for err in exc.errors()
        ]
        message = "Invalid request body: " + "; ".join(f"{d['field']}: {d['message']}" for d in details[:3])
        raise BadRequestError(message, body={"error": message, "details": details}) from None
    request = externalize(request, artifacts)
    return request, snapshot_json(request)


def _unread(workflow: Workflow) -> dict[str, Any]:
    """The fields of a workflow's request the hosted API does not read (canvas items,
    viewport), as ``Workflow.to_request`` writes them: output files carry them."""
    out: dict[str, Any] = {}
    if (canvas := workflow.canvas_items_to_wire()) is not None:
        out["wireflowNb"] = canvas
    if "viewport" in workflow.extra:
        out["viewport"] = copy.deepcopy(workflow.extra["viewport"])
    return out


def snapshot_json(request: ExecuteRequest) -> tuple[str, str]:
    """The request's nodes and edges as JSON (the workflow snapshot), serialized once
    by pydantic-core. Text no UTF-8 can hold (a lone surrogate, which JSON may escape
    as ``"\ud800"``) makes it fail: then, and only then, the request is searched so
    the 400 can say where it is."""
    try:
        parts = (
            _NODE_LIST.dump_json(request.nodes, by_alias=True, exclude_unset=True, fallback=str).decode(),
            _EDGE_LIST.dump_json(request.edges, by_alias=True, exclude_unset=True, fallback=str).decode(),
        )
        request.model_dump_json(include={"target_node_id", "trigger_data", "iterator_configs"}, fallback=str)
    except PydanticSerializationError:
        found = lone_surrogates(request)
        if found:
            raise validation_error(found) from None
        raise
    return parts


def externalize(request: ExecuteRequest, artifacts: ArtifactStore) -> ExecuteRequest:
    """Literal bytes, PIL images and numpy arrays (as PNG) become stored files (their
    references in the request), paths become strings (read in place when the node
    runs): a request is JSON from here on, batch values included. A node or batch
    config that changes is copied first, so the caller's workflow is never modified."""
    for i, node in enumerate(request.nodes):
        changes: dict[str, Any] = {}
        for name, value in node.inputs.items():
            if not isinstance(value, (str, int, float, bool, type(None), list, dict)):
                try:
                    stored = _stored_value(value, artifacts)
                except (TypeError, ValueError) as exc:  # an array that is no image, over 25 MB
                    problem = Problem(
                        "bad_media", f"node {node.id!r} input {name!r}: {exc}", node_id=node.id, field=name
                    )
                    raise validation_error([problem]) from None
                if stored is not value:
                    changes[name] = stored
        if changes:
            node = node.model_copy(update={"data": copy.deepcopy(node.data)})
            for name, value in changes.items():
                node.set_input(name, value)
            request.nodes[i] = node
    if request.iterator_configs:
        configs = list(request.iterator_configs)
        for i, config in enumerate(configs):
            values = [_stored_value(v, artifacts) for v in config.values]
            if any(new is not old for new, old in zip(values, config.values, strict=True)):
                configs[i] = config.model_copy(update={"values": values})
        request.iterator_configs = configs
    return request


def _stored_value(value: Any, artifacts: ArtifactStore) -> Any:
    """A literal as the engine keeps it: bytes, a PIL image or an array as a stored
    file's reference, a path as its text; anything else unchanged (the same object)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return artifacts.ref(artifacts.save(bytes(value)))
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if type(value).__module__.startswith("PIL."):
        return artifacts.ref(artifacts.save(encode_png(value), "image/png"))
    if in_memory_media(value):  # a numpy array: PNG by the rule of _media
        media = local_media(value)
        assert media is not None
        return artifacts.ref(artifacts.save(media.data, media.content_type))
    return value


def idempotency_hash(workflow_id: str, request: ExecuteRequest) -> str:
    """What identifies an execute body for its Idempotency-Key (workflow id + request)."""
    wire = json.loads(request.model_dump_json(by_alias=True, exclude_unset=True, fallback=str))
    text = json.dumps({"workflowId": workflow_id, "request": wire}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def override_nodes(
    nodes: list[dict[str, Any]], overrides: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The snapshot's nodes with this run's iterator values written in (in each
    node's own shape)."""
    out = list(nodes)
    for i, node in enumerate(out):
        values = overrides.get(node.get("id", ""))
        if values:
            model = Node.model_validate(copy.deepcopy(node))
            for name, value in values.items():
                model.set_input(name, value)
            out[i] = model.to_wire()
    return out


def lone_surrogates(request: ExecuteRequest) -> list[Problem]:
    """Text no UTF-8 can hold: JSON may escape a lone surrogate (``"\\ud800"``), and it
    would fail deep in the store; refuse it up front, naming where it is."""

    def where(value: Any, path: str) -> str | None:
        if isinstance(value, str):
            return path if _SURROGATE.search(value) else None
        if isinstance(value, dict):
            for key, item in value.items():
                found = where(key, path) or where(item, f"{path}.{key}" if path else str(key))
                if found is not None:
                    return found
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                found = where(item, f"{path}[{i}]")
                if found is not None:
                    return found
        return None

    problems: list[Problem] = []
    message = '{} holds a lone surrogate (invalid Unicode, e.g. "\\ud800"); send valid UTF-8 text'
    for i, node in enumerate(request.nodes):
        field = (
            where(node.id, "id")
            or where(node.type, "type")
            or where(node.data, "data")
            or where(node.model_extra or {}, "")
        )
        if field is not None:
            name = node.id if _SURROGATE.search(node.id) is None else f"nodes[{i}]"
            problems.append(
                Problem(
                    "invalid_unicode", message.format(f"node {name!r} {field}"), node_id=name, field=field
                )
            )
    for i, edge in enumerate(request.edges):
        field = where(edge.model_dump(by_alias=True), f"edges[{i}]")
        if field is not None:
            problems.append(Problem("invalid_unicode", message.format(f"edge {field}"), field=f"edges[{i}]"))
    rest = {
        "targetNodeId": request.target_node_id,
        "triggerData": request.trigger_data,
        "iteratorConfigs": [c.model_dump(by_alias=True) for c in request.iterator_configs or []],
    }
    field = where(rest, "")
    if field is not None:
        problems.append(
            Problem("invalid_unicode", message.format(field), field=field.split(".")[0].split("[")[0])
        )
    return problems
