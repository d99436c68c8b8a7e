"""Everything user-controlled that reaches HTML is escaped, and URLs become links or
images only when they are http(s) (or data:image / data:video for media).

One hostile workflow goes through every view: a ``<script>`` label, an ``onerror``
prompt, a node id that closes an attribute, a ``javascript:`` image input, a node whose
outputs are ``javascript:`` / ``data:text/html`` URLs and ``<script>`` text, and a node
whose error message is markup. It runs on a real ``LocalEngine`` inside a ``WorkflowApp``
(editor, inspector, badges, node detail, outputs, history details, compare, problems,
exports), and its results are rendered by every ``_repr_html_`` and ``_repr_svg_``. Each
HTML string that any widget or repr holds is parsed and checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from wireflow_nb import Workflow, node_type
from wireflow_nb.catalog import default_catalog

SCRIPT_LABEL = '<script>alert("label")</script>'
ONERROR_TEXT = '<img src=x onerror=alert("prompt")>'
EVIL_ID = 'n"><svg onload=alert("id")>'
JS_URL = "javascript:alert('url')"
JS_URL_MIXED = " JaVaScRiPt:alert('mixed')"
HTML_DATA_URL = "data:text/html,<script>alert('data')</script>"
ERROR_MARKUP = '<script>alert("error")</script><a href="javascript:alert(1)">click</a>'

_FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "base", "meta", "link", "form", "frame", "frameset"}
_URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "poster", "background", "data"}
_SAFE_URL = ("http://", "https://", "data:image/", "data:video/", "#")


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_markup(where: str, markup: str) -> str:
    """Parse ``markup``: no active content, no unsafe URL; returns its visible text."""
    parser = _Markup()
    parser.feed(markup)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag not in _FORBIDDEN_TAGS, f"<{tag}> in {where}: {markup[:300]}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"{name}= on <{tag}> in {where}: {markup[:300]}"
            if value is None:
                continue
            clean = "".join(ch for ch in value if ch > " ").lower()
            if name in _URL_ATTRS:
                assert clean.startswith(_SAFE_URL), f"{name}={value!r} on <{tag}> in {where}"
            if name == "srcdoc":
                raise AssertionError(f"srcdoc on <{tag}> in {where}")
            if name == "style":
                assert "javascript:" not in clean and "expression(" not in clean and "url(" not in clean, (
                    where
                )
    return "".join(parser.text)


@pytest.fixture
def hostile_types() -> Iterator[tuple[str, str]]:
    @node_type(
        "test:xss-output",
        inputs={"text": str},
        outputs={"images": "image", "videos": "video", "text": str, "link": str},
    )
    def xss_output(text: str) -> dict[str, Any]:
        return {
            "images": [{"url": JS_URL}, {"url": HTML_DATA_URL}, {"url": JS_URL_MIXED}],
            "videos": [{"url": JS_URL}],
            "text": "<script>alert('text')</script>" + text,
            "link": JS_URL,
        }

    @node_type("test:xss-fail", inputs={"text": str}, outputs={"text": str})
    def xss_fail(text: str) -> str:
        raise RuntimeError(ERROR_MARKUP)

    yield "test:xss-output", "test:xss-fail"
    default_catalog().unregister("test:xss-output")
    default_catalog().unregister("test:xss-fail")


def hostile_workflow(output_type: str, fail_type: str) -> Workflow:
    wf = Workflow("xss")
    wf.add_node("input:text", id=EVIL_ID, label=SCRIPT_LABEL, text=ONERROR_TEXT)
    wf.add_node(output_type, id="out", label=f"{SCRIPT_LABEL} outputs")
    wf.connect(EVIL_ID, "text", "out", "text")
    wf.add_node(fail_type, id="boom", label=f"<b onmouseover=alert(1)>{SCRIPT_LABEL}</b>")
    wf.connect(EVIL_ID, "text", "boom", "text")
    wf.add_node("input:image", id="img", label="image <iframe src=javascript:alert(2)>", image=JS_URL)
    return wf


def _all_markup(widgets_before: set[str]) -> dict[str, str]:
    """Every HTML string held by a widget created since ``widgets_before``."""
    from ipywidgets.widgets.widget import _instances

    found: dict[str, str] = {}
    for model_id, widget in list(_instances.items()):
        if model_id in widgets_before:
            continue
        name = type(widget).__name__
        if name in ("HTML", "HTMLMath"):
            found[f"{name} {model_id}"] = str(widget.value)
        for trait in ("description", "tooltip", "placeholder"):
            value = getattr(widget, trait, None)
            if (
                isinstance(value, str)
                and value
                and getattr(getattr(widget, "style", None), "description_allow_html", False)
            ):
                found[f"{name} {model_id} {trait}"] = value
        if getattr(widget, "description_allow_html", False):
            found[f"{name} {model_id} description"] = str(widget.description)
    return found


def test_hostile_workflow_through_every_widget_and_repr(
    hostile_types: tuple[str, str], tmp_path: Path
) -> None:
    from ipywidgets.widgets.widget import _instances

    from wireflow_nb.engine import LocalEngine
    from wireflow_nb.models import ExecutionSummaryList
    from wireflow_nb.widgets._runner import PollPolicy
    from wireflow_nb.widgets.app import WorkflowApp
    from wireflow_nb.widgets.history import HistoryView
    from wireflow_nb.widgets.inspector import NodeInspector
    from wireflow_nb.widgets.outputs import OutputView

    output_type, fail_type = hostile_types
    before = set(_instances)
    wf = hostile_workflow(output_type, fail_type)
    with LocalEngine(tmp_path / "home", model_latency=0.01) as engine:
        app = WorkflowApp(
            engine,
            workflow=wf,
            workflow_id="xss",
            poll_policy=PollPolicy(initial=0.05, factor=1.5, maximum=0.2),
        )
        try:
            assert app.wait_idle(20)
            app.run(wait=True, timeout=60)
            assert app.wait_idle(20)
            assert app.node_badges.get("boom") == "FAILED"
            assert app.outputs.wait_loaded(20)
            for node_id in (EVIL_ID, "out", "boom", "img"):
                app.editor.select([node_id])
            app.run(wait=True, timeout=60)  # a second run: history has two rows to compare
            assert app.wait_idle(20)
            history = app.history
            history.refresh()
            ids = [row.id for row in history.rows]
            assert len(ids) == 2
            history.select(ids[0])
            assert history.wait_loaded(20)
            history.check(*ids)
            history.compare(ids[1], ids[0])
            assert history.wait_loaded(20)
            # a broken version: problems listed with the hostile ids and labels
            broken = wf.copy()
            broken.connect("boom", "text", EVIL_ID, "text")
            app.workflow = broken
            app.run(wait=True, timeout=30)
            assert app.wait_idle(20)
            # the standalone views too
            inspector = NodeInspector()
            inspector.show(wf, [EVIL_ID])
            inspector.show(wf, ["out", "boom"])
            standalone = HistoryView(engine, "xss")
            standalone.select(ids[1])
            standalone.wait_loaded(20)
            poll = engine.poll(ids[0])
            view = OutputView(engine, labels={r.node_id: SCRIPT_LABEL for r in poll.node_runs})
            view.show_node_runs(poll.node_runs)
            view.wait_loaded(20)

            markup = _all_markup(before)
            visible = {where: check_markup(where, value) for where, value in markup.items()}
            shown = "\n".join(visible.values())
            # the hostile strings did reach the views, as text
            assert SCRIPT_LABEL in shown
            assert 'alert("error")' in shown
            assert "javascript:alert" in shown  # shown as text, never as a link or an image

            # the reprs of the results
            execution = engine.get_execution(ids[0])
            reprs = {
                "PollResponse": poll._repr_html_(),
                "Execution": execution._repr_html_(),
                "ExecutionSummaryList": ExecutionSummaryList(engine.list_executions("xss"))._repr_html_(),
                "ExecuteResponse": engine.execute("xss", wf)._repr_html_(),
                "Workflow (svg)": wf._repr_svg_(),
            }
            texts = {where: check_markup(where, value) for where, value in reprs.items()}
            assert SCRIPT_LABEL in texts["Execution"] or "alert" in texts["Execution"]
            assert 'alert("label")' in texts["Workflow (svg)"]
        finally:
            app.close()
    assert len(markup) >= 20, sorted(markup)


@pytest.mark.parametrize(
    "markup",
    [
        "<script>alert(1)</script>",
        '<img src="javascript:alert(1)">',
        '<a href=" javascript:alert(1)">x</a>',
        '<a href="java&#x09;script:alert(1)">x</a>',
        '<div onclick="x()">x</div>',
        "<img src=x onerror=alert(1)>",
        '<iframe srcdoc="<p>x</p>"></iframe>',
        '<svg><a xlink:href="javascript:alert(1)">x</a></svg>',
        '<img src="data:text/html,<script>alert(1)</script>">',
        '<div style="background:url(javascript:alert(1))">x</div>',
    ],
)
def test_the_markup_check_catches_injection(markup: str) -> None:
    """The check is not vacuous: each classic injection is caught."""
    with pytest.raises(AssertionError):
        check_markup("a deliberate injection", markup)
