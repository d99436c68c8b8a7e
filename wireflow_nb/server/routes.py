"""The routes of ``wireflow-nb serve``: the Executions API of the spec under ``/api/v1``,
plus cancel, usage, output files, the node catalog and the OpenAPI document.

Routes translate HTTP to ``LocalEngine`` calls and back; the engine decides validation,
credits and idempotency (scoped to the caller's key), and the server replays a 201 it
answered for the same key and body exactly as it was sent. Engine calls block (SQLite,
locks), so they run on the thread pool, never on the event loop.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from .._exceptions import BadRequestError, NotFoundError
from ..models import ExecuteRequest
from .body import parse_json
from .errors import bad_request_body, validation_details
from .openapi import openapi_document

if TYPE_CHECKING:
    from ..catalog import Catalog
    from .app import ServedEngine

__all__ = ["API_PREFIX", "PUBLIC_PREFIXES", "api_routes", "catalog_json"]

API_PREFIX = "/api/v1"

#: Paths answered without a key: the OpenAPI document and the output files (whose
#: content-addressed names act as capabilities, as the hosted CDN's URLs do).
#: Webhook triggers too: their unguessable ids are the credential (no key, as hosted).
PUBLIC_PREFIXES = (f"{API_PREFIX}/openapi.json", f"{API_PREFIX}/files/", f"{API_PREFIX}/workflow/")

#: Longest ``Idempotency-Key`` accepted.
MAX_IDEMPOTENCY_KEY_LENGTH = 255

_RUN_KEYS = (
    "id",
    "startTime",
    "endTime",
    "status",
    "error",
    "nodeRuns",
    "batchId",
    "runIndexInBatch",
    "inputIndex",
)
_EXECUTION_KEYS = (
    "id",
    "workflowId",
    "status",
    "triggeredBy",
    "triggerData",
    "nodeResults",
    "currentNode",
    "output",
    "error",
    "errorNode",
    "executionTime",
    "creditsUsed",
    "startedAt",
    "completedAt",
    "workflowSnapshot",
)
_SUMMARY_KEYS = (
    "id",
    "workflowId",
    "status",
    "triggeredBy",
    "executionTime",
    "creditsUsed",
    "startedAt",
    "completedAt",
    "error",
)


# -- rendering ------------------------------------------------------------------------------


def _wire(value: Any) -> dict[str, Any]:
    """A model (or dict) the engine returned, as its JSON object."""
    if hasattr(value, "to_wire"):
        return dict(value.to_wire())
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


def _with_keys(body: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """``body`` with every key the spec shows present (``null`` when the engine left it
    unset), the spec's keys first."""
    ordered = {key: body.get(key) for key in keys}
    ordered.update(body)
    return ordered


def render_execute_response(response: Any) -> dict[str, Any]:
    body = _wire(response)
    body["executionRuns"] = [_with_keys(run, _RUN_KEYS) for run in body.get("executionRuns") or []]
    return _with_keys(body, ("workflowId", "batchId", "executionRuns"))


def render_poll(poll: Any) -> dict[str, Any]:
    body = _wire(poll)
    body.setdefault("status", "PENDING")
    if not isinstance(body.get("nodeResults"), dict):
        body["nodeResults"] = {"nodeRuns": []}
    if str(body.get("status")).upper() != "FAILED" and body.get("error") is None:
        body.pop("error", None)
    return body


def render_execution(execution: Any) -> dict[str, Any]:
    body = _with_keys(_wire(execution), _EXECUTION_KEYS)
    if not isinstance(body.get("nodeResults"), dict):
        body["nodeResults"] = {"nodeRuns": []}
    return body


def render_summary(summary: Any) -> dict[str, Any]:
    return _with_keys(_wire(summary), _SUMMARY_KEYS)


def catalog_json(catalog: Catalog) -> dict[str, Any]:
    """The body of ``GET /nodes``: the hosted catalogue shape (``catalog/_hosted.py``)."""
    from ..catalog import catalog_to_hosted

    return catalog_to_hosted(catalog)


# -- helpers --------------------------------------------------------------------------------


def _engine(request: Request) -> ServedEngine:
    return request.app.state.engine  # type: ignore[no-any-return]


def _ensure_artifact_base_url(request: Request) -> None:
    """Output URLs must be absolute http URLs this server serves. ``serve`` sets the base
    from the bound host and port; an app run some other way learns it from its first
    request."""
    state = request.app.state
    if getattr(state, "artifact_base_url_set", False):
        return
    engine = state.engine
    current = getattr(engine, "artifact_base_url", None)
    if not current or not str(current).startswith(("http://", "https://")):
        engine.artifact_base_url = str(request.base_url).rstrip("/") + f"{API_PREFIX}/files/"
    state.artifact_base_url_set = True


def _json_body(raw: bytes) -> Any:
    """The JSON of an execute body (blocking: runs on a worker thread)."""
    if not raw.strip():
        raise BadRequestError(
            "The request body is empty; send a JSON object with 'nodes' and 'edges'",
            body=bad_request_body(
                "The request body is empty; send a JSON object with 'nodes' and 'edges'",
                [{"message": "empty body", "code": "empty_body"}],
            ),
        )
    return parse_json(raw)


#: Limits of one execute request on the local server. Above the hosted ones (100 nodes,
#: 500 edges) so local experiments have room, low enough that a pasted or generated
#: monster graph gets a clear 400 instead of a run that never ends.
MAX_NODES = 5000
MAX_EDGES = 20_000
MAX_STRING_CHARS = 100_000


def _size_problems(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Node count, edge count and string length over the limits, each named."""
    details: list[dict[str, Any]] = []
    for field, limit in (("nodes", MAX_NODES), ("edges", MAX_EDGES)):
        items = payload.get(field)
        if isinstance(items, list) and len(items) > limit:
            details.append(
                {
                    "field": field,
                    "message": f"{len(items)} {field}; the local server accepts at most {limit} per request "
                    "(split the workflow, or run it in-process with LocalEngine)",
                    "code": f"too_many_{field}",
                }
            )
    stack: list[tuple[str, Any]] = [("", payload)]
    while stack and len(details) < 20:
        where, value = stack.pop()
        if isinstance(value, str):
            if len(value) > MAX_STRING_CHARS:
                details.append(
                    {
                        "field": where,
                        "message": f"{where} is {len(value)} characters long; "
                        f"strings are limited to {MAX_STRING_CHARS} (pass large data as a URL)",
                        "code": "string_too_long",
                    }
                )
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and len(key) > MAX_STRING_CHARS:
                    details.append(
                        {
                            "field": where or "body",
                            "message": "an object key is too long",
                            "code": "string_too_long",
                        }
                    )
                stack.append((f"{where}.{key}" if where else str(key), item))
        elif isinstance(value, list):
            stack.extend((f"{where}.{i}", item) for i, item in enumerate(value))
    return details


def parse_execute_request(payload: Any) -> ExecuteRequest:
    """The execute body as an ``ExecuteRequest``; a 400 listing every problem otherwise."""
    if not isinstance(payload, dict):
        message = "The request body must be a JSON object with 'nodes' and 'edges'"
        raise BadRequestError(
            message, body=bad_request_body(message, [{"message": message, "code": "not_an_object"}])
        )
    details: list[dict[str, Any]] = _size_problems(payload)
    if details:
        message = "Request over the local server's limits: " + "; ".join(str(d["message"]) for d in details)
        raise BadRequestError(message, body=bad_request_body(message, details))
    for field in ("nodes", "edges"):
        if field not in payload:
            details.append({"field": field, "message": f"'{field}' is required", "code": "missing"})
        elif not isinstance(payload[field], list):
            details.append({"field": field, "message": f"'{field}' must be an array", "code": "list_type"})
    request: ExecuteRequest | None = None
    if not details:
        try:
            request = ExecuteRequest.model_validate(payload)
        except ValidationError as exc:
            details = validation_details(exc)
            nodes = payload.get("nodes")
            for detail in details:
                # name the node when the problem is inside one
                parts = str(detail.get("field", "")).split(".")
                if len(parts) > 1 and parts[0] == "nodes" and parts[1].isdigit() and isinstance(nodes, list):
                    index = int(parts[1])
                    if (
                        index < len(nodes)
                        and isinstance(nodes[index], dict)
                        and isinstance(nodes[index].get("id"), str)
                    ):
                        detail["nodeId"] = nodes[index]["id"]
    if details or request is None:
        message = "Invalid execute request: " + "; ".join(str(d["message"]) for d in details)
        raise BadRequestError(message, body=bad_request_body(message, details))
    return request


_INTEGER = re.compile(r"[+-]?[0-9]+")

#: Past this offset no history has rows (SQLite integers stop at 2**63 - 1).
_LAST_OFFSET = 2**62


def _query_int(
    request: Request, name: str, default: int, minimum: int, maximum: int | None
) -> tuple[int, dict[str, Any] | None]:
    raw = request.query_params.get(name)
    if raw is None:
        return default, None
    bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
    if not _INTEGER.fullmatch(raw.strip()):
        return default, {
            "field": name,
            "message": f"'{name}' must be an integer {bounds}, got {raw!r}",
            "code": "not_an_integer",
        }
    try:
        value = int(raw.strip())
    except ValueError:  # more digits than Python converts: out of any range
        value = -1 if raw.strip().startswith("-") else 2**64
    if value < minimum or (maximum is not None and value > maximum):
        shown = value if abs(value) < 10**30 else raw.strip()[:12] + "..."
        return default, {
            "field": name,
            "message": f"'{name}' must be {bounds}, got {shown}",
            "code": "out_of_range",
        }
    return value, None


# -- endpoints ------------------------------------------------------------------------------


#: How long an ``Idempotency-Key`` is remembered (the engine keeps the same 24 h).
IDEMPOTENCY_WINDOW_SECONDS = 24 * 3600
_MAX_REMEMBERED = 10_000


@dataclass
class _Replay:
    """A 201 answered for an ``Idempotency-Key``: replayed as it was for the same body."""

    request_digest: str
    body: dict[str, Any]
    headers: dict[str, str]
    request_id: str
    at: float


def _remember(replays: dict[tuple[str, str], _Replay], key: tuple[str, str], replay: _Replay) -> None:
    if len(replays) >= _MAX_REMEMBERED:
        horizon = replay.at - IDEMPOTENCY_WINDOW_SECONDS
        for old in [k for k, v in replays.items() if v.at < horizon]:
            del replays[old]
        while len(replays) >= _MAX_REMEMBERED:
            del replays[next(iter(replays))]
    replays[key] = replay


def _read_execute_body(workflow_id: str, raw: bytes) -> tuple[ExecuteRequest, str]:
    """Parse, check and digest an execute body: all of it blocking work on big bodies,
    so it runs on a worker thread (a 20 MB body must not stall other clients)."""
    payload = _json_body(raw)
    execute_request = parse_execute_request(payload)
    digest = hashlib.sha256(
        json.dumps([workflow_id, payload], sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    return execute_request, digest


async def execute(request: Request) -> Response:
    workflow_id = request.path_params["workflow_id"]
    raw = await request.body()
    execute_request, request_digest = await run_in_threadpool(_read_execute_body, workflow_id, raw)
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        message = f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters"
        raise BadRequestError(
            message, body=bad_request_body(message, [{"field": "Idempotency-Key", "message": message}])
        )
    _ensure_artifact_base_url(request)
    scope: str = request.state.idempotency_scope
    replays: dict[tuple[str, str], _Replay] = request.app.state.idempotent_replays
    now = time.time()
    if key is not None:
        seen = replays.get((scope, key))
        if (
            seen is not None
            and seen.request_digest == request_digest
            and now - seen.at < IDEMPOTENCY_WINDOW_SECONDS
        ):
            # the original status, body and headers; nothing new starts
            replayed = {
                **seen.headers,
                "Idempotent-Replayed": "true",
                "X-Original-Request-Id": seen.request_id,
            }
            return JSONResponse(seen.body, status_code=201, headers=replayed)
    engine = _engine(request)

    def run() -> Any:
        # a key reused with another body: the engine answers 422; after a restart it
        # replays what it stored
        return engine.execute(
            workflow_id,
            execute_request,
            idempotency_key=key,
            idempotency_scope=scope,
        )

    response = await run_in_threadpool(run)
    body = render_execute_response(response)
    runs = body.get("executionRuns") or []
    headers: dict[str, str] = {}
    if runs:
        headers["Location"] = str(request.url_for("poll", execution_id=runs[0]["id"]))
    if key is not None:
        _remember(
            replays, (scope, key), _Replay(request_digest, body, dict(headers), request.state.request_id, now)
        )
    return JSONResponse(body, status_code=201, headers=headers)


async def poll(request: Request) -> Response:
    _ensure_artifact_base_url(request)
    engine = _engine(request)
    result = await run_in_threadpool(engine.poll, request.path_params["execution_id"])
    return JSONResponse(render_poll(result))


async def get_execution(request: Request) -> Response:
    _ensure_artifact_base_url(request)
    engine = _engine(request)
    result = await run_in_threadpool(engine.get_execution, request.path_params["execution_id"])
    return JSONResponse(render_execution(result))


async def cancel(request: Request) -> Response:
    _ensure_artifact_base_url(request)
    engine = _engine(request)
    result = await run_in_threadpool(engine.cancel, request.path_params["execution_id"])
    return JSONResponse(render_poll(result))


async def list_executions(request: Request) -> Response:
    limit, limit_problem = _query_int(request, "limit", 10, 1, 100)
    offset, offset_problem = _query_int(request, "offset", 0, 0, None)
    details = [p for p in (limit_problem, offset_problem) if p is not None]
    if details:
        message = "Invalid query parameters: " + "; ".join(d["message"] for d in details)
        raise BadRequestError(message, body=bad_request_body(message, details))
    if offset > _LAST_OFFSET:
        return JSONResponse([])
    engine = _engine(request)
    workflow_id = request.path_params["workflow_id"]

    def run() -> Any:
        return engine.list_executions(workflow_id, limit=limit, offset=offset)

    rows = await run_in_threadpool(run)
    return JSONResponse([render_summary(row) for row in rows])


async def usage(request: Request) -> Response:
    engine = _engine(request)

    def read() -> dict[str, Any]:
        balance = engine.credits_balance()
        used = getattr(engine, "credits_used", None)
        if callable(used):
            used = used()
        return {"creditsBalance": balance, "creditsUsed": used if used is not None else 0}

    body = await run_in_threadpool(read)
    return JSONResponse(
        {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in body.items()}
    )


async def files(request: Request) -> Response:
    name: str = request.path_params["name"]
    engine = _engine(request)
    not_found = NotFoundError(
        f"No output file named {name!r}", body={"error": f"No output file named {name!r}"}
    )
    try:
        path = await run_in_threadpool(engine.artifact_path, name)
    except (ValueError, KeyError, LookupError, OSError, NotFoundError):
        raise not_found from None
    if not path.is_file():
        raise not_found
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(
        path,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
        content_disposition_type="inline",
    )


async def nodes(request: Request) -> Response:
    engine = _engine(request)
    catalog = getattr(engine, "catalog", None)
    if catalog is None:
        from ..catalog import default_catalog

        catalog = default_catalog()
    return JSONResponse(catalog_json(catalog))


async def openapi(request: Request) -> Response:
    server_url = str(request.base_url).rstrip("/") + API_PREFIX
    return JSONResponse(openapi_document(server_url=server_url))


def api_routes() -> list[Route]:
    """Every route, in the order of the spec, then ours (the account routes are
    ``account_routes.account_routes``, mounted after these by the app)."""
    p = API_PREFIX
    return [
        Route(f"{p}/workflows/{{workflow_id}}/execute", execute, methods=["POST"], name="execute"),
        Route(f"{p}/workflows/executions/{{execution_id}}/poll", poll, methods=["GET"], name="poll"),
        Route(f"{p}/workflows/executions/{{execution_id}}/cancel", cancel, methods=["POST"], name="cancel"),
        Route(f"{p}/workflows/executions/{{execution_id}}", get_execution, methods=["GET"], name="execution"),
        Route(
            f"{p}/workflows/{{workflow_id}}/executions", list_executions, methods=["GET"], name="executions"
        ),
        Route(f"{p}/developer/usage", usage, methods=["GET"], name="usage"),
        Route(f"{p}/files/{{name}}", files, methods=["GET", "HEAD"], name="files"),
        Route(f"{p}/nodes", nodes, methods=["GET"], name="nodes"),
        Route(f"{p}/openapi.json", openapi, methods=["GET"], name="openapi"),
    ]
