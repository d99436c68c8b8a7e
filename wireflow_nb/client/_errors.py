"""Reading answers, and turning an error answer into the exception that says what to do.

This module owns reading a body (JSON, else short text), reading it into a wire model
(an ``APIError`` naming the model when the shape is unexpected), the hosted
``{"data": ...}`` envelope, the server's error text, code and details, and the mapping
of a status to a class of the exception tree (``error_from_response``). The advice text
comes from ``wireflow_nb._advice``. It may import httpx, pydantic, ``_advice``,
``_exceptions``, ``models`` and the client's ``_headers`` and ``_retry``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from .._advice import VERSION_CONFLICT, insufficient_credits_advice, status_advice
from .._exceptions import (
    APIError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    InsufficientCreditsError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    VersionConflictError,
    redact,
)
from ..models import CreditsBreakdownItem, InsufficientCredits, error_message
from ._headers import request_id_of
from ._retry import parse_retry_after

__all__ = ["error_code", "error_from_response", "parse_body"]


def _redact_value(value: Any, secrets: tuple[str | None, ...]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {k: _redact_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v, secrets) for v in value]
    return value


def parse_body(response: httpx.Response) -> Any:
    """The JSON of a response; its text (shortened) when it is not JSON; None if empty."""
    if not response.content:
        return None
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        text = response.text.strip()
        return text[:2000] if text else None


_M = TypeVar("_M", bound=BaseModel)


def _read_model(model: type[_M], body: Any) -> _M:
    """``model`` from an answer's JSON; a body of another shape is an ``APIError`` that
    says what was expected, never a raw pydantic error."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the body"
        raise APIError(
            f"The API answered with a body this client cannot read as {model.__name__} "
            f"({where}: {first['msg']}). Check that base_url points at the Executions API "
            "(it ends in /api/v1), or update wireflow_nb."
        ) from None


def _unwrap(body: Any, *wanted: str) -> Any:
    """Unwrap a hosted ``{"data": ...}`` envelope unless the body already has a wanted key."""
    if isinstance(body, dict) and "data" in body and not any(k in body for k in wanted):
        return body["data"]
    return body


# -- errors -----------------------------------------------------------------------------


def _server_text(body: Any) -> str | None:
    if isinstance(body, dict):
        return error_message(body.get("error")) or error_message(body.get("message"))
    if isinstance(body, str) and body:
        # a proxy's HTML error page is noise; keep only short plain text
        return None if body.lstrip().startswith("<") else body[:300]
    return None


def error_code(body: Any) -> str | None:
    """The ``code`` of an error body, flat (``{"code"}``) or nested (``{"error": {"code"}}``)."""
    return _error_code(body)


def _error_code(body: Any) -> str | None:
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and isinstance(err.get("code"), str):
            return str(err["code"])
        if isinstance(body.get("code"), str):
            return str(body["code"])
    return None


def _list_details(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    lines: list[str] = []
    details = body.get("details")
    if isinstance(details, list):
        for d in details:
            if not isinstance(d, dict):
                continue
            where = ".".join(str(d[k]) for k in ("nodeId", "field") if d.get(k))
            text = str(d.get("message") or d)
            lines.append(f"  - {where}: {text}" if where else f"  - {text}")
    violations = body.get("violations")
    if isinstance(violations, list):
        for v in violations:
            if not isinstance(v, dict):
                continue
            target = v.get("nodeId") or v.get("edgeId")
            rule = f"[{v['rule']}] " if v.get("rule") else ""
            text = f"{rule}{v.get('message') or v}"
            if target:
                text = f"{target}: {text}"
            if v.get("fix"):
                text += f" (fix: {v['fix']})"
            lines.append(f"  - {text}")
    return lines


def error_from_response(
    status: int,
    body: Any,
    headers: Mapping[str, str],
    *,
    secrets: tuple[str | None, ...] = (),
    now: float = 0.0,
    retries: int = 0,
    context: str | None = None,
) -> APIStatusError:
    """The exception for an error answer: the server's ``error`` text, what to do about it
    and (through ``APIError.__str__``) the request id. Secrets never reach the message."""
    body = _redact_value(body, secrets)
    request_id = request_id_of(headers)
    server = _server_text(body)
    head = server or f"HTTP {status}"
    if context:
        head = f"{context}: {head}"
    details = _list_details(body)
    tried = f" (after {retries} retr{'y' if retries == 1 else 'ies'})" if retries else ""

    def message(hint: str, *, with_details: bool = False) -> str:
        text = head.rstrip(".") + "." + tried + (" " + hint if hint else "")
        if with_details and details:
            text += "\n" + "\n".join(details)
        return redact(text, secrets)

    common: dict[str, Any] = {"status_code": status, "body": body, "request_id": request_id}
    if status == 402:
        parsed = _read_model(InsufficientCredits, body) if isinstance(body, dict) else InsufficientCredits()
        breakdown = [
            item if isinstance(item, CreditsBreakdownItem) else _read_model(CreditsBreakdownItem, item)
            for item in parsed.breakdown
        ]
        costs = [(f"{item.node_label or item.node_id} ({item.node_id})", item.credits) for item in breakdown]
        return InsufficientCreditsError(
            message(insufficient_credits_advice(parsed.required_credits, parsed.available_credits, costs)),
            required_credits=parsed.required_credits,
            available_credits=parsed.available_credits,
            breakdown=breakdown,
            **common,
        )
    if status == 409 and _error_code(body) == VersionConflictError.CODE:
        versions = body if isinstance(body, dict) else {}
        nested = versions.get("error")
        if isinstance(nested, dict):
            versions = {**nested, **versions}
        return VersionConflictError(
            message(VERSION_CONFLICT),
            current_version=_int_or_none(versions.get("currentVersion")),
            sent_version=_int_or_none(versions.get("sentVersion")),
            **common,
        )
    retry_after = parse_retry_after(headers, body, now) if status == 429 else None
    hint = status_advice(
        status,
        has_details=bool(details),
        idempotency=_error_code(body) in (None, "idempotency_key_reused", "idempotency_conflict"),
        retry_after=retry_after,
    )
    text = message(hint, with_details=status in (400, 422))
    if status == 400:
        return BadRequestError(text, **common)
    if status == 401:
        return AuthenticationError(text, **common)
    if status == 403:
        return PermissionDeniedError(text, **common)
    if status == 404:
        return NotFoundError(text, **common)
    if status == 422:
        return UnprocessableEntityError(text, **common)
    if status == 429:
        return RateLimitError(text, retry_after=retry_after, **common)
    if status >= 500:
        return InternalServerError(text, **common)
    return APIStatusError(text, **common)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
