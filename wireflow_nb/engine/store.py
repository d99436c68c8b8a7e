"""The engine's SQLite store (stdlib ``sqlite3``, WAL): execution history, node runs,
workflow snapshots, idempotency keys, the output cache index and the credits balance.

One connection guarded by a lock serves the engine thread and callers alike. A run's
node list is one JSON column; node run rows are written in batches as nodes change
(``save_run``), so a 10,000-node run costs a few ``executemany`` calls, not 10,000
commits, and a node that never changed needs no row (it is PENDING).

Reading never trusts the file: a row an older version wrote with NaN/Infinity (which
strict JSON cannot carry) reads with ``null`` there, and a field that is not valid JSON
or not of its type reads empty, the run's ``error`` saying which fields could not be
read (``stored.loads_stored``); one bad row never makes the history, poll or details fail.
The database file is created 0600 (SQLite gives its -wal and -shm files its mode).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .artifacts import ARTIFACT_PREFIX
from .home import create_private_file
from .runs import FAILED, PENDING, RUNNING, SKIPPED, NodeRunState, RunRecord
from .stored import as_text, count, finite, loads_stored, node_ids_of, with_damage

__all__ = ["SCHEMA_VERSION", "Store"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS executions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    workflow_id TEXT NOT NULL,
    batch_id TEXT,
    run_index INTEGER NOT NULL DEFAULT 0,
    input_index INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    triggered_by TEXT NOT NULL DEFAULT 'manual',
    trigger_data TEXT,
    target_node_id TEXT,
    error TEXT,
    error_node TEXT,
    started_at TEXT,
    completed_at TEXT,
    execution_time INTEGER,
    credits_used REAL NOT NULL DEFAULT 0,
    owner TEXT,
    -- the nodes of the run (JSON list, in order); node_runs holds those that started
    node_ids TEXT NOT NULL DEFAULT '[]',
    snapshot TEXT
);
CREATE INDEX IF NOT EXISTS executions_by_workflow ON executions (workflow_id, seq);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status);
CREATE TABLE IF NOT EXISTS node_runs (
    execution_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    node_id TEXT NOT NULL,
    status TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cached INTEGER NOT NULL DEFAULT 0,
    started_at TEXT,
    completed_at TEXT,
    PRIMARY KEY (execution_id, position)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (scope, key)
);
-- the account endpoints (engine/saved.py, engine/uploads.py): IF NOT EXISTS, so an
-- older home gains them on first open
CREATE TABLE IF NOT EXISTS saved_workflows (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    node_count INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS media (
    id TEXT PRIMARY KEY,
    artifact TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    filename TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cache (
    key TEXT PRIMARY KEY,
    node_type TEXT NOT NULL,
    output TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""

_RUN_COLUMNS = (
    "id, workflow_id, batch_id, run_index, input_index, status, triggered_by, trigger_data, "
    "target_node_id, error, error_node, started_at, completed_at, execution_time, credits_used, owner"
)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _output_json(state: NodeRunState) -> str | None:
    if state.output is None:
        return None
    # the scheduler serialized it once already (shared with the cache)
    return state.output_json if state.output_json is not None else _dumps(state.output)


class Store:
    """Persistence of one engine home. ``path=None`` keeps everything in memory."""

    def __init__(self, path: str | Path | None) -> None:
        target = ":memory:" if path is None else str(path)
        if path is not None:
            create_private_file(Path(path))  # before SQLite creates it 0644
        self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        with self._lock:
            if target != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=5000")
            self._conn.executescript(_SCHEMA)
            self._conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # -- meta ----------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def set_metas(self, values: dict[str, str]) -> None:
        with self._transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(values.items()))

    # -- plain SQL for the tables of other engine modules (saved workflows, media) -----------
    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction (a read-check-write is atomic across processes)."""
        with self._transaction() as conn:
            yield conn

    # -- executions ------------------------------------------------------------------------
    def insert_runs(self, records: Iterable[tuple[RunRecord, str]]) -> None:
        """Store new runs, each with its workflow snapshot JSON."""
        with self._transaction() as conn:
            conn.executemany(
                f"INSERT INTO executions ({_RUN_COLUMNS}, node_ids, snapshot) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (*self._run_row(record), _dumps(list(record.node_runs)), snapshot)
                    for record, snapshot in records
                ],
            )

    @staticmethod
    def _run_row(record: RunRecord) -> tuple[Any, ...]:
        return (
            record.id,
            record.workflow_id,
            record.batch_id,
            record.run_index,
            record.input_index,
            record.status,
            record.triggered_by,
            _dumps(record.trigger_data),
            record.target_node_id,
            record.error,
            record.error_node,
            record.started_at,
            record.completed_at,
            record.execution_time,
            record.credits_used,
            record.owner,
        )

    def save_run(
        self,
        record: RunRecord,
        node_states: Iterable[NodeRunState] = (),
        *,
        meta: dict[str, str] | None = None,
    ) -> None:
        """Write a run's own fields and the given node runs (and ``meta`` values, e.g. the
        credits a node just cost), in one transaction."""
        rows = [
            (
                s.status,
                _output_json(s),
                s.error,
                int(s.cached),
                s.started_at,
                s.completed_at,
                record.id,
                s.position,
                s.node_id,
            )
            for s in node_states
        ]
        with self._transaction() as conn:
            conn.execute(
                "UPDATE executions SET status = ?, error = ?, error_node = ?, completed_at = ?, "
                "execution_time = ?, credits_used = ? WHERE id = ?",
                (
                    record.status,
                    record.error,
                    record.error_node,
                    record.completed_at,
                    record.execution_time,
                    record.credits_used,
                    record.id,
                ),
            )
            if rows:
                conn.executemany(
                    "INSERT OR REPLACE INTO node_runs (status, output, error, cached, started_at, completed_at, "
                    "execution_id, position, node_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            if meta:
                conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(meta.items()))

    def _record(self, row: tuple[Any, ...]) -> RunRecord:
        damage: list[str] = []
        trigger, problem = loads_stored(row[7])
        if problem is not None:
            damage.append(f"trigger data {problem}")
        elif trigger is not None and not isinstance(trigger, dict):
            damage.append("trigger data is not an object (shown empty)")
        record = RunRecord(
            as_text(row[0]) or "",
            as_text(row[1]) or "",
            batch_id=as_text(row[2]),
            run_index=count(row[3], "run index", damage),
            input_index=count(row[4], "input index", damage),
            status=as_text(row[5]) or FAILED,
            triggered_by=as_text(row[6]) or "manual",
            trigger_data=trigger if isinstance(trigger, dict) else {},
            target_node_id=as_text(row[8]),
            started_at=as_text(row[11]),
            owner=as_text(row[15]),
        )
        record.error_node = as_text(row[10])
        record.completed_at = as_text(row[12])
        execution_time = finite(row[13], "execution time", damage)
        record.execution_time = None if execution_time is None else int(execution_time)
        record.credits_used = finite(row[14], "credits used", damage) or 0
        record.error = with_damage(as_text(row[9]), damage)
        return record

    def _unreadable(self, row: tuple[Any, ...], exc: Exception) -> RunRecord:
        """What can be shown of a row ``_record`` could not read (a guard; it reads anything
        SQLite can hold)."""
        record = RunRecord(as_text(row[0]) or "", as_text(row[1]) or "", status=as_text(row[5]) or FAILED)
        record.error = with_damage(None, [f"the row ({type(exc).__name__})"])
        return record

    @staticmethod
    def _node_states(ids: list[str] | None, nodes: list[tuple[Any, ...]]) -> list[NodeRunState]:
        """A run's node runs: one per node of ``ids`` (PENDING unless a row says more); the
        rows alone, in order, when the node list could not be read (``ids`` None)."""
        states = [NodeRunState(node_id, position) for position, node_id in enumerate(ids or [])]
        if ids is None:
            nodes = sorted((row for row in nodes if isinstance(row[0], int)), key=lambda row: row[0])
        for position, node_id, status, output, error, cached, started_at, completed_at in nodes:
            if not isinstance(position, int):
                continue
            state = NodeRunState(as_text(node_id) or "", position, as_text(status) or FAILED)
            state.output, problem = loads_stored(output)
            state.has_refs = isinstance(output, str) and ARTIFACT_PREFIX in output
            state.error = with_damage(as_text(error), [] if problem is None else [f"the output {problem}"])
            state.cached = bool(cached)
            state.started_at = as_text(started_at)
            state.completed_at = as_text(completed_at)
            if 0 <= position < len(states):
                states[position] = state
            elif ids is None:  # the node list is unreadable: show the node runs there are
                states.append(state)
        return states

    def load_run(self, execution_id: str, *, with_node_runs: bool = True) -> RunRecord | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_RUN_COLUMNS}, node_ids FROM executions WHERE id = ?", (execution_id,)
            ).fetchone()
            if row is None:
                return None
            nodes = []
            if with_node_runs:
                nodes = self._conn.execute(
                    "SELECT position, node_id, status, output, error, cached, started_at, completed_at "
                    "FROM node_runs WHERE execution_id = ?",
                    (execution_id,),
                ).fetchall()
        try:
            record = self._record(row)
            if with_node_runs:
                ids = node_ids_of(row[16])
                if ids is None:
                    record.error = with_damage(
                        record.error, ["the node list is not valid JSON (shown from node runs)"]
                    )
                record.node_runs = {state.node_id: state for state in self._node_states(ids, nodes)}
        except Exception as exc:  # never a permanent 500 for one execution
            record = self._unreadable(row, exc)
        return record

    def load_snapshot(self, execution_id: str) -> dict[str, Any] | None:
        """The workflow a run ran; None when there is none or it cannot be read."""
        with self._lock:
            row = self._conn.execute(
                "SELECT snapshot FROM executions WHERE id = ?", (execution_id,)
            ).fetchone()
        if row is None:
            return None
        value, _ = loads_stored(row[0])
        return value if isinstance(value, dict) else None

    def list_runs(self, workflow_id: str, *, limit: int, offset: int) -> list[RunRecord]:
        """Runs of a workflow, most recent first (without node runs)."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_RUN_COLUMNS} FROM executions WHERE workflow_id = ? ORDER BY seq DESC LIMIT ? OFFSET ?",
                (workflow_id, limit, offset),
            ).fetchall()
        records = []
        for row in rows:
            try:
                records.append(self._record(row))
            except Exception as exc:  # one bad row never hides the others
                records.append(self._unreadable(row, exc))
        return records

    def recover(self, is_alive: Callable[[object, object], bool], *, now_iso: str, message: str) -> list[str]:
        """Mark FAILED every run left PENDING/RUNNING by an engine that is gone
        (``is_alive(owner, started_at)`` is false): its running node runs become FAILED,
        the others that had not ended SKIPPED. Returns the ids of the runs recovered."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, owner, started_at, node_ids FROM executions WHERE status IN (?, ?)",
                (PENDING, RUNNING),
            ).fetchall()
        dead = [(row[0], row[3]) for row in rows if not is_alive(row[1], row[2])]
        if not dead:
            return []
        recovered = []
        with self._transaction() as conn:
            for execution_id, node_ids in dead:
                # another engine opening the same home may have recovered it meanwhile
                changed = conn.execute(
                    "UPDATE executions SET status = ?, error = ?, completed_at = ? "
                    "WHERE id = ? AND status IN (?, ?)",
                    (FAILED, message, now_iso, execution_id, PENDING, RUNNING),
                ).rowcount
                if not changed:
                    continue
                recovered.append(execution_id)
                conn.execute(
                    "UPDATE node_runs SET status = CASE status WHEN ? THEN ? ELSE ? END, error = ?, "
                    "completed_at = ? WHERE execution_id = ? AND status IN (?, ?)",
                    (RUNNING, FAILED, SKIPPED, message, now_iso, execution_id, PENDING, RUNNING),
                )
                written = {
                    position
                    for (position,) in conn.execute(
                        "SELECT position FROM node_runs WHERE execution_id = ?", (execution_id,)
                    )
                }
                conn.executemany(
                    "INSERT INTO node_runs (execution_id, position, node_id, status, error, completed_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (execution_id, position, node_id, SKIPPED, message, now_iso)
                        for position, node_id in enumerate(node_ids_of(node_ids) or [])
                        if position not in written
                    ],
                )
        return recovered

    # -- idempotency -------------------------------------------------------------------------
    def get_idempotent(self, scope: str, key: str, *, since: float) -> tuple[str, str] | None:
        """``(body_hash, response_json)`` of a key used after ``since`` (epoch seconds)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT body_hash, response FROM idempotency WHERE scope = ? AND key = ? AND created_at >= ?",
                (scope, key, since),
            ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def put_idempotent(
        self, scope: str, key: str, body_hash: str, response: str, *, created_at: float
    ) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO idempotency (scope, key, body_hash, response, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (scope, key, body_hash, response, created_at),
            )

    def prune_idempotency(self, *, before: float) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM idempotency WHERE created_at < ?", (before,))

    # -- output cache ------------------------------------------------------------------------
    def cache_get(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT output FROM cache WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def cache_keys(self) -> list[str]:
        with self._lock:
            return [str(row[0]) for row in self._conn.execute("SELECT key FROM cache")]

    def cache_put_many(self, rows: Iterable[tuple[str, str, str, float]]) -> None:
        """``(key, node_type, output_json, created_at)`` rows."""
        batch = list(rows)
        if not batch:
            return
        with self._transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO cache (key, node_type, output, created_at) VALUES (?, ?, ?, ?)", batch
            )

    def cache_delete(self, keys: Iterable[str]) -> None:
        with self._transaction() as conn:
            conn.executemany("DELETE FROM cache WHERE key = ?", [(k,) for k in keys])

    def cache_prune(self, *, keep: int) -> None:
        """Keep only the ``keep`` most recent cache entries."""
        with self._lock:
            self._conn.execute(
                "DELETE FROM cache WHERE key NOT IN (SELECT key FROM cache ORDER BY created_at DESC LIMIT ?)",
                (keep,),
            )
