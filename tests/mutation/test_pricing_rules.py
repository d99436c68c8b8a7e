"""Pricing: ``NodeSpec.price_for`` and ``InputSpec.whole_number``, the one rule for what
a node costs, as the estimate, the 402 and the executor read it.

Written against the mutants of ``wireflow_nb/catalog/_spec.py`` no test caught
(``benchmarks/mutation.py``): free types, names built at run time, bounds that are not
whole numbers, fractional prices.
"""

from __future__ import annotations

import pytest

from wireflow_nb.catalog import IMAGE_PRICE, InputSpec, NodeSpec, default_catalog


def _counted(price: float, **count: object) -> NodeSpec:
    return NodeSpec(
        "t:counted",
        "Counted",
        "test",
        inputs=(InputSpec("prompt"), InputSpec("numImages", "integer", **count)),  # type: ignore[arg-type]
        price=price,
    )


def test_a_free_type_costs_nothing_whatever_its_count() -> None:
    assert _counted(0, default=3).price_for({"numImages": 4}) == 0
    assert _counted(0, default=3).price_for({}) == 0
    spec = default_catalog()["input:text"]
    assert spec.price_for({}) == 0 and spec.price_for({"numImages": 3}) == 0


def test_a_type_without_a_count_costs_its_price_whatever_it_is_given() -> None:
    spec = NodeSpec("t:flat", "Flat", "test", inputs=(InputSpec("prompt"),), price=7)
    assert spec.price_for({}) == 7
    assert spec.price_for({"numImages": 3, "prompt": "x"}) == 7


def test_the_price_is_per_image_counted_like_the_executor_counts() -> None:
    spec = _counted(2.5, default=2, minimum=1, maximum=4)
    assert spec.price_for({}) == 5.0  # the default count
    assert spec.price_for({"numImages": None}) == 5.0
    assert spec.price_for({"numImages": 1}) == 2.5
    assert spec.price_for({"numImages": 4}) == 10.0
    assert spec.price_for({"numImages": 9}) == 10.0  # clamped to the maximum
    assert spec.price_for({"numImages": "3"}) == 7.5
    assert spec.price_for({"numImages": "lots"}) == 5.0  # not a number: the default (validation refuses it)
    assert spec.price_for({"numImages": True}) == 5.0


def test_a_count_of_zero_or_less_still_makes_and_costs_one() -> None:
    spec = _counted(3)  # no bounds
    assert spec.price_for({"numImages": 0}) == 3
    assert spec.price_for({"numImages": -2}) == 3
    assert spec.price_for({"numImages": 2}) == 6


def test_prices_are_floats_of_the_type_price() -> None:
    spec = default_catalog()["model:fal:text-to-image"]
    price = spec.price_for({"numImages": 2})
    assert price == 2 * IMAGE_PRICE and isinstance(price, float)


def test_inputs_are_found_by_name_even_when_the_name_is_built_at_run_time() -> None:
    spec = default_catalog()["model:fal:text-to-image"]
    name = "".join(["num", "Images"])  # not the interned literal
    found = spec.input(name)
    assert found is not None and found.name == "numImages"
    assert spec.input("prompt") is not None and spec.input("prompt").name == "prompt"  # type: ignore[union-attr]
    assert spec.input("nope") is None
    assert NodeSpec("t:none", "None", "test").input("numImages") is None
    counted = _counted(1.5, default=1)
    assert counted.price_for({"".join(["num", "Images"]): 2}) == 3.0


def test_whole_number_rounds_half_to_even_like_the_executor() -> None:
    spec = InputSpec("n", "integer")
    assert spec.whole_number(2.5) == 2
    assert spec.whole_number(3.5) == 4
    assert spec.whole_number("2.4") == 2
    assert spec.whole_number(-1.6) == -2


def test_whole_number_clamps_to_bounds_rounded_inwards() -> None:
    spec = InputSpec("n", "integer", minimum=1.2, maximum=3.7)
    assert spec.whole_number(0) == 2  # ceil(1.2)
    assert spec.whole_number(1) == 2
    assert spec.whole_number(10) == 3  # floor(3.7)
    assert spec.whole_number(3) == 3
    only_low = InputSpec("n", "integer", minimum=5)
    assert only_low.whole_number(100) == 100 and only_low.whole_number(1) == 5
    only_high = InputSpec("n", "integer", maximum=5)
    assert only_high.whole_number(-100) == -100 and only_high.whole_number(9) == 5
    zero_bounds = InputSpec("n", "integer", minimum=0, maximum=0)
    assert zero_bounds.whole_number(7) == 0 and zero_bounds.whole_number(-7) == 0


def test_whole_number_of_empty_values_is_the_default_else_one() -> None:
    assert InputSpec("n", "integer", default=3).whole_number("") == 3
    assert InputSpec("n", "integer", default=3).whole_number("   ") == 3
    assert InputSpec("n", "integer", default=0).whole_number(None) == 0  # a default of 0 is a default
    assert InputSpec("n", "integer").whole_number("") == 1
    assert InputSpec("n", "integer", default=3).whole_number(0) == 0  # 0 is a value, not empty
    assert InputSpec("n", "integer", default=3).whole_number(" 2 ") == 2


@pytest.mark.parametrize("bad", [True, False, "three", [], {}, float("nan"), float("-inf"), "inf"])
def test_whole_number_refuses_what_is_not_a_finite_number(bad: object) -> None:
    spec = InputSpec("count", "integer", default=1)
    with pytest.raises(ValueError, match=r"^count must be a (whole|finite) number, got "):
        spec.whole_number(bad)
