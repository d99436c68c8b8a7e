"""Saved workflows of an engine home: the ``saved_workflows`` table (``store``'s schema)
with versions, and what a saved workflow's run means (its input schema, its inputs
written into its nodes: ``wireflow_nb.account``).

A saved workflow is the user's workflow JSON exactly as given (``Workflow.to_dict()``
round-trips), with an id, a name, a version (1 on create, +1 on each update), ``createdAt``
and ``updatedAt``. An update names the version it read; a stale one is refused with
``VersionConflictError`` (409) naming both versions, in one ``BEGIN IMMEDIATE``
transaction so two processes on one home cannot both win. It may import the package's
models, _exceptions, workflow, account, and the engine's ``store`` and ``runs``.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

from .._exceptions import BadRequestError, NotFoundError, VersionConflictError, WorkflowValidationError
from ..models import SavedWorkflow, WorkflowSummary
from .runs import utc_now_iso
from .store import Store

__all__ = ["MAX_NAME_CHARS", "SavedWorkflows", "check_page"]

#: Longest workflow name accepted.
MAX_NAME_CHARS = 200

_COLUMNS = "id, name, version, node_count, created_at, updated_at"


def _bad(message: str, field: str, code: str) -> BadRequestError:
    details = [{"field": field, "message": message, "code": code}]
    return BadRequestError(message, body={"error": message, "details": details})


def check_page(limit: Any, offset: Any) -> None:
    """``limit`` 1..100 and ``offset`` >= 0, else a 400 naming them: the one rule for the
    pages of the history and of saved workflows."""
    details = []
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
        details.append(
            {"field": "limit", "message": f"limit must be an integer from 1 to 100, got {limit!r}"}
        )
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        details.append({"field": "offset", "message": f"offset must be an integer >= 0, got {offset!r}"})
    if details:
        message = "Invalid query parameters: " + "; ".join(d["message"] for d in details)
        raise BadRequestError(message, body={"error": message, "details": details})


def check_workflow_json(body: Any, field: str = "workflow") -> dict[str, Any]:
    """The workflow JSON to save: an object whose ``nodes``/``edges`` parse (400 otherwise)."""
    from ..workflow import Workflow

    if not isinstance(body, Mapping):
        raise _bad(
            f"'{field}' must be a workflow JSON object with 'nodes' and 'edges'", field, "not_an_object"
        )
    try:
        Workflow.from_dict(body)
    except WorkflowValidationError as exc:
        details = [{"field": field, "message": p.message, "code": p.code} for p in exc.problems]
        message = f"'{field}' is not a valid workflow: " + "; ".join(d["message"] for d in details)
        raise BadRequestError(message, body={"error": message, "details": details}) from None
    return dict(body)


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise _bad("'name' must be a non-empty string", "name", "bad_name")
    if len(name) > MAX_NAME_CHARS:
        raise _bad(
            f"'name' is {len(name)} characters long; at most {MAX_NAME_CHARS}", "name", "name_too_long"
        )
    return name.strip()


def _not_found(workflow_id: str) -> NotFoundError:
    message = f"Saved workflow {workflow_id!r} not found; list them with workflows.list()"
    return NotFoundError(message, body={"error": message})


class SavedWorkflows:
    """The saved workflows of one store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @staticmethod
    def _summary(row: tuple[Any, ...]) -> dict[str, Any]:
        return {
            "id": row[0],
            "name": row[1],
            "version": int(row[2]),
            "nodeCount": int(row[3]),
            "createdAt": row[4],
            "updatedAt": row[5],
        }

    def list(self, *, limit: int = 20, offset: int = 0) -> list[WorkflowSummary]:
        """One page, most recently updated first."""
        check_page(limit, offset)
        rows = self._store.query(
            f"SELECT {_COLUMNS} FROM saved_workflows ORDER BY seq DESC LIMIT ? OFFSET ?", (limit, offset)
        )
        return [WorkflowSummary.model_validate(self._summary(row)) for row in rows]

    def get(self, workflow_id: str) -> SavedWorkflow:
        rows = self._store.query(f"SELECT {_COLUMNS}, body FROM saved_workflows WHERE id = ?", (workflow_id,))
        if not rows:
            raise _not_found(workflow_id)
        return SavedWorkflow.model_validate({**self._summary(rows[0]), "workflow": json.loads(rows[0][6])})

    def create(self, workflow: Any, name: Any) -> SavedWorkflow:
        body = check_workflow_json(workflow)
        name = check_name(name)
        now = utc_now_iso(time.time())
        workflow_id = "wf_" + secrets.token_hex(8)
        with self._store.transaction() as conn:
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM saved_workflows").fetchone()[0]
            conn.execute(
                "INSERT INTO saved_workflows (id, name, version, body, node_count, created_at, updated_at, seq) "
                "VALUES (?, ?, 1, ?, ?, ?, ?, ?)",
                (workflow_id, name, _dumps(body), len(body.get("nodes") or []), now, now, seq),
            )
        return self.get(workflow_id)

    def update(self, workflow_id: str, workflow: Any, *, version: Any, name: Any = None) -> SavedWorkflow:
        """Replace the workflow (and its name when given) if ``version`` is the current one."""
        body = check_workflow_json(workflow)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise _bad(
                f"'version' must be the version you read (an integer >= 1), got {version!r}; "
                "read it with GET /workflows/{id}",
                "version",
                "bad_version",
            )
        new_name = None if name is None else check_name(name)
        with self._store.transaction() as conn:
            row = conn.execute("SELECT version FROM saved_workflows WHERE id = ?", (workflow_id,)).fetchone()
            if row is None:
                raise _not_found(workflow_id)
            current = int(row[0])
            if current != version:
                message = (
                    f"Saved workflow {workflow_id!r} is at version {current}, but this update was made "
                    f"from version {version}; read it again and update from version {current}"
                )
                raise VersionConflictError(
                    message,
                    body={
                        "error": message,
                        "code": VersionConflictError.CODE,
                        "currentVersion": current,
                        "sentVersion": version,
                    },
                    current_version=current,
                    sent_version=version,
                )
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM saved_workflows").fetchone()[0]
            conn.execute(
                "UPDATE saved_workflows SET body = ?, node_count = ?, version = ?, updated_at = ?, seq = ?, "
                "name = COALESCE(?, name) WHERE id = ?",
                (
                    _dumps(body),
                    len(body.get("nodes") or []),
                    current + 1,
                    utc_now_iso(time.time()),
                    seq,
                    new_name,
                    workflow_id,
                ),
            )
        return self.get(workflow_id)

    def delete(self, workflow_id: str) -> None:
        with self._store.transaction() as conn:
            gone = conn.execute("DELETE FROM saved_workflows WHERE id = ?", (workflow_id,)).rowcount
        if not gone:
            raise _not_found(workflow_id)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
