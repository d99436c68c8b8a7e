"""A node type read from a plain function's signature (``@node_type``; a Python type given
in its ``inputs=`` is read the same way, but one no field fits is any value there).

Inputs are the parameters (not ``ctx``, ``*args``, ``**kwargs``), in order: the
annotation gives the field type, a default makes the input optional with that default.

| annotation | field type (port kind) |
|---|---|
| ``str`` | ``text`` (a text area when the parameter is named ``prompt`` or ``text``, as the built-ins' are) |
| ``int`` / ``float`` / ``bool`` | ``integer`` / ``number`` / ``boolean`` |
| ``Literal["a", "b"]`` | ``choice`` (a dropdown; the engine refuses other values) |
| ``Annotated[int, Range(1, 10)]`` | ``integer`` bounded, a slider (the engine refuses values outside) |
| ``PIL.Image.Image`` / ``list[PIL.Image.Image]`` | ``image`` (the function gets PIL images) |
| ``dict``, ``list``, ``list[str]``, ``Any``, ... | ``json`` (any value) |
| ``X | None`` / ``Optional[X]`` | as ``X``, optional |
| none | the type of the default, else ``json`` |

A plain string in ``Annotated[...]`` is the input's help. Any other annotation (a class
of your own, ``set``, ``complex``...) is a ``TypeError`` at decoration naming the function
and the parameter: give that input's field type in ``inputs=`` instead.

Outputs come from the return annotation: a ``TypedDict`` or a dataclass gives one output
per field (the function returns the dict or the dataclass); ``None`` gives none; any
other type one output named by the wire shapes (``str`` -> ``text``, an image ->
``images``, else ``output``); no annotation one output ``output`` of any kind.
May import ``catalog._spec`` and ``_media``.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Union

from .._media import decode_image
from ._spec import InputSpec, OutputSpec

__all__ = [
    "Range",
    "annotated_input",
    "field_type",
    "image_params",
    "signature_inputs",
    "signature_outputs",
    "to_call",
    "to_outputs",
]

#: Parameter names the built-ins edit in a text area (long text).
_LONG_TEXT = frozenset({"prompt", "text"})

_SCALARS: dict[Any, str] = {str: "text", int: "integer", float: "number", bool: "boolean"}
_ANY_VALUE = (dict, list, tuple, Any, object)


@dataclass(frozen=True)
class Range:
    """Bounds of a number input, edited with a slider: ``Annotated[int, Range(1, 10)]``.

    ``step`` is the slider's step (default 1 for whole numbers, a hundredth of the range
    for others). The engine refuses literal values outside ``[low, high]``."""

    low: float
    high: float
    step: float | None = None

    def __post_init__(self) -> None:
        for name in ("low", "high", "step"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise TypeError(f"Range {name} must be a number, got {value!r}")
        if self.low >= self.high:
            raise ValueError(f"Range needs low < high, got Range({self.low!r}, {self.high!r})")
        if self.step is not None and self.step <= 0:
            raise ValueError(f"Range step must be above 0, got {self.step!r}")


def _is_image_type(tp: Any) -> bool:
    return isinstance(tp, type) and tp.__name__ == "Image" and tp.__module__.startswith("PIL.")


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); anything else as it is."""
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(args) < len(typing.get_args(tp)):
            return args[0], True
    return tp, False


@dataclass
class _Field:
    type: str
    choices: tuple[Any, ...] = ()
    bounds: Range | None = None
    help: str = ""
    image: bool = False  # the function takes PIL images
    multiple: bool = False  # a list of them


def _field_of(tp: Any) -> _Field | None:
    """The field an annotation maps to; None when it maps to nothing."""
    notes: list[Any] = []
    tp, _ = _strip_optional(tp)  # Optional[Annotated[...]] as Annotated[... | None]
    if typing.get_origin(tp) is typing.Annotated:
        tp, *notes = typing.get_args(tp)
    tp, _ = _strip_optional(tp)
    field = _base_field(tp)
    if field is None:
        return None
    for note in notes:
        if isinstance(note, Range):
            if field.type not in ("integer", "number"):
                raise _Bad(f"Range bounds a number; {_name(tp)} is not int or float")
            field.bounds = note
        elif isinstance(note, str):
            field.help = note
    return field


def _base_field(tp: Any) -> _Field | None:
    if tp in _SCALARS:
        return _Field(_SCALARS[tp])
    if tp in _ANY_VALUE:
        return _Field("json")
    if _is_image_type(tp):
        return _Field("image", image=True)
    origin = typing.get_origin(tp)
    if origin is Literal:
        values = typing.get_args(tp)
        bad = [v for v in values if not isinstance(v, str | int | float | bool)]
        if bad:
            raise _Bad(f"Literal values must be text, numbers or booleans, got {bad[0]!r}")
        return _Field("choice", choices=tuple(values))
    if origin in (list, tuple, Sequence):
        args = typing.get_args(tp)
        if args and _is_image_type(args[0]):
            return _Field("image", image=True, multiple=True)
        return _Field("json")
    if origin is dict or origin is Mapping:
        return _Field("json")
    return None


class _Bad(Exception):
    """An annotation that names what cannot be an input (the message says why)."""


def _name(tp: Any) -> str:
    return getattr(tp, "__qualname__", None) or repr(tp)


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """The function's annotations, strings resolved; left out where they cannot be.
    A callable ``get_type_hints`` does not read (a ``functools.partial``) gives those of
    its signature."""
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception:
        signature = inspect.signature(fn)
        raw = {n: p.annotation for n, p in signature.parameters.items() if p.annotation is not p.empty}
        if signature.return_annotation is not signature.empty:
            raw["return"] = signature.return_annotation
        scope = getattr(inspect.unwrap(getattr(fn, "func", fn)), "__globals__", {})
        hints: dict[str, Any] = {}
        for name, ann in raw.items():
            if isinstance(ann, str):
                try:
                    ann = eval(ann, scope)
                except Exception:
                    continue
            hints[name] = ann
        return hints


def _where(node_type: str, fn: Callable[..., Any]) -> str:
    return f"@node_type({node_type!r}) on {getattr(fn, '__qualname__', fn)!r}"


def signature_inputs(
    node_type: str, fn: Callable[..., Any], skip: frozenset[str] = frozenset()
) -> list[InputSpec]:
    """The inputs of ``fn``'s parameters (those in ``skip`` left out); ``TypeError`` for
    an annotation that maps to no field type."""
    hints = _hints(fn)
    specs: list[InputSpec] = []
    for name, param in inspect.signature(fn).parameters.items():
        if name == "ctx" or name in skip or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if name in hints:
            annotation = hints[name]
        elif param.annotation is not inspect.Parameter.empty:
            raise TypeError(
                f"{_where(node_type, fn)}: the annotation {param.annotation!r} of parameter {name!r} "
                "names a type Python cannot find; import it where the function is defined, "
                f"or give the input in inputs= (e.g. inputs={{{name!r}: 'json'}})"
            )
        elif param.default is not inspect.Parameter.empty and param.default is not None:
            annotation = type(param.default)
        else:
            annotation = Any
        specs.append(annotated_input(node_type, fn, name, annotation, param))
    return specs


def annotated_input(
    node_type: str, fn: Callable[..., Any], name: str, annotation: Any, param: inspect.Parameter | None
) -> InputSpec:
    """The input ``name`` of a parameter (``param``, None when the function has none)
    annotated ``annotation``; ``TypeError`` naming it when no field type fits."""
    has_default = param is not None and param.default is not inspect.Parameter.empty
    default = param.default if has_default and param is not None else None
    bare, optional = _strip_optional(annotation)
    if typing.get_origin(bare) is typing.Annotated:
        optional = _strip_optional(typing.get_args(bare)[0])[1] or optional
    try:
        field = _field_of(annotation)
        if field is None:
            raise _Bad(f"it is annotated {_name(annotation)}, which no node input carries")
    except _Bad as exc:
        raise TypeError(
            f"{_where(node_type, fn)}: parameter {name!r}: {exc}. Annotate it with str, int, float, "
            "bool, list, dict, Literal[...], Annotated[int, Range(low, high)] or PIL.Image.Image, "
            f"or give its field type in inputs= (e.g. inputs={{{name!r}: 'json'}})"
        ) from None
    bounds = field.bounds
    if field.choices and has_default and default not in field.choices:
        raise TypeError(
            f"{_where(node_type, fn)}: parameter {name!r} defaults to {default!r}, not one of {field.choices!r}"
        )
    if bounds is not None and isinstance(default, int | float) and not bounds.low <= default <= bounds.high:
        raise TypeError(
            f"{_where(node_type, fn)}: parameter {name!r} defaults to {default!r}, "
            f"outside its Range({bounds.low:g}, {bounds.high:g})"
        )
    step = None
    if bounds is not None:
        step = bounds.step or (1 if field.type == "integer" else (bounds.high - bounds.low) / 100)
    return InputSpec(
        name=name,
        type=field.type,
        default=default,
        required=not has_default and not optional,
        choices=field.choices,
        help=field.help,
        minimum=bounds.low if bounds is not None else None,
        maximum=bounds.high if bounds is not None else None,
        step=step,
        multiline=field.type == "text" and name in _LONG_TEXT,
        multiple=field.multiple,
    )


def field_type(annotation: Any) -> str | None:
    """The field type of an annotation (``str`` -> ``text``...); None when none fits."""
    try:
        field = _field_of(annotation)
    except _Bad:
        return None
    return field.type if field is not None else None


def image_params(fn: Callable[..., Any], annotations: Mapping[str, Any] | None = None) -> dict[str, bool]:
    """Parameters annotated as PIL images (by ``annotations`` where it names them, else by
    the function's own): name -> whether a list of them."""
    hints = {k: v for k, v in _hints(fn).items() if k != "return"} | dict(annotations or {})
    found: dict[str, bool] = {}
    for name, annotation in hints.items():
        try:
            field = _field_of(annotation)
        except _Bad:
            continue
        if field is not None and field.image:
            found[name] = field.multiple
    return found


def _kind(field: _Field) -> str:
    return InputSpec("", field.type).kind


def signature_outputs(node_type: str, fn: Callable[..., Any]) -> tuple[list[OutputSpec], type | None]:
    """The outputs of ``fn``'s return annotation, and the dataclass it returns (if so)."""
    hints = _hints(fn)
    if "return" not in hints:
        return [OutputSpec("output", "any")], None
    returned = hints["return"]
    if returned is None or returned is type(None):
        return [], None
    record = returned if dataclasses.is_dataclass(returned) and isinstance(returned, type) else None
    if record is not None or typing.is_typeddict(returned):
        fields = typing.get_type_hints(returned, include_extras=True)
        if record is not None:
            fields = {f.name: fields.get(f.name, Any) for f in dataclasses.fields(record)}
        return [
            OutputSpec(name, _output_kind(node_type, fn, name, tp)) for name, tp in fields.items()
        ], record
    kind = _output_kind(node_type, fn, "return", returned)
    name = {"text": "text", "image": "images"}.get(kind, "output")
    return [OutputSpec(name, kind)], None


def _output_kind(node_type: str, fn: Callable[..., Any], name: str, tp: Any) -> str:
    try:
        field = _field_of(tp)
    except _Bad:
        field = None
    if field is None:
        where = "its return annotation" if name == "return" else f"output {name!r}"
        raise TypeError(
            f"{_where(node_type, fn)}: {where} is {_name(tp)}, which no node output carries; "
            "return str, int, float, bool, dict, list, PIL.Image.Image, a TypedDict or a dataclass of those, "
            "or give the outputs in outputs="
        )
    return _kind(field)


def to_call(ctx: Any, values: dict[str, Any], images: Mapping[str, bool]) -> dict[str, Any]:
    """``values`` with the inputs of PIL-annotated parameters read (``ctx.load_bytes``)
    and decoded: one image (the first, when an edge gave a list), or a list of them."""
    out = dict(values)
    for name, many in images.items():
        value = out.get(name)
        if value is None or value == "" or value == []:
            if many:
                out[name] = []
            continue
        items = value if isinstance(value, list | tuple) else [value]
        decoded = [_image(ctx, item) for item in (items if many else items[:1])]
        out[name] = decoded if many else decoded[0]
    return out


def _image(ctx: Any, value: Any) -> Any:
    if type(value).__module__.startswith("PIL."):
        return value
    return decode_image(ctx.load_bytes(value))


def to_outputs(result: Any, record: type | None, image_output: str | None) -> Any:
    """A result as a dict of outputs where the return annotation says how: a dataclass
    by its fields, a single image as the list of one under ``images``."""
    if record is not None and isinstance(result, record):
        return {f.name: getattr(result, f.name) for f in dataclasses.fields(record)}
    if image_output is not None and result is not None and not isinstance(result, list | tuple | dict):
        return {image_output: [result]}
    return result
