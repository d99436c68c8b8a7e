"""The node catalog: one source of truth per node type (inputs, outputs, price,
category, executor) for the palette, the inspector, port checks, credits and the engine."""

from __future__ import annotations

from ._builtins import BUILTINS, IMAGE_PRICE, NUM_IMAGES, VIDEO_PRICE
from ._decorator import node_type
from ._hosted import catalog_from_hosted, catalog_to_hosted, hosted_type, spec_from_hosted, spec_to_hosted
from ._ports import (
    MEDIA_PORT_TYPES,
    Port,
    can_feed,
    carried_kind,
    edge_kind_problems,
    hosted_kind,
    kind_mismatch,
    media_fields,
    node_ports,
)
from ._signature import Range
from ._spec import (
    FIELD_TYPES,
    MEDIA_KINDS,
    PORT_KINDS,
    Catalog,
    Executor,
    InputSpec,
    NodeSpec,
    OutputSpec,
    template_placeholders,
)

_DEFAULT: Catalog | None = None


def default_catalog() -> Catalog:
    """The process-wide catalog: built-ins plus types registered with ``@node_type``."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Catalog(BUILTINS)
    return _DEFAULT


def builtin_catalog() -> Catalog:
    """A fresh catalog of the built-ins only."""
    return Catalog(BUILTINS)


__all__ = [
    "BUILTINS",
    "FIELD_TYPES",
    "MEDIA_KINDS",
    "MEDIA_PORT_TYPES",
    "IMAGE_PRICE",
    "NUM_IMAGES",
    "PORT_KINDS",
    "VIDEO_PRICE",
    "Catalog",
    "Executor",
    "InputSpec",
    "NodeSpec",
    "OutputSpec",
    "Port",
    "Range",
    "builtin_catalog",
    "can_feed",
    "carried_kind",
    "catalog_from_hosted",
    "catalog_to_hosted",
    "default_catalog",
    "edge_kind_problems",
    "hosted_kind",
    "hosted_type",
    "kind_mismatch",
    "media_fields",
    "node_ports",
    "node_type",
    "spec_from_hosted",
    "spec_to_hosted",
    "template_placeholders",
]
