"""The HTML tables of responses, as a reader of a notebook sees them: every value escaped
(quotes too: a value never leaves its attribute), thumbnails only for http(s) and
``data:image/``, links only for http(s), long values cut with an ellipsis.

Written against the mutants of ``wireflow_nb/models/_html.py`` no test caught
(``benchmarks/mutation.py``).
"""

from __future__ import annotations

import pytest

from wireflow_nb.models import ExecuteResponse, Execution, ExecutionSummary, NodeRun, PollResponse
from wireflow_nb.models._html import (
    escape,
    format_duration_ms,
    is_image_src,
    is_link_url,
    render_execution_summaries,
    render_node_runs,
    render_output,
    status_badge,
)

LINK_ATTRS = 'target="_blank" rel="noopener noreferrer"'


def test_escape_escapes_markup_and_both_quotes() -> None:
    assert escape("<a href=\"x\" title='y'>&</a>") == (
        "&lt;a href=&quot;x&quot; title=&#x27;y&#x27;&gt;&amp;&lt;/a&gt;"
    )
    assert escape(None) == ""
    assert escape(0) == "0"
    assert escape(False) == "False"
    assert escape("") == ""


@pytest.mark.parametrize(
    ("url", "image", "link"),
    [
        ("http://x.test/a.png", True, True),
        ("HTTPS://x.test/a.png", True, True),
        ("  https://x.test/a.png\n", True, True),
        ("\x00https://x.test/a.png", True, True),
        ("data:image/png;base64,AAAA", True, False),
        (" DATA:IMAGE/png;base64,AAAA", True, False),
        ("data:text/html,<b>", False, False),
        ("javascript:alert(1)", False, False),
        ("file:///etc/passwd", False, False),
        ("//x.test/a.png", False, False),
        ("httpx://x.test", False, False),
        ("", False, False),
        (None, False, False),
        (["https://x.test/a.png"], False, False),
    ],
)
def test_which_urls_may_be_images_and_links(url: object, image: bool, link: bool) -> None:
    assert is_image_src(url) is image
    assert is_link_url(url) is link


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0 ms"),
        (999, "999 ms"),
        (1000, "1.0 s"),
        (1500, "1.5 s"),
        (59_900, "59.9 s"),
        (60_000, "1 min 0 s"),
        (65_000, "1 min 5 s"),
        (119_600, "2 min 0 s"),
        (3_599_000, "59 min 59 s"),
        (3_600_000, "1 h 0 min"),
        (7_260_000, "2 h 1 min"),
        (None, ""),
        (True, ""),
        ("1000", ""),
    ],
)
def test_durations_read_as_a_person_would_say_them(ms: object, text: str) -> None:
    assert format_duration_ms(ms) == text


def test_status_badges() -> None:
    assert status_badge("COMPLETED") == (
        '<span class="wf-status" style="background:#2e7d32;color:#fff;border-radius:8px;'
        'padding:0 6px;font-size:11px;white-space:nowrap">COMPLETED</span>'
    )
    assert ">FAILED (cached)</span>" in status_badge("FAILED", cached=True)
    assert "background:#607d8b" in status_badge("<weird>") and "&lt;weird&gt;" in status_badge("<weird>")
    assert status_badge(None).endswith('nowrap"></span>')


def test_an_http_image_is_a_linked_thumbnail_with_its_url_escaped() -> None:
    url = "https://x.test/a.png?a=1&b=\"2\"&c='3'"
    safe = "https://x.test/a.png?a=1&amp;b=&quot;2&quot;&amp;c=&#x27;3&#x27;"
    assert render_output({"images": [{"url": "  " + url}]}) == (
        f'<a href="{safe}" {LINK_ATTRS}><img src="{safe}" alt="output image" loading="lazy" '
        'style="max-width:96px;max-height:96px;border:1px solid #ccc"/></a>'
    )


def test_a_data_image_is_a_thumbnail_without_a_link() -> None:
    url = "data:image/png;base64,iVBORw0KGgo="
    assert render_output({"images": [{"url": url}]}) == (
        f'<img src="{url}" alt="output image" loading="lazy" '
        'style="max-width:96px;max-height:96px;border:1px solid #ccc"/>'
    )


def test_other_urls_are_escaped_text_cut_at_200_characters() -> None:
    url = "s3://" + "x" * 300 + ".png"
    shown = render_output({"images": [{"url": url}]})
    assert shown == "<code>" + url[:199] + "\u2026</code>"


def test_a_file_url_is_shown_by_its_name_cut_at_80_characters() -> None:
    assert render_output({"images": [{"url": "file:///home/a/b.png"}]}) == "<code>file \u2026/b.png</code>"
    assert render_output({"images": [{"url": " FILE:///c/d.png"}]}) == "<code>file \u2026/d.png</code>"
    name = "y" * 100 + ".png"
    assert render_output({"images": [{"url": "file:///h/" + name}]}) == "<code>file \u2026/" + name[:79] + "\u2026</code>"
    exact = "s3://" + "y" * (200 - len("s3://.png")) + ".png"  # other schemes: whole up to 200
    assert render_output({"images": [{"url": exact}]}) == f"<code>{exact}</code>"


def test_videos_are_links_with_their_text_cut_at_80_characters() -> None:
    url = "https://x.test/" + "v" * 100 + ".mp4"
    assert render_output({"videos": [{"url": url}]}) == (
        f'video: <a href="{url}" {LINK_ATTRS}>{url[:79]}\u2026</a>'
    )
    short = "https://x.test/" + "w" * (80 - len("https://x.test/.mp4")) + ".mp4"
    assert render_output({"videos": [{"url": short}]}) == f'video: <a href="{short}" {LINK_ATTRS}>{short}</a>'
    js = "javascript:alert(1)//.mp4"
    assert render_output({"videos": [{"url": js}]}) == f"video: <code>{js}</code>"


def test_text_is_escaped_and_cut_at_500_characters() -> None:
    assert render_output({"text": "<b>hi</b>"}) == (
        '<span style="white-space:pre-wrap">&lt;b&gt;hi&lt;/b&gt;</span>'
    )
    long = "t" * 501
    assert render_output({"text": long}) == f'<span style="white-space:pre-wrap">{"t" * 499}\u2026</span>'
    exact = "u" * 500
    assert render_output({"text": exact}) == f'<span style="white-space:pre-wrap">{exact}</span>'


def test_several_parts_are_joined_by_a_space() -> None:
    shown = render_output({"images": [{"url": "s3://b/a.png"}], "text": "caption"})
    assert shown == '<code>s3://b/a.png</code> <span style="white-space:pre-wrap">caption</span>'


def test_anything_else_is_pretty_json_cut_at_2000_characters() -> None:
    assert render_output(None) == ""
    assert render_output({"n": 1, "s": "<x>"}) == (
        '<pre style="margin:0;font-size:11px">{\n  &quot;n&quot;: 1,\n  &quot;s&quot;: &quot;&lt;x&gt;&quot;\n}</pre>'
    )
    text = '{\n  "k": "' + "z" * 3000 + '"\n}'
    cut = (text[:1999] + "\u2026").replace('"', "&quot;")
    assert render_output({"k": "z" * 3000}) == f'<pre style="margin:0;font-size:11px">{cut}</pre>'
    fits = "z" * (2000 - len('{\n  "k": ""\n}'))
    assert render_output({"k": fits}).endswith(f"{fits}&quot;\n}}</pre>")
    assert (
        render_output({"s": {1}})
        == '<pre style="margin:0;font-size:11px">{\n  &quot;s&quot;: &quot;{1}&quot;\n}</pre>'
    )
    looped: dict[str, object] = {}
    looped["self"] = looped  # not JSON at all: its repr
    assert render_output(looped) == '<pre style="margin:0;font-size:11px">{&#x27;self&#x27;: {...}}</pre>'


def _run(node_id: str, **fields: object) -> NodeRun:
    return NodeRun.model_validate({"nodeId": node_id, "status": "COMPLETED", **fields})


def test_node_run_tables() -> None:
    assert render_node_runs([]) == '<div style="color:#777;font-size:12px">no node runs</div>'
    table = render_node_runs([_run("<a>", error={"message": "<bad>"}, cached=True)])
    assert table.startswith('<table class="wf-node-runs" style="border-collapse:collapse;')
    assert ">node</th>" in table and ">label</th>" not in table
    assert "<code>&lt;a&gt;</code>" in table
    assert "&lt;bad&gt;" in table and "<bad>" not in table
    assert "COMPLETED (cached)" in table
    labelled = render_node_runs([_run("a"), _run("b")], labels={"a": "<Label A>"})
    assert ">label</th>" in labelled
    assert "&lt;Label A&gt;</td>" in labelled
    assert labelled.count("<tr>") == 3


def test_an_execution_shows_every_field_and_the_snapshot_labels() -> None:
    execution = Execution.model_validate(
        {
            "id": "ex-1",
            "workflowId": "wf-<1>",
            "status": "COMPLETED",
            "triggeredBy": "api",
            "triggerData": {"q": "<x>"},
            "executionTime": 65_000,
            "creditsUsed": 0,
            "output": {"text": "done"},
            "nodeResults": {"nodeRuns": [{"nodeId": "n1", "status": "COMPLETED"}]},
            "workflowSnapshot": {
                "nodes": [
                    {"id": "n1", "data": {"label": "First <node>"}},
                    {"id": "n2", "data": "not a mapping"},
                    {"id": 3, "data": {"label": "numeric id"}},
                    "not a node",
                ]
            },
        }
    )
    markup = execution._repr_html_()
    assert markup.startswith(
        '<div class="wf-repr" style="font-family:sans-serif"><div style="font-weight:bold'
    )
    assert ">Execution</div>" in markup
    assert "<b>workflow</b></td><td" in markup and "wf-&lt;1&gt;" in markup
    assert "1 min 5 s" in markup
    assert "<b>credits used</b>" in markup  # 0 credits is shown, not left out
    assert "&lt;x&gt;" in markup and "<pre style='margin:0'>" in markup
    assert "<b>output</b>" in markup and ">done</span>" in markup
    assert "First &lt;node&gt;</td>" in markup
    assert "numeric id" not in markup
    assert "<b>error</b>" not in markup  # empty rows are left out


def test_a_poll_response_shows_its_final_output_only_when_there_is_one() -> None:
    done = PollResponse.model_validate(
        {"status": "COMPLETED", "finalOutput": {"text": "final"}, "nodeResults": {"nodeRuns": []}}
    )
    markup = done._repr_html_()
    assert (
        ">Execution status</div>" in markup and "<b>final output</b>" in markup and ">final</span>" in markup
    )
    running = PollResponse.model_validate({"status": "RUNNING", "error": {"message": "<oops>"}})
    markup = running._repr_html_()
    assert "<b>final output</b>" not in markup and "&lt;oops&gt;" in markup


def test_an_execute_response_lists_its_runs() -> None:
    response = ExecuteResponse.model_validate(
        {
            "workflowId": "w",
            "batchId": "b-<1>",
            "executionRuns": [
                {"id": "r1", "status": "PENDING", "runIndexInBatch": 0, "inputIndex": 0},
                {"id": "r2", "status": "FAILED", "runIndexInBatch": 1, "error": "<boom>"},
            ],
        }
    )
    markup = response._repr_html_()
    assert ">Execution started</div>" in markup
    assert "b-&lt;1&gt;" in markup and "<b>runs</b></td><td" in markup and ">2</td>" in markup
    assert markup.count('<div style="margin-left:12px">') == 2
    assert "<b>run in batch</b>" in markup and ">0</td>" in markup
    assert "&lt;boom&gt;" in markup


def test_history_tables() -> None:
    assert render_execution_summaries([]) == (
        '<div class="wf-repr" style="font-family:sans-serif"><div style="font-weight:bold;margin:4px 0">'
        'Executions</div><div style="color:#777">no executions yet</div></div>'
    )
    rows = [
        ExecutionSummary(id="e1", status="COMPLETED", execution_time=1500, credits_used=10),
        ExecutionSummary(id="<e2>", status="FAILED", error={"message": "<bad>"}),
    ]
    markup = render_execution_summaries(rows)
    assert ">Executions (2)</div>" in markup
    assert "<code>&lt;e2&gt;</code>" in markup and "&lt;bad&gt;" in markup
    assert ">1.5 s</td>" in markup and ">10</td>" in markup
    assert markup.count("<tr>") == 3


def test_json_keeps_accents_and_other_scripts_readable() -> None:
    assert render_output({"name": "café ☕ 東京"}) == (
        '<pre style="margin:0;font-size:11px">{\n  &quot;name&quot;: &quot;café ☕ 東京&quot;\n}</pre>'
    )


def test_history_tables_have_a_header_row() -> None:
    markup = render_execution_summaries([ExecutionSummary(id="e1", status="COMPLETED")])
    assert markup.count("<th ") == 7 and ">execution</th>" in markup and ">error</th>" in markup


def test_the_public_renderers_take_their_arguments_by_name() -> None:
    assert status_badge(status="FAILED", cached=True).endswith(">FAILED (cached)</span>")
    table = render_node_runs(node_runs=[_run("a")], labels={"a": "A"})
    assert "<code>a</code>" in table and ">A</td>" in table
