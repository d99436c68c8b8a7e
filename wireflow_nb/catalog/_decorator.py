"""``@node_type``: register a Python function as a node type from a notebook."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from ._spec import Catalog, InputSpec, NodeSpec, OutputSpec

_PY_TYPES: dict[Any, str] = {
    str: "text",
    int: "integer",
    float: "number",
    bool: "boolean",
    dict: "json",
    list: "json",
}


def _field_type(value: Any) -> str:
    if isinstance(value, str):
        return value
    return _PY_TYPES.get(value, "json")


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
    """Register the decorated function as node type ``node_type``.

    ``inputs``/``outputs`` map names to Python types (``str``, ``int``, ``float``,
    ``bool``, ``dict``) or field types (``"image"``, ``"text"``...); an input may also be
    a whole ``InputSpec`` (choices, bounds, help; its name is the key). The function gets
    the inputs as keyword arguments (plus ``ctx`` if it asks for it) and returns a dict
    of outputs, or a single value when there is one output::

        @wireflow_nb.node_type("my:upper", inputs={"text": str}, outputs={"text": str})
        def upper(text: str) -> str:
            return text.upper()
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        from . import default_catalog

        target = catalog if catalog is not None else default_catalog()
        params = inspect.signature(fn).parameters
        in_specs: list[InputSpec] = []
        for name, py_type in (inputs or {}).items():
            if isinstance(py_type, InputSpec):  # choices, bounds, help: given whole
                in_specs.append(replace(py_type, name=name))
                continue
            param = params.get(name)
            has_default = param is not None and param.default is not inspect.Parameter.empty
            in_specs.append(
                InputSpec(
                    name=name,
                    type=_field_type(py_type),
                    default=param.default if has_default and param is not None else None,
                    required=not has_default,
                )
            )
        out_specs = [
            OutputSpec(name=name, kind=InputSpec(name, _field_type(t)).kind)
            for name, t in (outputs or {}).items()
        ]
        if not out_specs:
            out_specs = [OutputSpec("output", "any")]
        wants_ctx = "ctx" in params
        is_async = inspect.iscoroutinefunction(fn)
        single = out_specs[0].name if len(out_specs) == 1 else None

        def _shape(result: Any) -> dict[str, Any]:
            if single is not None and not (isinstance(result, dict) and single in result):
                return {single: result}
            if not isinstance(result, dict):
                raise TypeError(
                    f"node {node_type!r} must return a dict of its outputs, got {type(result).__name__}"
                )
            return result

        if is_async:

            async def executor(ctx: Any, values: dict[str, Any]) -> dict[str, Any]:
                kwargs = {k: v for k, v in values.items() if k in params}
                if wants_ctx:
                    kwargs["ctx"] = ctx
                return _shape(await fn(**kwargs))

        else:

            def executor(ctx: Any, values: dict[str, Any]) -> dict[str, Any]:  # type: ignore[misc]
                kwargs = {k: v for k, v in values.items() if k in params}
                if wants_ctx:
                    kwargs["ctx"] = ctx
                return _shape(fn(**kwargs))

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
