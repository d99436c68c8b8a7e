"""Saved workflows as Python: what every backend (``LocalEngine``, both clients, the
server) shares about the account endpoints, so that they answer alike.

This module owns the input schema of a saved workflow (``input_schema``: which nodes
are its inputs and outputs, their types and defaults), mapping a run's ``inputs`` onto
the nodes (``apply_inputs``), the Python callable built from a schema
(``workflow_function``, with a real ``inspect.Signature`` and a docstring), and the
saved record behind a ``Workflow`` that ``workflows.get`` returned (``saved_info``:
kept beside the workflow, never inside its JSON). It may import models, _exceptions,
workflow and catalog.
"""

from __future__ import annotations

import inspect
import keyword
import re
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._exceptions import BadRequestError
from .catalog import hosted_type
from .models import (
    PollResponse,
    SavedWorkflow,
    WorkflowInput,
    WorkflowInputs,
    WorkflowOutput,
    WorkflowSummary,
)

if TYPE_CHECKING:
    from .catalog import Catalog
    from .workflow import Workflow

__all__ = [
    "apply_inputs",
    "input_schema",
    "outputs_of",
    "python_type",
    "remember_saved",
    "saved_info",
    "version_for",
    "workflow_from_saved",
    "workflow_function",
]

#: Fields that hold the value of an input node the catalog does not know (hosted types).
_VALUE_FIELDS = ("text", "prompt", "value", "url", "image", "video", "audio")

_PYTHON_TYPES: dict[str, Any] = {
    "TEXT": str,
    "NUMBER": float,
    "BOOLEAN": bool,
    "IMAGE": str,
    "VIDEO": str,
    "AUDIO": str,
    "JSON": Any,
    "ANY": Any,
}


def python_type(port_type: str) -> Any:
    """The annotation of an input of hosted port type ``port_type`` (media are URLs)."""
    return _PYTHON_TYPES.get(str(port_type).upper(), Any)


def _identifier(text: str, fallback: str) -> str:
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", text.strip()).strip("_").lower()
    if not name:
        name = re.sub(r"[^0-9a-zA-Z_]+", "_", fallback).strip("_").lower() or "input"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = f"input_{name}"
    return name


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _is_input_node(node_type: str, catalog: Catalog) -> bool:
    spec = catalog.get(node_type)
    if spec is not None:
        return spec.kind == "input"
    return node_type.startswith("input:")


def input_schema(
    workflow: Workflow, catalog: Catalog, *, workflow_id: str = "", name: str = ""
) -> WorkflowInputs:
    """The inputs of ``workflow`` (one per input node: its value field, typed, with the
    saved value as default; required when it holds nothing) and its outputs (the nodes
    no edge reads from, input nodes excepted)."""
    inputs: list[WorkflowInput] = []
    outputs: list[WorkflowOutput] = []
    taken_in: set[str] = set()
    taken_out: set[str] = set()
    read_from = {edge.source for edge in workflow.edges}
    for node in workflow.nodes:
        node_type = str(node.data.get("nodeType") or "")
        label = str(node.data.get("label") or "")
        if not _is_input_node(node_type, catalog):
            if node.id not in read_from:
                outputs.append(
                    WorkflowOutput(
                        node_id=node.id, name=_unique(_identifier(label, node.id), taken_out), label=label
                    )
                )
            continue
        values = node.inputs
        spec = catalog.get(node_type)
        if spec is not None:
            fields = [s for s in spec.inputs if not s.port] or list(spec.inputs)
            if not fields:
                continue  # a trigger: its values come from triggerData
            field = fields[0]
            port_type, help_text = hosted_type(field.kind), field.help
            choices = list(field.choices) or None
            field_name = field.name
        else:
            field_name = next((f for f in _VALUE_FIELDS if f in values), "")
            if not field_name:
                continue
            port_type, help_text, choices = "TEXT" if field_name in ("text", "prompt") else "ANY", "", None
        value = values.get(field_name)
        empty = value is None or (isinstance(value, str) and not value.strip())
        inputs.append(
            WorkflowInput(
                node_id=node.id,
                field=field_name,
                name=_unique(_identifier(label, node.id), taken_in),
                label=label,
                type=port_type,
                required=empty,
                default=None if empty else value,
                description=help_text,
                choices=choices,
            )
        )
    return WorkflowInputs(workflow_id=workflow_id, name=name, inputs=inputs, outputs=outputs)


def apply_inputs(workflow: Workflow, schema: WorkflowInputs, inputs: Mapping[str, Any]) -> None:
    """Write ``inputs`` (keyed by node id, or by the input's ``name``) into the nodes the
    schema names, in place. ``BadRequestError`` naming every unknown key and every
    required input left out; nothing is written then."""
    by_key: dict[str, WorkflowInput] = {}
    for entry in schema.inputs:
        by_key.setdefault(entry.name, entry)
        by_key[entry.node_id] = entry
    details: list[dict[str, Any]] = []
    chosen: dict[str, tuple[WorkflowInput, Any]] = {}
    known = ", ".join(f"{e.node_id} ({e.name})" for e in schema.inputs) or "none"
    for key, value in inputs.items():
        found = by_key.get(str(key))
        if found is None:
            details.append(
                {
                    "field": f"inputs.{key}",
                    "message": f"{key!r} is not an input of this workflow; its inputs: {known}",
                    "code": "unknown_input",
                }
            )
            continue
        chosen[found.node_id] = (found, value)
    for entry in schema.inputs:
        if entry.required and entry.node_id not in chosen:
            details.append(
                {
                    "nodeId": entry.node_id,
                    "field": f"inputs.{entry.node_id}",
                    "message": f"input {entry.name!r} (node {entry.node_id}) is required and was not given",
                    "code": "missing_input",
                }
            )
    if details:
        message = "Invalid run inputs: " + "; ".join(d["message"] for d in details)
        raise BadRequestError(message, body={"error": message, "details": details})
    for entry, value in chosen.values():
        workflow.node(entry.node_id).set_input(entry.field, value)


def outputs_of(schema: WorkflowInputs, poll: PollResponse) -> dict[str, Any]:
    """The outputs of a finished run, keyed by the schema's output names (the output of
    every node when the schema names none)."""
    runs = {run.node_id: run for run in poll.node_runs}
    if not schema.outputs:
        return {node_id: run.output for node_id, run in runs.items()}
    return {out.name: runs[out.node_id].output if out.node_id in runs else None for out in schema.outputs}


def _docstring(schema: WorkflowInputs, title: str) -> str:
    lines = [f"Run the saved workflow {title} and return its outputs.", "", "Args:"]
    for entry in schema.inputs:
        what = entry.description or entry.label or entry.field
        extra = "required" if entry.required else f"default {entry.default!r}"
        lines.append(
            f"    {entry.name} ({entry.type}, {extra}): {what} (node {entry.node_id}, field {entry.field})"
        )
    if not schema.inputs:
        lines.append("    (none)")
    names = ", ".join(o.name for o in schema.outputs) or "every node's output"
    lines += ["", f"Returns: a dict of outputs ({names})."]
    return "\n".join(lines)


def workflow_function(
    schema: WorkflowInputs,
    run: Callable[[dict[str, Any]], Any],
    *,
    is_async: bool = False,
) -> Callable[..., Any]:
    """A callable whose keyword arguments are the schema's inputs (annotated with their
    Python types, defaults from the schema, required ones without) and whose result is
    ``outputs_of`` the run. ``run(inputs_by_node_id)`` runs and waits: it returns the
    final ``PollResponse`` (awaitable when ``is_async``). Only the arguments given are
    sent; the others keep their saved values."""
    params = [
        inspect.Parameter(
            entry.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=inspect.Parameter.empty if entry.required else entry.default,
            annotation=python_type(entry.type),
        )
        for entry in schema.inputs
    ]
    signature = inspect.Signature(params, return_annotation=dict[str, Any])
    node_of = {entry.name: entry.node_id for entry in schema.inputs}

    def to_inputs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        bound = signature.bind(*args, **kwargs)
        return {node_of[name]: value for name, value in bound.arguments.items()}

    function: Any  # gets __signature__ below
    if is_async:

        async def function(*args: Any, **kwargs: Any) -> dict[str, Any]:
            awaitable: Awaitable[PollResponse] = run(to_inputs(args, kwargs))
            return outputs_of(schema, await awaitable)

    else:

        def function(*args: Any, **kwargs: Any) -> dict[str, Any]:
            return outputs_of(schema, run(to_inputs(args, kwargs)))

    title = repr(schema.name) if schema.name else repr(schema.workflow_id)
    function.__signature__ = signature
    function.__doc__ = _docstring(schema, title)
    function.__name__ = function.__qualname__ = _identifier(schema.name, schema.workflow_id or "workflow")
    function.__annotations__ = {p.name: p.annotation for p in params} | {"return": dict[str, Any]}
    return function


# -- the saved record behind a Workflow ----------------------------------------------------

#: id(workflow) -> (a weak reference to it, its saved record). ``Workflow`` compares by
#: value (so it is unhashable): it is keyed by identity, and forgotten when collected.
_SAVED: dict[int, tuple[weakref.ref[Any], WorkflowSummary]] = {}


def saved_info(workflow: Workflow) -> WorkflowSummary | None:
    """The saved record (id, name, version, times) ``workflow`` was read from or last
    saved as by ``workflows.get/create/update``; None for a workflow never saved."""
    entry = _SAVED.get(id(workflow))
    if entry is None or entry[0]() is not workflow:
        return None
    return entry[1]


def remember_saved(workflow: Workflow, summary: WorkflowSummary) -> None:
    """Note that ``workflow`` is now saved as ``summary`` (its version for the next update)."""
    key = id(workflow)
    record = WorkflowSummary.model_validate({k: v for k, v in summary.to_wire().items() if k != "workflow"})
    _SAVED[key] = (weakref.ref(workflow, lambda _ref: _SAVED.pop(key, None)), record)


def workflow_from_saved(saved: SavedWorkflow) -> Workflow:
    """The ``Workflow`` of a saved record (its JSON exactly as saved), with the record
    remembered for ``saved_info``."""
    from .workflow import Workflow

    workflow = Workflow.from_dict(saved.workflow) if saved.workflow.get("nodes") is not None else Workflow()
    if "id" not in saved.workflow:
        workflow.id = saved.id  # runs are filed under the saved id; to_dict() still omits it
    remember_saved(workflow, saved)
    return workflow


def version_for(workflow: Any, version: int | None, workflow_id: str) -> int:
    """The version an update of ``workflow_id`` names: ``version`` when given, else the
    one ``workflow`` was read or saved as. ``ValueError`` when neither is known: an
    update never overwrites a newer save blindly."""
    if version is not None:
        return version
    info = saved_info(workflow)
    if info is not None and info.id == workflow_id:
        return info.version
    raise ValueError(
        f"pass version=... (the version you read: saved_info(workflows.get({workflow_id!r})).version) "
        "so that an update never overwrites a newer save"
    )
