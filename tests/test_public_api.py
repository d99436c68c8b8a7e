"""The public names of ``wireflow_nb`` are pinned: adding or removing one is a decision."""

from __future__ import annotations

import wireflow_nb

PUBLIC = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncBackend",
    "AsyncWireflowClient",
    "AuthenticationError",
    "Backend",
    "BadRequestError",
    "Catalog",
    "CreditsBreakdownItem",
    "Edge",
    "ExecuteRequest",
    "ExecuteResponse",
    "Execution",
    "ExecutionCancelledError",
    "ExecutionFailedError",
    "ExecutionRun",
    "ExecutionStatus",
    "ExecutionSummary",
    "GraphEditor",
    "HistoryView",
    "ImageOutput",
    "InsufficientCredits",
    "InsufficientCreditsError",
    "InternalServerError",
    "IteratorConfig",
    "LocalEngine",
    "Node",
    "NodeResults",
    "NodeRun",
    "NodeRunStatus",
    "NodeSpec",
    "NotFoundError",
    "PermissionDeniedError",
    "PollResponse",
    "Position",
    "Problem",
    "RateLimitError",
    "UnprocessableEntityError",
    "VideoOutput",
    "WaitTimeoutError",
    "WireflowClient",
    "WireflowError",
    "Workflow",
    "WorkflowApp",
    "WorkflowValidationError",
    "__version__",
    "default_catalog",
    "node_type",
]


def test_all_is_pinned_and_sorted() -> None:
    assert wireflow_nb.__all__ == PUBLIC
    assert sorted(wireflow_nb.__all__) == wireflow_nb.__all__


def test_every_public_name_resolves() -> None:
    for name in wireflow_nb.__all__:
        assert getattr(wireflow_nb, name) is not None, name


def test_error_tree() -> None:
    from wireflow_nb import (
        APIConnectionError,
        APIError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        InsufficientCreditsError,
        InternalServerError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        UnprocessableEntityError,
        WireflowError,
    )

    for cls, code in [
        (BadRequestError, 400),
        (AuthenticationError, 401),
        (InsufficientCreditsError, 402),
        (PermissionDeniedError, 403),
        (NotFoundError, 404),
        (UnprocessableEntityError, 422),
        (RateLimitError, 429),
        (InternalServerError, 500),
    ]:
        assert issubclass(cls, APIStatusError) and cls.status_code == code
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(APIConnectionError, APIError) and issubclass(APIStatusError, APIError)
    assert issubclass(APIError, WireflowError)
    assert issubclass(wireflow_nb.WorkflowValidationError, WireflowError)
    assert issubclass(wireflow_nb.ExecutionFailedError, WireflowError)
    assert issubclass(wireflow_nb.WaitTimeoutError, WireflowError)


def test_redact_masks_keys() -> None:
    from wireflow_nb._exceptions import redact

    assert redact("bad key sk-abcdef123456 here") == "bad key sk-*** here"
    assert redact("token wf_live_XYZ12345") == "token wf_live_***"
    assert redact("custom my-secret-value!", ["my-secret-value"]) == "custom ***!"
