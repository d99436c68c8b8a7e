"""``client.workflows`` of ``AsyncWireflowClient``: saved workflows (list, get, create,
update, delete), their input schema, runs with inputs, Python functions and webhooks.

``_sync_resources.py`` (``client.workflows`` of ``WireflowClient``) is generated from
this file by ``scripts/unasync.py``, as ``_sync.py`` is from ``_async.py``. Shapes and
parsing are ``_account``'s; the requests go through the client's ``_request`` (retries
with one idempotency key per call, typed errors) and local media through its
``_with_uploads``. It may import ``_account``, ``_uploads``, ``_urls``, ``_headers``,
``account``, ``models`` and ``workflow``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..account import remember_saved, version_for, workflow_from_saved, workflow_function
from ..models import ExecuteResponse, PollResponse, SavedWorkflow, Webhook, WorkflowInputs, WorkflowSummary
from ._account import parse_inputs, parse_saved, parse_summaries, parse_webhook
from ._headers import new_idempotency_key
from ._uploads import InputsPlan, OnUpload, SavePlan
from ._urls import _seg

if TYPE_CHECKING:
    from ..workflow import Workflow

__all__ = ["AsyncWorkflows"]


class AsyncWorkflows:
    """The saved workflows of the account (``client.workflows``)."""

    def __init__(self, client: Any) -> None:
        # the client that owns this resource (typed loosely: the resource module must not
        # import the client module, which imports it)
        self._client = client

    async def list_page(self, *, limit: int = 20, offset: int = 0) -> list[WorkflowSummary]:
        """One page of saved workflows, most recently updated first."""
        self._client._check_page(limit, offset)
        answer = await self._client._request("GET", "/workflows", params={"limit": limit, "offset": offset})
        return parse_summaries(answer.body)

    async def list(self, *, page_size: int = 20) -> AsyncIterator[WorkflowSummary]:
        """Every saved workflow, fetching page after page."""
        offset = 0
        seen: set[str] = set()
        while True:
            page = await self.list_page(limit=page_size, offset=offset)
            fresh = [row for row in page if row.id not in seen]
            for row in fresh:
                yield row
            seen.update(row.id for row in page)
            # a short page is the last; a page of nothing new means the server ignores offset
            if len(page) < page_size or not fresh:
                return
            offset += len(page)

    async def get_saved(self, workflow_id: str) -> SavedWorkflow:
        """The saved record: id, name, version, times and the workflow JSON."""
        answer = await self._client._request("GET", f"/workflows/{_seg(workflow_id)}")
        return parse_saved(answer.body)

    async def get(self, workflow_id: str) -> Workflow:
        """The saved workflow as a ``Workflow`` (its JSON exactly as saved);
        ``wireflow_nb.account.saved_info(workflow)`` gives its id, name and version."""
        return workflow_from_saved(await self.get_saved(workflow_id))

    async def create(
        self,
        workflow: Workflow | Mapping[str, Any],
        *,
        name: str,
        idempotency_key: str | None = None,
        on_upload: OnUpload | None = None,
    ) -> SavedWorkflow:
        """Save ``workflow`` under ``name`` (version 1). Local media values (a path, bytes,
        a PIL image, an array) are uploaded first, once per content hash, and the copy
        sent holds their URLs: the server never stores a path of this machine, and
        ``workflow`` keeps its values."""
        plan = SavePlan(workflow)  # a missing file raises here: nothing is sent
        body = {"name": name, "workflow": await self._client._with_uploads(plan, on_upload)}
        key = idempotency_key or new_idempotency_key()
        answer = await self._client._request("POST", "/workflows", json_body=body, idempotency_key=key)
        saved = parse_saved(answer.body)
        _remember(workflow, saved)
        return saved

    async def update(
        self,
        workflow_id: str,
        workflow: Workflow | Mapping[str, Any],
        *,
        version: int | None = None,
        name: str | None = None,
        idempotency_key: str | None = None,
        on_upload: OnUpload | None = None,
    ) -> SavedWorkflow:
        """Replace a saved workflow. ``version`` is the one you read (default: the one
        ``workflow`` was read or saved as). Raises ``VersionConflictError`` at once (never
        retried) when someone saved a newer version. Local media is uploaded first, as
        for ``create``."""
        version = version_for(workflow, version, workflow_id)
        plan = SavePlan(workflow)  # a missing file raises here: nothing is sent
        body: dict[str, Any] = {
            "workflow": await self._client._with_uploads(plan, on_upload),
            "version": version,
        }
        if name is not None:
            body["name"] = name
        key = idempotency_key or new_idempotency_key()
        answer = await self._client._request(
            "PUT", f"/workflows/{_seg(workflow_id)}", json_body=body, idempotency_key=key
        )
        saved = parse_saved(answer.body)
        _remember(workflow, saved)
        return saved

    async def delete(self, workflow_id: str) -> None:
        key = new_idempotency_key()
        await self._client._request("DELETE", f"/workflows/{_seg(workflow_id)}", idempotency_key=key)

    async def inputs(self, workflow_id: str) -> WorkflowInputs:
        """The input schema (``GET /workflows/{id}/run``)."""
        answer = await self._client._request("GET", f"/workflows/{_seg(workflow_id)}/run")
        return parse_inputs(answer.body, workflow_id)

    async def run(
        self,
        workflow_id: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        on_upload: OnUpload | None = None,
    ) -> ExecuteResponse:
        """Start the saved workflow with ``inputs`` ({nodeId or input name: value}); 202.
        Local media values (a path for an image, video or audio input, bytes, a PIL
        image, an array) are uploaded first, once per content hash."""
        values = dict(inputs or {})
        schema = await self.inputs(workflow_id) if InputsPlan.needs_schema(values) else None
        body = await self._client._with_uploads(InputsPlan(values, schema), on_upload)
        key = idempotency_key or new_idempotency_key()
        answer = await self._client._request(
            "POST",
            f"/workflows/{_seg(workflow_id)}/run",
            json_body={"inputs": body},
            idempotency_key=key,
        )
        return self._client._parse_execute(answer, workflow_id)

    async def function(self, workflow_id: str, *, timeout: float | None = None) -> Callable[..., Any]:
        """A Python function of the saved workflow: its keyword arguments are the inputs
        (typed, with defaults, in its signature and docstring) and it returns the outputs
        (``wireflow_nb.account.workflow_function``)."""
        schema = await self.inputs(workflow_id)

        async def run(inputs: dict[str, Any]) -> PollResponse:
            response = await self.run(workflow_id, inputs)
            return await self._client.wait(response.execution_ids[0], timeout=timeout)

        return workflow_function(schema, run, is_async=True)

    async def create_webhook(self, workflow_id: str) -> Webhook:
        """A webhook trigger of the saved workflow: ``wireflow_nb.trigger_webhook(hook.url, data)``."""
        key = new_idempotency_key()
        answer = await self._client._request(
            "POST", f"/workflows/{_seg(workflow_id)}/webhooks", idempotency_key=key
        )
        return parse_webhook(answer.body)


def _remember(workflow: Any, saved: SavedWorkflow) -> None:
    from ..workflow import Workflow

    if isinstance(workflow, Workflow):
        remember_saved(workflow, saved)
