"""wireflow_nb: build, run and inspect Wireflow AI workflows from Jupyter.

The public API is listed once, in ``_PUBLIC`` (module -> the names it defines):
``__all__``, ``dir()`` and the lazy ``__getattr__`` derive from it, and
``tests/test_public_api.py`` pins its names and checks that the imports below match it.
Light parts are imported here; heavy ones (client, engine, widgets: httpx, numpy,
ipywidgets) on first use, so ``import wireflow_nb`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: The public API: each module and the public names it defines. Names of the modules in
#: ``_LAZY_MODULES`` are imported on first access, the others when ``wireflow_nb`` is.
_PUBLIC: dict[str, tuple[str, ...]] = {
    "wireflow_nb._version": ("__version__",),
    "wireflow_nb._exceptions": (
        "APIConnectionError",
        "APIError",
        "APIStatusError",
        "APITimeoutError",
        "AuthenticationError",
        "BadRequestError",
        "ExecutionCancelledError",
        "ExecutionFailedError",
        "InsufficientCreditsError",
        "InternalServerError",
        "NotFoundError",
        "PermissionDeniedError",
        "Problem",
        "RateLimitError",
        "UnprocessableEntityError",
        "VersionConflictError",
        "WaitTimeoutError",
        "WireflowError",
        "WorkflowValidationError",
    ),
    "wireflow_nb.backend": ("AsyncBackend", "Backend"),
    "wireflow_nb.blueprints": ("Blueprint", "blueprints"),
    "wireflow_nb.catalog": ("Catalog", "NodeSpec", "Range", "default_catalog", "node_type"),
    "wireflow_nb.catalog_source": ("BackendCatalog", "CatalogSource", "acatalog_for", "catalog_for"),
    "wireflow_nb.models": (
        "CreditsBreakdownItem",
        "Edge",
        "ExecuteRequest",
        "ExecuteResponse",
        "Execution",
        "ExecutionRun",
        "ExecutionStatus",
        "ExecutionSummary",
        "ImageOutput",
        "InsufficientCredits",
        "IteratorConfig",
        "Node",
        "NodeResults",
        "NodeRun",
        "NodeRunStatus",
        "PollResponse",
        "Position",
        "VideoOutput",
    ),
    "wireflow_nb.workflow": ("Workflow",),
    "wireflow_nb.templates": ("Template", "template", "templates"),
    "wireflow_nb.client": (
        "AsyncWireflowClient",
        "WireflowClient",
        "async_trigger_webhook",
        "trigger_webhook",
    ),
    "wireflow_nb.engine": ("LocalEngine",),
    "wireflow_nb.serving": ("local_server",),
    "wireflow_nb.widgets": ("FormApp", "GraphEditor", "HistoryView", "WorkflowApp"),
}

#: Modules that load httpx, numpy or ipywidgets: their names wait for first access.
_LAZY_MODULES = frozenset(
    {"wireflow_nb.client", "wireflow_nb.engine", "wireflow_nb.serving", "wireflow_nb.widgets"}
)

#: Public name -> the module that defines it.
_HOME: dict[str, str] = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = sorted(_HOME)


def _import_light_names() -> None:
    for module, names in _PUBLIC.items():
        if module != __name__ and module not in _LAZY_MODULES:
            home = importlib.import_module(module)
            globals().update({name: getattr(home, name) for name in names})
    # tracebacks and pickles name the errors where users import them from
    # (wireflow_nb.NotFoundError), not the private module that defines them
    for name in _PUBLIC["wireflow_nb._exceptions"]:
        globals()[name].__module__ = __name__


_import_light_names()

if TYPE_CHECKING:
    # what static type checkers and IDEs read: the same names as _PUBLIC (a test checks it),
    # re-exported explicitly (``X as X``)
    from ._exceptions import APIConnectionError as APIConnectionError
    from ._exceptions import APIError as APIError
    from ._exceptions import APIStatusError as APIStatusError
    from ._exceptions import APITimeoutError as APITimeoutError
    from ._exceptions import AuthenticationError as AuthenticationError
    from ._exceptions import BadRequestError as BadRequestError
    from ._exceptions import ExecutionCancelledError as ExecutionCancelledError
    from ._exceptions import ExecutionFailedError as ExecutionFailedError
    from ._exceptions import InsufficientCreditsError as InsufficientCreditsError
    from ._exceptions import InternalServerError as InternalServerError
    from ._exceptions import NotFoundError as NotFoundError
    from ._exceptions import PermissionDeniedError as PermissionDeniedError
    from ._exceptions import Problem as Problem
    from ._exceptions import RateLimitError as RateLimitError
    from ._exceptions import UnprocessableEntityError as UnprocessableEntityError
    from ._exceptions import VersionConflictError as VersionConflictError
    from ._exceptions import WaitTimeoutError as WaitTimeoutError
    from ._exceptions import WireflowError as WireflowError
    from ._exceptions import WorkflowValidationError as WorkflowValidationError
    from ._version import __version__ as __version__
    from .backend import AsyncBackend as AsyncBackend
    from .backend import Backend as Backend
    from .blueprints import Blueprint as Blueprint
    from .blueprints import blueprints as blueprints
    from .catalog import Catalog as Catalog
    from .catalog import NodeSpec as NodeSpec
    from .catalog import Range as Range
    from .catalog import default_catalog as default_catalog
    from .catalog import node_type as node_type
    from .catalog_source import BackendCatalog as BackendCatalog
    from .catalog_source import CatalogSource as CatalogSource
    from .catalog_source import acatalog_for as acatalog_for
    from .catalog_source import catalog_for as catalog_for
    from .client import AsyncWireflowClient as AsyncWireflowClient
    from .client import WireflowClient as WireflowClient
    from .client import async_trigger_webhook as async_trigger_webhook
    from .client import trigger_webhook as trigger_webhook
    from .engine import LocalEngine as LocalEngine
    from .models import CreditsBreakdownItem as CreditsBreakdownItem
    from .models import Edge as Edge
    from .models import ExecuteRequest as ExecuteRequest
    from .models import ExecuteResponse as ExecuteResponse
    from .models import Execution as Execution
    from .models import ExecutionRun as ExecutionRun
    from .models import ExecutionStatus as ExecutionStatus
    from .models import ExecutionSummary as ExecutionSummary
    from .models import ImageOutput as ImageOutput
    from .models import InsufficientCredits as InsufficientCredits
    from .models import IteratorConfig as IteratorConfig
    from .models import Node as Node
    from .models import NodeResults as NodeResults
    from .models import NodeRun as NodeRun
    from .models import NodeRunStatus as NodeRunStatus
    from .models import PollResponse as PollResponse
    from .models import Position as Position
    from .models import VideoOutput as VideoOutput
    from .serving import local_server as local_server
    from .templates import Template as Template
    from .templates import template as template
    from .templates import templates as templates
    from .widgets import FormApp as FormApp
    from .widgets import GraphEditor as GraphEditor
    from .widgets import HistoryView as HistoryView
    from .widgets import WorkflowApp as WorkflowApp
    from .workflow import Workflow as Workflow


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None or module not in _LAZY_MODULES:
        raise AttributeError(f"module 'wireflow_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Jupyter server: kernel websockets without Nagle's delay (``_server_ext``)."""
    return [{"module": "wireflow_nb._server_ext"}]
