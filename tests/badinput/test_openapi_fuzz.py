"""schemathesis against the server's own OpenAPI document (``/api/v1/openapi.json``):
for every operation, generated requests, valid and invalid, never get a 5xx, and every
answer matches the documented status codes, content type, headers and schema."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests._servers import RunningServer, running_server

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("fuzz-home"), credits=1_000_000) as server:
        yield server


OPERATIONS = [
    ("POST", "/workflows/{id}/execute"),
    ("GET", "/workflows/executions/{executionId}/poll"),
    ("GET", "/workflows/executions/{executionId}"),
    ("POST", "/workflows/executions/{executionId}/cancel"),
    ("GET", "/workflows/{id}/executions"),
    ("GET", "/developer/usage"),
    ("GET", "/files/{name}"),
    ("GET", "/nodes"),
    ("GET", "/workflows"),
    ("POST", "/workflows"),
    ("GET", "/workflows/{id}"),
    ("PUT", "/workflows/{id}"),
    ("DELETE", "/workflows/{id}"),
    ("GET", "/workflows/{id}/run"),
    ("POST", "/workflows/{id}/run"),
    ("POST", "/workflows/{id}/estimate"),
    ("POST", "/workflows/{id}/webhooks"),
    ("POST", "/workflow/{webhookId}/trigger"),
    ("POST", "/media/upload"),
]


@pytest.fixture(scope="module")
def api_schema(fuzzed_server: RunningServer) -> Any:
    return schemathesis.openapi.from_url(f"{fuzzed_server.base_url}/openapi.json")


# schemathesis.pytest.from_fixture does not work under pytest 9 (it reads a private
# attribute of pytest's items), so each operation runs its own hypothesis test
#: Every operation with valid data and with invalid data, except invalid data for
#: GET /files/{name}: its name takes any string, so the schema admits no invalid request.
CASES = [
    (method, path, mode)
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if not (path.endswith("/files/{name}") and mode is GenerationMode.NEGATIVE)
]


@pytest.mark.parametrize(
    ("method", "path", "mode"),
    CASES,
    ids=[f"{m} {p} {'valid' if mode is GenerationMode.POSITIVE else 'invalid'}" for m, p, mode in CASES],
)
def test_every_operation_conforms(
    api_schema: Any, fuzzed_server: RunningServer, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]
    statuses: Counter[int] = Counter()

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy(generation_mode=mode))
    def conforms(case: Any) -> None:
        response = case.call(headers=fuzzed_server.headers, timeout=30)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    conforms()
    assert sum(statuses.values()) > 0
    assert not any(code >= 500 for code in statuses)


def test_the_document_covers_every_route(api_schema: Any) -> None:
    operations = {(op.method.upper(), op.path) for op in (r.ok() for r in api_schema.get_all_operations())}
    assert operations == set(OPERATIONS)
