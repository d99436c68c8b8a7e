"""``@node_type`` read from a plain function's signature: inputs from the parameters,
outputs from the return annotation, the description from the docstring; explicit
``inputs=``/``outputs=`` override by name; bad annotations fail at decoration."""

from __future__ import annotations

import base64
import dataclasses
import functools
import io
from typing import Annotated, Any, Literal, Optional, TypedDict

import pytest
from PIL import Image

import wireflow_nb as wf
from tests._engines import catalog, make_engine
from wireflow_nb import BadRequestError, Workflow
from wireflow_nb.catalog import Catalog, InputSpec, NodeSpec, spec_from_hosted, spec_to_hosted

__all__ = ["catalog", "make_engine"]  # the shared fixtures, found by pytest here


class Stats(TypedDict):
    words: int
    loud: str
    ratio: float


@dataclasses.dataclass
class Split:
    head: str
    rest: list[str]
    ok: bool


class Thing:
    """A class of the user's own: no node input carries it."""


def register(catalog: Catalog, fn: Any, **kwargs: Any) -> NodeSpec:
    name = f"sig:{fn.__name__}"
    wf.node_type(name, catalog=catalog, **kwargs)(fn)
    return catalog[name]


def test_every_parameter_becomes_an_input_typed_by_its_annotation(catalog: Catalog) -> None:
    def everything(
        prompt: str,
        title: str,
        n: int,
        scale: float,
        flag: bool,
        style: Literal["photo", "anime"],
        steps: Annotated[int, wf.Range(1, 10)],
        strength: Annotated[float, wf.Range(0, 2, 0.5), "how strong"],
        extra: dict[str, Any],
        tags: list[str],
        maybe: int | None,
        older: Optional[str],  # noqa: UP045 - the typing spelling is read too
        level: Optional[Annotated[int, wf.Range(0, 3)]],  # noqa: UP045
        plain,
        count=3,
        ctx: Any = None,
    ) -> None:
        return None

    spec = register(catalog, everything)
    by = {s.name: s for s in spec.inputs}
    assert list(by) == [
        "prompt", "title", "n", "scale", "flag", "style", "steps", "strength", "extra", "tags", "maybe",
        "older", "level", "plain", "count",
    ]  # fmt: skip
    assert "ctx" not in by
    assert {n: s.type for n, s in by.items()} == {
        "prompt": "text", "title": "text", "n": "integer", "scale": "number", "flag": "boolean",
        "style": "choice", "steps": "integer", "strength": "number", "extra": "json", "tags": "json",
        "maybe": "integer", "older": "text", "level": "integer", "plain": "json", "count": "integer",
    }  # fmt: skip
    assert by["prompt"].multiline and not by["title"].multiline  # long text: the built-ins' names
    assert by["style"].choices == ("photo", "anime") and by["style"].kind == "text"
    assert (by["steps"].minimum, by["steps"].maximum, by["steps"].step) == (1, 10, 1)
    assert (by["strength"].minimum, by["strength"].maximum, by["strength"].step) == (0, 2, 0.5)
    assert by["strength"].help == "how strong"
    assert by["n"].minimum is None and by["n"].step is None
    assert (by["level"].type, by["level"].maximum, by["level"].required) == ("integer", 3, False)
    required = {n for n, s in by.items() if s.required}
    # no default and not Optional: required; X | None and a default: optional
    assert required == {
        "prompt",
        "title",
        "n",
        "scale",
        "flag",
        "style",
        "steps",
        "strength",
        "extra",
        "tags",
        "plain",
    }
    assert by["count"].default == 3 and by["maybe"].default is None
    assert spec.outputs == ()  # -> None: no outputs


def test_a_float_range_steps_by_a_hundredth_of_it(catalog: Catalog) -> None:
    def blur(radius: Annotated[float, wf.Range(0, 50)] = 2.0) -> float:
        return radius

    [radius] = register(catalog, blur).inputs
    assert (radius.minimum, radius.maximum, radius.step, radius.default, radius.required) == (
        0,
        50,
        0.5,
        2.0,
        False,
    )


def test_images_are_image_ports(catalog: Catalog) -> None:
    def collage(first: Image.Image, others: list[Image.Image]) -> Image.Image:
        return first

    spec = register(catalog, collage)
    first, others = spec.inputs
    assert (first.type, first.kind, first.multiple) == ("image", "image", False)
    assert (others.type, others.kind, others.multiple) == ("image", "image", True)
    assert [(o.name, o.kind) for o in spec.outputs] == [("images", "image")]
    assert spec.media_inputs == ("first", "others")


@pytest.mark.parametrize(
    ("returned", "outputs"),
    [
        (str, [("text", "text")]),
        (int, [("output", "number")]),
        (bool, [("output", "boolean")]),
        (dict, [("output", "json")]),
        (list[Image.Image], [("images", "image")]),
        (Stats, [("words", "number"), ("loud", "text"), ("ratio", "number")]),
        (Split, [("head", "text"), ("rest", "json"), ("ok", "boolean")]),
        (type(None), []),
    ],
)
def test_outputs_come_from_the_return_annotation(catalog: Catalog, returned: Any, outputs: list[Any]) -> None:
    def make(text: str) -> Any:
        return text

    make.__annotations__["return"] = returned
    assert [(o.name, o.kind) for o in register(catalog, make).outputs] == outputs


def test_no_return_annotation_is_one_output_of_any_kind_and_the_docstring_describes(catalog: Catalog) -> None:
    def shout(text: str):
        """Upper-case a text.

        More words that stay out of the palette."""
        return text.upper()

    spec = register(catalog, shout)
    assert [(o.name, o.kind) for o in spec.outputs] == [("output", "any")]
    assert spec.description == "Upper-case a text."
    assert register(catalog, shout, description="Mine").description == "Mine"


def test_explicit_inputs_win_by_name_and_unlisted_parameters_still_come_from_the_signature(
    catalog: Catalog,
) -> None:
    # the notebook's `marks` (04-custom-nodes.ipynb): listed nowhere, it was left out of the node
    def shout(text: str, marks: int = 1, style: Literal["a", "b"] = "a") -> str:
        return text.upper() + "!" * marks

    spec = register(
        catalog,
        shout,
        inputs={
            "text": "json",
            "style": InputSpec("ignored", "choice", choices=("a", "b", "c")),
            "mood": str,
        },
        outputs={"loud": str, "n": int},
    )
    by = {s.name: s for s in spec.inputs}
    assert list(by) == ["text", "marks", "style", "mood"]  # signature order, then names only given
    assert (by["text"].type, by["text"].required) == ("json", True)
    assert (by["marks"].type, by["marks"].default, by["marks"].required) == ("integer", 1, False)
    assert by["style"].choices == ("a", "b", "c") and by["style"].name == "style"
    assert by["mood"].type == "text"
    assert [(o.name, o.kind) for o in spec.outputs] == [("loud", "text"), ("n", "number")]
    # a field type named as text: that type, default and optional from the parameter
    spec = register(catalog, shout, inputs={"text": "image", "marks": "number"})
    assert [(s.name, s.type, s.default, s.required) for s in spec.inputs[:2]] == [
        ("text", "image", None, True),
        ("marks", "number", 1, False),
    ]


def test_an_explicit_input_may_name_what_the_signature_cannot_map(catalog: Catalog) -> None:
    def use(thing: Thing, n: int = 2) -> str:
        return str(thing)

    spec = register(catalog, use, inputs={"thing": "json"})
    assert [(s.name, s.type) for s in spec.inputs] == [("thing", "json"), ("n", "integer")]
    # a Python type no field fits, given explicitly, is any value (as before signatures were read)
    spec = register(catalog, use, inputs={"thing": Thing})
    assert [(s.name, s.type, s.required) for s in spec.inputs] == [
        ("thing", "json", True),
        ("n", "integer", False),
    ]


def test_an_explicit_python_type_is_read_as_the_annotation_would_be(
    catalog: Catalog, make_engine: Any
) -> None:
    seen: list[Any] = []

    def size(picture, times=1, style="a"):
        seen.append(picture)
        return picture.width * times

    spec = register(
        catalog,
        size,
        inputs={"picture": Image.Image, "times": Annotated[int, wf.Range(1, 3)], "style": Literal["a", "b"]},
        outputs={"width": int},
    )
    by = {s.name: s for s in spec.inputs}
    assert (by["picture"].type, by["picture"].required) == ("image", True)
    assert (by["times"].minimum, by["times"].maximum, by["times"].step, by["times"].default) == (1, 3, 1, 1)
    assert by["style"].choices == ("a", "b")
    with pytest.raises(TypeError, match="defaults to 'a', not one of"):
        register(catalog, size, inputs={"style": Literal["x", "y"]})

    flow = Workflow("w")
    flow.add_node("model:fal:text-to-image", id="t", prompt="a fox", width=80, height=64, seed=1)
    flow.add_node("sig:size", id="s", times=2)
    flow.connect("t", "images", "s", "picture")
    [poll] = make_engine().run("w", flow)
    assert poll.node_run("s").output == {"width": 160}
    assert isinstance(seen[0], Image.Image)


def _error(catalog: Catalog, fn: Any, **kwargs: Any) -> str:
    with pytest.raises(TypeError) as info:
        register(catalog, fn, **kwargs)
    return str(info.value)


def test_an_annotation_no_input_carries_is_refused_naming_the_function_and_parameter(
    catalog: Catalog,
) -> None:
    def use_thing(text: str, thing: Thing) -> str:
        return text

    message = _error(catalog, use_thing)
    assert "'sig:use_thing'" in message and "use_thing" in message and "parameter 'thing'" in message
    assert "Thing" in message and "inputs={'thing': 'json'}" in message
    assert "sig:use_thing" not in catalog

    def use_set(values: set[int]) -> str:
        return ""

    assert "parameter 'values'" in _error(catalog, use_set)

    def use_complex(z: complex = 1j) -> str:  # unannotated would read the default's type
        return ""

    assert "parameter 'z'" in _error(catalog, use_complex)


def test_an_annotation_python_cannot_resolve_is_named_and_may_be_given_in_inputs(catalog: Catalog) -> None:
    def late(a, b):
        return a

    late.__annotations__ = {"a": "int", "b": "NotDefinedAnywhere", "return": "str"}
    message = _error(catalog, late)
    assert "parameter 'b'" in message and "cannot find" in message and "inputs={'b': 'json'}" in message
    spec = register(catalog, late, inputs={"b": "json"})  # the others still resolve
    assert [(i.name, i.type) for i in spec.inputs] == [("a", "integer"), ("b", "json")]
    assert [(o.name, o.kind) for o in spec.outputs] == [("text", "text")]


def test_a_partial_is_read_by_its_signature(catalog: Catalog) -> None:
    def scaled(n: Annotated[int, wf.Range(1, 9)], factor: float, label: str = "") -> str:
        return label + str(n * factor)

    wf.node_type("sig:double", catalog=catalog, label="Double")(functools.partial(scaled, factor=2.0))
    spec = catalog["sig:double"]
    assert [(i.name, i.type, i.default, i.maximum) for i in spec.inputs] == [
        ("n", "integer", None, 9),
        ("factor", "number", 2.0, None),
        ("label", "text", "", None),
    ]
    assert [(o.name, o.kind) for o in spec.outputs] == [("text", "text")]


def test_bad_ranges_literals_and_defaults_are_refused(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="low < high"):
        wf.Range(5, 1)
    with pytest.raises(ValueError, match="low < high"):
        wf.Range(1, 1)
    with pytest.raises(ValueError, match="step"):
        wf.Range(0, 1, 0)
    with pytest.raises(TypeError, match="must be a number"):
        wf.Range("0", 1)  # type: ignore[arg-type]

    def ranged_text(name: Annotated[str, wf.Range(0, 1)]) -> str:
        return name

    assert "parameter 'name'" in _error(catalog, ranged_text) and "Range bounds a number" in _error(
        catalog, ranged_text
    )

    def bad_default(n: Annotated[int, wf.Range(1, 10)] = 11) -> int:
        return n

    assert "defaults to 11, outside its Range(1, 10)" in _error(catalog, bad_default)

    def bad_choice(style: Literal["a", "b"] = "c") -> str:  # type: ignore[assignment]
        return style

    assert "defaults to 'c'" in _error(catalog, bad_choice)

    def odd_literal(pick: Literal[b"x"]) -> str:
        return ""

    assert "Literal values" in _error(catalog, odd_literal)

    def bad_return(n: int) -> Thing:
        return Thing()

    message = _error(catalog, bad_return)
    assert "return annotation is" in message and "outputs=" in message


def test_the_slider_bounds_and_step_reach_other_catalogues(catalog: Catalog) -> None:
    def pick(n: Annotated[int, wf.Range(2, 8, 2)] = 4) -> int:
        return n

    entry = spec_to_hosted(register(catalog, pick))
    assert entry["inputs"][0]["step"] == 2
    [n] = spec_from_hosted(entry).inputs
    assert (n.minimum, n.maximum, n.step, n.default) == (2, 8, 2, 4)


def test_star_parameters_are_no_inputs_and_keyword_ones_get_the_inputs_only_given(
    catalog: Catalog, make_engine: Any
) -> None:
    @wf.node_type("sig:join", inputs={"sep": str}, catalog=catalog)
    def join(text: str, *rest: str, **more: Any) -> str:
        return more.get("sep", "?").join([text, *rest])

    assert [s.name for s in catalog["sig:join"].inputs] == ["text", "sep"]
    flow = Workflow("w")
    flow.add_node("sig:join", id="j", text="a", sep="-")
    [poll] = make_engine().run("w", flow)
    assert poll.node_run("j").text == "a"


# -- running ---------------------------------------------------------------------------------


def test_a_signature_typed_node_runs_and_its_bounds_and_choices_are_checked(
    catalog: Catalog, make_engine: Any
) -> None:
    @wf.node_type("sig:stats", catalog=catalog)
    def stats(
        text: str, times: Annotated[int, wf.Range(1, 5)] = 2, case: Literal["upper", "lower"] = "upper"
    ) -> Stats:
        """Count words and shout."""
        loud = text.upper() if case == "upper" else text.lower()
        return {"words": len(text.split()), "loud": loud * times, "ratio": times / 5}

    @wf.node_type("sig:split", catalog=catalog)
    def split(text: str) -> Split:
        head, *rest = text.split()
        return Split(head, rest, bool(rest))

    engine = make_engine()
    flow = Workflow("w")
    flow.add_node("input:text", id="a", text="a fox")
    flow.add_node("sig:stats", id="s", times=3)
    flow.add_node("sig:split", id="p")
    flow.connect("a", "text", "s", "text")
    flow.connect("s", "loud", "p", "text")
    [poll] = engine.run("w", flow)
    assert poll.node_run("s").output == {"words": 2, "loud": "A FOXA FOXA FOX", "ratio": 0.6}
    assert poll.node_run("p").output == {"head": "A", "rest": ["FOXA", "FOXA", "FOX"], "ok": True}

    flow.node("s").set_input("times", 6)
    flow.node("s").set_input("case", "title")
    with pytest.raises(BadRequestError) as info:
        engine.execute("w", flow)
    message = str(info.value)
    assert "input 'times' is 6; it must be between 1 and 5" in message
    assert "input 'case' is 'title'; it must be one of 'upper', 'lower'" in message


def test_image_parameters_get_pil_images_and_a_returned_image_is_stored(
    catalog: Catalog, make_engine: Any
) -> None:
    seen: list[Any] = []

    @wf.node_type("sig:invert", catalog=catalog)
    def invert(image: Image.Image, extra: list[Image.Image] | None = None) -> Image.Image:
        seen.append((type(image), [type(e) for e in extra or []]))
        rgb = image.convert("RGB")
        return Image.eval(rgb, lambda v: 255 - v)

    red = io.BytesIO()
    Image.new("RGB", (6, 4), (200, 10, 0)).save(red, format="PNG")
    engine = make_engine()
    flow = Workflow("w")
    # a single image input given a list reads its first item only
    png = "data:image/png;base64," + base64.b64encode(red.getvalue()).decode()
    flow.add_node("sig:invert", id="i", image=[png, "data:image/png;base64,bm90IGFuIGltYWdl"])
    flow.add_node("sig:invert", id="j")
    flow.connect("i", "images", "j", "image")  # an edge brings a list: the first image
    flow.connect("i", "images", "j", "extra")
    [poll] = engine.run("w", flow)
    [out] = poll.node_run("i").images
    assert (out.width, out.height, out.content_type) == (6, 4, "image/png")
    with Image.open(io.BytesIO(engine.fetch_bytes(out.url))) as picture:
        assert picture.convert("RGB").getpixel((0, 0)) == (55, 245, 255)
    [back] = poll.node_run("j").images
    with Image.open(io.BytesIO(engine.fetch_bytes(back.url))) as picture:
        assert picture.convert("RGB").getpixel((0, 0)) == (200, 10, 0)
    assert all(t[0] is not bytes and issubclass(t[0], Image.Image) for t in seen)
    assert seen[1][1] and all(issubclass(t, Image.Image) for t in seen[1][1])
