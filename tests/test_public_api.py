"""The public names of ``wireflow_nb`` are pinned: adding or removing one is a decision.

``PUBLIC`` below is the one pin. ``wireflow_nb._PUBLIC`` (module -> names) is the one
list in the package; everything else (``__all__``, ``dir()``, the lazy ``__getattr__``,
the ``TYPE_CHECKING`` imports that type checkers read) must agree with it.
"""

from __future__ import annotations

import ast
import copy as copy_module
import importlib
import inspect
import json
import pickle
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

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
    "BackendCatalog",
    "BadRequestError",
    "Blueprint",
    "Catalog",
    "CatalogSource",
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
    "FormApp",
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
    "Range",
    "RateLimitError",
    "Template",
    "UnprocessableEntityError",
    "VersionConflictError",
    "VideoOutput",
    "WaitTimeoutError",
    "WireflowClient",
    "WireflowError",
    "Workflow",
    "WorkflowApp",
    "WorkflowValidationError",
    "__version__",
    "acatalog_for",
    "async_trigger_webhook",
    "blueprints",
    "catalog_for",
    "default_catalog",
    "local_server",
    "node_type",
    "template",
    "templates",
    "trigger_webhook",
]


def test_all_is_pinned_and_sorted() -> None:
    assert wireflow_nb.__all__ == PUBLIC
    assert sorted(wireflow_nb.__all__) == wireflow_nb.__all__


def test_every_public_name_resolves() -> None:
    for name in wireflow_nb.__all__:
        assert getattr(wireflow_nb, name) is not None, name


def test_all_and_dir_derive_from_the_one_table() -> None:
    assert sorted(wireflow_nb._HOME) == PUBLIC
    assert wireflow_nb.__all__ == sorted(wireflow_nb._HOME)
    assert dir(wireflow_nb) == wireflow_nb.__all__
    assert wireflow_nb._LAZY_MODULES.issubset(wireflow_nb._PUBLIC)


def test_every_name_is_the_object_of_its_home_module() -> None:
    for name, home in wireflow_nb._HOME.items():
        assert getattr(wireflow_nb, name) is getattr(importlib.import_module(home), name), name


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        _ = wireflow_nb.NoSuchThing
    assert not hasattr(wireflow_nb, "_no_such_private")


def _type_checking_imports() -> dict[str, str]:
    """name -> module of the ``if TYPE_CHECKING:`` imports of ``wireflow_nb/__init__.py``."""
    tree = ast.parse(Path(wireflow_nb.__file__).read_text(encoding="utf-8"))
    seen: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom) and statement.level == 1, ast.dump(statement)
                for alias in statement.names:
                    # ``X as X``: the explicit re-export that type checkers honour
                    assert alias.asname == alias.name, alias.name
                    seen[alias.name] = f"wireflow_nb.{statement.module}"
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            # outside TYPE_CHECKING only the stdlib: the table, not an import, makes a name public
            assert isinstance(node, ast.Import) or node.level == 0, ast.dump(node)
    return seen


def test_type_checkers_see_the_same_names_as_the_table() -> None:
    expected = {name: home for name, home in wireflow_nb._HOME.items() if home != "wireflow_nb"}
    assert _type_checking_imports() == expected


def test_import_loads_the_light_names_only() -> None:
    code = (
        "import json, sys, wireflow_nb\n"
        "print(json.dumps({'names': sorted(vars(wireflow_nb)), 'modules': sorted(sys.modules)}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(done.stdout)
    names, modules = set(loaded["names"]), set(loaded["modules"])
    for name, home in wireflow_nb._HOME.items():
        if home in wireflow_nb._LAZY_MODULES:
            assert name not in names, f"{name} was imported by 'import wireflow_nb'"
        else:
            assert name in names, f"{name} is light but was not imported"
    heavy = {"httpx", "numpy", "ipywidgets", "ipycanvas", "IPython", *wireflow_nb._LAZY_MODULES}
    assert not heavy & modules, sorted(heavy & modules)


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


# -- errors travel: pickle with their fields, show as wireflow_nb.X ------------------------


def _public_errors() -> list[type[BaseException]]:
    """Every exception class ``wireflow_nb`` exports, found, not listed by hand."""
    found = [getattr(wireflow_nb, name) for name in wireflow_nb.__all__]
    return [obj for obj in found if isinstance(obj, type) and issubclass(obj, BaseException)]


def _poll(state: str) -> wireflow_nb.PollResponse:
    return wireflow_nb.PollResponse.model_validate(
        {
            "status": state,
            "error": {"message": "n2 failed"},
            "nodeResults": {
                "nodeRuns": [{"nodeId": "n2", "status": "FAILED", "error": "boom", "output": {"text": "x"}}]
            },
        }
    )


#: A value for each constructor parameter an error may take. A new parameter without a
#: value here fails the test, so every field of every error is pickled in it.
FIELD_VALUES: dict[str, object] = {
    "message": "It went wrong. Do this instead.",
    "status_code": 418,
    "body": {"error": "went wrong", "details": [{"nodeId": "n1", "field": "prompt", "message": "empty"}]},
    "request_id": "req_123",
    "retry_after": 2.5,
    "required_credits": 12,
    "available_credits": 3.5,
    "breakdown": [wireflow_nb.CreditsBreakdownItem(node_id="n1", node_label="Image", credits=12)],
    "execution_id": "exec_1",
    "current_version": 3,
    "sent_version": 2,
    "poll": _poll("FAILED"),
    "last": _poll("RUNNING"),
    "problems": [
        wireflow_nb.Problem(
            code="cycle", message="n1 -> n2 -> n1 is a cycle", node_id="n1", edge_id="e1", path=("n1", "n2")
        )
    ],
    "summary": "The workflow has 1 problem",
}


def _parameters(cls: type[BaseException]) -> list[inspect.Parameter]:
    try:
        return list(inspect.signature(cls).parameters.values())
    except ValueError:  # no __init__ of its own (WireflowError): Exception(*args)
        return [inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL)]


def _with_every_field(cls: type[BaseException]) -> BaseException:
    args: list[object] = []
    kwargs: dict[str, object] = {}
    for parameter in _parameters(cls):
        if parameter.kind is parameter.VAR_KEYWORD:
            continue
        if parameter.kind is parameter.VAR_POSITIONAL:
            args.append(FIELD_VALUES["message"])
            continue
        assert parameter.name in FIELD_VALUES, f"{cls.__name__}({parameter.name}=...): add a value"
        if parameter.kind is parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = FIELD_VALUES[parameter.name]
        else:
            args.append(FIELD_VALUES[parameter.name])
    return cls(*args, **kwargs)


def test_errors_are_discovered() -> None:
    names = {cls.__name__ for cls in _public_errors()}
    assert {"WireflowError", "NotFoundError", "InsufficientCreditsError", "WorkflowValidationError"} <= names
    assert len(names) == 18


@pytest.mark.parametrize("cls", _public_errors(), ids=lambda cls: cls.__name__)
def test_every_public_error_pickles_with_its_fields(cls: type[BaseException]) -> None:
    error = _with_every_field(cls)
    for copy in (pickle.loads(pickle.dumps(error)), copy_module.deepcopy(error)):
        assert type(copy) is cls
        assert str(copy) == str(error)
        assert copy.args == error.args
        assert vars(copy) == vars(error)
        for parameter in _parameters(cls):
            if hasattr(error, parameter.name):
                assert getattr(copy, parameter.name) == getattr(error, parameter.name), parameter.name


def test_pickled_errors_keep_what_their_properties_read() -> None:
    failed = pickle.loads(pickle.dumps(_with_every_field(wireflow_nb.ExecutionFailedError)))
    assert [run.node_id for run in failed.failed_node_runs] == ["n2"]
    bad = pickle.loads(pickle.dumps(_with_every_field(wireflow_nb.BadRequestError)))
    assert bad.details == [{"nodeId": "n1", "field": "prompt", "message": "empty"}]
    assert bad.status_code == 418 and bad.request_id == "req_123"
    assert str(bad) == "It went wrong. Do this instead. (request id: req_123)"
    plain = pickle.loads(pickle.dumps(wireflow_nb.NotFoundError("gone")))
    assert plain.status_code == 404 and plain.request_id is None


@pytest.mark.parametrize("cls", _public_errors(), ids=lambda cls: cls.__name__)
def test_public_errors_show_as_wireflow_nb(cls: type[BaseException]) -> None:
    assert cls.__module__ == "wireflow_nb"
    assert type(_with_every_field(cls)).__module__ == "wireflow_nb"


def test_traceback_names_wireflow_nb_not_the_private_module() -> None:
    try:
        raise wireflow_nb.NotFoundError("Execution exec_1 not found.", request_id="req_1")
    except wireflow_nb.NotFoundError as exc:
        text = "".join(traceback.format_exception(exc))
    assert text.rstrip().splitlines()[-1] == (
        "wireflow_nb.NotFoundError: Execution exec_1 not found. (request id: req_1)"
    )
    assert "_exceptions.NotFoundError" not in text
