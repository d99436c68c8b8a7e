"""Exceptions -> JSON error responses, with the bodies of ``DECISIONS.md``.

=====  ==========================================================================
400    invalid request or graph, JSON that is not strict (``body``), or a ``Host`` the
       server does not serve (``hosts``): ``{"error", "details": [{"nodeId"?, "field"?,
       "message"}]}``
401    missing or wrong key: ``{"error"}`` (the key is never echoed)
402    insufficient credits: the spec's exact body
403    cross-site ``Origin`` (``hosts``): ``{"error", "details"}``
404    unknown execution, workflow, file or route: ``{"error"}``
405    wrong method: ``{"error"}`` (+ ``Allow``)
408    request headers not complete in time (``protocol``; then the connection closes)
413    body too large: ``{"error"}``
415    a body not sent as ``application/json``: ``{"error"}``
422    idempotency key reused with another body: ``{"error", ...}``
429    rate limited: ``{"error", "retryAfter"}`` (see ``ratelimit``)
500    anything else: ``{"error"}`` naming the request id, never a traceback
=====  ==========================================================================
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._exceptions import (
    APIStatusError,
    BadRequestError,
    InsufficientCreditsError,
    WorkflowValidationError,
    redact,
)

__all__ = [
    "BodyTooLargeError",
    "EXCEPTION_HANDLERS",
    "bad_request_body",
    "error_response",
    "insufficient_credits_body",
    "status_error_body",
]


class BodyTooLargeError(Exception):
    """The request body is over the server's limit (answered with 413)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"Request body too large: the limit is {limit} bytes")


def _number(value: Any) -> Any:
    """Credits as the spec writes them: ``10``, not ``10.0``."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _secrets(request: Request | None) -> Iterable[str | None]:
    if request is None:
        return ()
    return getattr(request.app.state, "secrets", ())


def _clean(value: Any, secrets: Iterable[str | None]) -> Any:
    """``value`` with every string redacted (a key never leaves in an error body)."""
    secrets = list(secrets)
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, Mapping):
        return {k: _clean(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v, secrets) for v in value]
    return value


def _jsonable(value: Any) -> Any:
    if hasattr(value, "to_wire"):
        return value.to_wire()
    return json.loads(json.dumps(value, default=str))


def error_response(
    status_code: int,
    body: Mapping[str, Any],
    *,
    request: Request | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(_clean(dict(body), _secrets(request)), status_code=status_code, headers=headers)


def bad_request_body(message: str, details: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    return {"error": message, "details": [dict(d) for d in details]}


def insufficient_credits_body(exc: InsufficientCreditsError) -> dict[str, Any]:
    """The 402 body of the spec, from the engine's body or the error's attributes."""
    given = dict(exc.body) if isinstance(exc.body, Mapping) else {}
    required = _number(given.get("requiredCredits", exc.required_credits))
    available = _number(given.get("availableCredits", exc.available_credits))
    breakdown = given.get("breakdown")
    if breakdown is None:
        breakdown = [_jsonable(item) for item in exc.breakdown]
    breakdown = [
        {**item, "credits": _number(item.get("credits"))} if isinstance(item, dict) else item
        for item in breakdown
    ]
    body = {
        "error": given.get("error") or f"Insufficient credits. Required: {required}, Available: {available}",
        "insufficientCredits": True,
        "requiredCredits": required,
        "availableCredits": available,
        "breakdown": breakdown,
    }
    # whatever else the engine said is kept, after the spec's keys
    for key, value in given.items():
        body.setdefault(key, value)
    return body


def status_error_body(exc: APIStatusError) -> dict[str, Any]:
    """The body of any ``APIStatusError`` the engine raised, in the documented shape."""
    if isinstance(exc, InsufficientCreditsError):
        return insufficient_credits_body(exc)
    body: dict[str, Any] = dict(exc.body) if isinstance(exc.body, Mapping) else {}
    if not isinstance(body.get("error"), str | dict) or not body.get("error"):
        body["error"] = exc.message
    if isinstance(exc, BadRequestError):
        details = body.get("details")
        body["details"] = [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []
    return body


def validation_details(exc: ValidationError, *, prefix: tuple[str | int, ...] = ()) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = (*prefix, *err.get("loc", ()))
        details.append(
            {
                "field": ".".join(str(p) for p in loc) or None,
                "message": f"{'.'.join(str(p) for p in loc) or 'body'}: {err.get('msg', 'invalid')}",
                "code": str(err.get("type", "invalid")),
            }
        )
    return [{k: v for k, v in d.items() if v is not None} for d in details]


# -- Starlette exception handlers ----------------------------------------------------------


async def _api_status_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, APIStatusError)
    return error_response(exc.status_code or 500, status_error_body(exc), request=request)


async def _workflow_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WorkflowValidationError)
    summary = str(exc).splitlines()[0].rstrip(":") if str(exc) else "The workflow is invalid"
    body = bad_request_body(summary, (p.to_detail() for p in exc.problems))
    return error_response(400, body, request=request)


async def _pydantic_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationError)
    body = bad_request_body("Invalid request body", validation_details(exc))
    return error_response(400, body, request=request)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"Not found: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, {"error": message}, request=request, headers=exc.headers)


async def _body_too_large(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BodyTooLargeError)
    return error_response(413, {"error": str(exc)}, request=request)


EXCEPTION_HANDLERS = {
    APIStatusError: _api_status_error,
    WorkflowValidationError: _workflow_validation_error,
    ValidationError: _pydantic_validation_error,
    HTTPException: _http_exception,
    BodyTooLargeError: _body_too_large,
}
