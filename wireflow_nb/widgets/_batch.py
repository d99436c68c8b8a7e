"""The "Batch & trigger" tab of ``WorkflowApp``: run once per value of a node's field
(``iteratorConfigs``), and trigger data for ``{{trigger.x}}``.

What this module owns: the panel's widgets, the choice of node and field (from the
catalog's inputs of the node's type), and the parsing of what the user typed into
``IteratorConfig``s and trigger data (``parse_batch_values``, ``parse_trigger``, pure).
It imports ipywidgets, the catalog and the wire models; it runs nothing.

CSS classes: ``wf-app-batch-enabled``, ``wf-app-batch-node``, ``wf-app-batch-field``,
``wf-app-batch-values``, ``wf-app-batch-repeat``, ``wf-app-trigger``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets

from ..models import IteratorConfig
from ..workflow import Workflow

__all__ = ["BatchPanel", "parse_batch_values", "parse_trigger"]

_TEXT_FIELD_TYPES = ("text", "choice", "image", "video", "audio")


def parse_batch_values(text: str, *, as_text: bool) -> list[Any]:
    """The values of a batch: a JSON list, or one value per line (each read as JSON when
    it is JSON and the field is not a text field: ``7`` -> 7, ``a fox`` -> "a fox")."""
    stripped = text.strip()
    if not stripped:
        return []
    if stripped.startswith("["):
        try:
            values = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"the batch values look like a JSON list but are not valid JSON: {exc}"
            ) from None
        if not isinstance(values, list):
            raise ValueError("the batch values must be a JSON list")
        return values
    values = []
    for line in stripped.splitlines():
        line = line.strip()
        if not line:
            continue
        if as_text:
            values.append(line)
            continue
        try:
            values.append(json.loads(line))
        except json.JSONDecodeError:
            values.append(line)
    return values


def parse_trigger(text: str) -> dict[str, Any] | None:
    """Trigger data from its text box: None when empty; a JSON object otherwise."""
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"trigger data is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None
    if not isinstance(value, dict):
        raise ValueError('trigger data must be a JSON object, like {"topic": "foxes"}')
    return value


def _spec(node_type: str) -> Any:
    from ..catalog import default_catalog

    return default_catalog().get(node_type)


class BatchPanel(widgets.VBox):
    """The batch (node, field, values, repeat) and trigger settings of the next runs.

    ``workflow()`` gives the workflow being edited (its nodes fill the node choice);
    ``on_change()`` is called when a setting that changes the request changes.
    """

    def __init__(self, workflow: Callable[[], Workflow], on_change: Callable[[], None]) -> None:
        self._workflow = workflow
        self.batch_enabled = widgets.Checkbox(value=False, description="Run as a batch", indent=False)
        self.batch_enabled.add_class("wf-app-batch-enabled")
        self.batch_node = widgets.Dropdown(description="Node", options=[])
        self.batch_node.add_class("wf-app-batch-node")
        self.batch_field = widgets.Combobox(description="Field", options=[], ensure_option=False)
        self.batch_field.add_class("wf-app-batch-field")
        self.batch_values = widgets.Textarea(
            description="Values",
            placeholder="one value per line, or a JSON list",
            layout=widgets.Layout(width="420px"),
        )
        self.batch_values.add_class("wf-app-batch-values")
        self.batch_repeat = widgets.BoundedIntText(value=1, min=1, max=100, description="Repeat")
        self.batch_repeat.add_class("wf-app-batch-repeat")
        self.trigger_text = widgets.Textarea(
            description="Trigger",
            placeholder='trigger data, a JSON object: {"topic": "foxes"}',
            layout=widgets.Layout(width="420px"),
        )
        self.trigger_text.add_class("wf-app-trigger")
        self.batch_node.observe(lambda _: self._node_changed(), names="value")
        for control in (
            self.batch_enabled,
            self.batch_node,
            self.batch_field,
            self.batch_values,
            self.batch_repeat,
        ):
            control.observe(lambda _: on_change(), names="value")
        super().__init__(
            [
                widgets.HTML(
                    "A batch runs the workflow once per value, with the node's field set to it "
                    "(<code>iteratorConfigs</code>). Trigger data fills <code>{{trigger.x}}</code> "
                    "and the outputs of a Trigger node (<code>triggerData</code>)."
                ),
                self.batch_enabled,
                self.batch_node,
                self.batch_field,
                self.batch_values,
                self.batch_repeat,
                self.trigger_text,
            ]
        )

    def refresh_nodes(self) -> None:
        """Offer the nodes of the workflow (after it changed), keeping the choice."""
        options = [(f"{n.label} ({n.id})", n.id) for n in self._workflow().nodes]
        current = self.batch_node.value
        self.batch_node.options = options
        if current in [v for _, v in options]:
            self.batch_node.value = current
        self._node_changed()

    def _node_changed(self) -> None:
        node_id = self.batch_node.value
        workflow = self._workflow()
        fields: list[str] = []
        if node_id and workflow.has_node(node_id):
            node = workflow.node(node_id)
            spec = _spec(node.node_type)
            fields = [s.name for s in spec.inputs] if spec is not None else list(node.inputs)
        self.batch_field.options = fields
        if not self.batch_field.value and fields:
            self.batch_field.value = fields[0]

    def set_batch(self, node_id: str, field: str, values: Sequence[Any], *, repeat: int = 1) -> None:
        """Turn the batch on: one run per value of ``field`` of ``node_id``."""
        self.batch_node.value = node_id
        self.batch_field.value = field
        self.batch_values.value = json.dumps(list(values), ensure_ascii=False)
        self.batch_repeat.value = repeat
        self.batch_enabled.value = True

    def set_trigger(self, data: Mapping[str, Any] | None) -> None:
        """Trigger data for the next runs (None: none)."""
        self.trigger_text.value = json.dumps(dict(data), ensure_ascii=False, indent=2) if data else ""

    def trigger_data(self) -> dict[str, Any] | None:
        """The trigger data typed in (``ValueError`` when it is not a JSON object)."""
        return parse_trigger(self.trigger_text.value)

    def iterator_configs(self) -> list[IteratorConfig] | None:
        """The batch as ``iteratorConfigs`` (None: off; ``ValueError``: incomplete)."""
        if not self.batch_enabled.value:
            return None
        node_id, field = self.batch_node.value, (self.batch_field.value or "").strip()
        if not node_id or not field:
            raise ValueError("pick the batch's node and field, or untick 'Run as a batch'")
        as_text = True
        workflow = self._workflow()
        if workflow.has_node(node_id):
            spec = _spec(workflow.node(node_id).node_type)
            field_spec = spec.input(field) if spec is not None else None
            as_text = field_spec is None or field_spec.type in _TEXT_FIELD_TYPES
        values = parse_batch_values(self.batch_values.value, as_text=as_text)
        if not values:
            raise ValueError("the batch has no values: give one per line, or untick 'Run as a batch'")
        return [
            IteratorConfig(node_id=node_id, field=field, values=values, repeat=int(self.batch_repeat.value))
        ]
