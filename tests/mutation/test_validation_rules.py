"""Workflow validation: every problem of a request at once, each naming where it is, and
nothing refused that can run. ``Workflow.problems`` (structure) and the engine's
``analyze`` (types, handles, inputs, batches), as a caller sees them: the problems and
the 400's message.

Written against the mutants of ``wireflow_nb/workflow.py`` and
``wireflow_nb/engine/validation.py`` no test caught (``benchmarks/mutation.py``).
"""

from __future__ import annotations

from typing import Any

import pytest

from wireflow_nb import Problem, Workflow, WorkflowValidationError
from wireflow_nb.batches import MAX_BATCH_RUNS
from wireflow_nb.catalog import Catalog, InputSpec, NodeSpec, OutputSpec, builtin_catalog
from wireflow_nb.engine.validation import analyze, is_blank, problems, validation_error
from wireflow_nb.models import ExecuteRequest


def _echo(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"out": inputs.get("a")}


def _catalog() -> Catalog:
    catalog = builtin_catalog()
    catalog.register(
        NodeSpec(
            "t:bounded",
            "Bounded",
            "test",
            inputs=(
                InputSpec("a", "text"),
                InputSpec("both", "number", minimum=1, maximum=5, port=False),
                InputSpec("low", "integer", minimum=2, port=False),
                InputSpec("high", "number", maximum=0.5, port=False),
                InputSpec("pick", "choice", choices=("x", "y"), port=False),
                InputSpec("free", "number", port=False),
                InputSpec("text_bounded", "text", minimum=1, maximum=2, port=False),
            ),
            outputs=(OutputSpec("out", "any"),),
            executor=_echo,
        )
    )
    catalog.register(
        NodeSpec(
            "t:needs",
            "Needs",
            "test",
            inputs=(InputSpec("a", "text", required=True), InputSpec("many", "any", multiple=True)),
            outputs=(OutputSpec("out", "any"),),
            executor=_echo,
        )
    )
    catalog.register(NodeSpec("t:sink", "Sink", "test", inputs=(), outputs=(), executor=_echo))
    catalog.register(
        NodeSpec("t:count", "Count", "test", outputs=(OutputSpec("count", "number"),), executor=_echo)
    )
    catalog.register(
        NodeSpec("t:broken", "Broken", "test", outputs=(OutputSpec("out"),), executor="no_such_module_xyz:fn")
    )
    return catalog


CATALOG = _catalog()


def _node(node_id: str, node_type: str, **inputs: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "utility", "data": {"nodeType": node_type, "label": node_id, **inputs}}


def _edge(
    source: str, target: str, sh: str | None, th: str | None, edge_id: str | None = None
) -> dict[str, Any]:
    edge: dict[str, Any] = {"source": source, "target": target}
    if edge_id is not None:
        edge["id"] = edge_id
    if sh is not None:
        edge["sourceHandle"] = f"out-{sh}"
    if th is not None:
        edge["targetHandle"] = f"in-{th}"
    return edge


def _problems(
    nodes: list[dict[str, Any]], edges: list[dict[str, Any]] | None = None, **extra: Any
) -> list[Problem]:
    request = ExecuteRequest.model_validate({"nodes": nodes, "edges": edges or [], **extra})
    return problems(request, CATALOG)


def _codes(found: list[Problem]) -> list[tuple[str, str | None, str | None]]:
    return [(p.code, p.node_id, p.field) for p in found]


# -- literal values ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("both", 0, "is 0; it must be between 1 and 5"),
        ("both", 5.5, "is 5.5; it must be between 1 and 5"),
        ("both", "6", "is '6'; it must be between 1 and 5"),
        ("low", 1, "is 1; it must be at least 2"),
        ("high", 0.75, "is 0.75; it must be at most 0.5"),
        ("both", "many", "is 'many', which is not a number"),
        ("both", True, "is True, which is not a number"),
        ("pick", "z", "is 'z'; it must be one of 'x', 'y'"),
    ],
)
def test_a_bad_literal_is_named_with_its_bounds(name: str, value: Any, message: str) -> None:
    (problem,) = _problems([_node("n", "t:bounded", **{name: value})])
    assert (problem.code, problem.node_id, problem.field) == ("invalid_input", "n", name)
    assert problem.message == f"node 'n' input {name!r} {message}"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("both", 1),
        ("both", 5),
        ("both", "3"),
        ("both", 2.5),
        ("low", 2),
        ("low", 10**9),
        ("high", 0.5),
        ("high", -3),
        ("both", ""),
        ("both", "  "),
        ("both", None),
        ("both", [1, 2]),
        ("both", {"x": 1}),
        ("pick", "y"),
        ("free", "anything"),
        ("text_bounded", "any text"),
    ],
)
def test_a_good_or_empty_literal_is_no_problem(name: str, value: Any) -> None:
    assert _problems([_node("n", "t:bounded", **{name: value})]) == []


def test_required_inputs_and_blank_values() -> None:
    assert is_blank(None) and is_blank("") and is_blank(" \n") and not is_blank(0) and not is_blank("x")
    for blank in ("", "   ", None):
        (problem,) = _problems([_node("n", "t:needs", a=blank)])
        assert _codes([problem]) == [("missing_input", "n", "a")]
        assert problem.message == "node 'n' (n) needs input 'a': set it or connect an edge to it"
    assert _problems([_node("n", "t:needs", a=0)]) == []
    assert _problems([_node("n", "t:needs", a="x")]) == []


def test_an_iterated_input_is_not_missing() -> None:
    configs = [{"nodeId": "n", "field": "a", "values": ["x", "y"]}]
    assert _problems([_node("n", "t:needs")], iteratorConfigs=configs) == []
    other = [{"nodeId": "n", "field": "many", "values": ["x"]}]
    assert _codes(_problems([_node("n", "t:needs")], iteratorConfigs=other)) == [("missing_input", "n", "a")]


# -- edges ------------------------------------------------------------------------------------
def test_edges_feed_inputs_and_count() -> None:
    nodes = [_node("s", "input:text", text="x"), _node("t", "t:needs")]
    assert _problems(nodes, [_edge("s", "t", "text", "a")]) == []
    # two edges into a single input
    (problem,) = _problems(nodes, [_edge("s", "t", "text", "a"), _edge("s", "t", "prompt", "a")])
    assert _codes([problem]) == [("too_many_edges", "t", "a")]
    assert problem.message == "node 't' input 'a' is fed by 2 edges; it takes one"
    # a multiple input takes several
    feeds = [_edge("s", "t", "text", "a"), _edge("s", "t", "text", "many"), _edge("s", "t", "prompt", "many")]
    assert _problems(nodes, feeds) == []


def test_unknown_handles_name_the_edge_the_node_and_what_exists() -> None:
    nodes = [_node("s", "input:text", text="x"), _node("t", "t:needs", a="v"), _node("z", "t:sink")]
    found = _problems(
        nodes,
        [
            _edge("s", "t", "nope", "a", "e1"),
            _edge("s", "t", "text", "nope"),
            _edge("s", "z", "text", "x", "e3"),
        ],
    )
    assert [(p.code, p.node_id, p.edge_id, p.field) for p in found] == [
        ("unknown_handle", "s", "e1", "sourceHandle"),
        ("unknown_handle", "t", None, "targetHandle"),
        ("unknown_handle", "z", "e3", "targetHandle"),
    ]
    assert found[0].message == (
        "edge e1 leaves node 's' by sourceHandle 'out-nope', which is not an output of 'input:text'; "
        "outputs: prompt, text"
    )
    assert found[1].message == (
        "edge #1 enters node 't' by targetHandle 'in-nope', which is not an input of 't:needs'; inputs: a, many"
    )
    assert found[2].message.endswith("which is not an input of 't:sink'; inputs: (none)")


def test_an_edge_without_handles_uses_the_first_output_and_needs_an_input() -> None:
    nodes = [_node("s", "input:text", text="x"), _node("t", "t:needs", a="v")]
    (problem,) = _problems(nodes, [_edge("s", "t", None, None, "e")])
    assert (problem.code, problem.edge_id, problem.field) == ("unknown_handle", "e", "targetHandle")
    assert "targetHandle None" in problem.message
    # without a source handle the first output feeds the input: a connected input is not missing
    assert (
        _problems([_node("s", "input:text", text="x"), _node("t", "t:needs")], [_edge("s", "t", None, "a")])
        == []
    )


def test_dynamic_outputs_and_template_placeholders_are_handles() -> None:
    nodes = [
        _node("trig", "trigger"),
        _node("tpl", "text:template", template="Hello {{name}} and {{ other }}"),
    ]
    edges = [_edge("trig", "tpl", "anything", "name"), _edge("trig", "tpl", "field2", "other")]
    assert _problems(nodes, edges, triggerData={"anything": "x"}) == []
    (problem,) = _problems(nodes, [_edge("trig", "tpl", "anything", "missing")])
    assert (problem.code, problem.field) == ("unknown_handle", "targetHandle")
    assert problem.message.endswith("inputs: name, other, template")


def test_a_type_that_cannot_be_loaded_is_named() -> None:
    (problem,) = _problems([_node("b", "t:broken")])
    assert _codes([problem]) == [("no_executor", "b", "nodeType")]
    assert problem.message.startswith(
        "node 'b' of type 't:broken' cannot run locally: its executor could not be loaded (ModuleNotFoundError: "
    )
    # its edges are not checked against a type that is not there
    nodes = [_node("b", "t:broken"), _node("t", "t:needs")]
    assert _codes(_problems(nodes, [_edge("b", "t", "out", "a")])) == [("no_executor", "b", "nodeType")]


def test_each_node_of_an_unknown_type_is_named() -> None:
    found = _problems([_node("a", "hosted:x"), _node("b", "hosted:x"), _node("c", "input:text")])
    assert _codes(found) == [("unknown_node_type", "a", "nodeType"), ("unknown_node_type", "b", "nodeType")]


def test_only_the_target_and_its_ancestors_are_checked() -> None:
    nodes = [
        _node("s", "input:text", text="x"),
        _node("t", "t:needs"),
        _node("after", "t:needs"),  # missing input, but downstream of the target
        _node("alone", "hosted:x"),
    ]
    edges = [_edge("s", "t", "text", "a"), _edge("t", "after", "out", "nope")]
    assert _problems(nodes, edges, targetNodeId="t") == []
    assert _codes(_problems(nodes, edges)) == [
        ("unknown_node_type", "alone", "nodeType"),
        ("unknown_handle", "after", "targetHandle"),
        ("missing_input", "after", "a"),
    ]


# -- structure --------------------------------------------------------------------------------
def test_structural_problems_each_once_with_their_names() -> None:
    nodes = [
        _node("a", "input:text"),
        _node("a", "input:text"),
        _node("", "input:text"),
        _node("b", "t:needs", a="x"),
    ]
    edges = [
        _edge("a", "b", "text", "many", "e"),
        _edge("a", "b", "text", "many", "e"),
        _edge("ghost", "b", "text", "many"),
        _edge("b", "ghost2", "out", "x", "e9"),
    ]
    found = _problems(nodes, edges, targetNodeId="nobody")
    assert [(p.code, p.node_id, p.edge_id) for p in found if p.code != "cycle"] == [
        ("duplicate_node_id", "a", None),
        ("empty_node_id", None, None),
        ("duplicate_edge_id", None, "e"),
        ("unknown_source", "ghost", None),
        ("unknown_target", "ghost2", "e9"),
        ("unknown_target_node", "nobody", None),
    ]
    by_code = {p.code: p.message for p in found}
    assert by_code["duplicate_node_id"] == "node id 'a' is used by more than one node; ids must be unique"
    assert by_code["empty_node_id"] == "a node has an empty id; give every node a unique id"
    assert by_code["duplicate_edge_id"] == "edge id 'e' is used more than once"
    assert by_code["unknown_source"] == (
        "edge #2 has source 'ghost', which is not a node; connect it to an existing node or remove it"
    )
    assert by_code["unknown_target"].startswith("edge e9 has target 'ghost2', which is not a node")
    assert by_code["unknown_target_node"].startswith(
        "targetNodeId 'nobody' is not a node of the workflow; nodes: "
    )


def test_a_cycle_is_named_by_its_path() -> None:
    nodes = [_node("a", "t:needs", a="x"), _node("b", "t:needs", a="x")]
    found = _problems(nodes, [_edge("a", "b", "out", "many"), _edge("b", "a", "out", "many")])
    (cycle,) = [p for p in found if p.code == "cycle"]
    assert cycle.message in (
        "the graph has a cycle: a -> b -> a; remove one of its edges",
        "the graph has a cycle: b -> a -> b; remove one of its edges",
    )
    assert cycle.node_id == cycle.path[0] and len(cycle.path) == 3


def test_workflow_problems_and_validate() -> None:
    flow = Workflow("w")
    flow.add_node("input:text", id="a", text="x")
    flow.add_node("model:fal:text-to-image", id="b")
    assert flow.problems() == []
    flow.validate()  # no problem: no error
    assert flow.problems(target_node_id="a") == []
    flow.connect("a", "text", "b", "prompt")
    assert flow.problems() == []
    flow.add_edge(
        {"id": "bad", "source": "b", "target": "a", "sourceHandle": "out-images", "targetHandle": "in-text"}
    )
    found = flow.problems()
    assert {p.code for p in found} >= {"cycle"}
    with pytest.raises(WorkflowValidationError) as info:
        flow.validate(target_node_id="nobody")
    assert "Workflow 'w' is invalid" in str(info.value)
    assert "unknown_target_node" in [p.code for p in info.value.problems]


def test_an_edge_of_the_wrong_kind_is_a_problem_only_between_real_nodes() -> None:
    flow = Workflow("w")
    flow.add_node("input:number", id="n")
    flow.add_node("image:resize", id="r")
    flow.add_edge({"source": "n", "target": "r", "sourceHandle": "out-value", "targetHandle": "in-image"})
    assert [p.code for p in flow.problems()] == ["kind_mismatch"]
    flow.add_edge({"source": "n", "target": "ghost", "sourceHandle": "out-value", "targetHandle": "in-image"})
    assert [p.code for p in flow.problems()] == ["unknown_target", "kind_mismatch"]


# -- batches ----------------------------------------------------------------------------------
def test_iterator_configs_each_problem_named() -> None:
    nodes = [_node("p", "input:text", text="x")]
    found = _problems(
        nodes,
        iteratorConfigs=[
            {"nodeId": "ghost", "field": "text", "values": ["a"]},
            {"nodeId": "p", "field": "", "values": []},
            {"nodeId": "p", "field": "text", "values": ["a", "b"], "repeat": 0},
        ],
    )
    assert [(p.code, p.field) for p in found] == [
        ("unknown_iterator_node", "iteratorConfigs[0].nodeId"),
        ("bad_iterator", "iteratorConfigs[1]"),
        ("bad_iterator", "iteratorConfigs[1].values"),
        ("bad_iterator", "iteratorConfigs[2]"),
        ("iterator_lengths", "iteratorConfigs"),
    ]
    assert found[0].message == "iteratorConfigs[0].nodeId 'ghost' is not a node of the workflow"
    assert found[3].message == "iteratorConfigs[2].repeat is 0; it must be 1 or more"
    assert found[4].message.endswith("equal lengths; got 1, 0, 2")


def test_the_largest_batch_is_allowed_and_one_more_run_is_not() -> None:
    nodes = [_node("p", "input:text", text="x")]
    half = MAX_BATCH_RUNS // 2
    assert (
        _problems(
            nodes, iteratorConfigs=[{"nodeId": "p", "field": "text", "values": ["v"] * half, "repeat": 2}]
        )
        == []
    )
    found = _problems(
        nodes, iteratorConfigs=[{"nodeId": "p", "field": "text", "values": ["v"] * (half + 1), "repeat": 2}]
    )
    assert [(p.code, p.field) for p in found] == [("batch_too_large", "iteratorConfigs")]
    assert found[0].message == (
        f"the batch would start {2 * (half + 1)} runs; the local engine starts at most {MAX_BATCH_RUNS} per request"
    )
    # the repeat that counts is the largest of the configs
    two = [
        {"nodeId": "p", "field": "text", "values": ["v"] * 2, "repeat": 1},
        {"nodeId": "p", "field": "label", "values": ["v"] * 2, "repeat": MAX_BATCH_RUNS},
    ]
    assert [p.code for p in _problems(nodes, iteratorConfigs=two)] == ["batch_too_large"]


# -- the 400 ----------------------------------------------------------------------------------
def test_the_400_sums_up_at_most_three_problems() -> None:
    made = [Problem("c", f"problem {i}") for i in range(5)]
    assert validation_error(made[:1]).body["error"] == "Invalid workflow: problem 0"
    assert validation_error(made[:2]).body["error"] == "Invalid workflow: 2 problems: problem 0; problem 1"
    assert validation_error(made[:3]).body["error"] == (
        "Invalid workflow: 3 problems: problem 0; problem 1; problem 2"
    )
    four = validation_error(made[:4])
    assert four.body["error"] == (
        "Invalid workflow: 4 problems: problem 0; problem 1; problem 2; and 1 more (see details)"
    )
    assert len(four.body["details"]) == 4 and four.status_code == 400
    assert str(validation_error(made)).count("more (see details)") == 1


def test_the_index_lists_what_runs_in_order() -> None:
    nodes = [_node("b", "t:needs"), _node("a", "input:text", text="x"), _node("c", "t:needs", a="y")]
    request = ExecuteRequest.model_validate(
        {"nodes": nodes, "edges": [_edge("a", "b", "text", "a"), _edge("a", "b", "prompt", "many")]}
    )
    index = analyze(request, CATALOG)
    assert index.problems == []
    assert index.run_ids == ["b", "a", "c"]
    assert index.topo.index("a") < index.topo.index("b")
    assert index.preds["b"] == ["a"] and index.succs["a"] == ["b"]
    assert index.feeds["b"] == {"a": [("a", "text")], "many": [("a", "prompt")]}
    assert index.positions == {"b": 0, "a": 1, "c": 2}


def test_the_engine_refuses_an_edge_of_the_wrong_kind_like_the_workflow_does() -> None:
    """``Workflow.problems()`` names an edge whose output kind cannot feed its input; the
    engine refuses the same request for the same reason (before, it did only when the
    graph had another structural problem, and otherwise ran the node into a failure)."""
    nodes = [_node("n", "input:number", value=3), _node("r", "image:resize")]
    edge = {"id": "e", "source": "n", "target": "r", "sourceHandle": "out-value", "targetHandle": "in-image"}
    found = _problems(nodes, [edge])
    assert [(p.code, p.edge_id) for p in found] == [("kind_mismatch", "e")]
    # the same with an unrelated structural problem: the same kind problem, once
    found = _problems([*nodes, _node("n", "input:text")], [edge])
    assert sorted(p.code for p in found) == ["duplicate_node_id", "kind_mismatch"]
    # an edge that does not lead to the target does not block a targeted run
    assert _problems([*nodes, _node("t", "input:text", text="x")], [edge], targetNodeId="t") == []


def test_edge_kinds_are_checked_against_the_engines_own_catalog() -> None:
    """A type registered only in the engine's catalog has its ports checked too."""
    nodes = [_node("c", "t:count"), _node("r", "image:resize")]
    edge = {"id": "e", "source": "c", "target": "r", "sourceHandle": "out-count", "targetHandle": "in-image"}
    assert [p.code for p in _problems(nodes, [edge])] == ["kind_mismatch"]
    unsound = _problems([*nodes, _node("c", "input:text")], [edge])
    assert sorted(p.code for p in unsound) == ["duplicate_node_id", "kind_mismatch"]
    fine = {"id": "f", "source": "c", "target": "b", "sourceHandle": "out-count", "targetHandle": "in-a"}
    assert _problems([_node("c", "t:count"), _node("b", "t:bounded")], [fine]) == []


@pytest.mark.parametrize(
    ("nodes", "edges", "extra", "code"),
    [
        ([_node("a", "input:text"), _node("a", "input:text")], [], {}, "duplicate_node_id"),
        ([_node("", "input:text")], [], {}, "empty_node_id"),
        ([_node("a", "input:text")], [_edge("ghost", "a", "text", "text")], {}, "unknown_source"),
        ([_node("a", "input:text")], [_edge("a", "ghost", "text", "text")], {}, "unknown_target"),
        (
            [_node("a", "input:text"), _node("b", "t:needs", a="x")],
            [_edge("a", "b", "text", "many", "e"), _edge("a", "b", "prompt", "many", "e")],
            {},
            "duplicate_edge_id",
        ),
        ([_node("a", "input:text")], [], {"targetNodeId": "nobody"}, "unknown_target_node"),
        (
            [_node("a", "t:needs", a="x"), _node("b", "t:needs", a="x")],
            [_edge("a", "b", "out", "many"), _edge("b", "a", "out", "many")],
            {},
            "cycle",
        ),
    ],
)
def test_each_structural_problem_alone_is_refused(
    nodes: list[dict[str, Any]], edges: list[dict[str, Any]], extra: dict[str, Any], code: str
) -> None:
    assert [p.code for p in _problems(nodes, edges, **extra)] == [code]


def test_the_inputs_after_a_connected_one_are_still_checked() -> None:
    nodes = [_node("s", "input:text", text="x"), _node("b", "t:bounded", both=0, pick="z")]
    found = _problems(nodes, [_edge("s", "b", "text", "a")])
    assert _codes(found) == [("invalid_input", "b", "both"), ("invalid_input", "b", "pick")]


def test_the_edges_after_a_bad_one_are_still_checked() -> None:
    nodes = [_node("s", "input:text", text="x"), _node("t", "t:needs"), _node("u", "t:needs")]
    edges = [
        _edge("s", "t", "text", "nope", "e1"),
        _edge("s", "u", "text", "a", "e2"),
        _edge("s", "t", "text", "nope2", "e3"),
    ]
    found = _problems(nodes, edges)
    assert [(p.code, p.edge_id) for p in found if p.code == "unknown_handle"] == [
        ("unknown_handle", "e1"),
        ("unknown_handle", "e3"),
    ]
    assert ("missing_input", "t", "a") in _codes(found)
    assert ("missing_input", "u", "a") not in _codes(found)  # e2 fed it


def test_types_are_resolved_past_a_type_that_cannot_be_loaded() -> None:
    found = _problems([_node("b", "t:broken"), _node("h", "hosted:x"), _node("n", "t:needs")])
    assert _codes(found) == [
        ("no_executor", "b", "nodeType"),
        ("unknown_node_type", "h", "nodeType"),
        ("missing_input", "n", "a"),
    ]


def test_edges_outside_a_targeted_run_do_not_stop_the_edges_into_it() -> None:
    nodes = [_node("s", "input:text", text="x"), _node("other", "t:needs", a="y"), _node("t", "t:needs")]
    edges = [_edge("s", "other", "text", "many"), _edge("s", "t", "text", "a")]
    assert _problems(nodes, edges, targetNodeId="t") == []


def test_an_edge_without_a_source_handle_carries_the_first_output() -> None:
    nodes = [_node("s", "input:text", text="x"), _node("t", "t:needs")]
    request = ExecuteRequest.model_validate({"nodes": nodes, "edges": [_edge("s", "t", None, "a")]})
    index = analyze(request, CATALOG)
    assert index.problems == [] and index.feeds["t"] == {"a": [("s", "text")]}


def test_an_edge_from_an_unknown_type_does_not_stop_the_edges_after_it() -> None:
    nodes = [_node("h", "hosted:x"), _node("s", "input:text", text="x"), _node("t", "t:needs")]
    edges = [_edge("h", "t", None, "many"), _edge("s", "t", "text", "a")]
    assert _codes(_problems(nodes, edges)) == [("unknown_node_type", "h", "nodeType")]


def test_the_inputs_after_an_iterated_one_are_still_checked() -> None:
    configs = [{"nodeId": "b", "field": "a", "values": ["x"]}]
    found = _problems([_node("b", "t:bounded", both=0)], iteratorConfigs=configs)
    assert _codes(found) == [("invalid_input", "b", "both")]


def test_only_values_the_caller_gave_are_checked_against_the_bounds() -> None:
    """A type's own default is its author's choice: not checked (nor refused) per request."""
    catalog = builtin_catalog()
    catalog.register(
        NodeSpec(
            "t:odd-default",
            "Odd",
            "test",
            inputs=(InputSpec("n", "integer", default=0, minimum=1, port=False),),
            outputs=(OutputSpec("out"),),
            executor=_echo,
        )
    )
    request = ExecuteRequest.model_validate({"nodes": [_node("o", "t:odd-default")], "edges": []})
    assert problems(request, catalog) == []
    given = ExecuteRequest.model_validate({"nodes": [_node("o", "t:odd-default", n=0)], "edges": []})
    assert _codes(problems(given, catalog)) == [("invalid_input", "o", "n")]
