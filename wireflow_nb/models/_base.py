"""The base of every wire model: camelCase on the wire, snake_case in Python, and
unknown fields kept so that whatever the hosted service adds survives a round trip."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


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

    @property
    def extra_fields(self) -> dict[str, Any]:
        """Fields the API sent that this model does not know (kept and written back)."""
        return dict(self.__pydantic_extra__ or {})
