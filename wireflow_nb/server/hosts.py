"""Which ``Host`` and ``Origin`` headers the server answers: its defence against DNS
rebinding and cross-site requests from web pages.

A web page on another site can make a browser send requests to ``127.0.0.1`` two ways:
directly (the browser adds ``Origin: https://that.site``; a ``text/plain`` POST needs no
preflight) or through DNS rebinding (the page's own name, re-resolved to ``127.0.0.1``,
so ``Host: that.site``). The server answers a ``Host`` only when it names the server
(loopback names, the bound address, ``--public-url``'s host, ``--allowed-host`` names)
and an ``Origin`` only when its host is such a name or it was given with
``--allow-origin``. CORS headers go only to the ``--allow-origin`` origins (off by
default). The port is never part of the decision: a rebinding page uses the server's own
port, so the name alone is what tells it apart.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from .auth import is_loopback_host

__all__ = ["CORS_ALLOW_HEADERS", "CORS_EXPOSE_HEADERS", "HostPolicy", "Refusal", "normalize_origin"]

#: Request headers a browser page at an ``--allow-origin`` origin may send.
CORS_ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key"
#: Response headers it may read.
CORS_EXPOSE_HEADERS = (
    "Location, Retry-After, X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, "
    "X-RateLimit-Reset, Idempotent-Replayed, X-Original-Request-Id"
)
_WILDCARD_BINDS = ("", "0.0.0.0", "::")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Refusal:
    """Why a request was refused: the status, the message and the ``details`` entry."""

    status: int
    message: str
    field: str
    code: str

    def body(self) -> dict[str, object]:
        return {
            "error": self.message,
            "details": [{"field": self.field, "message": self.message, "code": self.code}],
        }


def _host_name(value: str) -> str | None:
    """The host name of a ``Host`` header value (``name``, ``name:port``, ``[v6]:port``),
    lower case, without a trailing dot; None when it is malformed."""
    value = value.strip().lower()
    if not value:
        return None
    if value.startswith("["):
        end = value.find("]")
        if end < 0 or (value[end + 1 :] and not value[end + 1 :].startswith(":")):
            return None
        name = value[1:end]
        port = value[end + 2 :] if value[end + 1 :] else ""
    elif value.count(":") == 1:
        name, _, port = value.partition(":")
    elif ":" in value:  # a bare IPv6 address, as some clients write it
        name, port = value, ""
    else:
        name, port = value, ""
    if port and not port.isdigit():
        return None
    return name.rstrip(".") or None


def normalize_origin(origin: str) -> str:
    """``scheme://host[:port]`` in lower case without a default port (``null`` stays)."""
    origin = origin.strip().rstrip("/")
    if origin.lower() == "null":
        return "null"
    parts = urlsplit(origin)
    if not parts.scheme or not parts.hostname:
        raise ValueError(f"{origin!r} is not an origin; write it as scheme://host[:port]")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{origin!r} has an invalid port") from None
    scheme = parts.scheme.lower()
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostPolicy:
    """The names the server answers to and the origins it accepts.

    ``bind_host``: the address the server listens on; a specific address is a name it
    answers to, a wildcard one (``0.0.0.0``, ``::``) lets every IP address literal in
    (DNS rebinding needs a name). ``allowed_hosts``: more names (``--allowed-host``;
    ``*`` turns the ``Host`` check off, for a proxy that checks it). ``allowed_origins``:
    origins (``--allow-origin``) whose pages may call the API, with CORS headers.
    """

    def __init__(
        self,
        *,
        bind_host: str = "127.0.0.1",
        allowed_hosts: Iterable[str] = (),
        allowed_origins: Iterable[str] = (),
    ) -> None:
        names = {"localhost"}
        self.any_host = False
        for raw in allowed_hosts:
            if raw.strip() == "*":
                self.any_host = True
                continue
            name = _host_name(raw)
            if name is None:
                raise ValueError(f"--allowed-host {raw!r} is not a host name")
            names.add(name)
        self.any_ip = bind_host.strip("[]") in _WILDCARD_BINDS
        if not self.any_ip:
            bound = _host_name(bind_host)
            if bound:
                names.add(bound.strip("[]"))
        self.names = frozenset(n.strip("[]") for n in names)
        self.origins = frozenset(normalize_origin(o) for o in allowed_origins)

    def add_url(self, url: str) -> None:
        """Answer to the host of ``url`` too (the ``--public-url`` clients use)."""
        host = urlsplit(url).hostname
        if host:
            self.names = self.names | {host.lower().rstrip(".")}

    def host_allowed(self, name: str) -> bool:
        name = name.strip("[]")
        if self.any_host or name in self.names or is_loopback_host(name):
            return True
        return self.any_ip and _is_ip(name)

    def check_host(self, host: str | None) -> Refusal | None:
        """None when ``host`` (the ``Host`` header) names this server; a 400 otherwise.
        A request without ``Host`` (HTTP/1.0, not a browser) is let through."""
        if host is None or self.any_host:
            return None
        name = _host_name(host)
        if name is not None and self.host_allowed(name):
            return None
        shown = host[:100]
        hint = f"--allowed-host {name}" if name else "--allowed-host NAME"
        return Refusal(
            400,
            f"Host {shown!r} is not a name this server answers to (a guard against DNS rebinding); "
            f"reach it as 127.0.0.1 or localhost, or restart it with {hint} to serve that name",
            "Host",
            "host_not_allowed",
        )

    def explicitly_allowed(self, origin: str | None) -> bool:
        """Whether ``origin`` was given with ``--allow-origin`` (it gets CORS headers)."""
        if origin is None or not self.origins:
            return False
        try:
            return normalize_origin(origin) in self.origins
        except ValueError:
            return False

    def check_origin(self, origin: str | None) -> Refusal | None:
        """None for no ``Origin``, an origin on one of the server's names, or an
        ``--allow-origin`` one; a 403 for any other page's request."""
        if origin is None or self.explicitly_allowed(origin):
            return None
        try:
            normalized = normalize_origin(origin)
        except ValueError:
            normalized = None
        if normalized not in (None, "null"):
            name = urlsplit(normalized).hostname
            if name is not None and self.host_allowed(name):
                return None
        shown = origin[:100]
        return Refusal(
            403,
            f"Cross-site request refused: Origin {shown!r} is not this server; if a web page there "
            f"must call this API, restart the server with --allow-origin {normalized or 'URL'}",
            "Origin",
            "origin_not_allowed",
        )
