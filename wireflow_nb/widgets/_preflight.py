"""What is checked before a run is sent, for every widget that runs a workflow (the app
and the form): the workflow's problems (``Workflow.problems`` with the catalogue of the
backend), then the backend's own (``backend.problems(request)`` when it has a sync one:
a ``LocalEngine``'s validation), each message once."""

from __future__ import annotations

import asyncio
from typing import Any

from .._exceptions import Problem
from ..models import ExecuteRequest
from ..workflow import Workflow

__all__ = ["run_problems"]


def run_problems(
    workflow: Workflow, request: ExecuteRequest, backend: Any, catalog: Any = None
) -> list[Problem]:
    """The problems that stop ``request`` (of ``workflow``) from being sent to ``backend``."""
    found = list(workflow.problems(target_node_id=request.target_node_id, catalog=catalog))
    checker = getattr(backend, "problems", None)
    if callable(checker) and not asyncio.iscoroutinefunction(checker):
        try:
            extra = checker(request)
        except Exception:
            extra = []
        seen = {p.message for p in found}
        found += [p for p in extra if isinstance(p, Problem) and p.message not in seen]
    return found
