"""The base of every wire model: camelCase on the wire, snake_case in Python, and
unknown fields kept so that whatever the hosted service adds survives a round trip."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

_FILE_URL = re.compile(r"file:[^\s'\"<>)\],]*", re.IGNORECASE)


def local_name(url: str) -> str:
    """A ``file:`` URL as a notebook shows it: ``file …/<name>``, never the folder (a
    LocalEngine's outputs live under the user's data folder)."""
    return "file \u2026/" + url.strip().rstrip("/").rsplit("/", 1)[-1]


def hide_local_paths(text: str) -> str:
    """``text`` with every ``file:`` URL in it shown by ``local_name``."""
    return _FILE_URL.sub(lambda m: local_name(m[0]), text)


class WireModel(BaseModel):
    """Base for the models of the Executions API.

    ``model_dump(mode="json", by_alias=True, exclude_unset=True)`` writes back exactly
    what was parsed, unknown keys included.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        validate_assignment=False,
        ser_json_inf_nan="constants",
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON object of this model as the API writes it (camelCase, only set keys)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's text of a model (what a notebook saves as ``text/plain``): the
        repr, with ``file:`` URLs by name only (``hide_local_paths``)."""
        printer.text(hide_local_paths(repr(self)))

    @property
    def extra_fields(self) -> dict[str, Any]:
        """Fields the API sent that this model does not know (kept and written back)."""
        return dict(self.__pydantic_extra__ or {})
