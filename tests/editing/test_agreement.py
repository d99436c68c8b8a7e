"""The editor and ``Workflow.validate`` judge port kinds alike.

For every pair of built-in node types and every output x input port, the editor's
``check_connection`` refuses the edge for its kind exactly when ``Workflow.problems()``
of the two-node workflow with that edge lists a ``kind_mismatch``, and both name the
same kinds and ports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import product

import wireflow_nb.catalog._ports as ports_module
from wireflow_nb import Workflow
from wireflow_nb.catalog import BUILTINS, Catalog, default_catalog
from wireflow_nb.editing.connections import check_connection
from wireflow_nb.editing.state import EditorState

#: what both messages say: (output kind, output, input kind, input)
WORDS = re.compile(r"kind mismatch: (\w+) output (\S+) cannot feed (\w+) input ([^\s;]+)")

Case = tuple[str, str, str, str]  # source type, output, target type, input


@dataclass
class Verdicts:
    cases: list[Case] = field(default_factory=list)
    #: the editor's refusals for the kind, in its words
    editor: dict[Case, str] = field(default_factory=dict)
    #: validate's kind_mismatch problems, in its words
    validate: dict[Case, str] = field(default_factory=dict)


def judge(catalog: Catalog) -> Verdicts:
    """Every edge from an output of one built-in node to an input of another, judged by
    the editor and by ``Workflow.problems``."""
    v = Verdicts()
    types = [spec.node_type for spec in BUILTINS]
    for a, b in product(types, repeat=2):
        wf = Workflow()
        wf.add_node(a, id="a")
        wf.add_node(b, id="b", position=(400, 0))
        boxes = EditorState(wf, catalog).boxes
        for out, inp in product(boxes["a"].outputs, boxes["b"].inputs):
            case = (a, out.name, b, inp.name)
            v.cases.append(case)
            check = check_connection(boxes, [], "a", out.name, "b", inp.name)
            # alone on a fresh graph, the kind is the only reason left to refuse
            assert check.ok or check.code == "kind", (case, check)
            if not check.ok:
                v.editor[case] = check.reason
            edged = wf.copy()
            edged.connect("a", out.name, "b", inp.name)
            found = [p.message for p in edged.problems(catalog=catalog) if p.code == "kind_mismatch"]
            assert len(found) <= 1, (case, found)
            if found:
                v.validate[case] = found[0]
    return v


def test_the_editor_refuses_a_kind_exactly_when_validate_lists_a_kind_mismatch():
    v = judge(default_catalog())
    assert sorted(v.editor) == sorted(v.validate)
    for case, reason in v.editor.items():
        said, listed = WORDS.search(reason), WORDS.search(v.validate[case])
        assert said and listed, (case, reason, v.validate[case])
        assert said.groups() == listed.groups(), (case, reason, v.validate[case])
    # not vacuous: the built-ins make edges of both answers
    assert 0 < len(v.editor) < len(v.cases)


def test_the_agreement_test_sees_a_kind_rule_written_twice(monkeypatch):
    """Guard of the test above: if validate's kind rule drifted from the editor's (here
    the catalog module's ``can_feed`` refuses numbers into text, while the editor keeps
    the function it imported), the two would disagree and the test would fail."""
    original = ports_module.can_feed

    def stricter(out_kind: str, in_kind: str) -> bool:
        return original(out_kind, in_kind) and (out_kind, in_kind) != ("number", "text")

    monkeypatch.setattr(ports_module, "can_feed", stricter)
    v = judge(default_catalog())
    drift = v.validate.keys() - v.editor.keys()
    assert drift and all(case[0] == "input:number" for case in drift)
