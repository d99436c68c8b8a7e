"""The output cache: ComfyUI-style keys and the store of cached node outputs.

A node's key hashes its node type, its executor's code, its literal inputs and, for every
input fed by an edge, the key of the node feeding it. Keys are computed before anything
runs, so an unchanged graph is known to be fully cached up front (and costs nothing),
and changing one node changes the keys of that node and its descendants only.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from .artifacts import ArtifactStore
from .store import Store
from .stored import loads_stored

__all__ = ["MISSING", "OutputCache", "executor_fingerprint", "node_key"]

#: What ``OutputCache.get`` returns for a key it does not hold.
MISSING: Any = object()


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "bytes:" + hashlib.sha256(bytes(value)).hexdigest()
    return f"{type(value).__module__}.{type(value).__qualname__}:{value!s}"


def _hash_function(fn: Any, digest: Any, depth: int) -> None:
    code = getattr(fn, "__code__", None)
    if code is None:
        digest.update(f"{type(fn).__module__}.{type(fn).__qualname__}".encode())
        call = type(fn).__dict__.get("__call__")
        if depth < 3 and call is not None and getattr(call, "__code__", None) is not None:
            _hash_function(call, digest, depth + 1)
        return
    _hash_code(code, digest)
    if depth >= 3:
        return
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            content = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if callable(content):
            _hash_function(content, digest, depth + 1)
        elif isinstance(content, (str, int, float, bool, type(None))):
            digest.update(repr(content).encode())


def _hash_code(code: Any, digest: Any) -> None:
    digest.update(code.co_code)
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            _hash_code(const, digest)
        else:
            digest.update(repr(const).encode())
    digest.update(repr(code.co_names).encode())


_FINGERPRINTS: dict[int, tuple[Any, str]] = {}
_BUILTIN_MODULE = "wireflow_nb.engine.nodes"


def executor_fingerprint(executor: Callable[..., Any]) -> str:
    """What identifies a node type's code: the function's name plus the package version
    for built-ins, a hash of the function's code (and of the functions it closes over)
    for executors registered from a notebook, so editing and re-registering one misses."""
    known = _FINGERPRINTS.get(id(executor))
    if known is not None and known[0] is executor:
        return known[1]
    module = getattr(executor, "__module__", "") or ""
    if module.startswith(_BUILTIN_MODULE):
        from .._version import __version__

        fingerprint = f"builtin:{getattr(executor, '__qualname__', '')}@{__version__}"
    else:
        digest = hashlib.sha256()
        _hash_function(executor, digest, 0)
        fingerprint = digest.hexdigest()[:24]
    _FINGERPRINTS[id(executor)] = (executor, fingerprint)
    return fingerprint


_KEY_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_json_default)


def node_key(
    node_type: str,
    fingerprint: str,
    literals: dict[str, Any],
    feeds: Sequence[tuple[str, Sequence[tuple[str, str | None]]]],
    extra: Any = None,
) -> str:
    """The cache key of a node: ``feeds`` lists ``(input, [(upstream key, port), ...])``."""
    text = _KEY_ENCODER.encode([node_type, fingerprint, literals, feeds, extra])
    return hashlib.sha256(text.encode()).hexdigest()


class OutputCache:
    """Cached node outputs by key: a bounded in-memory map in front of the SQLite table.

    An entry whose artifact files were deleted is a miss (and is dropped)."""

    def __init__(self, store: Store, artifacts: ArtifactStore, *, max_memory: int = 50_000) -> None:
        self._store = store
        self._artifacts = artifacts
        self._lock = threading.Lock()
        self._known: set[str] = set(store.cache_keys())
        self._memory: OrderedDict[str, Any] = OrderedDict()
        self._max_memory = max_memory
        self._pending: list[tuple[str, str, Any, float]] = []

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not MISSING

    def get(self, key: str) -> Any:
        """The stored output of ``key`` (with artifact references), or ``MISSING``."""
        if key not in self._known:
            return MISSING
        with self._lock:
            output = self._memory.get(key, MISSING)
        if output is MISSING:
            text = self._store.cache_get(key)
            if text is None:
                self._known.discard(key)
                return MISSING
            output, problem = loads_stored(text)
            if problem is not None:  # damaged, or NaN from an older version: compute it again
                self.discard(key)
                return MISSING
            self._remember(key, output)
        if not self._files_exist(output):
            self.discard(key)
            return MISSING
        return output

    def _files_exist(self, output: Any) -> bool:
        return all(self._artifacts.exists(name) for name in self._artifacts.refs_in(output))

    def _remember(self, key: str, output: Any) -> None:
        with self._lock:
            self._memory[key] = output
            self._memory.move_to_end(key)
            while len(self._memory) > self._max_memory:
                self._memory.popitem(last=False)

    def put(self, key: str, node_type: str, output: Any, text: str | None = None) -> None:
        """Cache ``output`` (JSON with artifact references; ``text`` is its JSON when
        already serialized) under ``key``."""
        self._remember(key, output)
        with self._lock:
            self._known.add(key)
            self._pending.append((key, node_type, output if text is None else text, time.time()))

    def discard(self, key: str) -> None:
        with self._lock:
            self._known.discard(key)
            self._memory.pop(key, None)
        self._store.cache_delete([key])

    def flush(self) -> None:
        """Persist the entries added since the last flush."""
        with self._lock:
            rows, self._pending = self._pending, []
        if rows:
            self._store.cache_put_many(
                (
                    key,
                    node_type,
                    output
                    if isinstance(output, str)
                    else json.dumps(output, separators=(",", ":"), ensure_ascii=False),
                    created,
                )
                for key, node_type, output, created in rows
            )

    def clear(self) -> None:
        with self._lock:
            keys = list(self._known)
            self._known.clear()
            self._memory.clear()
            self._pending.clear()
        self._store.cache_delete(keys)

    def __len__(self) -> int:
        return len(self._known)
