"""The node catalogue of a backend, and where it came from: the one home of that rule.

``catalog_for(backend)`` (``await acatalog_for(backend)`` for an ``AsyncBackend``) returns
a ``BackendCatalog`` (``catalog, source = ...``):

- a backend that runs its own types in process (a ``LocalEngine``: it has a ``catalog``)
  -> that catalogue, nothing fetched;
- a backend with ``nodes()`` and a ``base_url`` (``WireflowClient``, ``AsyncWireflowClient``)
  -> ``GET /nodes``, bounded by ``timeout`` (5 s); a good answer is written to the cache.
  No answer in time, an error, or an empty catalogue -> the cache of that base URL (its age
  and why said: "server unreachable: ..." or "no catalogue from the server: ..."), else the
  built-in types (``default_catalog()``). A late answer still refreshes the cache, for the
  next time. ``max_age=3600`` reuses a cache younger than an hour without
  asking (a rate-limited plan spares a request); the default asks every time.
- anything else -> the built-in types.

The server's types are the whole catalogue of a remote backend: a built-in type the server
lacks would not run there, so it is left out of the palette (a node of such a type in a
workflow still shows and edits as an unknown type). A type both list is the server's.

The cache: one JSON file per base URL under ``<data_home()>/catalogs/`` (``cache_dir=``
to choose), private (0700 folder, 0600 file), written atomically, holding the base URL (no
user info), the time of the answer and the catalogue in the hosted shape; never the API
key. A file that cannot be read is ignored, and the source says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from ._exceptions import APIConnectionError, redact
from ._files import write_atomic
from ._home import data_home
from .catalog import Catalog, catalog_from_hosted, default_catalog, spec_to_hosted

if TYPE_CHECKING:
    import asyncio

__all__ = ["BackendCatalog", "CatalogCache", "CatalogSource", "acatalog_for", "catalog_for", "describe_age"]

logger = logging.getLogger("wireflow_nb.catalog")

#: Seconds a fetch of ``GET /nodes`` may take before the cache (or the built-ins) is used.
DEFAULT_TIMEOUT = 5.0
_FORMAT = 1


@dataclass(frozen=True)
class CatalogSource:
    """Where a catalogue came from; ``str()`` is what the palette shows.

    ``kind``: ``server`` (fetched now), ``cache`` (a saved answer of ``base_url``),
    ``builtin`` (no catalogue from the backend), ``backend`` (the in-process engine's own
    types) or ``given`` (passed by the caller). ``fetched_at``: when the server answered
    (Unix seconds). ``reason``: why the server's catalogue was not used now."""

    kind: str
    text: str
    base_url: str | None = None
    fetched_at: float | None = None
    reason: str | None = None

    def __str__(self) -> str:
        return self.text

    def age(self, now: float | None = None) -> float | None:
        """Seconds since the server answered (None when not from a server)."""
        if self.fetched_at is None:
            return None
        return max(0.0, (time.time() if now is None else now) - self.fetched_at)


class BackendCatalog(NamedTuple):
    """A catalogue and its source (unpacks: ``catalog, source = catalog_for(client)``)."""

    catalog: Catalog
    source: CatalogSource


def describe_age(seconds: float) -> str:
    """``"less than a minute"``, ``"5 minutes"``, ``"3 hours"``, ``"2 days"``."""
    if seconds < 60:
        return "less than a minute"
    for unit, size, up_to in (("minute", 60, 3600), ("hour", 3600, 48 * 3600), ("day", 86400, None)):
        if up_to is None or seconds < up_to:
            n = int(seconds // size)
            return f"{n} {unit}{'' if n == 1 else 's'}"
    raise AssertionError("unreachable")


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _public_url(base_url: str) -> str:
    """``base_url`` without user info (``https://user:pw@host`` -> ``https://host``)."""
    parts = urlsplit(base_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def _short(exc: BaseException, secrets: tuple[str | None, ...]) -> str:
    text = (str(exc) or type(exc).__name__).strip().splitlines()[0]
    text = redact(text, secrets)
    return text if len(text) <= 160 else text[:157] + "..."


class CatalogCache:
    """Saved catalogues, one file per base URL, in ``folder`` (default
    ``<data_home()>/catalogs``, i.e. under ``$WIREFLOW_NB_HOME``; created private on first
    write)."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self._folder = Path(folder).expanduser() if folder is not None else None

    @property
    def folder(self) -> Path:
        if self._folder is None:
            self._folder = data_home() / "catalogs"
        return self._folder

    def path(self, base_url: str) -> Path:
        url = _public_url(base_url)
        host = re.sub(r"[^A-Za-z0-9.-]+", "-", urlsplit(url).netloc or "backend").strip("-")
        digest = hashlib.sha256(url.encode()).hexdigest()[:16]
        return self.folder / f"nodes-{host}-{digest}.json"

    def write(self, base_url: str, catalog: Catalog, fetched_at: float) -> Path:
        """Save ``catalog`` as ``base_url``'s answer of ``fetched_at`` (atomically)."""
        from .engine.home import make_private_dir

        target = self.path(base_url)
        if self._folder is None:
            make_private_dir(target.parent.parent)  # the home: never left to the umask
        make_private_dir(target.parent)
        body = {
            "format": _FORMAT,
            "baseUrl": _public_url(base_url),
            "fetchedAt": fetched_at,
            # the hosted-only keys a spec keeps in ``extra`` go back beside the entry
            "nodes": [{**_jsonable(spec.extra), **spec_to_hosted(spec)} for spec in catalog],
        }
        return write_atomic(target, json.dumps(body, ensure_ascii=False), private=True)

    def read(self, base_url: str) -> tuple[Catalog, float] | str | None:
        """The saved catalogue of ``base_url`` and when it was fetched; None when there is
        none; a note (str) when the file exists but cannot be used."""
        path = self.path(base_url)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            return f"the cached catalogue {path} could not be read ({type(exc).__name__}); ignored"
        try:
            body = json.loads(text)
            if not isinstance(body, dict) or body.get("format") != _FORMAT:
                raise ValueError("not a catalogue cache of this version")
            if body.get("baseUrl") != _public_url(base_url):
                raise ValueError(f"it is the cache of {body.get('baseUrl')!r}")
            fetched_at = body.get("fetchedAt")
            if isinstance(fetched_at, bool) or not isinstance(fetched_at, int | float):
                raise ValueError("no fetchedAt time")
            catalog = catalog_from_hosted({"nodes": body.get("nodes")})
            if not len(catalog):
                raise ValueError("no node types in it")
        except ValueError as exc:  # JSONDecodeError included
            return f"the cached catalogue {path} is damaged ({exc}); ignored"
        return catalog, float(fetched_at)


def _jsonable(extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in dict(extra or {}).items():
        with contextlib.suppress(TypeError, ValueError):
            json.dumps(value)
            out[str(key)] = value
    return out


# -- the decision ------------------------------------------------------------------------------------
def _local(backend: Any) -> BackendCatalog | None:
    """The in-process engine's own catalogue, or None for a backend to fetch from."""
    own = getattr(backend, "catalog", None)
    if isinstance(own, Catalog):
        return BackendCatalog(
            own, CatalogSource("backend", f"{type(backend).__name__}'s own types", reason=None)
        )
    if not callable(getattr(backend, "nodes", None)) or not getattr(backend, "base_url", None):
        return _builtins("the backend has no node catalogue")
    return None


def _builtins(reason: str) -> BackendCatalog:
    return BackendCatalog(
        default_catalog(),
        CatalogSource("builtin", f"built-in types (no catalogue from the backend: {reason})", reason=reason),
    )


def _start(
    backend: Any, cache_dir: str | os.PathLike[str] | None, max_age: float | None, clock: Callable[[], float]
) -> BackendCatalog | _Fetch:
    """What ``catalog_for`` and ``acatalog_for`` do before asking: the backend's own
    catalogue, a cache young enough, or the fetch to run."""
    found = _local(backend)
    if found is not None:
        return found
    cache = CatalogCache(cache_dir)
    base_url = str(backend.base_url)
    fresh = _fresh_cache(base_url, cache, clock(), max_age)
    return fresh if fresh is not None else _Fetch(base_url, cache, clock)


class _Fetch:
    """One ``GET /nodes`` whose answer, however late, goes to the cache."""

    def __init__(self, base_url: str, cache: CatalogCache, clock: Callable[[], float]) -> None:
        self.base_url = base_url
        self.cache = cache
        self.clock = clock
        self.catalog: Catalog | None = None
        self.error: BaseException | None = None
        self.fetched_at: float | None = None
        self.done = threading.Event()

    def finish(self, catalog: Any = None, error: BaseException | None = None) -> None:
        if error is None and not (isinstance(catalog, Catalog) and len(catalog)):
            error = ValueError("the server's catalogue is empty")
        if error is None:
            self.catalog, self.fetched_at = catalog, self.clock()
            try:
                self.cache.write(self.base_url, catalog, self.fetched_at)
            except OSError as exc:  # a read-only home: the palette still works
                logger.warning("could not cache the node catalogue of %s: %s", self.base_url, exc)
        else:
            self.error = error
        self.done.set()


def _settle(
    fetch: _Fetch, cache: CatalogCache, timeout: float, secrets: tuple[str | None, ...]
) -> BackendCatalog:
    url = _public_url(fetch.base_url)
    if fetch.catalog is not None:
        return BackendCatalog(
            fetch.catalog,
            CatalogSource("server", f"server {url}, fetched now", base_url=url, fetched_at=fetch.fetched_at),
        )
    if fetch.error is None:
        why = f"server unreachable: no answer within {timeout:g} s"
    elif isinstance(fetch.error, APIConnectionError | OSError):  # timeouts included
        why = f"server unreachable: {_short(fetch.error, secrets)}"
    else:  # it answered, but no catalogue: an error status, an empty list
        why = f"no catalogue from the server: {_short(fetch.error, secrets)}"
    return _from_cache(url, cache, fetch.clock(), why)


def _from_cache(url: str, cache: CatalogCache, now: float, why: str, cached: Any = None) -> BackendCatalog:
    if cached is None:
        cached = cache.read(url)
    if isinstance(cached, tuple):
        catalog, fetched_at = cached
        age = describe_age(max(0.0, now - fetched_at))
        text = f"cache from {_stamp(fetched_at)}, {age} old ({why})"
        return BackendCatalog(
            catalog, CatalogSource("cache", text, base_url=url, fetched_at=fetched_at, reason=why)
        )
    if isinstance(cached, str):
        logger.warning("%s", cached)
        why = f"{why}; {cached}"
    return _builtins(why)


def _fresh_cache(url: str, cache: CatalogCache, now: float, max_age: float | None) -> BackendCatalog | None:
    if max_age is None:
        return None
    cached = cache.read(url)
    if isinstance(cached, tuple) and now - cached[1] <= max_age:
        return _from_cache(
            url, cache, now, f"younger than {describe_age(max_age)}: the server was not asked", cached
        )
    return None


def _secrets_of(backend: Any) -> tuple[str | None, ...]:
    """The client's secrets (its error messages are redacted already: this is a second lock)."""
    secrets = getattr(backend, "_secrets", ())
    return tuple(s for s in secrets if isinstance(s, str)) if isinstance(secrets, tuple) else ()


def catalog_for(
    backend: Any = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    max_age: float | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    clock: Callable[[], float] = time.time,
) -> BackendCatalog:
    """The catalogue the editor should offer for ``backend``, and its source (see the
    module docstring). Never raises for an unreachable server or a bad cache file."""
    if inspect.iscoroutinefunction(getattr(backend, "nodes", None)):
        raise TypeError("an async backend's catalogue: await acatalog_for(backend)")
    fetch = _start(backend, cache_dir, max_age, clock)
    if isinstance(fetch, BackendCatalog):
        return fetch

    def get() -> None:
        try:
            catalog = backend.nodes()
        except Exception as exc:  # any failure means: use the cache
            fetch.finish(error=exc)
        else:
            fetch.finish(catalog)

    # a daemon thread, so a server that never answers holds neither the cell nor exit
    threading.Thread(target=get, name="wireflow-catalog", daemon=True).start()
    fetch.done.wait(timeout)
    return _settle(fetch, fetch.cache, timeout, _secrets_of(backend))


async def acatalog_for(
    backend: Any = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    max_age: float | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    clock: Callable[[], float] = time.time,
) -> BackendCatalog:
    """``catalog_for`` for an ``AsyncBackend`` (a blocking one is asked on a worker thread)."""
    import asyncio  # here: ``import wireflow_nb`` stays without asyncio

    fetch = _start(backend, cache_dir, max_age, clock)
    if isinstance(fetch, BackendCatalog):
        return fetch

    async def get() -> None:
        try:
            nodes = backend.nodes
            catalog = await nodes() if inspect.iscoroutinefunction(nodes) else await asyncio.to_thread(nodes)
        except Exception as exc:  # any failure means: use the cache
            fetch.finish(error=exc)
        else:
            fetch.finish(catalog)

    task = asyncio.ensure_future(get())
    # not cancelled on a timeout: a late answer still refreshes the cache
    await asyncio.wait({task}, timeout=timeout)
    _PENDING.add(task)
    task.add_done_callback(_PENDING.discard)
    return _settle(fetch, fetch.cache, timeout, _secrets_of(backend))


#: fetches left running after their timeout (a task needs a reference to finish)
_PENDING: set[asyncio.Future[None]] = set()
