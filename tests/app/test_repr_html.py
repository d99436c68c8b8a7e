"""``_repr_html_`` of responses: tables, thumbnails, and nothing a server sends can inject
markup or a script."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from wireflow_nb.models import (
    ExecuteResponse,
    Execution,
    ExecutionSummary,
    ExecutionSummaryList,
    PollResponse,
)

EVIL = '<script>alert("x")</script>'


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(markup: str) -> _Collect:
    parser = _Collect()
    parser.feed(markup)
    parser.close()
    return parser


def assert_safe(markup: str) -> _Collect:
    parsed = parse(markup)
    names = [t for t, _ in parsed.tags]
    assert "script" not in names
    for tag, attrs in parsed.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name in ("href", "src") and value is not None:
                assert value.lower().startswith(("http://", "https://", "data:image/")), (tag, name, value)
    return parsed


def _example(spec_dir: Path, name: str) -> Any:
    return json.loads((spec_dir / "examples" / name).read_text())


def test_spec_examples_render(spec_dir: Path) -> None:
    execute = ExecuteResponse.model_validate(_example(spec_dir, "execute-response-201.json"))
    poll = PollResponse.model_validate(_example(spec_dir, "poll-completed.json"))
    failed = PollResponse.model_validate(_example(spec_dir, "poll-failed.json"))
    details = Execution.model_validate(_example(spec_dir, "execution-details.json"))
    history = ExecutionSummaryList(
        ExecutionSummary.model_validate(e) for e in _example(spec_dir, "executions-list.json")
    )

    text = assert_safe(execute._repr_html_())
    assert "exec_456" in "".join(text.text)
    completed = assert_safe(poll._repr_html_())
    imgs = [a for t, a in completed.tags if t == "img"]
    assert imgs and imgs[0]["src"] == "https://cdn.atomu.ai/generated-image.png"
    assert "Provider returned 500" in "".join(assert_safe(failed._repr_html_()).text)
    detail_text = "".join(assert_safe(details._repr_html_()).text)
    assert "Text to Image" in detail_text  # label from the snapshot
    assert "15.0 s" in detail_text
    rows = [t for t, _ in assert_safe(history._repr_html_()).tags if t == "tr"]
    assert len(rows) == 1 + len(history)
    assert isinstance(history, list)


def test_script_labels_and_values_are_escaped() -> None:
    execution = Execution.model_validate(
        {
            "id": EVIL,
            "workflowId": EVIL,
            "status": EVIL,
            "triggeredBy": EVIL,
            "triggerData": {"x": EVIL},
            "error": {"message": EVIL},
            "errorNode": EVIL,
            "nodeResults": {
                "nodeRuns": [
                    {"nodeId": "n1", "status": "FAILED", "error": EVIL, "output": {"text": EVIL}},
                    {"nodeId": EVIL, "status": "COMPLETED", "output": {"weird": EVIL}},
                ]
            },
            "workflowSnapshot": {"nodes": [{"id": "n1", "data": {"label": EVIL}}], "edges": []},
        }
    )
    markup = execution._repr_html_()
    parsed = assert_safe(markup)
    assert EVIL not in markup
    # the text is still there for the reader, as text
    assert EVIL in "".join(parsed.text)

    summary = ExecutionSummaryList(
        [ExecutionSummary(id=EVIL, status="COMPLETED", error=EVIL, triggered_by=EVIL)]
    )
    assert EVIL not in summary._repr_html_()
    assert_safe(summary._repr_html_())


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "\tjavascript:alert(1)",
        'https://x.test/a.png" onerror="alert(1)',
        "file:///etc/passwd.png",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
    ],
)
def test_unsafe_urls_never_become_links_or_images(url: str) -> None:
    poll = PollResponse.model_validate(
        {
            "status": "COMPLETED",
            "nodeResults": {
                "nodeRuns": [
                    {"nodeId": "a", "status": "COMPLETED", "output": {"images": [{"url": url}]}},
                    {"nodeId": "b", "status": "COMPLETED", "output": {"videos": [{"url": url}]}},
                ]
            },
            "finalOutput": {"url": url},
        }
    )
    markup = poll._repr_html_()
    parsed = assert_safe(markup)
    for tag, attrs in parsed.tags:
        if tag == "img":
            # only the quoted https URL may become an image, and then as one escaped value
            assert attrs["src"] == url.strip()
            assert "onerror" not in attrs
    if not url.strip().lower().startswith("https://"):
        assert not [t for t, _ in parsed.tags if t in ("img", "a")]
        if url.startswith("file:"):  # named, never with its folder (see the next test)
            assert "passwd.png" in "".join(parsed.text) and "/etc" not in markup
        else:
            assert url.strip() in "".join(parsed.text)


def test_a_local_file_is_shown_by_name_without_its_path() -> None:
    """A saved notebook names no folder of this machine: a LocalEngine's output URL is
    a ``file://`` URI under the user's data folder."""
    url = "file:///home/alice/.local/share/wireflow-nb/artifacts/abc123.png"
    poll = PollResponse.model_validate(
        {
            "status": "COMPLETED",
            "nodeResults": {"nodeRuns": [{"nodeId": "a", "status": "COMPLETED", "output": {"images": [{"url": url}]}}]},
        }
    )
    markup = poll._repr_html_()
    assert "abc123.png" in markup and "alice" not in markup and "artifacts" not in markup


def test_data_image_thumbnail_and_video_link() -> None:
    pixel = "data:image/png;base64,iVBORw0KGgo="
    run = ExecuteResponse.model_validate(
        {
            "workflowId": "w",
            "executionRuns": [
                {
                    "id": "e1",
                    "status": "COMPLETED",
                    "nodeRuns": [
                        {
                            "nodeId": "a",
                            "status": "COMPLETED",
                            "output": {"images": [{"url": pixel}]},
                            "cached": True,
                        },
                        {
                            "nodeId": "b",
                            "status": "COMPLETED",
                            "output": {"videos": [{"url": "https://x.test/v.mp4"}]},
                        },
                    ],
                }
            ],
        }
    )
    parsed = assert_safe(run._repr_html_())
    assert [a["src"] for t, a in parsed.tags if t == "img"] == [pixel]
    assert [a["href"] for t, a in parsed.tags if t == "a"] == ["https://x.test/v.mp4"]
    assert "(cached)" in "".join(parsed.text)


def test_unknown_status_is_shown_as_given() -> None:
    markup = PollResponse.model_validate(
        {"status": "warming_up", "nodeResults": {"nodeRuns": []}}
    )._repr_html_()
    assert "warming_up" in "".join(parse(markup).text)


def test_the_text_a_notebook_saves_names_no_folder_either() -> None:
    from IPython.lib.pretty import pretty

    url = "file:///home/alice/.local/share/wireflow-nb/artifacts/abc123.png"
    poll = PollResponse.model_validate(
        {
            "status": "COMPLETED",
            "nodeResults": {"nodeRuns": [{"nodeId": "a", "status": "COMPLETED", "output": {"images": [{"url": url}]}}]},
        }
    )
    text = pretty(poll)
    assert "abc123.png" in text and "alice" not in text and "COMPLETED" in text
    assert url in repr(poll)  # repr() in code keeps the whole URL (it is the value)
