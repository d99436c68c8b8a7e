"""OpenAPI fuzzing of ``wireflow-nb serve`` with schemathesis: requests generated from our
own OpenAPI document, sent to a real server. No request may crash it (5xx), every answer
must be documented (status, headers, body schema, content type), and requests the
document calls invalid must be refused.

"Schema-valid request rejected" is not checked: JSON Schema cannot say that a graph is
acyclic or that a ``nodeType`` exists, so a request can match the schema and still be a
400 that lists its problems. That 400 is checked like every other answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._servers import RunningServer, running_server

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

EXAMPLES_PER_OPERATION = 40


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("fuzz-home"), credits=10**9) as running:
        yield running


def operations(server: RunningServer) -> list[object]:
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_answers_as_documented(server: RunningServer, tmp_path: Path) -> None:
    from hypothesis import HealthCheck, given, settings

    found = operations(server)
    labels = {op.label for op in found}  # type: ignore[attr-defined]
    assert {
        "POST /workflows/{id}/execute",
        "GET /workflows/executions/{executionId}/poll",
        "GET /workflows/executions/{executionId}",
        "POST /workflows/executions/{executionId}/cancel",
        "GET /workflows/{id}/executions",
        "GET /developer/usage",
        "GET /files/{name}",
        "GET /nodes",
    } <= labels
    failures: list[str] = []
    for operation in found:

        @given(case=operation.as_strategy())  # type: ignore[attr-defined]
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,  # the same requests on every run: a failure here is a bug
            suppress_health_check=list(HealthCheck),
        )
        def check(case: object) -> None:
            case.call_and_validate(  # type: ignore[attr-defined]
                headers=server.headers,
                excluded_checks=[schemathesis.checks.positive_data_acceptance],
            )

        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}:\n{exc}")  # type: ignore[attr-defined]
    assert not failures, "\n\n".join(failures) + "\n\nserver log:\n" + server.log[-4000:]
