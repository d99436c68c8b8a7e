"""``wireflow-nb`` end to end: ``run`` on the local engine and against a server, real
PNG/MP4 files written and opened, failures exit non-zero with the error, ``history``
tables, argument errors, and the API key never printed."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests._servers import TEST_API_KEY, running_server
from wireflow_nb.cli import UsageError, main, parse_iterate, parse_trigger

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
SCRIPT = Path(sys.executable).parent / "wireflow-nb"


def wireflow_nb(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The console script in a subprocess (``python -m`` when the script is missing)."""
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "wireflow_nb.cli"]
    child_env = {k: v for k, v in os.environ.items() if k != "WIREFLOW_API_KEY"}
    child_env.update(env or {})
    return subprocess.run(
        [*command, *args], cwd=cwd, capture_output=True, text=True, timeout=180, env=child_env
    )


def cli(*args: str) -> tuple[int, str, str]:
    """``main`` in process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def write_workflow(
    path: Path, nodes: list[dict[str, Any]], edges: list[dict[str, Any]] | None = None, **extra: Any
) -> Path:
    path.write_text(json.dumps({"nodes": nodes, "edges": edges or [], **extra}), encoding="utf-8")
    return path


def node(node_id: str, node_type: str, **data: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "utility",
        "position": {"x": 0, "y": 0},
        "data": {"nodeType": node_type, **data},
    }


def edge(source: str, handle: str, target: str, port: str) -> dict[str, Any]:
    return {
        "id": f"{source}-{target}-{port}",
        "source": source,
        "target": target,
        "sourceHandle": handle,
        "targetHandle": port,
    }


# -- run: end to end in a subprocess ------------------------------------------------------------


def test_run_text_to_image_writes_a_real_png(tmp_path: Path) -> None:
    from PIL import Image

    shutil.copytree(EXAMPLES, tmp_path / "examples")
    done = wireflow_nb(
        "run", "examples/text-to-image.json", "--out", "tmp", "--home", str(tmp_path / "home"),
        "--model-latency", "0", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "tmp" / "image.png") as picture:
        picture.load()
        assert picture.size == (512, 384)
    assert (
        tmp_path / "tmp" / "prompt.txt"
    ).read_text() == "A sunset over mountains, golden light, wide angle"
    result = json.loads((tmp_path / "tmp" / "result.json").read_text())
    assert result["status"] == "COMPLETED"
    # per-node progress lines, then the summary
    lines = done.stdout.splitlines()
    assert any(line.startswith("prompt") and "COMPLETED" in line for line in lines), done.stdout
    assert any(line.startswith("image") and "COMPLETED" in line for line in lines), done.stdout
    assert "COMPLETED: 1/1 run(s)" in done.stdout and "10 credits used" in done.stdout


def test_run_failure_exits_non_zero_with_the_error(tmp_path: Path) -> None:
    flow = write_workflow(
        tmp_path / "broken.json", [node("pic", "input:image", image="/no/such/picture.png")]
    )
    done = wireflow_nb("run", str(flow), "--home", str(tmp_path / "home"), "--out", "out", cwd=tmp_path)
    assert done.returncode == 1
    assert "error:" in done.stderr and "FAILED" in done.stderr
    assert "pic" in done.stderr


def test_run_against_a_server_never_prints_the_key(tmp_path: Path) -> None:
    from PIL import Image

    with running_server(tmp_path / "server-home") as server:
        done = wireflow_nb(
            "run", str(EXAMPLES / "text-to-image.json"), "--api", server.base_url, "--out", "out",
            cwd=tmp_path, env={"WIREFLOW_API_KEY": TEST_API_KEY},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        with Image.open(tmp_path / "out" / "image.png") as picture:
            assert picture.size == (512, 384)
        assert TEST_API_KEY not in done.stdout + done.stderr
        assert server.base_url in done.stdout

        wrong = "sk-wrong-key-never-printed-123"
        refused = wireflow_nb(
            "run",
            str(EXAMPLES / "text-to-image.json"),
            "--api",
            server.base_url,
            "--api-key",
            wrong,
            cwd=tmp_path,
        )
        assert refused.returncode == 1
        assert "Invalid API key" in refused.stderr
        assert wrong not in refused.stdout + refused.stderr

        history = wireflow_nb(
            "history", "text-to-image", "--api", server.base_url, "--api-key", TEST_API_KEY, cwd=tmp_path
        )
        assert history.returncode == 0, history.stderr
        assert history.stdout.splitlines()[0].split()[:2] == ["ID", "STATUS"]
        assert "COMPLETED" in history.stdout
        assert TEST_API_KEY not in history.stdout + history.stderr


# -- run: in process ----------------------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path) -> str:
    return str(tmp_path / "home")


def test_run_template_image_video_writes_a_real_mp4(tmp_path: Path, home: str) -> None:
    import imageio.v3 as iio

    code, out, err = cli(
        "run",
        str(EXAMPLES / "template-image-video.json"),
        "--out",
        str(tmp_path / "o"),
        "--home",
        home,
        "--model-latency",
        "0",
    )
    assert code == 0, err
    prompt = (tmp_path / "o" / "prompt.txt").read_text()
    assert prompt == "A red fox exploring a snowy birch forest at dawn, cinematic, soft light"
    frames = (
        iio.imread(tmp_path / "o" / "video.mp4", plugin="pyav")
        if _has_pyav()
        else _ffmpeg_frames(tmp_path / "o" / "video.mp4")
    )
    assert len(frames) > 0
    assert (tmp_path / "o" / "image.png").is_file()
    assert "60 credits used" in out


def _has_pyav() -> bool:
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def _ffmpeg_frames(path: Path) -> list[Any]:
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    assert meta["size"][0] > 0
    return list(reader)


def test_run_batch_writes_one_folder_per_run(tmp_path: Path, home: str) -> None:
    code, out, err = cli(
        "run",
        str(EXAMPLES / "batch.json"),
        "--out",
        str(tmp_path / "o"),
        "--home",
        home,
        "--model-latency",
        "0",
    )
    assert code == 0, err
    for index in range(3):
        assert (tmp_path / "o" / f"run-{index}" / "image.png").is_file()
    texts = {(tmp_path / "o" / f"run-{i}" / "prompt.txt").read_text() for i in range(3)}
    assert texts == {"a red fox in the snow", "a snowy owl at night", "a koi pond in autumn"}
    assert "[1/3]" in out and "[3/3]" in out
    assert "3/3 run(s)" in out and "30 credits used" in out


def test_run_iterate_target_and_trigger_options(tmp_path: Path, home: str) -> None:
    flow = write_workflow(
        tmp_path / "flow.json",
        [
            node("name", "input:text", text="nobody"),
            node("greet", "text:template", template="Hello {{who}}, from {{trigger.city}}"),
            node("img", "model:fal:text-to-image", width=64, height=64, seed=1),
        ],
        [edge("name", "text", "greet", "who"), edge("greet", "text", "img", "prompt")],
    )
    code, out, err = cli(
        "run", str(flow), "--home", home, "--out", str(tmp_path / "o"), "--model-latency", "0",
        "--target", "greet", "--trigger", '{"city": "Lyon"}', "--iterate", "name.text=Ada,Grace",
    )  # fmt: skip
    assert code == 0, err
    greetings = sorted((tmp_path / "o" / f"run-{i}" / "greet.txt").read_text() for i in range(2))
    assert greetings == ["Hello Ada, from Lyon", "Hello Grace, from Lyon"]
    assert not list((tmp_path / "o").glob("**/img*"))  # --target: the image node did not run
    assert "0 credits used" in out


def test_run_without_out_prints_output_urls(home: str) -> None:
    code, out, err = cli(
        "run", str(EXAMPLES / "text-to-image.json"), "--home", home, "--model-latency", "0", "--quiet"
    )
    assert code == 0, err
    assert "image: file://" in out
    assert "COMPLETED" in out.splitlines()[-1]


def test_run_insufficient_credits_exits_1_with_the_breakdown(home: str) -> None:
    code, _out, err = cli("run", str(EXAMPLES / "text-to-image.json"), "--home", home, "--credits", "5")
    assert code == 1
    assert "Insufficient credits. Required: 10, Available: 5" in err
    assert "image" in err


def test_run_invalid_graph_exits_1_with_every_problem(tmp_path: Path, home: str) -> None:
    flow = write_workflow(
        tmp_path / "bad.json",
        [node("a", "no:such-type"), node("b", "model:fal:text-to-image")],
    )
    code, _out, err = cli("run", str(flow), "--home", home)
    assert code == 1
    assert err.startswith("error:")
    assert "no:such-type" in err and "prompt" in err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--trigger", "not json"], "--trigger"),
        (["--trigger", "[1]"], "JSON object"),
        (["--iterate", "novalue"], "NODE.FIELD=v1,v2"),
        (["--iterate", "prompt.text="], "at least one value"),
    ],
)
def test_run_bad_options_exit_2(home: str, args: list[str], fragment: str) -> None:
    code, _out, err = cli("run", str(EXAMPLES / "text-to-image.json"), "--home", home, *args)
    assert code == 2
    assert fragment in err


def test_run_missing_or_malformed_file_exits_2(tmp_path: Path, home: str) -> None:
    code, _, err = cli("run", str(tmp_path / "nope.json"), "--home", home)
    assert code == 2 and "no such workflow file" in err
    (tmp_path / "bad.json").write_text("{oops")
    code, _, err = cli("run", str(tmp_path / "bad.json"), "--home", home)
    assert code == 2 and "not valid JSON" in err


def test_unknown_command_exits_2() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["frobnicate"])
    assert caught.value.code == 2


# -- history ------------------------------------------------------------------------------------


def test_history_prints_a_table_most_recent_first(home: str) -> None:
    code, out, _ = cli("history", "batch", "--home", home)
    assert code == 0 and "no executions of batch" in out
    assert cli("run", str(EXAMPLES / "batch.json"), "--home", home, "--model-latency", "0", "-q")[0] == 0
    code, out, err = cli("history", "batch", "--home", home, "--limit", "2")
    assert code == 0, err
    header, *rows = out.splitlines()
    assert header.split() == ["ID", "STATUS", "TRIGGER", "STARTED", "TIME", "CREDITS", "ERROR"]
    assert len(rows) == 2 and all("COMPLETED" in row and "manual" in row for row in rows)
    code, out, _ = cli("history", "batch", "--home", home, "--json")
    assert [row["status"] for row in json.loads(out)] == ["COMPLETED"] * 3


@pytest.mark.parametrize("args", [["--limit", "0"], ["--limit", "101"], ["--offset", "-1"]])
def test_history_bad_paging_exits_2(home: str, args: list[str]) -> None:
    code, _, err = cli("history", "batch", "--home", home, *args)
    assert code == 2 and ("--limit" in err or "--offset" in err)


# -- parsing helpers ----------------------------------------------------------------------------


def test_parse_iterate() -> None:
    config = parse_iterate("prompt.text=a fox, a cat ,an owl")
    assert (config.node_id, config.field, config.values) == ("prompt", "text", ["a fox", "a cat", "an owl"])
    assert parse_iterate("node.v1.seed=1,2,3.5").values == [1, 2, 3.5]
    assert parse_iterate("node.v1.seed=1,2").node_id == "node.v1"
    assert parse_iterate('p.text=["a, b", "c"]').values == ["a, b", "c"]
    assert parse_iterate("p.text=true,null").values == ["true", "null"]
    for bad in ("p=1", "ptext=1", ".text=1", "p.=1", "p.text=[1"):
        with pytest.raises(UsageError):
            parse_iterate(bad)


def test_parse_trigger(tmp_path: Path) -> None:
    assert parse_trigger('{"a": 1}') == {"a": 1}
    (tmp_path / "t.json").write_text('{"b": 2}')
    assert parse_trigger(f"@{tmp_path / 't.json'}") == {"b": 2}
    with pytest.raises(UsageError):
        parse_trigger(f"@{tmp_path / 'missing.json'}")
    with pytest.raises(UsageError):
        parse_trigger('"text"')


def test_run_trigger_example_with_its_own_and_with_given_trigger_data(tmp_path: Path, home: str) -> None:
    example = str(EXAMPLES / "trigger.json")
    code, _, err = cli("run", example, "--home", home, "--out", str(tmp_path / "a"), "--model-latency", "0")
    assert code == 0, err
    assert (
        tmp_path / "a" / "prompt.txt"
    ).read_text() == "a lighthouse in a storm, oil painting, dramatic light"
    trigger = '{"subject": "a koi pond", "style": "watercolor"}'
    code, _, err = cli(
        "run",
        example,
        "--home",
        home,
        "--out",
        str(tmp_path / "b"),
        "--trigger",
        trigger,
        "--model-latency",
        "0",
    )
    assert code == 0, err
    assert (tmp_path / "b" / "prompt.txt").read_text() == "a koi pond, watercolor, dramatic light"
    code, out, _ = cli("history", "trigger", "--home", home)
    assert code == 0
    assert [line.split()[2] for line in out.splitlines()[1:]] == ["trigger", "trigger"]


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_every_example_is_a_valid_workflow(example: str) -> None:
    from wireflow_nb import Workflow

    flow = Workflow.load(EXAMPLES / example)
    assert flow.id == example.removesuffix(".json")
    assert flow.problems() == []
