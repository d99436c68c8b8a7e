"""One rule for what a node costs and how much work it does: ``NodeSpec.price_for`` counts
with ``InputSpec.whole_number``, and so does the executor; a run charges for what it made."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wireflow_nb as wf
from wireflow_nb.catalog import IMAGE_PRICE, NUM_IMAGES, VIDEO_PRICE, InputSpec, default_catalog

PRICED = [spec for spec in default_catalog() if spec.price]

count_values = st.one_of(
    st.none(),
    st.integers(min_value=-3, max_value=12),
    st.floats(min_value=-3, max_value=12, allow_nan=False),
    st.integers(min_value=-3, max_value=12).map(str),
    st.sampled_from(["", " ", "1.5", "3.6", "2.5", "4.0"]),
)


def test_whole_number_defaults_rounds_and_clamps() -> None:
    spec = InputSpec("n", "integer", default=2, minimum=1, maximum=4)
    assert spec.whole_number(None) == 2
    assert spec.whole_number(" ") == 2
    assert spec.whole_number(3) == 3
    assert spec.whole_number("3") == 3
    assert spec.whole_number(3.6) == 4
    assert spec.whole_number("1.4") == 1
    assert spec.whole_number(0) == 1
    assert spec.whole_number(99) == 4
    for bad in (True, "three", [], float("nan"), float("inf")):
        with pytest.raises(ValueError, match="n must be"):
            spec.whole_number(bad)
    assert InputSpec("n", "integer").whole_number(None) == 1  # no default: one


@pytest.mark.parametrize("spec", PRICED, ids=lambda s: s.node_type)
def test_price_per_run_is_the_type_price_times_the_images(spec) -> None:
    has_count = spec.input("numImages") is not None
    assert spec.price_for({}) == spec.price
    assert spec.price_for({"numImages": 3}) == spec.price * (3 if has_count else 1)
    # a count that is not a number prices as the default; validation refuses it before a run
    assert spec.price_for({"numImages": "lots"}) == spec.price


def _as_number(value: object) -> float | None:
    """The value as validation reads it (None when empty)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return float(value)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(value=count_values)
def test_text_to_image_charges_for_the_images_it_makes(value) -> None:
    flow = wf.Workflow(id="price")
    flow.add_node("model:fal:text-to-image", id="img", prompt="a fox", width=64, height=64, numImages=value)
    spec = default_catalog()["model:fal:text-to-image"]
    number = _as_number(value)
    engine = wf.LocalEngine(home=":memory:", model_latency=0)
    try:
        if number is not None and not NUM_IMAGES.minimum <= number <= NUM_IMAGES.maximum:
            # out of bounds is refused before anything runs or is charged
            with pytest.raises(wf.BadRequestError, match="numImages"):
                engine.run("price", flow)
            assert engine.credits_used() == 0
            return
        (run,) = engine.run("price", flow)
        made = len(run.node_run("img").images)
        assert made == NUM_IMAGES.whole_number(value)
        charged = engine.credits_used()
        assert charged == made * IMAGE_PRICE == spec.price_for({"numImages": value})
        assert engine.list_executions("price")[0].credits_used == charged
    finally:
        engine.close()


@pytest.mark.parametrize("node_type", [s.node_type for s in PRICED if "video" in s.node_type])
def test_a_video_node_charges_its_price_per_video_made(node_type) -> None:
    flow = wf.Workflow(id="video")
    image = None
    if node_type.endswith("image-to-video"):
        image = flow.add_node("model:fal:text-to-image", id="img", prompt="a fox", width=64, height=64)
    video = flow.add_node(node_type, id="vid", prompt="waves", durationSeconds=0.5, width=64, height=64)
    if image is not None:
        flow.connect(image, "images", video, "image")
    engine = wf.LocalEngine(home=":memory:", model_latency=0)
    try:
        (run,) = engine.run("video", flow)
        made = len(run.node_run("vid").videos)
        assert made == 1
        assert engine.credits_used() == made * VIDEO_PRICE + (IMAGE_PRICE if image else 0)
    finally:
        engine.close()
