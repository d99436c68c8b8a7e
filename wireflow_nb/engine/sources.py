"""What the engine reads for a caller: the bytes behind an input value, under an
``InputPolicy``.

An input value may name bytes of the artifact store (a reference, a name, an output
URL, a ``file://`` URI inside the store), a ``data:`` URL, a local file (a path or a
``file://`` URI) or an ``http(s)`` URL. The store and ``data:`` URLs are always read;
local files and URLs only when the policy allows them. In process
(``InputPolicy.in_process()``, the default) the engine reads the user's own files and
URLs; a server (``InputPolicy.served()``) reads neither local files nor, unless told,
URLs, and never an address of its own machine or network (``address_refusal``).

Every read is bounded: local files must be regular files (opened without blocking and
checked on the opened descriptor, so a FIFO or a device can never hang or flood a
node), and files and downloads are capped at ``max_bytes``; downloads also have a
deadline. ``source_refusal`` is the same rule without reading anything, which request
validation applies to literal inputs before a run starts. Imports the artifact store
only; URLs are fetched with ``http.client`` over sockets this module connects itself,
so the address it checked is the address it talks to.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import http.client
import ipaddress
import os
import socket
import ssl
import stat
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes, urljoin, urlsplit

from .._media import has_url_scheme
from .artifacts import ArtifactStore

__all__ = [
    "MAX_INPUT_BYTES",
    "InputPolicy",
    "SourceError",
    "SourceRefused",
    "address_refusal",
    "read_source",
    "source_refusal",
]

#: Largest input file or download (the hosted media upload limit).
MAX_INPUT_BYTES = 25 * 1024 * 1024
#: Seconds a download may take, from the first connect to the last byte.
FETCH_TIMEOUT = 30.0
#: Redirects followed by one download (each one checked like the first URL).
MAX_REDIRECTS = 5

_REDIRECTS = (301, 302, 303, 307, 308)
_CHUNK = 64 * 1024


class SourceError(ValueError):
    """An input could not be read; the message says why and what to do."""


class SourceRefused(SourceError):
    """The engine's input policy forbids reading this input."""


@dataclass(frozen=True)
class InputPolicy:
    """What the engine may read for an input value, beyond its artifact store and
    ``data:`` URLs (always read).

    ``local_files``: local paths and ``file://`` URIs outside the store.
    ``url_fetch``: ``http(s)`` URLs. ``private_addresses``: whether a URL may reach a
    loopback, private, link-local, multicast, reserved or unspecified address.
    ``allowed_networks``: addresses reachable even so (``"10.1.2.3/32"``).
    ``max_bytes`` / ``timeout``: the cap of every read and the deadline of a download.
    """

    local_files: bool = True
    url_fetch: bool = True
    private_addresses: bool = True
    allowed_networks: tuple[str, ...] = ()
    max_bytes: int = MAX_INPUT_BYTES
    timeout: float = FETCH_TIMEOUT
    #: a name for messages (``in-process``, ``served``)
    name: str = "custom"
    _networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(
        default=(), init=False, repr=False, compare=False
    )

    @property
    def permissive(self) -> bool:
        """Whether the policy refuses nothing a user could mean (local files, any URL)."""
        return self.local_files and self.url_fetch and self.private_addresses

    def __post_init__(self) -> None:
        if self.max_bytes < 1 or self.timeout <= 0:
            raise ValueError("InputPolicy needs max_bytes >= 1 and timeout > 0")
        networks = tuple(ipaddress.ip_network(n, strict=False) for n in self.allowed_networks)
        object.__setattr__(self, "_networks", networks)

    @classmethod
    def in_process(cls) -> InputPolicy:
        """The user's own engine: their files and any URL (bounded reads)."""
        return cls(name="in-process")

    @classmethod
    def served(cls, *, allow_url_fetch: bool = False, allowed_networks: Iterable[str] = ()) -> InputPolicy:
        """An engine behind ``wireflow-nb serve``: no local files; URLs only with
        ``allow_url_fetch``, and then only to public addresses (or ``allowed_networks``)."""
        return cls(
            local_files=False,
            url_fetch=allow_url_fetch,
            private_addresses=False,
            allowed_networks=tuple(allowed_networks),
            name="served",
        )

    def allows_address(self, address: str) -> str | None:
        """None when a URL may reach ``address`` (an IP literal), else why not."""
        if self.private_addresses:
            return None
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return f"{address!r} is not an IP address"
        if any(ip in network for network in self._networks if network.version == ip.version):
            return None
        return address_refusal(ip)


def address_refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why a server must not fetch from ``ip`` (its own machine or network), else None.
    An IPv6 address that carries an IPv4 one (mapped, 6to4, Teredo) is judged by both."""
    inner: list[ipaddress.IPv4Address] = []
    if isinstance(ip, ipaddress.IPv6Address):
        for embedded in (ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())):
            if embedded is not None:
                inner.append(embedded)
    for candidate in (ip, *inner):
        for kind in ("loopback", "private", "link_local", "multicast", "reserved", "unspecified"):
            if getattr(candidate, f"is_{kind}"):
                return f"{candidate} is a {kind.replace('_', '-')} address"
        if not candidate.is_global:
            return f"{candidate} is not a public address"
    return None


# -- the rule, without reading ------------------------------------------------------------------


def _kind_of(text: str, store: ArtifactStore, base_url: str | None) -> str:
    """``store``, ``data``, ``url``, ``file`` (a local path or a ``file://`` URI) or
    ``scheme`` (a URL of a scheme the engine does not read)."""
    if store.name_of(text, base_url) is not None:
        return "store"
    lowered = text[:8].lower()
    if lowered.startswith("data:"):
        return "data"
    if lowered.startswith(("http://", "https://")):
        return "url"
    if lowered.startswith("file://") or not has_url_scheme(text):
        return "file"
    return "scheme"


def _texts(value: Any) -> list[str]:
    """The strings of an input value that name something to read (a media dict's
    ``url``; every item of a list)."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, dict):
        return _texts(value.get("url"))
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in _texts(item)]
    return []


def _shown(text: str) -> str:
    return repr(text if len(text) <= 200 else text[:200] + "...")


def _refusal(text: str, kind: str, policy: InputPolicy) -> str | None:
    if kind == "scheme":
        return (
            f"{_shown(text)} is not something the engine can read: give an http(s) or data: "
            "URL, an output URL, or a file"
        )
    if kind == "file" and not policy.local_files:
        return (
            f"this server does not read local files or file:// URIs (got {_shown(text)}); "
            "send the bytes as a data: URL, or use an output URL of this server"
        )
    if kind == "url":
        if not policy.url_fetch:
            return (
                f"this server does not fetch URLs (got {_shown(text)}); send the bytes as a "
                "data: URL, or start the server with --allow-url-fetch"
            )
        parts = urlsplit(text)
        host = parts.hostname or ""
        if not host:
            return f"{_shown(text)} has no host name"
        if not policy.private_addresses and host.rstrip(".").lower() in (
            "localhost",
            "localhost.localdomain",
        ):
            return f"this server does not fetch from its own machine or network ({host} in {_shown(text)})"
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return None  # a host name: judged once resolved, when the run reads it
        reason = policy.allows_address(host)
        if reason is not None:
            return f"this server does not fetch from its own machine or network ({reason}: {_shown(text)})"
    return None


def source_refusal(value: Any, store: ArtifactStore, base_url: str | None, policy: InputPolicy) -> str | None:
    """Why ``policy`` refuses to read input ``value``, found without reading anything
    (the same answer whether or not a path exists); None when it may be read."""
    for text in _texts(value):
        reason = _refusal(text, _kind_of(text, store, base_url), policy)
        if reason is not None:
            return reason
    return None


# -- reading -----------------------------------------------------------------------------------


def read_source(
    value: Any, store: ArtifactStore, base_url: str | None = None, policy: InputPolicy | None = None
) -> bytes:
    """The bytes behind an input value: bytes; a media dict (``{"url": ...}``) or a list
    of them (the first); an artifact URL, name or reference; a ``data:`` URL; a
    ``file://`` URI or local path; or an ``http(s)`` URL, as ``policy`` (default: in
    process) allows. Raises ``SourceRefused`` for what the policy forbids,
    ``SourceError`` for what cannot be read, ``FileNotFoundError`` for a missing file."""
    policy = policy or _IN_PROCESS
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, list):
        if not value:
            raise SourceError("no image was given (an empty list)")
        value = value[0]
    if isinstance(value, dict):
        value = value.get("url")
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise SourceError(f"expected a URL, a file path or bytes, got {type(value).__name__}")
    text = value.strip()
    kind = _kind_of(text, store, base_url)
    reason = _refusal(text, kind, policy)
    if reason is not None:
        raise SourceRefused(reason)
    if kind == "store":
        name = store.name_of(text, base_url)
        assert name is not None
        try:
            return store.read(name)
        except (OSError, ValueError):
            raise FileNotFoundError(f"no output file {_shown(text)} in this engine's store") from None
    if kind == "data":
        return _data_url(text, policy.max_bytes)
    if kind == "url":
        return fetch_url(text, policy)
    if text[:7].lower() == "file://":
        from urllib.request import url2pathname

        path = url2pathname(urlsplit(text).path)
    else:
        path = str(Path(text).expanduser())
    return read_file(path, policy.max_bytes, shown=text)


_IN_PROCESS = InputPolicy.in_process()


def _too_large(what: str, limit: int) -> SourceError:
    return SourceError(
        f"{what} is larger than {limit / (1024 * 1024):g} MB, the largest input this engine reads"
    )


def _data_url(text: str, limit: int) -> bytes:
    header, _, payload = text.partition(",")
    if len(payload) > 2 * limit + 8:  # cheap test before decoding
        raise _too_large("the data: URL", limit)
    try:
        data = base64.b64decode(payload) if header.lower().endswith(";base64") else unquote_to_bytes(payload)
    except (binascii.Error, ValueError) as exc:
        raise SourceError(f"the data: URL is not valid base64 ({exc})") from None
    if len(data) > limit:
        raise _too_large("the data: URL", limit)
    return data


def read_file(path: str, limit: int, *, shown: str | None = None) -> bytes:
    """A regular file's bytes, at most ``limit``. The open never blocks (``O_NONBLOCK``:
    a FIFO without a writer opens at once) and the opened descriptor is checked, so a
    device, FIFO or socket is refused rather than read."""
    what = _shown(shown if shown is not None else path)
    flags = (
        os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    )
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} is neither a URL nor an existing file") from None
    except OSError as exc:
        if exc.errno in (errno.ENXIO, errno.EOPNOTSUPP):  # a socket file, or a device without a driver
            raise SourceError(
                f"{what} is not a regular file (a socket or device); give an image file"
            ) from None
        raise SourceError(f"could not open {what}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a device, FIFO or socket"
            raise SourceError(f"{what} is not a regular file ({kind}); give an image file")
        if info.st_size > limit:
            raise _too_large(what, limit)
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:  # files of /proc say size 0: the bound is what is read
            chunk = os.read(fd, min(_CHUNK * 16, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise _too_large(what, limit)
        return b"".join(chunks)
    finally:
        os.close(fd)


# -- downloads ---------------------------------------------------------------------------------


class _GuardedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection that connects only to addresses ``policy`` allows: each
    resolved address is checked before connecting, and the connected peer again."""

    def __init__(self, host: str, port: int, *, tls: bool, policy: InputPolicy, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._tls = tls
        self._policy = policy
        #: the connected socket, kept after the response takes it over (``Connection: close``)
        self.stream: socket.socket | None = None

    def connect(self) -> None:
        self.sock = guarded_connect(self.host, self.port, self.timeout, self._policy)
        if self._tls:
            context = ssl.create_default_context()
            self.sock = context.wrap_socket(self.sock, server_hostname=self.host)
        self.stream = self.sock

    was_cut = False

    def cut(self) -> None:
        """End the exchange now (from another thread): a blocked read returns."""
        self.was_cut = True
        stream = self.stream
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.shutdown(socket.SHUT_RDWR)


def guarded_connect(host: str, port: int, timeout: Any, policy: InputPolicy) -> socket.socket:
    """A TCP socket to ``host``:``port`` connected to an address ``policy`` allows.
    Raises ``SourceRefused`` before any connect when every address is refused."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise SourceError(f"cannot resolve {host!r}: {exc.strerror or exc}") from None
    refusals: list[str] = []
    last: OSError | None = None
    for family, kind, proto, _, address in infos:
        reason = policy.allows_address(str(address[0]))
        if reason is not None:
            refusals.append(reason)
            continue
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
            reason = policy.allows_address(str(sock.getpeername()[0]))
            if reason is not None:  # never expected: the peer is the address checked above
                raise SourceRefused(f"this server does not fetch from its own machine or network ({reason})")
            return sock
        except OSError as exc:
            sock.close()
            last = exc
        except BaseException:
            sock.close()
            raise
    if refusals and last is None:
        raise SourceRefused(
            f"this server does not fetch from its own machine or network ({host} resolves to: "
            + "; ".join(dict.fromkeys(refusals))
            + ")"
        )
    raise SourceError(f"cannot connect to {host}:{port}: {last.strerror if last and last.strerror else last}")


def fetch_url(url: str, policy: InputPolicy) -> bytes:
    """GET ``url`` (following up to ``MAX_REDIRECTS`` redirects, each checked like the
    first URL) within ``policy.timeout`` seconds and ``policy.max_bytes`` bytes."""
    deadline = time.monotonic() + policy.timeout
    limit = policy.max_bytes
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        reason = _refusal(current, "url", policy)
        if reason is not None:
            raise SourceRefused(reason if current == url else f"{_shown(url)} redirects: {reason}")
        parts = urlsplit(current)
        tls = parts.scheme.lower() == "https"
        host = parts.hostname or ""
        try:
            port = parts.port or (443 if tls else 80)
        except ValueError:
            raise SourceError(f"{_shown(current)} has an invalid port") from None
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = _GuardedConnection(host, port, tls=tls, policy=policy, timeout=policy.timeout)
        # cuts the connection at the deadline, whatever it waits for (a server that sends
        # its headers a byte at a time, a slow TLS handshake)
        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), connection.cut)
        watchdog.daemon = True
        watchdog.start()
        try:
            connection.timeout = _left(deadline, url)
            connection.request(
                "GET",
                target,
                headers={"User-Agent": "wireflow_nb-local-engine", "Accept": "*/*", "Connection": "close"},
            )
            response = connection.getresponse()
            location = response.getheader("Location")
            if response.status in _REDIRECTS and location:
                current = urljoin(current, location)
                continue
            if response.status != 200:
                raise SourceError(f"{_shown(url)} answered HTTP {response.status} {response.reason}".rstrip())
            declared = response.getheader("Content-Length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise _too_large(_shown(url), limit)
            chunks: list[bytes] = []
            size = 0
            while True:
                left = _left(deadline, url)  # the deadline holds for a server that drips bytes
                if connection.stream is not None:
                    connection.stream.settimeout(left)
                chunk = response.read1(_CHUNK)
                if not chunk:
                    if connection.was_cut:  # (an end of the stream the watchdog made)
                        raise TimeoutError(url)
                    return b"".join(chunks)
                size += len(chunk)
                if size > limit:
                    raise _too_large(_shown(url), limit)
                chunks.append(chunk)
        except TimeoutError:
            raise SourceError(f"{_shown(url)} did not answer within {policy.timeout:g} s") from None
        except SourceError:
            raise
        except (OSError, http.client.HTTPException) as exc:
            if connection.was_cut:
                raise SourceError(f"{_shown(url)} did not answer within {policy.timeout:g} s") from None
            raise SourceError(f"could not fetch {_shown(url)}: {exc}") from None
        finally:
            watchdog.cancel()
            connection.close()
    raise SourceError(f"{_shown(url)} redirects more than {MAX_REDIRECTS} times")


def _left(deadline: float, url: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError(url)
    return left
