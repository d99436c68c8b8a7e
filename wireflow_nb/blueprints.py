"""Blueprints: a named, reusable piece of a workflow (some nodes and the edges between
them), kept as a JSON file in the user's data folder and inserted into any workflow with
fresh ids, inside a group titled with the blueprint's name.

A file, ``<data_home()>/blueprints/<slug>.json`` (``blueprint_folder()``; ``slug`` is
the name in lower case, every run of other characters than letters and digits a ``-``)::

    {"format": 1, "kind": "wireflow_nb.blueprint", "name": ..., "category": ...,
     "description": ..., "nodes": [...], "edges": [...], "bypassed": [node ids]}

Node positions are relative to the top-left node of the selection (the smallest x and
the smallest y). Only edges between two chosen nodes are kept. Groups are not kept (an
insert puts every node in one new group, and a node is in at most one group), nor notes.

What a file never holds: a key (only nodes and edges are read, never a workflow's
``extra``), nor a local path of the user: a media input (catalog kind image, video or
audio) whose value is a local path or ``file://`` URI is left out of the copy (the node
falls back to its default) and named in ``Blueprint.left_out``; in-memory media (bytes, a
PIL image, an array) is kept as a ``data:`` URL and URLs as they are (the rule of a saved
workflow, ``Workflow.as_saved``). A node of a type the catalogue does not know keeps its
values as they are.

Names are unique in a folder (by slug): ``save`` refuses to overwrite another file
unless told to. A file that cannot be read is a ``BlueprintFileError`` from ``load``
naming the file and what is wrong; ``blueprints()`` skips it, logs the reason on
``wireflow_nb.blueprints`` and lists it in ``.skipped``, never raising.

Inserting uses the clipboard's id remapping (``editing.clipboard.paste_items``) and is
one undoable command (``insert_command``: add the nodes and edges, then the group and
bypass flags, as one ``Compound``). For the editor and a quick-add list:
``blueprints(folder).search(query)`` lists the matching ones, and
``insert_in_view(state, blueprint, position=None)`` inserts one into an ``EditorState``
(one undo step; at ``position``, world units, e.g. the drop point, or a free spot in
view) and selects the new nodes; ``GraphEditor.insert_blueprint`` does the same and
redraws. Imports ``models``, ``_home``, ``_media``, ``catalog``, ``workflow`` and
``editing``; no widget library.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._files import write_atomic
from ._home import data_home
from ._media import _local_path
from .editing.clipboard import paste_items
from .editing.commands import AddItems, Command, Compound, EditCanvas, round_coordinate
from .models import Edge, Node

if TYPE_CHECKING:
    from .editing.scene import Redraw
    from .editing.state import EditorState
    from .workflow import Workflow

__all__ = [
    "BLUEPRINT_FORMAT",
    "Blueprint",
    "BlueprintFileError",
    "BlueprintList",
    "blueprint_folder",
    "blueprints",
    "insert_in_view",
    "slugify",
]

log = logging.getLogger("wireflow_nb.blueprints")

BLUEPRINT_FORMAT = 1
_KIND = "wireflow_nb.blueprint"
DEFAULT_CATEGORY = "blueprints"


class BlueprintFileError(ValueError):
    """A blueprint file that cannot be read (the message names the file and the fault)."""


def slugify(name: str) -> str:
    """``"My Upscale (v2)"`` -> ``"my-upscale-v2"``: a blueprint's file name and CSS suffix."""
    slug = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")
    return slug or "blueprint"


def blueprint_folder(home: str | Path | None = None) -> Path:
    """Where blueprints live: ``<home or data_home()>/blueprints``."""
    return Path(home if home is not None else data_home()) / "blueprints"


def _media_inputs(node: Node) -> tuple[str, ...]:
    from .catalog import default_catalog

    spec = default_catalog().get(node.node_type)
    return spec.media_inputs if spec is not None else ()


@dataclass
class Blueprint:
    """Nodes (JSON, positions relative to their top-left) and the edges between them."""

    name: str
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]] = field(default_factory=list)
    category: str = DEFAULT_CATEGORY
    description: str = ""
    #: ids (among ``nodes``) of the nodes that were bypassed: their copies are too
    bypassed: list[str] = field(default_factory=list)
    #: "label (id).field" of the local-path media values left out (never saved)
    left_out: list[str] = field(default_factory=list, compare=False)
    #: the file it was read from or last saved to
    path: Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        self.name = str(self.name).strip()
        if not self.name:
            raise ValueError("a blueprint needs a name")
        self.category = str(self.category).strip() or DEFAULT_CATEGORY

    @property
    def slug(self) -> str:
        return slugify(self.name)

    def __len__(self) -> int:
        return len(self.nodes)

    # -- making one ------------------------------------------------------------------------
    @classmethod
    def from_selection(
        cls,
        workflow: Workflow,
        node_ids: Iterable[str],
        *,
        name: str,
        category: str = DEFAULT_CATEGORY,
        description: str = "",
    ) -> Blueprint:
        """The nodes ``node_ids`` of ``workflow`` and the edges between them."""
        ids = list(dict.fromkeys(node_ids))
        if not ids:
            raise ValueError("a blueprint needs at least one node; select nodes first")
        for node_id in ids:
            if not workflow.has_node(node_id):
                raise KeyError(f"no node {node_id!r} in the workflow")
        chosen = set(ids)
        saved = workflow.as_saved()  # in-memory media as data: URLs, paths as text
        nodes = [n for n in saved.nodes if n.id in chosen]
        left_out: list[str] = []
        wires = []
        for node in nodes:
            node = node.model_copy(update={"data": copy.deepcopy(node.data)})
            for name_ in _media_inputs(node):
                value = node.inputs.get(name_)
                if _local_path(value) is not None:  # _media's rule of a path
                    node.remove_input(name_)
                    left_out.append(f"{node.label} ({node.id}).{name_}")
            wires.append(node.to_wire())
        x0 = min(float(w.get("position", {}).get("x", 0)) for w in wires)
        y0 = min(float(w.get("position", {}).get("y", 0)) for w in wires)
        for w in wires:
            pos = w.get("position") or {}
            w["position"] = {
                "x": round_coordinate(float(pos.get("x", 0)) - x0),
                "y": round_coordinate(float(pos.get("y", 0)) - y0),
            }
        edges = [e.to_wire() for e in saved.edges if e.source in chosen and e.target in chosen]
        return cls(
            name,
            wires,
            edges,
            category,
            description,
            [n for n in ids if workflow.is_bypassed(n)],
            left_out,
        )

    # -- files -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": BLUEPRINT_FORMAT,
            "kind": _KIND,
            "name": self.name,
            "category": self.category,
            "description": self.description,
            "nodes": copy.deepcopy(self.nodes),
            "edges": copy.deepcopy(self.edges),
        }
        if self.bypassed:
            out["bypassed"] = list(self.bypassed)
        return out

    @classmethod
    def from_dict(cls, body: Any, *, where: str = "blueprint") -> Blueprint:
        """Read and check a blueprint's JSON; a ``BlueprintFileError`` says what is wrong."""

        def bad(why: str) -> BlueprintFileError:
            return BlueprintFileError(f"{where}: {why}")

        if not isinstance(body, Mapping):
            raise bad("not a blueprint (a JSON object with name, nodes and edges)")
        if body.get("kind", _KIND) != _KIND:
            raise bad(f"not a blueprint (kind {body.get('kind')!r})")
        if body.get("format", BLUEPRINT_FORMAT) != BLUEPRINT_FORMAT:
            raise bad(f"format {body.get('format')!r} is not one this version reads ({BLUEPRINT_FORMAT})")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad("no 'name'")
        raw_nodes, raw_edges = body.get("nodes"), body.get("edges", [])
        if not isinstance(raw_nodes, list) or not raw_nodes:
            raise bad("no 'nodes' (a non-empty list)")
        if not isinstance(raw_edges, list):
            raise bad("'edges' is not a list")
        try:
            nodes = [Node.model_validate(n).to_wire() for n in raw_nodes]
            edges = [Edge.model_validate(e).to_wire() for e in raw_edges]
        except Exception as exc:  # pydantic's message names the field
            raise bad(f"a node or edge is not valid: {str(exc).splitlines()[0]}") from None
        ids = [n["id"] for n in nodes]
        if len(set(ids)) != len(ids):
            raise bad("two nodes share an id")
        for e in edges:
            if e["source"] not in ids or e["target"] not in ids:
                raise bad(f"edge {e.get('id') or ''} joins a node the blueprint lacks")
        bypassed = body.get("bypassed", [])
        category, description = body.get("category"), body.get("description")
        return cls(
            name,
            nodes,
            edges,
            category if isinstance(category, str) else DEFAULT_CATEGORY,
            description if isinstance(description, str) else "",
            [n for n in bypassed if n in ids] if isinstance(bypassed, list) else [],
        )

    @classmethod
    def load(cls, path: str | Path) -> Blueprint:
        """The blueprint of the file at ``path`` (``BlueprintFileError`` if it is not one)."""
        p = Path(path)
        try:
            body = json.loads(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise BlueprintFileError(f"{p}: cannot be read ({exc.strerror or exc})") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BlueprintFileError(f"{p}: not JSON ({exc})") from None
        bp = cls.from_dict(body, where=str(p))
        bp.path = p
        return bp

    def save(self, path: str | Path | None = None, *, overwrite: bool = False) -> Path:
        """Write the file (atomically: a temporary file renamed), by default
        ``blueprint_folder() / f"{slug}.json"``. An existing file is refused unless
        ``overwrite``: names are unique."""
        target = Path(path) if path is not None else blueprint_folder() / f"{self.slug}.json"
        if target.exists() and not overwrite:
            raise FileExistsError(
                f"a blueprint file {target} exists already (name {self.name!r}): "
                "choose another name, or pass overwrite=True"
            )
        folder = target.parent
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(target, json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n", private=True)
        self.path = target
        return target

    def workflow(self) -> Workflow:
        """A new workflow of the blueprint's nodes and edges alone (its ids and bypass
        flags kept, no group): what "New from template" opens for a blueprint."""
        from .workflow import Workflow

        made = Workflow.from_dict({"nodes": copy.deepcopy(self.nodes), "edges": copy.deepcopy(self.edges)})
        for node_id in self.bypassed:
            made.set_bypass(node_id)
        return made

    # -- inserting -------------------------------------------------------------------------
    def size(self) -> tuple[float, float]:
        """Width and height (world units) of the nodes' positions, plus one node."""
        from .editing.geometry import NODE_WIDTH

        xs = [float(n.get("position", {}).get("x", 0)) for n in self.nodes]
        ys = [float(n.get("position", {}).get("y", 0)) for n in self.nodes]
        return max(xs) + NODE_WIDTH, max(ys) + 120.0

    def insert_command(
        self, workflow: Workflow, x: float = 0.0, y: float = 0.0, *, color: str | None = None
    ) -> tuple[Command, list[str]]:
        """The undoable insert (not applied yet) and the new nodes' ids, in order."""
        node_ids = {n.id for n in workflow.nodes}
        edge_ids = {e.id for e in workflow.edges if e.id}
        nodes, edges, rename = paste_items(self.nodes, self.edges, node_ids, edge_ids, 0.0)
        for n in nodes:
            pos = n["position"]
            n["position"] = {"x": round_coordinate(pos["x"] + x), "y": round_coordinate(pos["y"] + y)}
        new_ids = [n["id"] for n in nodes]
        copies = [rename[n] for n in self.bypassed if n in rename]
        title = self.name

        def group(wf: Workflow) -> None:
            wf.group(new_ids, title=title, color=color)
            for n in copies:
                wf.set_bypass(n)

        label = f"insert blueprint {self.name}"
        add = AddItems([(None, n) for n in nodes], [(None, e) for e in edges], label=label)
        return Compound([add, EditCanvas(group, label="group")], label=label), new_ids

    def insert(
        self, workflow: Workflow, x: float = 0.0, y: float = 0.0, *, color: str | None = None
    ) -> list[str]:
        """Add copies of the nodes and edges to ``workflow`` with fresh ids, their
        top-left at ``(x, y)``, inside a new group titled with the name; returns the new
        node ids (the group is ``workflow.group_of(ids[0])``)."""
        command, ids = self.insert_command(workflow, x, y, color=color)
        command.apply(workflow)
        return ids

    def __repr__(self) -> str:
        return f"Blueprint({self.name!r}, category={self.category!r}, {len(self.nodes)} nodes)"


class BlueprintList(list[Blueprint]):
    """``blueprints()``'s answer: the blueprints, and ``skipped``, a note per bad file."""

    def __init__(self, items: Iterable[Blueprint] = (), skipped: Iterable[str] = ()) -> None:
        super().__init__(items)
        self.skipped: list[str] = list(skipped)

    def search(self, query: str) -> list[Blueprint]:
        """The blueprints whose name, category or description holds every word of
        ``query`` (case ignored); all of them for a blank query. The palette's filter, and
        what a quick-add list shows."""
        words = query.lower().split()
        return [b for b in self if all(w in f"{b.name} {b.category} {b.description}".lower() for w in words)]

    def named(self, name: str) -> Blueprint:
        """The blueprint called ``name`` (by slug: case and punctuation do not count)."""
        slug = slugify(name)
        for bp in self:
            if bp.slug == slug:
                return bp
        raise KeyError(f"no blueprint {name!r}; blueprints: {', '.join(b.name for b in self) or '(none)'}")


def blueprints(folder: str | Path | None = None) -> BlueprintList:
    """The blueprints of ``folder`` (default ``blueprint_folder()``), by category then
    name. A file that cannot be read is skipped, logged, and noted in ``.skipped``."""
    where = Path(folder) if folder is not None else blueprint_folder()
    found: list[Blueprint] = []
    skipped: list[str] = []
    try:
        paths = sorted(where.glob("*.json"))
    except OSError as exc:
        paths, skipped = [], [f"{where}: cannot be listed ({exc})"]
    for p in paths:
        try:
            found.append(Blueprint.load(p))
        except BlueprintFileError as exc:
            log.warning("skipped a blueprint file: %s", exc)
            skipped.append(str(exc))
    found.sort(key=lambda b: (b.category.lower(), b.name.lower()))
    return BlueprintList(found, skipped)


def insert_in_view(
    state: EditorState, blueprint: Blueprint, position: tuple[float, float] | None = None
) -> tuple[list[str], Redraw]:
    """Insert ``blueprint`` in an editor's state as one undo step, at ``position`` (world)
    or a free spot in view, in a new group, and select the new nodes. What the palette's
    Blueprints buttons call, and what quick add can call."""
    from .editing.scene import Redraw

    x, y = position if position is not None else state.free_spot(*blueprint.size())
    command, ids = blueprint.insert_command(state.workflow, x, y, color=state.next_group_color())
    flags = state.execute(command)
    state.message = f"inserted blueprint {blueprint.name} ({len(ids)} node{'s' if len(ids) != 1 else ''})"
    return ids, flags | state.select(ids) | Redraw.STATUS
