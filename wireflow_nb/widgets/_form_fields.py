"""The fields of a ``FormApp``: which inputs of a workflow a form may show, and one
labelled field per input.

What this module owns:

- ``form_inputs(workflow, catalog, inputs)``: the ``node_id.field`` entries a form shows,
  checked. A field may be in a form when its node's type is in the catalog, the type
  has that input, and no edge feeds it (an edge wins over a literal). ``inputs=None``
  means every such field of the workflow's input nodes (catalog kind ``input``). A bad
  entry is a ``ValueError`` naming it and listing the valid ones.
- ``FormField``: the node's title and the field's label, the widget of the inspector
  (``_fields.field_widget``; sliders for ranges) or a file picker for media, the
  field's help under it, and ``value()`` (``_fields.parse_field``): bytes of a picked
  file (a local media value: the client uploads it, the local engine reads it).

CSS classes: ``wf-form-field`` and ``wf-form-field-<node>-<name>`` (one field),
``wf-form-label``, ``wf-form-help``, ``wf-form-upload`` (a file picker).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..catalog import MEDIA_KINDS
from ._fields import UNSET, field_label, field_widget, parse_field
from .inspector import css_name

if TYPE_CHECKING:
    from ..catalog import Catalog, InputSpec
    from ..workflow import Workflow

__all__ = ["FormField", "FormInput", "form_inputs", "valid_inputs"]


@dataclass(frozen=True)
class FormInput:
    """One input a form shows: field ``spec`` of node ``node_id`` (titled ``title``)."""

    node_id: str
    spec: InputSpec
    title: str

    @property
    def entry(self) -> str:
        return f"{self.node_id}.{self.spec.name}"


def _candidates(workflow: Workflow, catalog: Catalog) -> list[tuple[FormInput, str]]:
    """Every input a form may show, with the kind of its node, in node order."""
    out: list[tuple[FormInput, str]] = []
    for node in workflow.nodes:
        spec = catalog.get(node.node_type)
        if spec is None:
            continue
        fed = {e.target_port for e in workflow.edges_into(node.id)}
        for f in spec.inputs:
            if f.name not in fed:
                out.append((FormInput(node.id, f, node.label), spec.kind))
    return out


def valid_inputs(workflow: Workflow, catalog: Catalog) -> list[str]:
    """The ``node_id.field`` entries a form of ``workflow`` may show."""
    return [item.entry for item, _ in _candidates(workflow, catalog)]


def form_inputs(workflow: Workflow, catalog: Catalog, inputs: Sequence[str] | None) -> list[FormInput]:
    """The inputs named by ``inputs`` (``node_id.field`` each; None: the input nodes'
    fields), checked: a ``ValueError`` names a bad entry and lists the valid ones."""
    candidates = _candidates(workflow, catalog)
    if inputs is None:
        chosen = [item for item, kind in candidates if kind == "input"]
        if not chosen:
            raise ValueError(
                "this workflow has no input node with a field to show (add an input node, e.g. "
                f"input:text, or pass inputs=[...]); valid inputs: {_listing(candidates)}"
            )
        return chosen
    if isinstance(inputs, str):
        raise ValueError(f"inputs must be a list of 'node_id.field' names, like [{inputs!r}], not one text")
    by_entry = {item.entry: item for item, _ in candidates}
    out: list[FormInput] = []
    for entry in inputs:
        item = by_entry.get(entry) if isinstance(entry, str) else None
        if item is None:
            raise ValueError(f"{_why(workflow, entry)}; valid inputs: {_listing(candidates)}")
        if item not in out:
            out.append(item)
    if not out:
        raise ValueError(f"inputs is empty: name at least one field; valid inputs: {_listing(candidates)}")
    return out


def _why(workflow: Workflow, entry: Any) -> str:
    if not isinstance(entry, str) or "." not in entry:
        return f"form input {entry!r} is not 'node_id.field' (a node id, a dot, an input's name)"
    node_id, _, name = entry.rpartition(".")
    if not workflow.has_node(node_id):
        return f"form input {entry!r}: the workflow has no node {node_id!r}"
    if any(e.target_port == name for e in workflow.edges_into(node_id)):
        return f"form input {entry!r}: an edge feeds {name!r}, so the form cannot set it"
    return f"form input {entry!r}: node {node_id!r} has no input {name!r} a form can show"


def _listing(candidates: list[tuple[FormInput, str]]) -> str:
    return ", ".join(item.entry for item, _ in candidates) or "(none)"


class FormField(widgets.VBox):
    """One field of the form: ``Title: Label`` (``*`` if required), the widget, the help."""

    def __init__(self, item: FormInput, value: Any) -> None:
        self.item = item
        f = item.spec
        required = " *" if f.required else ""
        label = widgets.HTML(
            f"<b>{html.escape(item.title)}</b>: {html.escape(field_label(f.name))}{required}"
        )
        label.add_class("wf-form-label")
        self.media = f.kind in MEDIA_KINDS
        #: what a media field sends when no file is picked: the workflow's own value
        self._default = value
        if self.media:
            accept = f"{f.kind}/*"
            self.widget: widgets.Widget = widgets.FileUpload(accept=accept, multiple=False)
            self.widget.add_class("wf-form-upload")
        else:
            self.widget = field_widget(f, value, description="", slider=True)
        rows: list[widgets.Widget] = [label, self.widget]
        help_text = f.help
        if self.media:  # the catalog's help names URLs and paths: here it is a file
            help_text = f"Pick {'an' if f.kind in ('image', 'audio') else 'a'} {f.kind} file" + (
                "; none picked: the workflow's own." if value not in (None, "") else "."
            )
        if help_text:
            hint = widgets.HTML(f"<small style='color:#6b7280'>{html.escape(help_text)}</small>")
            hint.add_class("wf-form-help")
            rows.append(hint)
        super().__init__(rows, layout=widgets.Layout(margin="0 0 8px 0", width="100%"))
        self.add_class("wf-form-field")
        self.add_class(f"wf-form-field-{css_name(item.node_id)}-{css_name(f.name)}")

    @property
    def label(self) -> str:
        return f"{self.item.title}: {field_label(self.item.spec.name)}"

    def value(self) -> Any:
        """The input's value (``_fields.UNSET``: remove it); ``ValueError`` when the
        widget's text does not parse (the message names the field)."""
        if self.media:
            picked = tuple(getattr(self.widget, "value", ()) or ())
            if not picked:
                return self._default if self._default not in (None, "") else UNSET
            return bytes(picked[0]["content"])
        return parse_field(self.item.spec, getattr(self.widget, "value", None))
