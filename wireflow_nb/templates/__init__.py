"""Templates: the teaching workflows shipped inside the package, to start from.

Each template is a workflow JSON file of this folder (package data: a wheel carries it)
with three more top-level fields: ``name``, ``category`` and ``description`` (one line).
``templates()`` lists them (by category, then name), ``template(name)`` finds one by
name (case and punctuation do not count: ``"image pipeline"`` is ``"Image pipeline"``),
and ``Template.workflow()`` gives a new ``Workflow`` of it each time (editing it never
changes the template). ``Template.svg()`` is its static picture (``_svg.workflow_svg``).

The editor's and the app's "New from template" gallery (``widgets/_templates.py``) shows
these, the user's blueprints and the account's saved workflows.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from ..blueprints import slugify
from ..workflow import Workflow

__all__ = ["Template", "TemplateList", "template", "templates"]


@dataclass(frozen=True)
class Template:
    """A workflow to start from: ``name``, ``category``, one-line ``description``."""

    name: str
    category: str
    description: str
    body: dict[str, Any] = field(repr=False, compare=False)

    @property
    def slug(self) -> str:
        """``"Image pipeline"`` -> ``"image-pipeline"`` (the gallery card's ``data-name``)."""
        return slugify(self.name)

    def workflow(self) -> Workflow:
        """A new ``Workflow`` of the template (a fresh copy each call)."""
        return Workflow.from_dict(copy.deepcopy(self.body))

    def svg(self, max_width: float = 260.0) -> str:
        """The static picture of the workflow, at most ``max_width`` CSS px wide."""
        from .._svg import workflow_svg

        return workflow_svg(self.workflow(), max_width=max_width)

    def __len__(self) -> int:
        return len(self.body.get("nodes", []))


class TemplateList(list[Template]):
    """``templates()``'s answer; ``named(name)`` finds one."""

    def named(self, name: str) -> Template:
        """The template called ``name`` (by slug: case and punctuation do not count)."""
        slug = slugify(name)
        for item in self:
            if item.slug == slug:
                return item
        raise KeyError(f"no template {name!r}; templates: {', '.join(t.name for t in self)}")


def _read(name: str, text: str) -> Template:
    body = json.loads(text)
    missing = [key for key in ("name", "category", "description", "nodes") if not body.get(key)]
    if missing:  # a broken package file: said plainly, it is the package's fault
        raise ValueError(f"the package's template {name} lacks {', '.join(missing)}")
    return Template(str(body["name"]), str(body["category"]), str(body["description"]), body)


def templates() -> TemplateList:
    """The package's templates, by category then name."""
    folder = resources.files(__name__)
    found = [
        _read(entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    ]
    found.sort(key=lambda t: (t.category.lower(), t.name.lower()))
    return TemplateList(found)


def template(name: str) -> Template:
    """The package's template called ``name`` (``KeyError`` naming the templates if none)."""
    return templates().named(name)
