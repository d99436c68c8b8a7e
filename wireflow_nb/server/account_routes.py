"""The account routes of ``wireflow-nb serve`` (``docs/INTERNALS.md``, "Account
endpoints"): saved workflows (CRUD with versions), a saved workflow's input schema and
run, cost estimates, media uploads and webhook triggers. ``routes.api_routes`` mounts
them after the Executions API's; the engine (``engine/account.py``) decides everything,
these routes translate HTTP to its calls and back. Engine calls block (SQLite), so they
run on the thread pool. It may import what ``routes`` imports, and ``routes``.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .._exceptions import BadRequestError
from .errors import bad_request_body
from .routes import (
    API_PREFIX,
    MAX_IDEMPOTENCY_KEY_LENGTH,
    _ensure_artifact_base_url,
    _json_body,
    _query_int,
    parse_execute_request,
    render_execute_response,
)

__all__ = ["account_routes"]


async def _read_json(request: Request) -> Any:
    """The request's JSON, parsed strictly (``server/body.py``) off the event loop."""
    raw = await request.body()
    return await run_in_threadpool(_json_body, raw)

_MAX_REMEMBERED = 10_000
_WINDOW = 24 * 3600


def _bad(message: str, field: str, code: str) -> BadRequestError:
    return BadRequestError(
        message, body=bad_request_body(message, [{"field": field, "message": message, "code": code}])
    )


def _object(payload: Any, what: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise _bad(f"The request body must be a JSON object ({what})", "body", "not_an_object")
    return payload


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        raise _bad(
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters",
            "Idempotency-Key",
            "bad_idempotency_key",
        )
    return key


async def _call(fn: Callable[[], Any]) -> Any:
    """An engine call on the thread pool; its ``ValueError`` (a request the engine cannot
    take) is a 400, never a 500."""
    try:
        return await run_in_threadpool(fn)
    except ValueError as exc:
        if isinstance(exc, BadRequestError | json.JSONDecodeError):
            raise
        raise _bad(str(exc), "body", "invalid") from None


def _engine(request: Request) -> Any:
    return request.app.state.engine


# -- saved workflows ----------------------------------------------------------------------


async def list_workflows(request: Request) -> Response:
    limit, limit_problem = _query_int(request, "limit", 20, 1, 100)
    offset, offset_problem = _query_int(request, "offset", 0, 0, 2**62)
    details = [p for p in (limit_problem, offset_problem) if p is not None]
    if details:
        message = "Invalid query parameters: " + "; ".join(d["message"] for d in details)
        raise BadRequestError(message, body=bad_request_body(message, details))
    engine = _engine(request)
    rows = await _call(lambda: engine.workflows.list_page(limit=limit, offset=offset))
    return JSONResponse([row.to_wire() for row in rows])


def _replayed(request: Request, kind: str, payload: Any) -> tuple[Response | None, Any]:
    """The first answer to this ``Idempotency-Key`` for the same request (a retry whose
    answer was lost: e.g. a PUT that did bump the version), or a 422 for another request;
    (None, a token for ``_keep``) when the key is new or absent."""
    key = _idempotency_key(request)
    if key is None:
        return None, None
    replays: dict[tuple[str, str], tuple[str, int, Any, dict[str, str], float]] = (
        request.app.state.account_replays
    )
    scope = (f"{request.state.idempotency_scope}:{kind}", key)
    digest = hashlib.sha256(
        json.dumps([request.url.path, payload], sort_keys=True, default=str).encode()
    ).hexdigest()
    seen = replays.get(scope)
    if seen is not None and time.time() - seen[4] < _WINDOW:
        if seen[0] != digest:
            message = (
                f"Idempotency-Key {key!r} was already used with a different request in the last 24 hours; "
                "send a new key for a new request"
            )
            return JSONResponse({"error": message}, status_code=422), None
        return JSONResponse(
            seen[2], status_code=seen[1], headers={**seen[3], "Idempotent-Replayed": "true"}
        ), None
    return None, (scope, digest)


def _keep(request: Request, token: Any, response: JSONResponse, body: Any) -> JSONResponse:
    if token is not None:
        replays = request.app.state.account_replays
        if len(replays) >= _MAX_REMEMBERED:
            del replays[next(iter(replays))]
        headers = {k: v for k, v in response.headers.items() if k.lower() == "location"}
        replays[token[0]] = (token[1], response.status_code, body, headers, time.time())
    return response


async def create_workflow(request: Request) -> Response:
    payload = _object(await _read_json(request), "with 'name' and 'workflow'")
    replay, token = _replayed(request, "workflows", payload)
    if replay is not None:
        return replay
    engine = _engine(request)
    saved = await _call(lambda: engine.workflows.create(payload.get("workflow"), name=payload.get("name")))
    body = saved.to_wire()
    return _keep(
        request, token, JSONResponse(body, status_code=201, headers=_location(request, saved.id)), body
    )


def _location(request: Request, workflow_id: str) -> dict[str, str]:
    return {"Location": str(request.url_for("workflow", workflow_id=workflow_id))}


async def workflow(request: Request) -> Response:
    engine = _engine(request)
    workflow_id: str = request.path_params["workflow_id"]
    if request.method == "GET":
        saved = await _call(lambda: engine.workflows.get_saved(workflow_id))
        return JSONResponse(saved.to_wire())
    if request.method == "DELETE":
        replay, token = _replayed(request, "delete", None)
        if replay is not None:
            return replay
        await _call(lambda: engine.workflows.delete(workflow_id))
        body = {"id": workflow_id, "deleted": True}
        return _keep(request, token, JSONResponse(body), body)
    payload = _object(await _read_json(request), "with 'workflow' and 'version'")
    replay, token = _replayed(request, "update", payload)
    if replay is not None:
        return replay
    if "version" not in payload:
        raise _bad(
            "'version' is required: send the version you read (GET /workflows/{id}) so that a newer "
            "save is never overwritten",
            "version",
            "missing",
        )
    saved = await _call(
        lambda: engine.workflows.update(
            workflow_id, payload.get("workflow"), version=payload["version"], name=payload.get("name")
        )
    )
    body = saved.to_wire()
    return _keep(request, token, JSONResponse(body), body)


async def workflow_run(request: Request) -> Response:
    engine = _engine(request)
    workflow_id: str = request.path_params["workflow_id"]
    if request.method == "GET":
        schema = await _call(lambda: engine.workflows.inputs(workflow_id))
        return JSONResponse(schema.to_wire())
    raw = await request.body()
    payload = _object(await _read_json(request), "with 'inputs'") if raw.strip() else {}
    inputs = payload.get("inputs", {})
    if not isinstance(inputs, dict):
        raise _bad("'inputs' must be an object: {nodeId: value}", "inputs", "not_an_object")
    key = _idempotency_key(request)
    scope = f"{request.state.idempotency_scope}:run"
    _ensure_artifact_base_url(request)
    response = await _call(
        lambda: engine.workflows.run(workflow_id, inputs, idempotency_key=key, idempotency_scope=scope)
    )
    return _started(request, response)


def _started(request: Request, response: Any) -> Response:
    body = render_execute_response(response)
    runs = body.get("executionRuns") or []
    headers = {"Location": str(request.url_for("poll", execution_id=runs[0]["id"]))} if runs else {}
    return JSONResponse(body, status_code=202, headers=headers)


async def estimate(request: Request) -> Response:
    engine = _engine(request)
    workflow_id: str = request.path_params["workflow_id"]
    raw = await request.body()
    payload = await _read_json(request) if raw.strip() else {}
    if isinstance(payload, dict) and not payload:
        result = await _call(lambda: engine.estimate(workflow_id))
    else:
        execute_request = parse_execute_request(payload)
        result = await _call(lambda: engine.estimate(execute_request, workflow_id=workflow_id))
    return JSONResponse(result.to_wire())


# -- webhooks -----------------------------------------------------------------------------


async def create_webhook(request: Request) -> Response:
    replay, token = _replayed(request, "webhooks", None)
    if replay is not None:
        return replay
    _ensure_artifact_base_url(request)
    engine = _engine(request)
    workflow_id: str = request.path_params["workflow_id"]
    hook = await _call(lambda: engine.workflows.create_webhook(workflow_id))
    body = hook.to_wire()
    return _keep(request, token, JSONResponse(body, status_code=201), body)


async def trigger(request: Request) -> Response:
    raw = await request.body()
    payload = await _read_json(request) if raw.strip() else {}
    if not isinstance(payload, dict):
        raise _bad("The trigger body must be a JSON object (it becomes triggerData)", "body", "not_an_object")
    _ensure_artifact_base_url(request)
    engine = _engine(request)
    webhook_id: str = request.path_params["webhook_id"]
    response = await _call(lambda: engine.trigger_webhook(webhook_id, payload))
    return _started(request, response)


# -- media --------------------------------------------------------------------------------


def _file_of(content_type: str, raw: bytes) -> tuple[bytes, str | None]:
    """The uploaded file: the ``file`` part of a ``multipart/form-data`` body, else the
    body itself (any other content type)."""
    if not content_type.lower().startswith("multipart/form-data"):
        return raw, None
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    if message.is_multipart():
        parts = list(message.iter_parts())  # type: ignore[attr-defined]
        for part in parts:
            if part.get_param("name", header="content-disposition") == "file":
                return bytes(part.get_payload(decode=True) or b""), part.get_filename()
    raise _bad(
        "The upload has no 'file' part: send multipart/form-data with the file as 'file'", "file", "missing"
    )


async def upload(request: Request) -> Response:
    raw = await request.body()
    data, filename = _file_of(request.headers.get("content-type", ""), raw)
    if not data:
        raise _bad("The uploaded file is empty", "file", "empty")
    key = _idempotency_key(request)
    scope: str = request.state.idempotency_scope
    _ensure_artifact_base_url(request)
    engine = _engine(request)
    media = await _call(
        lambda: engine.upload(data, filename=filename, idempotency_key=key, idempotency_scope=scope)
    )
    return JSONResponse(media.to_wire(), status_code=201)


def account_routes() -> list[Route]:
    """The account routes (after the Executions API's, whose paths win where both match)."""
    p = API_PREFIX
    return [
        Route(f"{p}/workflows", list_workflows, methods=["GET"], name="workflows"),
        Route(f"{p}/workflows", create_workflow, methods=["POST"], name="create_workflow"),
        Route(f"{p}/workflows/{{workflow_id}}", workflow, methods=["GET", "PUT", "DELETE"], name="workflow"),
        Route(
            f"{p}/workflows/{{workflow_id}}/run", workflow_run, methods=["GET", "POST"], name="workflow_run"
        ),
        Route(f"{p}/workflows/{{workflow_id}}/estimate", estimate, methods=["POST"], name="estimate"),
        Route(f"{p}/workflows/{{workflow_id}}/webhooks", create_webhook, methods=["POST"], name="webhooks"),
        Route(f"{p}/workflow/{{webhook_id}}/trigger", trigger, methods=["POST"], name="trigger"),
        Route(f"{p}/media/upload", upload, methods=["POST"], name="upload"),
    ]
