"""``Workflow._repr_svg_``: a picture of the graph for renderers without widgets."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from wireflow_nb import Workflow
from wireflow_nb._svg import workflow_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_svg_draws_every_node_and_edge(wf):
    svg = wf._repr_svg_()
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"Text", "Text to Image", "Resize image", "images", "prompt"} <= set(texts)
    paths = [p for p in root.iter(f"{SVG}path") if p.get("fill") == "none"]
    assert len(paths) == 1  # the one edge
    assert float(root.get("width")) <= 960


def test_svg_escapes_every_text():
    wf = Workflow(id='a<b>&"c"')
    wf.add_node("input:text", id="x&y", label='<script>alert("hi")</script>')
    wf.add_node("generate:<evil>", id="h", position=(400, 0))
    wf.connect("x&y", "text", "h", 'in-<"p">')
    svg = workflow_svg(wf)
    assert "<script>" not in svg and "<evil>" not in svg
    root = ET.fromstring(svg)  # well-formed
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert '<script>alert("hi")</script>'[:20] in "".join(texts)


def test_hosted_workflows_and_empty_ones(hosted):
    svg = Workflow.from_dict(hosted)._repr_svg_()
    root = ET.fromstring(svg)
    texts = "".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "Flux 2" in texts and "not in catal" in texts
    empty = ET.fromstring(Workflow(id="nothing")._repr_svg_())
    assert "empty workflow nothing" in "".join(t.text or "" for t in empty.iter(f"{SVG}text"))


def test_big_graphs_are_scaled_to_fit():
    wf = Workflow()
    for i in range(60):
        wf.add_node("image:resize", id=f"n{i}", position=(300 * i, 0))
    root = ET.fromstring(wf._repr_svg_())
    assert float(root.get("width")) == 960
    assert root.get("viewBox").split()[2] == f"{300 * 59 + 220 + 48:.1f}"


def test_badges_and_thumbnails_of_a_run(wf):
    """The static picture of a run: a status pill per node, and a thumbnail below the
    ports, drawn only from a ``data:image/`` URL (never a link to a file or server)."""
    plain = ET.fromstring(workflow_svg(wf))
    pixel = "data:image/png;base64,iVBORw0KGgo="
    first, second = [n.id for n in wf.nodes][:2]
    svg = workflow_svg(
        wf,
        statuses={first: "COMPLETED", second: "FAILED"},
        thumbs={first: (pixel, (40, 30)), second: ("file:///home/alice/x.png", (40, 30))},
    )
    root = ET.fromstring(svg)
    badges = [g for g in root.iter(f"{SVG}g") if g.get("class") == "wf-badge"]
    assert sorted(g.get("data-status") for g in badges) == ["COMPLETED", "FAILED"]
    assert {t.text for g in badges for t in g.iter(f"{SVG}text")} == {"completed", "failed"}
    images = list(root.iter(f"{SVG}image"))
    assert [i.get("href") for i in images] == [pixel]
    assert "alice" not in svg
    # the node with the picture is taller, as on the canvas; the picture keeps its aspect
    def node_height(tree: ET.Element, node_id: str) -> float:
        for g in tree.iter(f"{SVG}g"):
            title = g.find(f"{SVG}title")
            if title is not None and (title.text or "").endswith(f"id {node_id}"):
                return float(g.find(f"{SVG}rect").get("height"))
        raise AssertionError(node_id)

    assert node_height(root, first) > node_height(plain, first) + 100
    assert node_height(root, second) == node_height(plain, second)  # its picture was not drawn
    w, h = float(images[0].get("width")), float(images[0].get("height"))
    assert abs(w / h - 40 / 30) < 0.01
