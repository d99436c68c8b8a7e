"""The view a file keeps: read when opened, written on save only when it says something new."""

from __future__ import annotations

import pytest

from wireflow_nb.editing.geometry import View
from wireflow_nb.editing.viewport import saved_view, viewport_to_save


def test_a_files_viewport_is_read_when_sound():
    assert saved_view({"viewport": {"x": 12.5, "y": -40, "zoom": 0.75}}) == (12.5, -40.0, 0.75)
    assert saved_view({"viewport": {"x": 1, "y": 2}}) == (1.0, 2.0, 1.0)  # zoom 1 by default


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"viewport": "nope"},
        {"viewport": {"x": 1}},
        {"viewport": {"x": "a", "y": 0}},
        {"viewport": {"x": 0, "y": 0, "zoom": 0}},
        {"viewport": {"x": float("inf"), "y": 0}},
    ],
)
def test_a_missing_or_broken_viewport_is_none(extra):
    assert saved_view(extra) is None


def test_the_viewport_is_written_only_when_it_says_something_new():
    loaded = (12.5, -40.0, 0.75)
    extra = {"viewport": {"x": 12.5, "y": -40, "zoom": 0.75, "custom": True}}
    assert viewport_to_save(extra, View(*loaded), loaded, moved=True) is None  # moved back home
    assert viewport_to_save({}, View(3, 4, 1), None, moved=False) is None  # untouched, none in the file
    moved = viewport_to_save(extra, View(3, 4, 2), loaded, moved=True)
    assert moved == {"x": 3, "y": 4, "zoom": 2, "custom": True}  # the file's own keys kept
    assert viewport_to_save({}, View(3.14159, 4, 1.23456789), None, moved=True) == {
        "x": 3.14,
        "y": 4,
        "zoom": 1.2346,
    }
