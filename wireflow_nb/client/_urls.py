"""URLs and keys: where the client sends, what it may send there, and how a URL or a key
is shown.

This module owns the API key and base URL a client is built with (an argument, else
the environment, else the hosted API), the default base URL, which hosts count as the hosted service or as
loopback, the same-origin rule that decides where the bearer key may go, masking a key
for display, dropping a URL's query for messages, ``data:`` URLs, and ids as path
segments. It may import httpx and ``wireflow_nb._advice`` (the environment's names).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
from urllib.parse import quote, unquote_to_bytes

import httpx

from .._advice import API_KEY_ENV, BASE_URL_ENV

__all__ = [
    "DEFAULT_BASE_URL",
    "HOSTED_DOMAIN",
    "decode_data_url",
    "is_hosted_url",
    "is_loopback_url",
    "mask_key",
    "resolve_api_key",
    "resolve_base_url",
    "same_origin",
]

DEFAULT_BASE_URL = "https://www.wireflow.ai/api/v1"
HOSTED_DOMAIN = "wireflow.ai"

_KEY_PREFIXES = ("sk-", "wf_live_", "wf_test_")


def resolve_api_key(api_key: str | None) -> str | None:
    """The key to send: ``api_key``, else ``$WIREFLOW_API_KEY``; None when there is none."""
    if api_key is None:
        api_key = os.environ.get(API_KEY_ENV)
    # a trailing newline pasted along with the key is the commonest 401 there is
    return api_key.strip() if api_key and api_key.strip() else None


def resolve_base_url(base_url: str | None) -> str:
    """The API's base URL without a trailing slash: ``base_url``, else
    ``$WIREFLOW_BASE_URL``, else the hosted API. Raises ValueError unless it is http(s)."""
    resolved = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
    try:
        parsed = httpx.URL(resolved)
    except httpx.InvalidURL as exc:
        raise ValueError(f"base_url {resolved!r} is not a URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(
            f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r} or "
            f"'http://127.0.0.1:8000/api/v1', got {resolved!r}"
        )
    return resolved


def mask_key(key: str | None) -> str | None:
    """The key as it may be shown: its well-known prefix, never a character of the secret."""
    if key is None:
        return None
    for prefix in _KEY_PREFIXES:
        if key.startswith(prefix):
            return prefix + "***"
    return "***"


def _host_of(url: str | httpx.URL) -> str:
    try:
        return httpx.URL(str(url)).host.lower()
    except (httpx.InvalidURL, TypeError):
        return ""


def is_loopback_url(url: str | httpx.URL) -> bool:
    """True for ``localhost`` and loopback addresses (a local ``wireflow-nb serve``)."""
    host = _host_of(url).strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_hosted_url(url: str | httpx.URL) -> bool:
    """True when the URL points at the hosted Wireflow service."""
    host = _host_of(url)
    return host == HOSTED_DOMAIN or host.endswith("." + HOSTED_DOMAIN)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default_ports = {"http": 80, "https": 443}
    return (url.scheme, url.host.lower(), url.port or default_ports.get(url.scheme))


def same_origin(a: str | httpx.URL, b: str | httpx.URL) -> bool:
    """Same scheme, host and port: the only case where the bearer key may be sent."""
    try:
        return _origin(httpx.URL(str(a))) == _origin(httpx.URL(str(b)))
    except httpx.InvalidURL:
        return False


def _safe_url(url: httpx.URL) -> str:
    """A URL for messages and logs: signed CDN URLs carry tokens in the query, drop it."""
    return str(url.copy_with(query=None, fragment=None))


def decode_data_url(url: str) -> bytes:
    """The bytes of a ``data:`` URL (base64 or percent-encoded)."""
    header, sep, payload = url.partition(",")
    if not sep or not header.lower().startswith("data:"):
        raise ValueError("not a data: URL (expected 'data:[<type>][;base64],<data>')")
    if header.lower().endswith(";base64"):
        raw = unquote_to_bytes(payload)
        try:
            return base64.b64decode(raw + b"=" * (-len(raw) % 4), validate=False)
        except binascii.Error as exc:
            raise ValueError(f"the data: URL holds invalid base64: {exc}") from None
    return unquote_to_bytes(payload)


def _seg(value: str) -> str:
    """An id as one path segment: an id holding '/' must not reach another route."""
    return quote(str(value), safe="")


def _id_from_location(response: httpx.Response) -> str | None:
    location = response.headers.get("location")
    if not location:
        return None
    parts = [p for p in httpx.URL(location).path.split("/") if p]
    if parts and parts[-1] == "poll":
        parts = parts[:-1]
    return parts[-1] if parts else None
