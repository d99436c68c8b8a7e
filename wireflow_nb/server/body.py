"""Request bodies: the JSON media type (the middleware answers 415 to any body that is
not declared ``application/json``) and strict JSON parsing.

Python's ``json`` accepts more than JSON: ``NaN`` and ``Infinity`` (which no response can
render afterwards), numbers like ``1e999`` (infinite as floats), integers of thousands of
digits (a ``ValueError`` past 4,300), nesting as deep as the stack allows (a ``RecursionError``)
and millions of values (each walked several times afterwards). ``parse_json`` refuses
each with a 400 naming the problem, so nothing a later response cannot render is ever
stored. Parsing runs on a worker thread (the
routes call it through ``run_in_threadpool``): a big body never stalls the event loop.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .._exceptions import BadRequestError
from .errors import bad_request_body

__all__ = [
    "MAX_INTEGER_DIGITS",
    "MAX_JSON_DEPTH",
    "MAX_JSON_VALUES",
    "is_json_media_type",
    "parse_json",
    "unsupported_media_type_message",
]

#: Deepest nesting of arrays and objects accepted (a workflow needs about 6).
MAX_JSON_DEPTH = 64
#: Longest integer accepted, in digits (seeds and sizes need at most 20).
MAX_INTEGER_DIGITS = 40
#: Most values (numbers, strings, array items, object members) in one body: 5,000 nodes
#: of a few dozen values each fit, and nothing downstream walks millions of them.
MAX_JSON_VALUES = 1_000_000


def is_json_media_type(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` value is ``application/json`` (parameters allowed)."""
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


#: The one route whose body is not JSON: a media upload is a multipart form. A cross-site
#: form posting there is still refused by the Origin check (``hosts.py``).
MULTIPART_PATHS = ("/media/upload",)


def accepts_body(path: str, content_type: str | None) -> bool:
    """Whether a body of ``content_type`` may be sent to ``path``: JSON everywhere, and a
    multipart form to the upload route."""
    if is_json_media_type(content_type):
        return True
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind == "multipart/form-data" and path.endswith(MULTIPART_PATHS)


def unsupported_media_type_message(content_type: str | None) -> str:
    shown = repr(content_type[:100]) if content_type else "none"
    return f"Unsupported Content-Type {shown}: send the body as JSON with 'Content-Type: application/json'"


class _HostileJson(ValueError):
    """A JSON value the server refuses to take (raised from the parser's hooks)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def _constant(name: str) -> Any:
    raise _HostileJson(
        f"{name} is not a JSON number; send finite numbers only (or null)", "non_finite_number"
    )


class _Numbers:
    """The parser's number hooks: refuse long integers and infinite floats, and stop a
    flood of numbers early (each hook call is Python, so a worker thread parsing them
    lets the event loop run in between)."""

    def __init__(self) -> None:
        self.count = 0

    def _counted(self) -> None:
        self.count += 1
        if self.count > MAX_JSON_VALUES:
            raise _too_many()

    def integer(self, text: str) -> int:
        self._counted()
        digits = len(text) - (text[0] == "-")
        if digits > MAX_INTEGER_DIGITS:
            raise _HostileJson(
                f"an integer of {digits} digits ({text[:12]}...); integers are limited to "
                f"{MAX_INTEGER_DIGITS} digits (send long numbers as strings)",
                "integer_too_long",
            )
        return int(text)

    def float(self, text: str) -> float:
        self._counted()
        value = float(text)
        if not math.isfinite(value):
            raise _HostileJson(
                f"the number {text[:40]} is out of range (it overflows to infinity); send finite numbers only",
                "number_out_of_range",
            )
        return value


def _refuse(problem: str, code: str, where: str | None = None, *, valid: bool = False) -> BadRequestError:
    what = "is refused" if valid else "is not valid JSON"
    message = f"The request body {what}: {problem}"
    detail: dict[str, Any] = {"message": problem, "code": code}
    if where:
        detail["field"] = where
    return BadRequestError(message, body=bad_request_body(message, [detail]))


def _too_deep(where: str | None = None) -> BadRequestError:
    at = f" at {where}" if where else ""
    return _refuse(
        f"arrays and objects are nested more than {MAX_JSON_DEPTH} levels deep{at}",
        "too_deep",
        where,
        valid=True,
    )


def _too_many() -> BadRequestError:
    return _refuse(
        f"more than {MAX_JSON_VALUES:,} values (numbers, strings, items); a workflow needs far fewer "
        "(pass large data as a URL)",
        "too_many_values",
        valid=True,
    )


def _check_shape(value: Any) -> None:
    """The nesting depth and the number of values of a parsed value, without recursion
    (an explicit stack), before anything walks it value by value (validation, hashing,
    storing). Lone surrogates in strings are the engine's to refuse: it names where."""
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(value, 1, ())]
    count = 0
    while stack:
        item, depth, path = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _too_deep(".".join(map(str, path))[:200])
        count += len(item)
        if count > MAX_JSON_VALUES:
            raise _too_many()
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        stack.extend(
            (child, depth + 1, (*path, key)) for key, child in pairs if isinstance(child, dict | list)
        )


def parse_json(raw: bytes) -> Any:
    """``raw`` as JSON, strictly; a ``BadRequestError`` (400) naming what is wrong.

    Blocking work: call it on a worker thread for anything but tiny bodies."""
    try:
        numbers = _Numbers()
        value = json.loads(
            raw, parse_constant=_constant, parse_int=numbers.integer, parse_float=numbers.float
        )
    except BadRequestError:
        raise
    except _HostileJson as exc:
        raise _refuse(str(exc), exc.code, valid=exc.code == "integer_too_long") from None
    except RecursionError:
        raise _too_deep() from None
    except json.JSONDecodeError as exc:
        raise _refuse(f"{exc.msg} (line {exc.lineno}, column {exc.colno})", "bad_json") from None
    except (UnicodeDecodeError, ValueError) as exc:  # bytes that are no UTF-8/16/32 text
        raise _refuse(str(exc)[:200], "bad_json") from None
    if isinstance(value, dict | list):
        _check_shape(value)
    return value
