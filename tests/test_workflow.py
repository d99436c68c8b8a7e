"""The Workflow builder: building, validation, request conversion, save/load."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wireflow_nb import ExecuteRequest, IteratorConfig, Workflow, WorkflowValidationError
from wireflow_nb.graphs import find_cycles


def build_demo() -> tuple[Workflow, str, str]:
    wf = Workflow(id="demo")
    prompt = wf.add_node("input:text", text="a red fox", position=(0, 0))
    image = wf.add_node("model:fal:text-to-image", label="Fox", seed=7, position={"x": 300, "y": 40})
    wf.connect(prompt, "text", image, "prompt")
    return wf, prompt, image


def test_add_node_and_connect_build_the_graph() -> None:
    wf, prompt, image = build_demo()
    assert [n.id for n in wf.nodes] == [prompt, image] == ["node-1", "node-2"]
    node = wf.node(image)
    assert node.data == {
        "label": "Fox",
        "nodeType": "model:fal:text-to-image",
        "category": "model",
        "seed": 7,
    }
    assert node.type == "model"
    assert (node.position.x, node.position.y) == (300, 40)
    (edge,) = wf.edges
    assert (edge.source, edge.source_handle, edge.target, edge.target_handle) == (
        prompt,
        "text",
        image,
        "prompt",
    )
    assert wf.problems() == []


def test_catalog_fills_label_and_kind() -> None:
    wf = Workflow()
    nid = wf.add_node("input:text", text="x")
    assert wf.node(nid).label == "Text"
    assert wf.node(nid).type == "input"
    other = wf.add_node("generate:nano_banana_2", prompt="p")
    assert wf.node(other).data["category"] == "generate"
    assert wf.node(other).type == "model"


def test_duplicate_id_and_missing_nodes_are_refused_at_once() -> None:
    wf, prompt, _ = build_demo()
    with pytest.raises(ValueError, match="already exists"):
        wf.add_node("input:text", id=prompt)
    with pytest.raises(KeyError, match="'nope'"):
        wf.connect(prompt, "text", "nope", "prompt")
    with pytest.raises(KeyError, match="no node 'ghost'"):
        wf.node("ghost")


def test_remove_node_removes_its_edges() -> None:
    wf, prompt, image = build_demo()
    wf.remove_node(prompt)
    assert [n.id for n in wf.nodes] == [image]
    assert wf.edges == []


def test_remove_edge() -> None:
    wf, _, _ = build_demo()
    (edge,) = wf.edges
    assert edge.id is not None
    wf.remove_edge(edge.id)
    assert wf.edges == []
    with pytest.raises(KeyError):
        wf.remove_edge(edge.id)


def test_validate_lists_every_problem() -> None:
    wf = Workflow.from_dict(
        {
            "nodes": [
                {
                    "id": "a",
                    "type": "input",
                    "position": {"x": 0, "y": 0},
                    "data": {"nodeType": "input:text"},
                },
                {
                    "id": "a",
                    "type": "input",
                    "position": {"x": 0, "y": 0},
                    "data": {"nodeType": "input:text"},
                },
                {
                    "id": "b",
                    "type": "utility",
                    "position": {"x": 0, "y": 0},
                    "data": {"nodeType": "text:template"},
                },
                {
                    "id": "c",
                    "type": "utility",
                    "position": {"x": 0, "y": 0},
                    "data": {"nodeType": "text:template"},
                },
            ],
            "edges": [
                {"id": "e1", "source": "b", "target": "c", "sourceHandle": "text", "targetHandle": "x"},
                {"id": "e2", "source": "c", "target": "b", "sourceHandle": "text", "targetHandle": "y"},
                {"id": "e3", "source": "a", "target": "zz", "sourceHandle": "text", "targetHandle": "x"},
            ],
        }
    )
    with pytest.raises(WorkflowValidationError) as info:
        wf.validate(target_node_id="missing")
    codes = sorted(p.code for p in info.value.problems)
    assert codes == ["cycle", "duplicate_node_id", "unknown_target", "unknown_target_node"]
    cycle = next(p for p in info.value.problems if p.code == "cycle")
    assert cycle.path in (("b", "c", "b"), ("c", "b", "c"))
    message = str(info.value)
    assert " -> ".join(cycle.path) in message
    assert "'missing'" in message and "'zz'" in message
    assert wf.problems(target_node_id="missing") == info.value.problems


def test_find_cycles_reports_each_cycle_and_survives_deep_chains() -> None:
    assert find_cycles(["a"], [("a", "a")]) == [["a", "a"]]
    chain = [str(i) for i in range(20000)]
    assert find_cycles(chain, list(itertools.pairwise(chain))) == []
    two = find_cycles(["a", "b", "c", "d"], [("a", "b"), ("b", "a"), ("c", "d"), ("d", "c")])
    assert len(two) == 2


def test_to_request_is_a_deep_copy_with_options() -> None:
    wf, prompt, image = build_demo()
    req = wf.to_request(
        target_node_id=image,
        trigger_data={"who": "fox"},
        iterator_configs=[{"nodeId": prompt, "field": "text", "values": ["a", "b"]}],
    )
    assert isinstance(req, ExecuteRequest)
    wire = req.to_wire()
    assert wire["targetNodeId"] == image
    assert wire["triggerData"] == {"who": "fox"}
    assert wire["iteratorConfigs"] == [{"nodeId": prompt, "field": "text", "values": ["a", "b"]}]
    assert isinstance(req.iterator_configs and req.iterator_configs[0], IteratorConfig)
    wf.set_input(prompt, "text", "changed")
    assert req.nodes[0].data["text"] == "a red fox"
    assert "targetNodeId" not in wf.to_request().to_wire()


def test_from_request_round_trip() -> None:
    wf, _, _ = build_demo()
    again = Workflow.from_request(wf.to_request(), id="demo")
    assert again.to_dict() == wf.to_dict()
    from_json = Workflow.from_request(wf.to_request().to_wire(), id="demo")
    assert from_json.to_dict() == wf.to_dict()


def test_save_and_load(tmp_path: Path) -> None:
    wf, _, _ = build_demo()
    path = wf.save(tmp_path / "demo.json")
    loaded = Workflow.load(path)
    assert loaded == wf
    assert loaded.id == "demo"
    assert not list(tmp_path.glob(".*tmp*")), "no temporary file is left behind"


HOSTED_EXPORT: dict[str, Any] = {
    "name": "Hosted flow",
    "viewport": {"x": -12.5, "y": 40, "zoom": 0.75},
    "nodes": [
        {
            "id": "n1",
            "type": "basedNode",
            "position": {"x": 0, "y": 0},
            "data": {
                "label": "Prompt",
                "nodeType": "input:text",
                "category": "input",
                "config": {"text": "neon city"},
                "params": {"text": "neon city"},
                "outputs": [{"id": "prompt", "label": "Prompt", "type": "TEXT"}],
                "selectedOutput": 0,
            },
            "width": 220,
            "height": 96,
            "selected": False,
        },
        {
            "id": "n2",
            "type": "basedNode",
            "position": {"x": 320.5, "y": 12},
            "data": {
                "label": "Nano Banana",
                "nodeType": "generate:nano_banana_2",
                "category": "generate",
                "params": {"aspectRatio": "16:9"},
                "inputs": [{"id": "prompt", "label": "Prompt", "type": "TEXT"}],
                "outputs": [{"id": "image", "label": "Image", "type": "IMAGE"}],
                "result": {"url": "https://cdn.example/stale.png"},
            },
        },
    ],
    "edges": [
        {
            "id": "xy-edge__n1out-prompt-n2in-prompt",
            "source": "n1",
            "target": "n2",
            "sourceHandle": "out-prompt",
            "targetHandle": "in-prompt",
            "animated": True,
        }
    ],
}


def test_hosted_export_loads_and_saves_unchanged(tmp_path: Path) -> None:
    source = tmp_path / "hosted.json"
    source.write_text(json.dumps(HOSTED_EXPORT))
    wf = Workflow.load(source)
    assert wf.id == "hosted"
    assert wf.node("n2").inputs == {"aspectRatio": "16:9"}
    assert wf.edges[0].target_port == "prompt"
    out = wf.save(tmp_path / "out.json")
    assert json.loads(out.read_text()) == HOSTED_EXPORT


def test_load_reports_bad_files_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(WorkflowValidationError, match="not valid JSON"):
        Workflow.load(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"hello": 1}))
    with pytest.raises(WorkflowValidationError, match="no 'nodes' list"):
        Workflow.load(wrong)
    malformed = tmp_path / "malformed.json"
    malformed.write_text(json.dumps({"nodes": [{"type": "x"}], "edges": []}))
    with pytest.raises(WorkflowValidationError, match=r"nodes\[0\]\.id: Field required"):
        Workflow.load(malformed)


def test_hosted_limits_are_checked_with_a_clear_error() -> None:
    wf = Workflow()
    for i in range(101):
        wf.add_node("input:text", id=f"n{i}")
    with pytest.raises(WorkflowValidationError, match="at most 100"):
        wf.check_hosted_limits()
    wf.remove_node("n0")
    wf.check_hosted_limits()


def test_observers_hear_every_change() -> None:
    seen: list[str] = []
    wf = Workflow()
    unsubscribe = wf.observe(lambda _wf, what: seen.append(what))
    a = wf.add_node("input:text")
    b = wf.add_node("text:template", template="{{x}}")
    edge = wf.connect(a, "text", b, "x")
    wf.set_input(a, "text", "hi")
    wf.move_node(a, 10, 20)
    wf.remove_edge(edge)
    wf.remove_node(b)
    unsubscribe()
    wf.add_node("input:text")
    assert seen == ["add_node", "add_node", "connect", "set_input", "move_node", "remove_edge", "remove_node"]


# -- property tests: random valid graphs survive every conversion ------------------------

NODE_TYPES = ["input:text", "text:template", "model:fal:text-to-image", "generate:flux_2", "image:resize"]
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**9), 10**9),
    st.text(max_size=20),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)


@st.composite
def valid_workflows(draw: st.DrawFn) -> Workflow:
    wf = Workflow(id=draw(st.text(alphabet="abcxyz-_0123", min_size=1, max_size=12)))
    count = draw(st.integers(1, 12))
    ids: list[str] = []
    for i in range(count):
        inputs = draw(
            st.dictionaries(
                st.sampled_from(["prompt", "seed", "text", "width", "extra"]), json_scalars, max_size=3
            )
        )
        ids.append(
            wf.add_node(
                draw(st.sampled_from(NODE_TYPES)),
                id=f"n{i}",
                label=draw(st.one_of(st.none(), st.text(max_size=15))),
                position=(draw(st.integers(-500, 500)), draw(st.floats(-500, 500, allow_nan=False))),
                **inputs,
            )
        )
    # edges only go forward in id order, so the graph stays acyclic
    for _ in range(draw(st.integers(0, count * 2)) if count > 1 else 0):
        a, b = sorted(draw(st.lists(st.integers(0, count - 1), min_size=2, max_size=2, unique=True)))
        edge = wf.connect(
            ids[a],
            draw(st.sampled_from(["text", "images", "out-prompt"])),
            ids[b],
            draw(st.sampled_from(["prompt", "image", "in-text"])),
        )
        # valid means the kinds fit too (an image output cannot feed a text input)
        if any(p.code == "kind_mismatch" and p.edge_id == edge for p in wf.problems()):
            wf.remove_edge(edge)
    return wf


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_workflows())
def test_random_valid_graphs_round_trip(tmp_path_factory: pytest.TempPathFactory, wf: Workflow) -> None:
    assert wf.problems() == []
    request = wf.to_request()
    wire = request.to_wire()
    assert ExecuteRequest.model_validate(json.loads(json.dumps(wire))).to_wire() == wire
    rebuilt = Workflow.from_request(request, id=wf.id)
    assert rebuilt.to_dict() == wf.to_dict()
    path = tmp_path_factory.mktemp("rt") / "wf.json"
    wf.save(path)
    assert Workflow.load(path) == wf
