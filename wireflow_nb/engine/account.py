"""The account endpoints of ``LocalEngine``, in process: saved workflows
(``engine.workflows``), the node catalogue, usage, cost estimates, media uploads and
webhook triggers. ``LocalEngine`` inherits ``AccountMixin``; ``wireflow-nb serve`` serves
the same methods over HTTP (``server/account_routes.py``), so a client on the served
engine gets what the engine gives in process.

Uploads are files of the artifact store (content-addressed) with a row in ``media``; an
``Idempotency-Key`` names one upload, so a retried upload whose answer was lost stores
one entry. Webhook ids are ``secrets.token_urlsafe`` (unguessable: the id is the only
credential a trigger needs). It may import the package's models, _exceptions, _media,
account, catalog, workflow, backend and the engine's modules.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .._exceptions import NotFoundError, UnprocessableEntityError
from .._media import check_upload_size, media_bytes, sniff_content_type
from ..account import (
    apply_inputs,
    input_schema,
    remember_saved,
    version_for,
    workflow_from_saved,
    workflow_function,
)
from ..models import (
    CostEstimate,
    ExecuteResponse,
    MediaUpload,
    PollResponse,
    SavedWorkflow,
    Usage,
    Webhook,
    WorkflowInputs,
    WorkflowSummary,
)
from .runs import utc_now_iso
from .saved import SavedWorkflows

if TYPE_CHECKING:
    from ..backend import IteratorConfigsArg, WorkflowOrRequest
    from ..catalog import Catalog
    from ..models import CreditsBreakdownItem
    from ..workflow import Workflow
    from .artifacts import ArtifactStore
    from .store import Store

__all__ = ["AccountMixin", "EngineWorkflows"]

#: Upload idempotency keys are kept as long as execute's (24 h).
_IDEMPOTENCY_TTL = 24 * 3600


def _as_json(workflow: Any) -> Any:
    """A ``Workflow``'s JSON; anything else as given (``saved`` checks it: a 400 when it
    is not a workflow object)."""
    from ..workflow import Workflow

    return workflow.to_dict() if isinstance(workflow, Workflow) else workflow


class EngineWorkflows:
    """``engine.workflows``: the saved workflows of the engine's home (the same methods
    as ``client.workflows``)."""

    def __init__(self, engine: AccountMixin) -> None:
        self._engine = engine
        self._saved = SavedWorkflows(engine._store)

    def list_page(self, *, limit: int = 20, offset: int = 0) -> list[WorkflowSummary]:
        return self._saved.list(limit=limit, offset=offset)

    def list(self, *, page_size: int = 20) -> Iterator[WorkflowSummary]:
        """Every saved workflow, most recently updated first, page by page."""
        offset = 0
        while True:
            page = self.list_page(limit=page_size, offset=offset)
            yield from page
            if len(page) < page_size:
                return
            offset += len(page)

    def get(self, workflow_id: str) -> Workflow:
        """The saved workflow as a ``Workflow`` (``account.saved_info`` has its version)."""
        return workflow_from_saved(self._saved.get(workflow_id))

    def get_saved(self, workflow_id: str) -> SavedWorkflow:
        return self._saved.get(workflow_id)

    def create(self, workflow: Workflow | Mapping[str, Any], *, name: str) -> SavedWorkflow:
        saved = self._saved.create(_as_json(workflow), name)
        _remember(workflow, saved)
        return saved

    def update(
        self,
        workflow_id: str,
        workflow: Workflow | Mapping[str, Any],
        *,
        version: int | None = None,
        name: str | None = None,
    ) -> SavedWorkflow:
        """Replace a saved workflow. ``version``: the one you read (default: the one
        ``workflow`` was read as); a stale one raises ``VersionConflictError``."""
        version = version_for(workflow, version, workflow_id)
        saved = self._saved.update(workflow_id, _as_json(workflow), version=version, name=name)
        _remember(workflow, saved)
        return saved

    def delete(self, workflow_id: str) -> None:
        self._saved.delete(workflow_id)

    def inputs(self, workflow_id: str) -> WorkflowInputs:
        saved = self._saved.get(workflow_id)
        return input_schema(
            workflow_from_saved(saved), self._engine.catalog, workflow_id=saved.id, name=saved.name
        )

    def run(
        self,
        workflow_id: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        idempotency_scope: str = "local",
    ) -> ExecuteResponse:
        """Start the saved workflow with ``inputs`` (by node id or input name) written into
        its input nodes; returns at once, as ``execute`` does."""
        saved = self._saved.get(workflow_id)
        workflow = workflow_from_saved(saved)
        schema = input_schema(workflow, self._engine.catalog, workflow_id=saved.id, name=saved.name)
        apply_inputs(workflow, schema, dict(inputs or {}))
        return self._engine.execute(
            saved.id, workflow, idempotency_key=idempotency_key, idempotency_scope=idempotency_scope
        )

    def function(self, workflow_id: str, *, timeout: float | None = None) -> Callable[..., dict[str, Any]]:
        """A Python function of the saved workflow: keyword arguments are its inputs, the
        result its outputs (``wireflow_nb.account.workflow_function``)."""
        schema = self.inputs(workflow_id)

        def run(inputs: dict[str, Any]) -> PollResponse:
            response = self.run(workflow_id, inputs)
            return self._engine.wait(response.execution_ids[0], timeout=timeout)

        return workflow_function(schema, run)

    def create_webhook(self, workflow_id: str) -> Webhook:
        """A webhook trigger of a saved workflow (its id is the only credential)."""
        self._saved.get(workflow_id)  # 404 for an unknown workflow
        webhook_id = secrets.token_urlsafe(24)
        now = utc_now_iso(time.time())
        with self._engine._store.transaction() as conn:
            conn.execute(
                "INSERT INTO webhooks (id, workflow_id, created_at) VALUES (?, ?, ?)",
                (webhook_id, workflow_id, now),
            )
        return Webhook(
            id=webhook_id, workflow_id=workflow_id, url=self._engine.webhook_url(webhook_id), created_at=now
        )


def _remember(workflow: Any, saved: SavedWorkflow) -> None:
    from ..workflow import Workflow

    if isinstance(workflow, Workflow):
        remember_saved(workflow, saved)


class AccountMixin:
    """The account methods of ``LocalEngine`` (it provides the attributes below)."""

    _store: Store
    _artifacts: ArtifactStore
    catalog: Catalog
    artifact_base_url: str | None
    _account_workflows: EngineWorkflows | None = None

    if TYPE_CHECKING:

        def execute(
            self,
            workflow_id: str,
            workflow_or_request: WorkflowOrRequest,
            *,
            trigger_data: Mapping[str, Any] | None = None,
            idempotency_key: str | None = None,
            idempotency_scope: str = "local",
        ) -> ExecuteResponse: ...

        def wait(self, execution_id: str, *, timeout: float | None = None) -> PollResponse: ...

        def credits_balance(self) -> float: ...

        def credits_used(self) -> float: ...

        def estimate_cost(
            self,
            workflow_or_request: WorkflowOrRequest,
            *,
            target_node_id: str | None = None,
            iterator_configs: IteratorConfigsArg = None,
        ) -> tuple[float, list[CreditsBreakdownItem]]: ...

    @property
    def workflows(self) -> EngineWorkflows:
        """The saved workflows of this home."""
        if self._account_workflows is None:
            self._account_workflows = EngineWorkflows(self)
        return self._account_workflows

    def nodes(self) -> Catalog:
        """The node catalogue this engine runs (a copy)."""
        return self.catalog.copy()

    def usage(self) -> Usage:
        return Usage(credits_balance=self.credits_balance(), credits_used=self.credits_used())

    def estimate(
        self,
        workflow: WorkflowOrRequest | str,
        *,
        workflow_id: str | None = None,
        target_node_id: str | None = None,
        iterator_configs: IteratorConfigsArg = None,
    ) -> CostEstimate:
        """What executing ``workflow`` (or the saved workflow of that id) would charge now:
        exactly what ``execute`` reserves (``estimate_cost``)."""
        if isinstance(workflow, str):
            workflow_id = workflow_id or workflow
            workflow = self.workflows.get(workflow)
        total, breakdown = self.estimate_cost(
            workflow, target_node_id=target_node_id, iterator_configs=iterator_configs
        )
        balance = self.credits_balance()
        return CostEstimate(
            workflow_id=workflow_id or str(getattr(workflow, "id", "") or ""),
            total_credits=total,
            breakdown=breakdown,
            available_credits=balance,
            sufficient=total <= balance,
        )

    def upload(
        self,
        source: Any,
        *,
        filename: str | None = None,
        idempotency_key: str | None = None,
        idempotency_scope: str = "local",
    ) -> MediaUpload:
        """Store a file (a path, bytes or a PIL image; at most 25 MB) in the artifact store;
        its ``url`` is what an image/video input takes. The content type comes from the
        bytes. The same ``idempotency_key`` (24 h) returns the first upload."""
        data, name = media_bytes(source)
        check_upload_size(len(data))
        return self._store_upload(data, filename or name, idempotency_key, idempotency_scope)

    def _store_upload(
        self, data: bytes, filename: str | None, idempotency_key: str | None, scope: str
    ) -> MediaUpload:
        digest = hashlib.sha256(data).hexdigest()
        idem_scope = f"{scope}:media"
        with self._store.transaction() as conn:
            if idempotency_key is not None:
                row = conn.execute(
                    "SELECT body_hash, response FROM idempotency WHERE scope = ? AND key = ? AND created_at >= ?",
                    (idem_scope, idempotency_key, time.time() - _IDEMPOTENCY_TTL),
                ).fetchone()
                if row is not None:
                    if row[0] != digest:
                        message = (
                            f"Idempotency-Key {idempotency_key!r} was already used for another upload "
                            "in the last 24 hours; send a new key for a new file"
                        )
                        raise UnprocessableEntityError(message, body={"error": message})
                    return self._media(json.loads(row[1])["id"])
            content_type = sniff_content_type(data)
            name = self._artifacts.save(data, content_type)
            media_id = "media_" + secrets.token_hex(8)
            conn.execute(
                "INSERT INTO media (id, artifact, content_type, size, filename, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (media_id, name, content_type, len(data), filename, utc_now_iso(time.time())),
            )
            if idempotency_key is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO idempotency (scope, key, body_hash, response, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (idem_scope, idempotency_key, digest, json.dumps({"id": media_id}), time.time()),
                )
        return self._media(media_id)

    def _media(self, media_id: str) -> MediaUpload:
        rows = self._store.query(
            "SELECT id, artifact, content_type, size, filename, created_at FROM media WHERE id = ?",
            (media_id,),
        )
        if not rows:
            message = f"No uploaded file {media_id!r}"
            raise NotFoundError(message, body={"error": message})
        media_id, artifact, content_type, size, filename, created_at = rows[0]
        return MediaUpload(
            id=media_id,
            url=self._artifacts.url(artifact, self.artifact_base_url),
            content_type=content_type,
            size=size,
            filename=filename,
            created_at=created_at,
        )

    def media_count(self) -> int:
        """How many uploads this home holds."""
        return int(self._store.query("SELECT COUNT(*) FROM media")[0][0])

    # -- webhooks ------------------------------------------------------------------------------
    def webhook_url(self, webhook_id: str) -> str:
        """The trigger URL of a webhook when a server serves this engine ("" in process)."""
        base = self.artifact_base_url or ""
        if base.startswith(("http://", "https://")) and base.rstrip("/").endswith("/files"):
            return base.rstrip("/").removesuffix("/files") + f"/workflow/{webhook_id}/trigger"
        return ""

    def trigger_webhook(self, webhook_id: str, data: Mapping[str, Any] | None = None) -> ExecuteResponse:
        """Start the webhook's workflow with ``data`` as ``triggerData`` (no key needed)."""
        rows = self._store.query("SELECT workflow_id FROM webhooks WHERE id = ?", (webhook_id,))
        if not rows:
            from .._advice import WEBHOOK_NOT_FOUND

            message = f"No webhook with this id. {WEBHOOK_NOT_FOUND}"
            raise NotFoundError(message, body={"error": message})
        workflow_id = str(rows[0][0])
        workflow = self.workflows.get(workflow_id)
        return self.execute(workflow_id, workflow, trigger_data=dict(data or {}))
