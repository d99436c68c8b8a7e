"""Bearer-key authentication of the local server.

The key is compared in constant time (``hmac.compare_digest``) and never written into a
response, a log line or an error message. A server started without a key answers only
loopback clients, so an unauthenticated server is never reachable from the network.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

__all__ = [
    "AuthResult",
    "BearerAuth",
    "is_loopback_host",
    "key_fingerprint",
]

_ANONYMOUS_SCOPE = "anonymous"


def key_fingerprint(key: str) -> str:
    """A stable, non-reversible name for a key: hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def is_loopback_host(host: str | None) -> bool:
    """Whether ``host`` (an IP address or ``localhost``) is a loopback address."""
    if not host:
        return False
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


@dataclass(frozen=True)
class AuthResult:
    """What ``BearerAuth.authenticate`` found out about one request.

    ``identity`` names the caller for rate limiting (a key fingerprint, or the client
    address when no valid key was shown); ``scope`` is what idempotency keys are scoped
    to (the SHA-256 of the key); ``error`` is the 401 message, None when allowed.
    """

    identity: str
    scope: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, else None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    return token or None


class BearerAuth:
    """Checks ``Authorization: Bearer <key>`` against the server's key.

    With ``api_key=None`` every loopback client is let in (the key it shows, if any,
    still scopes its idempotency keys) and every other client is refused.
    """

    def __init__(self, api_key: str | None) -> None:
        self._key = api_key.encode("utf-8") if api_key else None
        self._fingerprint = key_fingerprint(api_key) if api_key else None

    @property
    def required(self) -> bool:
        """Whether requests must carry the key."""
        return self._key is not None

    def matches(self, token: str | None) -> bool:
        """Constant-time comparison of ``token`` with the server's key."""
        if self._key is None or token is None:
            return False
        return hmac.compare_digest(token.encode("utf-8"), self._key)

    def authenticate(
        self,
        authorization: str | None,
        client_host: str | None,
        *,
        public: bool = False,
    ) -> AuthResult:
        """Decide on one request. ``public`` routes (OpenAPI document, output files) need
        no key, but an unauthenticated server still answers only loopback clients."""
        token = bearer_token(authorization)
        client_identity = f"client:{client_host or 'unknown'}"
        if self._key is None:
            if not is_loopback_host(client_host):
                return AuthResult(
                    client_identity,
                    _ANONYMOUS_SCOPE,
                    "This server has no API key and answers only loopback clients; "
                    "restart it with --api-key (or WIREFLOW_API_KEY) to serve the network",
                )
            scope = key_fingerprint(token) if token else _ANONYMOUS_SCOPE
            return AuthResult(f"key:{scope}" if token else client_identity, scope)
        if self.matches(token):
            assert self._fingerprint is not None
            return AuthResult(f"key:{self._fingerprint}", self._fingerprint)
        if public:
            return AuthResult(client_identity, _ANONYMOUS_SCOPE)
        if authorization is None:
            message = "Missing Authorization header; send 'Authorization: Bearer <your API key>'"
        elif token is None:
            message = "Malformed Authorization header; expected 'Authorization: Bearer <your API key>'"
        else:
            message = "Invalid API key"
        return AuthResult(client_identity, _ANONYMOUS_SCOPE, message)
