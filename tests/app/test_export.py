"""Export: the Python code rebuilds the workflow exactly; the curl command sends the
execute request, with the key from the environment and no shell expansion of the body."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from typing import Any

import pytest

from wireflow_nb import Workflow
from wireflow_nb.export import to_curl, to_python
from wireflow_nb.models import ExecuteRequest

NASTY = 'it\'s a "quoted" $(touch /tmp/pwned) `id` $HOME \\ \n newline {{trigger.x}} ünï'


def rebuild(code: str, variable: str = "wf") -> Workflow:
    namespace: dict[str, Any] = {}
    exec(compile(code, "<export>", "exec"), namespace)
    result = namespace[variable]
    assert isinstance(result, Workflow)
    return result


def simple_workflow() -> Workflow:
    wf = Workflow(id="demo")
    prompt = wf.add_node("input:text", text="a red fox")
    image = wf.add_node("model:fal:text-to-image", seed=1, width=256, height=256)
    wf.connect(prompt, "text", image, "prompt")
    return wf


def test_builder_code_rebuilds_a_simple_workflow() -> None:
    wf = simple_workflow()
    code = to_python(wf)
    assert "wf.add_node('input:text'" in code
    assert "wf.connect(node_1, 'text', node_2, 'prompt')" in code
    assert rebuild(code).to_dict() == wf.to_dict()


def test_builder_code_rebuilds_the_form_inputs() -> None:
    wf = simple_workflow()
    wf.set_form_input("node-2", "seed")
    wf.set_form_input("node-1", "text")
    code = to_python(wf)
    assert "wf.set_form_input(node_2, 'seed')\nwf.set_form_input(node_1, 'text')" in code
    assert rebuild(code).form_inputs == ["node-2.seed", "node-1.text"]
    # with what only the JSON field can rebuild (an unknown key), they come back too
    wf.restore_canvas({"groups": [], "custom": 1})
    assert wf.form_inputs == ["node-2.seed", "node-1.text"]  # a snapshot without them keeps them
    code = to_python(wf)
    assert "restore_canvas(" in code and rebuild(code).to_dict() == wf.to_dict()


def test_builder_code_keeps_hosted_shapes_and_odd_values() -> None:
    wf = Workflow.from_dict(
        {
            "id": "cm1abc123",
            "name": "hosted export",
            "viewport": {"x": 1.5, "y": -2, "zoom": 0.75},
            "nodes": [
                {
                    "id": "1",
                    "type": "basedNode",
                    "position": {"x": 10.5, "y": 20},
                    "data": {
                        "label": "Prompt",
                        "nodeType": "input:text",
                        "category": "input",
                        "config": {"text": NASTY},
                        "params": {"text": NASTY},
                        "outputs": [{"id": "out-prompt", "label": "Prompt", "type": "TEXT"}],
                    },
                    "width": 200,
                    "selected": True,
                },
                {
                    "id": "class",
                    "type": "model",
                    "position": {"x": 300, "y": 0},
                    "data": {
                        "label": "My <b>label</b>",
                        "nodeType": "generate:flux_2",
                        "category": "model",
                        "prompt": "",
                        "weird-key": [1, None, True, {"a": 1.0}],
                        "id": "shadowing add_node's own keyword",
                        "nan": float("nan"),
                    },
                },
                {"id": "bare", "data": {"nodeType": "model:fal:text-to-image", "prompt": "x"}},
            ],
            "edges": [
                {
                    "id": "e1",
                    "source": "1",
                    "target": "class",
                    "sourceHandle": "out-prompt",
                    "targetHandle": "in-prompt",
                },
                {
                    "source": "1",
                    "target": "bare",
                    "sourceHandle": "text",
                    "targetHandle": "prompt",
                    "animated": True,
                },
            ],
        }
    )
    code = to_python(wf, variable="flow")
    rebuilt = rebuild(code, "flow")
    # NaN != NaN, so compare the JSON text
    assert json.dumps(rebuilt.to_dict(), sort_keys=True) == json.dumps(wf.to_dict(), sort_keys=True)
    assert rebuilt.id == "cm1abc123"
    assert "class_ = flow.add(" in code  # a keyword id gets a usable variable


def test_builder_code_for_file_without_id_and_duplicate_ids() -> None:
    no_id = Workflow.from_dict({"nodes": [], "edges": []})
    assert rebuild(to_python(no_id)).to_dict() == no_id.to_dict()

    dup = Workflow("d", nodes=[{"id": "a", "data": {}}, {"id": "a", "data": {"x": 1}}])
    assert rebuild(to_python(dup)).to_dict() == dup.to_dict()


def test_builder_code_with_a_custom_node_type() -> None:
    from wireflow_nb import node_type
    from wireflow_nb.catalog import Catalog, default_catalog

    @node_type("test:shout", inputs={"text": str}, outputs={"text": str}, catalog=default_catalog())
    def shout(text: str) -> str:
        return text.upper()

    try:
        wf = Workflow("c")
        wf.add_node("test:shout", text="hi")
        assert "add_node('test:shout'" in to_python(wf)
        assert rebuild(to_python(wf)).to_dict() == wf.to_dict()
    finally:
        default_catalog().unregister("test:shout")
    assert isinstance(default_catalog(), Catalog)


def _run_curl_with_fake(command: str, env_key: str) -> list[str]:
    """Run the command in bash with ``curl`` replaced by a function printing its argv."""
    fake = (
        "curl() { "
        + f"{sys.executable!s} -c 'import json,sys; print(json.dumps(sys.argv[1:]))' \"$@\"; "
        + "}\n"
    )
    done = subprocess.run(
        ["bash", "-c", fake + command],
        capture_output=True,
        text=True,
        env={"WIREFLOW_API_KEY": env_key, "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},
        timeout=30,
        check=True,
    )
    return list(json.loads(done.stdout))


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_curl_command_quotes_the_body_and_reads_the_key_from_env(tmp_path: Any) -> None:
    wf = Workflow(id="my flow/1")
    wf.add_node("input:text", text=NASTY)
    command = to_curl(
        wf,
        target_node_id="node-1",
        trigger_data={"who": "o'brien"},
        iterator_configs=[{"nodeId": "node-1", "field": "text", "values": ["a", "b"]}],
        idempotency_key="key 'with' quotes",
    )
    assert "$WIREFLOW_API_KEY" in command
    assert "sk-" not in command
    argv = _run_curl_with_fake(command, "sk-secret-123")
    assert argv[:2] == ["-X", "POST"]
    assert argv[2] == "https://www.wireflow.ai/api/v1/workflows/my%20flow%2F1/execute"
    headers = [argv[i + 1] for i, a in enumerate(argv) if a == "-H"]
    assert "Authorization: Bearer sk-secret-123" in headers
    assert "Content-Type: application/json" in headers
    assert "Idempotency-Key: key 'with' quotes" in headers
    body = json.loads(argv[argv.index("-d") + 1])
    request = ExecuteRequest.model_validate(body)
    assert request.nodes[0].inputs["text"] == NASTY
    assert request.target_node_id == "node-1"
    assert request.trigger_data == {"who": "o'brien"}
    assert request.iterator_configs is not None and request.iterator_configs[0].values == ["a", "b"]
    assert (
        body
        == wf.to_request(
            target_node_id="node-1",
            trigger_data={"who": "o'brien"},
            iterator_configs=[{"nodeId": "node-1", "field": "text", "values": ["a", "b"]}],
        ).to_wire()
    )


def test_curl_for_a_request_and_other_base_url() -> None:
    request = simple_workflow().to_request()
    command = to_curl(request, "w1", base_url="http://127.0.0.1:8765/api/v1/")
    assert "curl -X POST http://127.0.0.1:8765/api/v1/workflows/w1/execute \\\n" in command
    with pytest.raises(ValueError):
        to_curl(request, api_key_variable="X; rm -rf /")
