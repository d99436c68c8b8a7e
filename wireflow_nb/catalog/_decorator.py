"""``@node_type``: register a Python function as a node type from a notebook."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from ._signature import (
    annotated_input,
    field_type,
    image_params,
    signature_inputs,
    signature_outputs,
    to_call,
    to_outputs,
)
from ._spec import Catalog, InputSpec, NodeSpec, OutputSpec


def _field_type(value: Any) -> str:
    """A field type given as it is (``"image"``), or of a Python type (JSON when none fits)."""
    if isinstance(value, str):
        return value
    return field_type(value) or "json"


def node_type(
    node_type: str,
    *,
    inputs: Mapping[str, Any] | None = None,
    outputs: Mapping[str, Any] | None = None,
    label: str | None = None,
    category: str = "custom",
    price: float = 0,
    description: str | None = None,
    catalog: Catalog | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as node type ``node_type``, read from its signature.

    Inputs are its parameters: the annotation gives the field type (``str``, ``int``,
    ``float``, ``bool``, ``Literal[...]`` for a dropdown, ``Annotated[int, Range(1, 10)]``
    for a slider, ``PIL.Image.Image`` for an image port...: ``catalog._signature`` has the
    table), a default makes the input optional. Outputs come from the return annotation
    (a ``TypedDict`` or dataclass for several), the description from the docstring's
    first line. ``inputs=`` overrides inputs by name: a Python type or a field type
    (``"image"``, ``"text"``...; default and optional still from the parameter), or a whole
    ``InputSpec`` (its name is the key); parameters it does not list still come from the
    signature. ``outputs=`` replaces the return annotation's outputs.

    The function is called with the inputs as keyword arguments (plus ``ctx`` if it asks
    for it; PIL images for image-annotated parameters) and returns a dict of outputs, a
    dataclass, or a single value when there is one output::

        @wireflow_nb.node_type("my:shout")
        def shout(text: str, marks: Annotated[int, wf.Range(0, 5)] = 1) -> str:
            \"""Upper-case a text.\"""
            return text.upper() + "!" * marks
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        from . import default_catalog

        target = catalog if catalog is not None else default_catalog()
        params = inspect.signature(fn).parameters
        explicit: dict[str, InputSpec] = {}
        for name, py_type in (inputs or {}).items():
            if isinstance(py_type, InputSpec):  # choices, bounds, help: given whole
                explicit[name] = replace(py_type, name=name)
                continue
            param = params.get(name)
            if isinstance(py_type, str):  # a field type: default and optional from the parameter
                explicit[name] = replace(annotated_input(node_type, fn, name, Any, param), type=py_type)
                continue
            if field_type(py_type) is None:  # a type no field fits: any value, as before
                explicit[name] = replace(annotated_input(node_type, fn, name, Any, param), type="json")
            else:  # a Python type: read as the parameter's annotation would be
                explicit[name] = annotated_input(node_type, fn, name, py_type, param)
        in_specs = signature_inputs(node_type, fn, skip=frozenset(explicit))
        order = [n for n in params if n in explicit or any(s.name == n for s in in_specs)]
        by_name = {s.name: s for s in in_specs} | explicit
        in_specs = [by_name[n] for n in order] + [s for n, s in explicit.items() if n not in params]
        record: type | None = None
        if outputs is not None:
            out_specs = [
                OutputSpec(name=name, kind=InputSpec(name, _field_type(t)).kind)
                for name, t in outputs.items()
            ]
        else:
            out_specs, record = signature_outputs(node_type, fn)
        if not out_specs and outputs is not None:
            out_specs = [OutputSpec("output", "any")]
        given = {k: v for k, v in (inputs or {}).items() if not isinstance(v, str | InputSpec)}
        images = {k: v for k, v in image_params(fn, given).items() if k in given or k not in explicit}
        image_output = "images" if outputs is None and [o.name for o in out_specs] == ["images"] else None
        wants_ctx = "ctx" in params
        is_async = inspect.iscoroutinefunction(fn)
        single = out_specs[0].name if len(out_specs) == 1 else None
        takes_all = any(p.kind is p.VAR_KEYWORD for p in params.values())

        def _args(ctx: Any, values: dict[str, Any]) -> dict[str, Any]:
            kwargs = {k: v for k, v in values.items() if k in params or takes_all}
            if images:
                kwargs = to_call(ctx, kwargs, images)
            if wants_ctx:
                kwargs["ctx"] = ctx
            return kwargs

        def _shape(result: Any) -> dict[str, Any]:
            result = to_outputs(result, record, image_output)
            if not out_specs and result is None:
                return {}
            if single is not None and not (isinstance(result, dict) and single in result):
                return {single: result}
            if not isinstance(result, dict):
                raise TypeError(
                    f"node {node_type!r} must return a dict of its outputs, got {type(result).__name__}"
                )
            return result

        if is_async:

            async def executor(ctx: Any, values: dict[str, Any]) -> dict[str, Any]:
                return _shape(await fn(**_args(ctx, values)))

        else:

            def executor(ctx: Any, values: dict[str, Any]) -> dict[str, Any]:  # type: ignore[misc]
                return _shape(fn(**_args(ctx, values)))

        target.register(
            NodeSpec(
                node_type=node_type,
                label=label or fn.__name__.replace("_", " ").title(),
                category=category,
                inputs=tuple(in_specs),
                outputs=tuple(out_specs),
                price=price,
                description=description or (inspect.getdoc(fn) or "").split("\n", 1)[0],
                executor=executor,
            )
        )
        fn.node_type = node_type  # type: ignore[attr-defined]
        return fn

    return register
