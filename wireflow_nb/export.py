"""Export a workflow for learning and sharing: the Python builder code that rebuilds it,
and the ``curl`` command of its execute request.

``to_python(wf)`` writes ``Workflow`` builder calls (``add_node`` / ``connect``) where
they rebuild a node or an edge exactly, and the literal ``add({...})`` / ``add_edge({...})``
where they would not (hosted shapes, extra keys), so running the code gives a workflow
whose ``to_dict()`` equals the original's.

``to_curl(wf)`` writes a POSIX shell command; the API key is ``$WIREFLOW_API_KEY`` (read
from the environment when the command runs, never written into the text) and the JSON
body is single-quoted, so nothing in it is expanded by the shell.
"""

from __future__ import annotations

import copy
import json
import keyword
import math
import pprint
import re
import shlex
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from .backend import IteratorConfigsArg, WorkflowOrRequest, as_request
from .canvas_items import FORM_KEY, GROUP_COLORS
from .models import Edge, Node
from .workflow import Workflow

__all__ = ["HOSTED_BASE_URL", "to_curl", "to_python"]

HOSTED_BASE_URL = "https://www.wireflow.ai/api/v1"

#: ``add_node`` parameters that cannot carry an input of the same name as a keyword.
_RESERVED_KWARGS = frozenset({"node_type", "id", "label", "position"})
_BUILDER_NAMES = frozenset({"Workflow"})


# -- Python literals ----------------------------------------------------------------


def _has_special_float(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, Mapping):
        return any(_has_special_float(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_special_float(v) for v in value)
    return False


def _literal_exact(value: Any) -> str:
    # Only reached for non-finite floats, which repr() would write as bare ``nan``.
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value!r}")'
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_literal_exact(k)}: {_literal_exact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal_exact(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(_literal_exact(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


def py_literal(value: Any, *, indent: int = 0, width: int = 100) -> str:
    """Python source for a JSON-like value (dicts keep their order)."""
    if _has_special_float(value):
        return _literal_exact(value)
    text = pprint.pformat(value, width=max(40, width - indent), sort_dicts=False)
    if indent and "\n" in text:
        pad = " " * indent
        text = text.replace("\n", "\n" + pad)
    return text


# -- variables for node ids -------------------------------------------------------------


def _identifier(node_id: str, taken: set[str]) -> str:
    base = re.sub(r"\W+", "_", node_id).strip("_").lower() or "node"
    if base[0].isdigit():
        base = "n_" + base
    if keyword.iskeyword(base) or base in _BUILDER_NAMES:
        base += "_"
    name, i = base, 2
    while name in taken:
        name = f"{base}_{i}"
        i += 1
    taken.add(name)
    return name


# -- nodes and edges as builder calls ----------------------------------------------------


def _add_node_call(node: Node, *, with_label: bool) -> tuple[str, dict[str, Any]] | None:
    """``(node_type, kwargs)`` of an ``add_node`` call that may rebuild ``node`` (inputs
    under ``__inputs__``), or None when the node has no nodeType."""
    node_type = node.data.get("nodeType")
    if not isinstance(node_type, str) or not node_type:
        return None
    inputs = {k: copy.deepcopy(v) for k, v in node.data.items() if k not in ("label", "nodeType", "category")}
    kwargs: dict[str, Any] = {"id": node.id}
    if with_label:
        kwargs["label"] = node.data.get("label")
    kwargs["position"] = (node.position.x, node.position.y)
    return node_type, {**kwargs, "__inputs__": inputs}


def _rebuilds(node: Node, node_type: str, kwargs: dict[str, Any]) -> bool:
    probe = Workflow("probe")
    args = {k: v for k, v in kwargs.items() if k != "__inputs__"}
    try:
        probe.add_node(node_type, **args, **copy.deepcopy(kwargs["__inputs__"]))
    except Exception:
        return False
    return probe.nodes[0].to_wire() == node.to_wire()


def _format_add_node(var: str, target: str, node_type: str, kwargs: dict[str, Any]) -> str:
    parts = [repr(node_type), f"id={kwargs['id']!r}"]
    if "label" in kwargs:
        parts.append(f"label={py_literal(kwargs['label'])}")
    x, y = kwargs["position"]
    parts.append(f"position=({x!r}, {y!r})")
    odd: dict[str, Any] = {}
    for name, value in kwargs["__inputs__"].items():
        if name.isidentifier() and not keyword.iskeyword(name) and name not in _RESERVED_KWARGS:
            parts.append(f"{name}={py_literal(value, indent=4)}")
        else:
            odd[name] = value
    if odd:
        parts.append(f"**{py_literal(odd, indent=4)}")
    one_line = f"{var} = {target}.add_node({', '.join(parts)})"
    if len(one_line) <= 100 and "\n" not in one_line:
        return one_line
    inner = "".join(f"    {p},\n" for p in parts)
    return f"{var} = {target}.add_node(\n{inner})"


def _node_code(node: Node, var: str, target: str) -> str:
    """``add_node`` when it rebuilds the node exactly, else ``add({...})``."""
    for with_label in (False, True):
        call = _add_node_call(node, with_label=with_label)
        if call is None:
            break
        node_type, kwargs = call
        if _rebuilds(node, node_type, kwargs):
            return _format_add_node(var, target, node_type, kwargs)
    return f"{var} = {target}.add({py_literal(node.to_wire(), indent=4)})"


def _edge_code(edge: Edge, node_vars: Mapping[str, str], taken_edge_ids: set[str], target: str) -> str:
    wire = edge.to_wire()
    simple = (
        set(wire) == {"id", "source", "target", "sourceHandle", "targetHandle"}
        and all(isinstance(wire[k], str) for k in wire)
        and wire["id"] not in taken_edge_ids
    )
    if edge.id is not None:
        taken_edge_ids.add(edge.id)
    if not simple:
        return f"{target}.add_edge({py_literal(wire, indent=4)})"

    def ref(node_id: str) -> str:
        return node_vars.get(node_id, repr(node_id))

    args = [
        ref(edge.source),
        repr(edge.source_handle),
        ref(edge.target),
        repr(edge.target_handle),
    ]
    default_id = f"e-{edge.source}-{edge.source_handle}-{edge.target}-{edge.target_handle}"
    if edge.id != default_id:
        args.append(f"id={edge.id!r}")
    return f"{target}.connect({', '.join(args)})"


def to_python(workflow: Workflow, *, variable: str = "wf", imports: bool = True) -> str:
    """Python code that rebuilds ``workflow`` with the ``Workflow`` builder.

    Running it leaves a workflow named ``variable`` whose ``to_dict()`` equals
    ``workflow.to_dict()``.
    """
    if not variable.isidentifier() or keyword.iskeyword(variable):
        raise ValueError(f"variable must be a Python identifier, got {variable!r}")
    workflow = workflow.as_saved()  # bytes, PIL images, arrays as data: URLs
    lines: list[str] = []
    if imports:
        lines += ["from wireflow_nb import Workflow", ""]
    ids = [n.id for n in workflow.nodes]
    if len(set(ids)) != len(ids):
        # the builder refuses duplicate ids; keep the (invalid) graph as data
        lines.append(f"{variable} = Workflow.from_dict({py_literal(workflow.to_dict(), indent=4)})")
        return "\n".join(lines) + "\n"
    extra = {k: copy.deepcopy(v) for k, v in workflow.extra.items() if k != "__has_id__"}
    if workflow.extra.get("__has_id__") is False:
        # the file had no id: keep it so (to_dict() then writes none)
        extra["__has_id__"] = False
    if extra:
        lines.append(f"{variable} = Workflow({workflow.id!r}, extra={py_literal(extra, indent=4)})")
    else:
        lines.append(f"{variable} = Workflow({workflow.id!r})")

    taken = {variable, *_BUILDER_NAMES}
    node_vars: dict[str, str] = {}
    for node in workflow.nodes:
        var = _identifier(node.id, taken)
        if node.id not in node_vars:
            node_vars[node.id] = var
        lines.append(_node_code(node, var, variable))
    edge_ids: set[str] = set()
    for edge in workflow.edges:
        lines.append(_edge_code(edge, node_vars, edge_ids, variable))
    lines += _canvas_code(workflow, node_vars, variable)
    return "\n".join(lines) + "\n"


def _canvas_code(workflow: Workflow, node_vars: Mapping[str, str], target: str) -> list[str]:
    """``group`` / ``add_note`` / ``set_bypass`` / ``set_form_input`` calls for what
    ``workflow`` holds besides nodes and edges (a run of the code then rewrites the
    bypassed nodes as the original would); where a call would not rebuild it exactly, the
    JSON field as it is."""
    canvas = workflow.canvas_items_to_wire() or {}
    if not canvas:
        return []
    groups, notes = workflow.groups, workflow.notes
    form = [entry.rpartition(".") for entry in workflow.form_inputs]
    simple = (
        set(canvas) <= {"groups", "notes", "bypassed", FORM_KEY}
        and all(node_id in node_vars for node_id, _, _ in form)
        and all(not g.extra and all(n in node_vars for n in g.nodes) for g in groups)
        and all(not n.extra for n in notes)
        and all(n in node_vars for n in canvas.get("bypassed", ()))
    )
    if not simple:
        return [f"{target}.restore_canvas({py_literal(canvas, indent=4)})"]
    lines = []
    for i, g in enumerate(groups):
        args = ["[" + ", ".join(node_vars[n] for n in g.nodes) + "]"]
        if g.title != "Group":
            args.append(f"title={g.title!r}")
        if g.color != GROUP_COLORS[0]:
            args.append(f"color={g.color!r}")
        if [x.id for x in groups[: i + 1]] != [f"group-{k + 1}" for k in range(i + 1)]:
            args.append(f"id={g.id!r}")
        lines.append(f"{target}.group({', '.join(args)})")
    for i, n in enumerate(notes):
        args = [repr(n.text)]
        args += [f"{k}={py_literal(v)}" for k, v in n.to_wire()["position"].items()]
        args += [f"{k}={py_literal(n.to_wire()[k])}" for k in ("width", "height")]
        if [x.id for x in notes[: i + 1]] != [f"note-{k + 1}" for k in range(i + 1)]:
            args.append(f"id={n.id!r}")
        lines.append(f"{target}.add_note({', '.join(args)})")
    lines += [f"{target}.set_bypass({node_vars[n]})" for n in workflow.bypassed]
    lines += [f"{target}.set_form_input({node_vars[node_id]}, {name!r})" for node_id, _, name in form]
    return lines


# -- curl -----------------------------------------------------------------------------------


def to_curl(
    workflow_or_request: WorkflowOrRequest,
    workflow_id: str | None = None,
    *,
    base_url: str = HOSTED_BASE_URL,
    target_node_id: str | None = None,
    trigger_data: Mapping[str, Any] | None = None,
    iterator_configs: IteratorConfigsArg = None,
    idempotency_key: str | None = None,
    api_key_variable: str = "WIREFLOW_API_KEY",
) -> str:
    """The ``curl`` command that sends this workflow's execute request.

    The key is written as ``$WIREFLOW_API_KEY`` so the command can be shared as it is.
    ``workflow_id`` defaults to the workflow's own id (``notebook`` for a request).
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", api_key_variable):
        raise ValueError(f"api_key_variable must be a shell variable name, got {api_key_variable!r}")
    if workflow_id is None:
        workflow_id = workflow_or_request.id if isinstance(workflow_or_request, Workflow) else "notebook"
    if isinstance(workflow_or_request, Workflow):
        workflow_or_request = workflow_or_request.as_saved()  # bytes, PIL images, arrays as data: URLs
    request = as_request(
        workflow_or_request,
        target_node_id=target_node_id,
        trigger_data=trigger_data,
        iterator_configs=iterator_configs,
    )
    body = json.dumps(request.to_wire(), indent=2, ensure_ascii=False)
    url = f"{base_url.rstrip('/')}/workflows/{quote(workflow_id, safe='')}/execute"
    parts = [
        f"curl -X POST {shlex.quote(url)}",
        f'-H "Authorization: Bearer ${api_key_variable}"',
        "-H 'Content-Type: application/json'",
    ]
    if idempotency_key is not None:
        parts.append("-H " + shlex.quote(f"Idempotency-Key: {idempotency_key}"))
    parts.append("-d " + shlex.quote(body))
    return " \\\n  ".join(parts) + "\n"
