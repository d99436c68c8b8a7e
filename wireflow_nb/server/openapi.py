"""The OpenAPI 3.1 document of ``wireflow-nb serve``, written by hand from the spec
(``executions-api.md``) and ``DECISIONS.md``; served at ``/api/v1/openapi.json``.
A test checks that it names every route the app serves and nothing else."""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["openapi_document"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(
    schema: dict[str, Any], description: str, *, headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    response["headers"] = {**_COMMON_HEADERS, **(headers or {})}
    return response


_HEADER_REFS = ("X-Request-Id", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
_COMMON_HEADERS = {name: {"$ref": f"#/components/headers/{name}"} for name in _HEADER_REFS}


def _error(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


_NULLABLE_STRING = {"type": ["string", "null"]}
_TIME = {
    "type": ["string", "null"],
    "format": "date-time",
    "description": "ISO 8601 UTC with milliseconds and Z",
}

_SCHEMAS: dict[str, Any] = {
    "Position": {
        "type": "object",
        "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
        "additionalProperties": True,
    },
    "Node": {
        "type": "object",
        "required": ["id", "data"],
        "properties": {
            "id": {"type": "string"},
            "type": {
                "type": "string",
                "description": "canvas kind: model, input, utility, output, basedNode, ...",
            },
            "position": _ref("Position"),
            "data": {
                "type": "object",
                "description": "label, nodeType, category and the input values (in data, data.params or data.config)",
                "properties": {
                    "label": {"type": "string"},
                    "nodeType": {"type": "string", "example": "model:fal:text-to-image"},
                    "category": {"type": "string"},
                    "params": {"type": "object", "additionalProperties": True},
                    "config": {"type": "object", "additionalProperties": True},
                },
                "additionalProperties": True,
            },
        },
        "additionalProperties": True,
    },
    "Edge": {
        "type": "object",
        "required": ["source", "target"],
        "properties": {
            "id": {"type": "string"},
            "source": {"type": "string"},
            "target": {"type": "string"},
            "sourceHandle": {"type": ["string", "null"], "description": "output port (out- prefix allowed)"},
            "targetHandle": {"type": ["string", "null"], "description": "input field (in- prefix allowed)"},
        },
        "additionalProperties": True,
    },
    "IteratorConfig": {
        "type": "object",
        "required": ["nodeId", "field", "values"],
        "properties": {
            "nodeId": {"type": "string"},
            "field": {"type": "string"},
            "values": {"type": "array", "items": {}},
            "repeat": {"type": "integer", "minimum": 1, "default": 1},
        },
    },
    "ExecuteRequest": {
        "type": "object",
        "required": ["nodes", "edges"],
        "properties": {
            "nodes": {"type": "array", "items": _ref("Node")},
            "edges": {"type": "array", "items": _ref("Edge")},
            "targetNodeId": {"type": "string", "description": "run only this node and its ancestors"},
            "triggerData": {"type": "object", "additionalProperties": True},
            "iteratorConfigs": {"type": "array", "items": _ref("IteratorConfig")},
        },
    },
    "NodeOutput": {
        "description": "{images: [...]}, {videos: [...]}, {text} or other JSON",
        "type": ["object", "string", "null"],
        "properties": {
            "images": {"type": "array", "items": _ref("Media")},
            "videos": {"type": "array", "items": _ref("Media")},
            "text": {"type": "string"},
        },
        "additionalProperties": True,
    },
    "Media": {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {"type": "string", "format": "uri"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "contentType": {"type": "string"},
            "durationSeconds": {"type": "number"},
        },
        "additionalProperties": True,
    },
    "NodeRun": {
        "type": "object",
        "required": ["nodeId", "status"],
        "properties": {
            "nodeId": {"type": "string"},
            "status": {"type": "string", "enum": ["PENDING", "RUNNING", "COMPLETED", "FAILED", "SKIPPED"]},
            "output": _ref("NodeOutput"),
            "error": _NULLABLE_STRING,
            "cached": {"type": "boolean"},
        },
        "additionalProperties": True,
    },
    "ExecutionStatus": {"type": "string", "enum": ["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"]},
    "ExecutionRun": {
        "type": "object",
        "required": ["id", "status", "nodeRuns"],
        "properties": {
            "id": {"type": "string"},
            "startTime": _TIME,
            "endTime": _TIME,
            "status": _ref("ExecutionStatus"),
            "error": _NULLABLE_STRING,
            "nodeRuns": {"type": "array", "items": _ref("NodeRun")},
            "batchId": {"type": "string"},
            "runIndexInBatch": {"type": "integer"},
            "inputIndex": {"type": "integer"},
        },
    },
    "ExecuteResponse": {
        "type": "object",
        "required": ["workflowId", "batchId", "executionRuns"],
        "properties": {
            "workflowId": {"type": "string"},
            "batchId": {"type": "string"},
            "executionRuns": {"type": "array", "items": _ref("ExecutionRun")},
        },
    },
    "NodeResults": {
        "type": "object",
        "properties": {"nodeRuns": {"type": "array", "items": _ref("NodeRun")}},
    },
    "PollResponse": {
        "type": "object",
        "required": ["status", "nodeResults"],
        "properties": {
            "status": _ref("ExecutionStatus"),
            "error": _NULLABLE_STRING,
            "nodeResults": _ref("NodeResults"),
        },
    },
    "Execution": {
        "type": "object",
        "required": ["id", "workflowId", "status"],
        "properties": {
            "id": {"type": "string"},
            "workflowId": {"type": "string"},
            "status": _ref("ExecutionStatus"),
            "triggeredBy": {"type": "string", "enum": ["manual", "trigger"]},
            "triggerData": {"type": ["object", "null"]},
            "nodeResults": _ref("NodeResults"),
            "currentNode": _NULLABLE_STRING,
            "output": {},
            "error": _NULLABLE_STRING,
            "errorNode": _NULLABLE_STRING,
            "executionTime": {"type": ["integer", "null"], "description": "milliseconds"},
            "creditsUsed": {"type": ["number", "null"]},
            "startedAt": _TIME,
            "completedAt": _TIME,
            "workflowSnapshot": {"type": ["object", "null"]},
        },
    },
    "ExecutionSummary": {
        "type": "object",
        "required": ["id", "status"],
        "properties": {
            "id": {"type": "string"},
            "workflowId": {"type": "string"},
            "status": _ref("ExecutionStatus"),
            "triggeredBy": {"type": "string"},
            "executionTime": {"type": ["integer", "null"]},
            "creditsUsed": {"type": ["number", "null"]},
            "startedAt": _TIME,
            "completedAt": _TIME,
            "error": _NULLABLE_STRING,
        },
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
        "additionalProperties": True,
    },
    "BadRequest": {
        "type": "object",
        "required": ["error", "details"],
        "properties": {
            "error": {"type": "string"},
            "details": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["message"],
                    "properties": {
                        "nodeId": {"type": "string"},
                        "edgeId": {"type": "string"},
                        "field": {"type": "string"},
                        "message": {"type": "string"},
                        "code": {"type": "string"},
                    },
                },
            },
        },
    },
    "InsufficientCredits": {
        "type": "object",
        "required": ["error", "insufficientCredits", "requiredCredits", "availableCredits", "breakdown"],
        "properties": {
            "error": {"type": "string", "example": "Insufficient credits. Required: 10, Available: 3"},
            "insufficientCredits": {"type": "boolean", "const": True},
            "requiredCredits": {"type": "number"},
            "availableCredits": {"type": "number"},
            "breakdown": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "nodeId": {"type": "string"},
                        "nodeLabel": {"type": "string"},
                        "credits": {"type": "number"},
                    },
                },
            },
        },
    },
    "RateLimited": {
        "type": "object",
        "required": ["error", "retryAfter"],
        "properties": {
            "error": {"type": "string"},
            "retryAfter": {"type": "integer", "description": "Unix time (seconds) when the window resets"},
        },
    },
    "Usage": {
        "type": "object",
        "required": ["creditsBalance", "creditsUsed"],
        "properties": {"creditsBalance": {"type": "number"}, "creditsUsed": {"type": "number"}},
    },
    "NodeCatalog": {
        "type": "object",
        "required": ["nodes"],
        "properties": {
            "nodes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["nodeType", "label", "category", "price", "inputs", "outputs"],
                    "properties": {
                        "nodeType": {"type": "string"},
                        "label": {"type": "string"},
                        "category": {"type": "string"},
                        "kind": {"type": "string"},
                        "description": {"type": "string"},
                        "price": {"type": "number", "description": "credits per run"},
                        "generative": {"type": "boolean"},
                        "templateField": {"type": ["string", "null"]},
                        "inputs": {
                            "type": "array",
                            "items": {"type": "object", "additionalProperties": True},
                        },
                        "outputs": {
                            "type": "array",
                            "items": {"type": "object", "additionalProperties": True},
                        },
                    },
                },
            }
        },
    },
}

_EXECUTION_ID = {
    "name": "executionId",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
}
_WORKFLOW_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}

_PATHS: dict[str, Any] = {
    "/workflows/{id}/execute": {
        "post": {
            "operationId": "executeWorkflow",
            "summary": "Execute a workflow",
            "description": "Starts an execution (one run per batch item) and returns 201 at once; poll for completion.",
            "parameters": [
                _WORKFLOW_ID,
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 255},
                    "description": "same key + same body within 24 h returns the original response",
                },
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("ExecuteRequest")}},
            },
            "responses": {
                "201": _json(
                    _ref("ExecuteResponse"),
                    "Execution started",
                    headers={
                        "Location": {
                            "description": "the poll URL of the first execution run",
                            "schema": {"type": "string", "format": "uri"},
                        }
                    },
                ),
                "400": _error("BadRequest"),
                "401": _error("Unauthorized"),
                "402": _error("InsufficientCredits"),
                "413": _error("TooLarge"),
                "422": _error("IdempotencyMismatch"),
                "429": _error("RateLimited"),
            },
        }
    },
    "/workflows/executions/{executionId}/poll": {
        "get": {
            "operationId": "pollExecution",
            "summary": "Poll execution status",
            "parameters": [_EXECUTION_ID],
            "responses": {
                "200": _json(_ref("PollResponse"), "Current status and node runs"),
                "401": _error("Unauthorized"),
                "404": _error("NotFound"),
                "429": _error("RateLimited"),
            },
        }
    },
    "/workflows/executions/{executionId}": {
        "get": {
            "operationId": "getExecution",
            "summary": "Get execution details",
            "parameters": [_EXECUTION_ID],
            "responses": {
                "200": _json(_ref("Execution"), "The full execution record"),
                "401": _error("Unauthorized"),
                "404": _error("NotFound"),
                "429": _error("RateLimited"),
            },
        }
    },
    "/workflows/executions/{executionId}/cancel": {
        "post": {
            "operationId": "cancelExecution",
            "summary": "Cancel an execution (local server only; the hosted API has no such route)",
            "parameters": [_EXECUTION_ID],
            "responses": {
                "200": _json(_ref("PollResponse"), "The status after cancelling"),
                "401": _error("Unauthorized"),
                "404": _error("NotFound"),
                "429": _error("RateLimited"),
            },
        }
    },
    "/workflows/{id}/executions": {
        "get": {
            "operationId": "listExecutions",
            "summary": "List execution history, most recent first",
            "parameters": [
                _WORKFLOW_ID,
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                },
                {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
            ],
            "responses": {
                "200": _json({"type": "array", "items": _ref("ExecutionSummary")}, "Executions"),
                "400": _error("BadRequest"),
                "401": _error("Unauthorized"),
                "404": _error("NotFound"),
                "429": _error("RateLimited"),
            },
        }
    },
    "/developer/usage": {
        "get": {
            "operationId": "getUsage",
            "summary": "Credit balance and credits used",
            "responses": {
                "200": _json(_ref("Usage"), "Credits"),
                "401": _error("Unauthorized"),
                "429": _error("RateLimited"),
            },
        }
    },
    "/files/{name}": {
        "get": {
            "operationId": "getFile",
            "summary": "An output file (image, video) of the artifact store",
            "description": "No key needed: names are content hashes, as the hosted CDN's URLs are.",
            "security": [],
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {
                    "description": "The file",
                    "headers": _COMMON_HEADERS,
                    "content": {
                        "image/png": {"schema": {"type": "string", "format": "binary"}},
                        "video/mp4": {"schema": {"type": "string", "format": "binary"}},
                        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                    },
                },
                "404": _error("NotFound"),
                "429": _error("RateLimited"),
            },
        }
    },
    "/nodes": {
        "get": {
            "operationId": "listNodeTypes",
            "summary": "The node catalog: types, ports, prices",
            "responses": {
                "200": _json(_ref("NodeCatalog"), "Node types"),
                "401": _error("Unauthorized"),
                "429": _error("RateLimited"),
            },
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "getOpenAPI",
            "summary": "This document",
            "security": [],
            "responses": {"200": _json({"type": "object"}, "The OpenAPI document")},
        }
    },
}


def _guarded(paths: dict[str, Any]) -> dict[str, Any]:
    """Every operation answers 400 for a ``Host`` the server does not serve and 403 for a
    cross-site ``Origin``; every POST answers 415 for a body that is not JSON."""
    for operations in paths.values():
        for method, operation in operations.items():
            responses = operation["responses"]
            responses.setdefault("400", _error("BadRequest"))
            responses.setdefault("403", _error("Forbidden"))
            if method == "post":
                responses.setdefault("415", _error("UnsupportedMediaType"))
            operation["responses"] = dict(sorted(responses.items()))
    return paths


_guarded(_PATHS)

_RESPONSES: dict[str, Any] = {
    "BadRequest": _json(
        _ref("BadRequest"),
        "Invalid request or graph (details lists every problem), JSON that is not strict "
        "(NaN, Infinity, nesting over 64 levels, integers over 40 digits), "
        "or a Host the server does not answer to",
    ),
    "Forbidden": _json(_ref("BadRequest"), "Cross-site request: the Origin is not this server"),
    "UnsupportedMediaType": _json(_ref("Error"), "The body is not sent as Content-Type: application/json"),
    "Unauthorized": _json(
        _ref("Error"),
        "Missing or wrong bearer key (the key is never echoed)",
        headers={"WWW-Authenticate": {"schema": {"type": "string"}}},
    ),
    "InsufficientCredits": _json(_ref("InsufficientCredits"), "Not enough credits; nothing ran"),
    "NotFound": _json(_ref("Error"), "Unknown execution, workflow or file"),
    "TooLarge": _json(_ref("Error"), "Request body too large"),
    "IdempotencyMismatch": _json(_ref("Error"), "Idempotency-Key reused with a different body"),
    "RateLimited": _json(
        _ref("RateLimited"),
        "Rate limited",
        headers={"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}},
    ),
}

_HEADERS: dict[str, Any] = {
    "X-Request-Id": {
        "description": "id of this request; quote it when reporting a problem",
        "schema": {"type": "string"},
    },
    "X-RateLimit-Limit": {"description": "requests allowed per minute", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "requests left in this window", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {
        "description": "Unix time (seconds) the window resets",
        "schema": {"type": "integer"},
    },
}


def openapi_document(*, server_url: str = "/api/v1") -> dict[str, Any]:
    """The OpenAPI document, with ``servers`` pointing at ``server_url``."""
    from .._version import __version__
    from .openapi_account import account_paths, account_schemas

    paths = {**copy.deepcopy(_PATHS), **account_paths(_ref, _json, _error, dict(_WORKFLOW_ID))}
    schemas = {**copy.deepcopy(_SCHEMAS), **account_schemas(_ref)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Wireflow Executions API (wireflow-nb local server)",
            "version": __version__,
            "description": (
                "The hosted Wireflow Executions API, served over the offline LocalEngine. "
                "Start an execution, then poll until COMPLETED or FAILED."
            ),
        },
        "servers": [{"url": server_url}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
            "responses": copy.deepcopy(_RESPONSES),
            "headers": copy.deepcopy(_HEADERS),
        },
    }
