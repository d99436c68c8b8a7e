"""The account endpoints' part of the OpenAPI document (``openapi.py`` merges it):
saved workflows, input schemas and runs, estimates, webhooks and media uploads, as
``docs/INTERNALS.md`` ("Account endpoints") describes them. It may import ``openapi``'s
helpers only (passed in, so the two modules do not import each other)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["account_paths", "account_schemas"]

_Ref = Callable[[str], dict[str, str]]
_Json = Callable[..., dict[str, Any]]

_TIME = {"type": "string", "format": "date-time", "description": "ISO 8601 UTC with milliseconds and Z"}


def account_schemas(ref: _Ref) -> dict[str, Any]:
    summary_properties: dict[str, Any] = {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "version": {"type": "integer", "minimum": 1, "description": "1 on create, +1 on each update"},
        "createdAt": _TIME,
        "updatedAt": _TIME,
        "nodeCount": {"type": "integer"},
    }
    return {
        "WorkflowSummary": {
            "type": "object",
            "required": ["id", "name", "version", "createdAt", "updatedAt", "nodeCount"],
            "properties": summary_properties,
        },
        "SavedWorkflow": {
            "type": "object",
            "required": ["id", "name", "version", "createdAt", "updatedAt", "nodeCount", "workflow"],
            "properties": {
                **summary_properties,
                "workflow": {"type": "object", "description": "the workflow JSON exactly as saved"},
            },
        },
        "WorkflowJSON": {
            "type": "object",
            "required": ["nodes"],
            "properties": {
                "nodes": {"type": "array", "items": ref("Node")},
                "edges": {"type": "array", "items": ref("Edge")},
            },
            "additionalProperties": True,
        },
        "CreateWorkflow": {
            "type": "object",
            "required": ["name", "workflow"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "workflow": ref("WorkflowJSON"),
            },
        },
        "UpdateWorkflow": {
            "type": "object",
            "required": ["workflow", "version"],
            "properties": {
                "workflow": ref("WorkflowJSON"),
                "version": {"type": "integer", "minimum": 1, "description": "the version you read"},
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
            },
        },
        "Deleted": {
            "type": "object",
            "required": ["id", "deleted"],
            "properties": {"id": {"type": "string"}, "deleted": {"type": "boolean", "const": True}},
        },
        "VersionConflict": {
            "type": "object",
            "required": ["error", "code", "currentVersion", "sentVersion"],
            "properties": {
                "error": {"type": "string"},
                "code": {"type": "string", "const": "version_conflict"},
                "currentVersion": {"type": "integer"},
                "sentVersion": {"type": "integer"},
            },
        },
        "WorkflowInputs": {
            "type": "object",
            "required": ["workflowId", "inputs", "outputs"],
            "properties": {
                "workflowId": {"type": "string"},
                "name": {"type": "string"},
                "inputs": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["nodeId", "field", "name", "type", "required"],
                        "properties": {
                            "nodeId": {"type": "string"},
                            "field": {"type": "string", "description": "the node input the value fills"},
                            "name": {"type": "string", "description": "a Python identifier for it"},
                            "label": {"type": "string"},
                            "type": {"type": "string", "example": "TEXT"},
                            "required": {"type": "boolean"},
                            "default": {},
                            "description": {"type": "string"},
                            "choices": {"type": ["array", "null"]},
                        },
                    },
                },
                "outputs": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["nodeId", "name"],
                        "properties": {
                            "nodeId": {"type": "string"},
                            "name": {"type": "string"},
                            "label": {"type": "string"},
                        },
                    },
                },
            },
        },
        "RunInputs": {
            "type": "object",
            "properties": {
                "inputs": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "{nodeId (or input name): value}",
                }
            },
        },
        "CostEstimate": {
            "type": "object",
            "required": ["workflowId", "totalCredits", "breakdown"],
            "properties": {
                "workflowId": {"type": "string"},
                "totalCredits": {"type": "number"},
                "breakdown": {"type": "array", "items": {"type": "object"}},
                "availableCredits": {"type": ["number", "null"]},
                "sufficient": {"type": ["boolean", "null"]},
            },
        },
        "Webhook": {
            "type": "object",
            "required": ["id", "workflowId", "url"],
            "properties": {
                "id": {"type": "string"},
                "workflowId": {"type": "string"},
                "url": {"type": "string", "description": "POST here (no key) to start a run"},
                "createdAt": _TIME,
            },
        },
        "MediaUpload": {
            "type": "object",
            "required": ["id", "url", "contentType", "size"],
            "properties": {
                "id": {"type": "string"},
                "url": {
                    "type": "string",
                    "description": "an artifact URL of this server: pass it to a node input",
                },
                "contentType": {"type": "string", "description": "from the file's bytes, not its name"},
                "size": {"type": "integer"},
                "filename": {"type": ["string", "null"]},
                "createdAt": _TIME,
            },
        },
    }


def account_paths(ref: _Ref, json: _Json, error: _Ref, workflow_id: dict[str, Any]) -> dict[str, Any]:
    idempotency = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "maxLength": 255},
        "description": "same key + same body within 24 h returns the first answer",
    }
    common = {"401": error("Unauthorized"), "429": error("RateLimited")}
    started = json(
        ref("ExecuteResponse"),
        "Execution started",
        headers={"Location": {"description": "the poll URL of the first run", "schema": {"type": "string"}}},
    )

    def body(name: str, required: bool = True) -> dict[str, Any]:
        return {"required": required, "content": {"application/json": {"schema": ref(name)}}}

    return {
        "/workflows": {
            "get": {
                "operationId": "listWorkflows",
                "summary": "Saved workflows, most recently updated first",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                    },
                    {
                        "name": "offset",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 0, "default": 0},
                    },
                ],
                "responses": {
                    "200": json({"type": "array", "items": ref("WorkflowSummary")}, "One page"),
                    "400": error("BadRequest"),
                    **common,
                },
            },
            "post": {
                "operationId": "createWorkflow",
                "summary": "Save a workflow (version 1)",
                "parameters": [idempotency],
                "requestBody": body("CreateWorkflow"),
                "responses": {
                    "201": json(
                        ref("SavedWorkflow"),
                        "Saved",
                        headers={"Location": {"description": "its URL", "schema": {"type": "string"}}},
                    ),
                    "400": error("BadRequest"),
                    "413": error("TooLarge"),
                    "422": error("IdempotencyMismatch"),
                    **common,
                },
            },
        },
        "/workflows/{id}": {
            "get": {
                "operationId": "getWorkflow",
                "summary": "A saved workflow with its JSON",
                "parameters": [workflow_id],
                "responses": {
                    "200": json(ref("SavedWorkflow"), "The workflow"),
                    "404": error("NotFound"),
                    **common,
                },
            },
            "put": {
                "operationId": "updateWorkflow",
                "summary": "Replace a saved workflow; 409 when the version sent is not the current one",
                "parameters": [workflow_id],
                "requestBody": body("UpdateWorkflow"),
                "responses": {
                    "200": json(ref("SavedWorkflow"), "Saved as the next version"),
                    "400": error("BadRequest"),
                    "404": error("NotFound"),
                    "409": json(ref("VersionConflict"), "Stale version: nothing was written (not retryable)"),
                    "413": error("TooLarge"),
                    **common,
                },
            },
            "delete": {
                "operationId": "deleteWorkflow",
                "summary": "Delete a saved workflow (its history stays)",
                "parameters": [workflow_id],
                "responses": {"200": json(ref("Deleted"), "Deleted"), "404": error("NotFound"), **common},
            },
        },
        "/workflows/{id}/run": {
            "get": {
                "operationId": "getWorkflowInputs",
                "summary": "The input schema of a saved workflow",
                "parameters": [workflow_id],
                "responses": {
                    "200": json(ref("WorkflowInputs"), "Inputs and outputs"),
                    "404": error("NotFound"),
                    **common,
                },
            },
            "post": {
                "operationId": "runWorkflow",
                "summary": "Run a saved workflow with inputs",
                "parameters": [workflow_id, idempotency],
                "requestBody": body("RunInputs", required=False),
                "responses": {
                    "202": started,
                    "400": error("BadRequest"),
                    "402": error("InsufficientCredits"),
                    "404": error("NotFound"),
                    "413": error("TooLarge"),
                    "422": error("IdempotencyMismatch"),
                    **common,
                },
            },
        },
        "/workflows/{id}/estimate": {
            "post": {
                "operationId": "estimateWorkflow",
                "summary": "What executing would charge now (the body's graph, or the saved workflow's when empty)",
                "parameters": [workflow_id],
                "requestBody": body("ExecuteRequest", required=False),
                "responses": {
                    "200": json(ref("CostEstimate"), "The estimate"),
                    "400": error("BadRequest"),
                    "404": error("NotFound"),
                    "413": error("TooLarge"),
                    **common,
                },
            }
        },
        "/workflows/{id}/webhooks": {
            "post": {
                "operationId": "createWebhook",
                "summary": "A webhook trigger of a saved workflow",
                "parameters": [workflow_id],
                "responses": {"201": json(ref("Webhook"), "Created"), "404": error("NotFound"), **common},
            }
        },
        "/workflow/{webhookId}/trigger": {
            "post": {
                "operationId": "triggerWebhook",
                "summary": "Start the webhook's workflow with the body as triggerData (no key)",
                "security": [],
                "parameters": [
                    {"name": "webhookId", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {"schema": {"type": "object", "additionalProperties": True}}
                    },
                },
                "responses": {
                    "202": started,
                    "400": error("BadRequest"),
                    "402": error("InsufficientCredits"),
                    "404": error("NotFound"),
                    "413": error("TooLarge"),
                    "429": error("RateLimited"),
                },
            }
        },
        "/media/upload": {
            "post": {
                "operationId": "uploadMedia",
                "summary": "Upload a file (at most 25 MB) to the artifact store",
                "parameters": [idempotency],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {"file": {"type": "string", "format": "binary"}},
                            }
                        }
                    },
                },
                "responses": {
                    "201": json(ref("MediaUpload"), "Stored"),
                    "400": error("BadRequest"),
                    "413": error("TooLarge"),
                    "422": error("IdempotencyMismatch"),
                    **common,
                },
            }
        },
    }
